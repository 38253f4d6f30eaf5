// CONN011 fixed: every topic read or written is inside the namespace.
local sk = import 'streamkit.libsonnet';

{
  topics: [sk.topic('pricing.orders.v1')],
  connectors: [
    sk.connector('pricing-orders-sink', 'io.confluent.connect.jdbc.JdbcSinkConnector', {
      topics: 'pricing.orders.v1,pricing.existing.v1',
    }),
    sk.connector('pricing-all-orders-sink', 'io.confluent.connect.jdbc.JdbcSinkConnector', {
      'topics.regex': 'pricing\\.(orders|existing)\\.v1',
    }),
    sk.debeziumPostgres('pricing-db-source', 'pricing-db', 5432, 'pricing', 'debezium',
                        '${vault:secret/data/pricing/db:password}', 'pricing.db', ['public.prices']),
  ],
}
