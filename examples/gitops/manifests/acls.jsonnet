// Who may use the topics: roles expand to Kafka ACL bindings.
local sk = import 'streamkit.libsonnet';
local p = import 'pricing.libsonnet';

{
  acls: [
    sk.producer(p.principal('publisher'), [p.name('prices.v1')]),
    sk.consumer(p.principal('billing'), [p.name('prices.v1'), p.name('quotes.v1')], [p.name('billing')]),
  ],
}
