// CONN006 fixed: failed records go to a dead letter queue.
local sk = import 'streamkit.libsonnet';

{
  connectors: [
    sk.fileSink('pricing-orders-sink', 'pricing.existing.v1', '/data/out.txt') + {
      config+: {
        'errors.tolerance': 'all',
        'errors.deadletterqueue.topic.name': 'pricing.orders-dlq.v1',
      },
    },
  ],
}
