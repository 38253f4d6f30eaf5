local sk = import 'streamkit.libsonnet';
local policy = 'cleanup.policy';

{
  topics: [
    {
      name: 'pricing.orders.v1',
      partitions: 3,
      replication_factor: 3,
      configs: {
        'retention.ms': '1000',
        [policy]: 'compact',
      },
    },
    sk.topic('pricing.quotes.v1', partitions=6, configs={ 'retention.ms': 5000 }),
    sk.topic('pricing.' + 'audit.v1'),
  ],
  connectors: [
    sk.fileSink('pricing-sink', ['pricing.orders.v1'], '/tmp/out') + {
      config+: { 'tasks.max': '2' },
    },
  ],
  schemas: [
    { subject: 'pricing.orders.v1-value', schema: '"string"' },
  ],
  acls: [
    sk.producer('User:pricing-svc', 'pricing.orders.v1'),
  ],
}
