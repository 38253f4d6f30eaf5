local sk = import 'streamkit.libsonnet';
local team = std.extVar('team');

{
  connectors: [
    sk.fileSource(team + '-file-source', '/data/orders.txt', 'pricing.orders.v1'),
    sk.fileSink('pricing-file-sink', ['pricing.orders.v1'], '/data/out.txt'),
    sk.mirrorSource('pricing-mirror', 'legacy', 'legacy-kafka:9092', 'kafka:9092', ['pricing\\..*']),
    sk.debeziumPostgres('pricing-db-source', 'pricing-db', 5432, 'pricing', 'debezium',
                        '${vault:secret/data/pricing-db:password}', 'pricing.db', ['public.prices']) + {
      config+: {
        'snapshot.mode': 'initial',
      },
    },
  ],
}
