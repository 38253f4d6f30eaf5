// CONN006: a sink tolerating all errors without a dead letter queue.
local sk = import 'streamkit.libsonnet';

{
  connectors: [
    sk.fileSink('pricing-orders-sink', 'pricing.existing.v1', '/data/out.txt') + {
      config+: { 'errors.tolerance': 'all' },
    },
  ],
}
