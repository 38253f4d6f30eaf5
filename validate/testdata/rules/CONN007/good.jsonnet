// CONN007 fixed: every topic is declared or known on the cluster.
local sk = import 'streamkit.libsonnet';

{
  topics: [sk.topic('pricing.orders.v1')],
  connectors: [
    sk.fileSink('pricing-orders-sink', ['pricing.orders.v1', 'pricing.existing.v1'], '/data/out.txt'),
  ],
}
