// CONN014: a Debezium source writes Avro topics with the worker's default
// converter.
local sk = import 'streamkit.libsonnet';

{
  schemas: [{ subject: 'pricing.db.public.prices-value', schema: '{"type": "record", "name": "Order", "namespace": "pricing", "doc": "An order.", "fields": [{"name": "id", "type": "string", "doc": "The order id."}]}' }],
  connectors: [
    sk.debeziumPostgres('pricing-db-source', 'pricing-db', 5432, 'pricing', 'debezium',
                        '${vault:secret/data/pricing/db:password}', 'pricing.db', ['public.prices']),
  ],
}
