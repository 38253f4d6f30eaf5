local sk = import 'streamkit.libsonnet';
local pricing = import 'lib/pricing.libsonnet';
local env = std.extVar('env');

{
  topics: [
    sk.topic('pricing.orders.v1', partitions=if env == 'prod' then 12 else 3, configs={
      'cleanup.policy': 'compact',
      'retention.ms': 604800000,
    }),
    pricing.event('quotes', 2),
    {
      name: 'pricing.audit.v1',
      partitions: 1,
      replication_factor: 3,
      configs: {
        'retention.ms': '-1',
      },
    },
  ],
}
