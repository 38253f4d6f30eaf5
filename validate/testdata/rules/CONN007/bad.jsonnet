// CONN007: a sink reads a topic that is neither declared nor on the cluster (a typo).
local sk = import 'streamkit.libsonnet';

{
  topics: [sk.topic('pricing.orders.v1')],
  connectors: [
    sk.fileSink('pricing-orders-sink', ['pricing.ordres.v1', 'pricing.existing.v1'], '/data/out.txt'),
  ],
}
