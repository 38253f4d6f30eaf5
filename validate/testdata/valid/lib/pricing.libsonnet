// The pricing team's own templates on top of streamkit.libsonnet.
local sk = import 'streamkit.libsonnet';

{
  prefix:: 'pricing.',

  // event is a compacted-or-not event topic named pricing.<name>.v<version>.
  event(name, version, partitions=6)::
    sk.topic(self.prefix + name + '.v' + version, partitions=partitions, configs={
      'retention.ms': 7 * 24 * 3600 * 1000,
    }),
}
