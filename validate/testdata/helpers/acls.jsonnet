local sk = import 'streamkit.libsonnet';
local p = import 'pricing.libsonnet';

{
  acls: [
    sk.producer(p.principal('publisher'), [p.name('prices.v1')]),
    sk.consumer(p.principal('billing'), [p.name('prices.v1')], groups=[p.name('billing')]),
  ],
}
