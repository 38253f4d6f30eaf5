// CONN011: connectors read and write topics outside the namespace "pricing".
local sk = import 'streamkit.libsonnet';

{
  topics: [sk.topic('pricing.orders.v1')],
  connectors: [
    // Reads another team's topic, and every topic ending in .orders.v1.
    sk.connector('pricing-orders-sink', 'io.confluent.connect.jdbc.JdbcSinkConnector', {
      topics: 'pricing.orders.v1,billing.invoices.v1',
    }),
    sk.connector('pricing-all-orders-sink', 'io.confluent.connect.jdbc.JdbcSinkConnector', {
      'topics.regex': '.*\\.orders\\.v1',
    }),
    // Writes <prefix>.<schema>.<table> outside the namespace.
    sk.debeziumPostgres('pricing-db-source', 'pricing-db', 5432, 'pricing', 'debezium',
                        '${vault:secret/data/pricing/db:password}', 'db', ['public.prices']),
  ],
}
