// pricing.libsonnet: the team's helpers on top of streamkit.libsonnet,
// shaped like examples/gitops/manifests/pricing.libsonnet: every name is
// built from the namespace the program passes as the external variable ns.
local sk = import 'streamkit.libsonnet';
local ns = std.extVar('ns');

{
  ns: ns,
  // name prefixes a short name with the team's namespace.
  name(short):: ns + short,
  // event is a versioned event topic: pricing.<dataset>.v<version>.
  event(dataset, version=1, partitions=3, configs={})::
    sk.topic(ns + dataset + '.v' + version, partitions=partitions, configs={
      'retention.ms': 7 * 24 * 3600 * 1000,
    } + configs),
  // principal is a service account of the team.
  principal(service):: 'User:' + ns + service,
  // dataDir is where the file connectors read and write on the worker.
  dataDir:: std.extVar('data_dir'),
}
