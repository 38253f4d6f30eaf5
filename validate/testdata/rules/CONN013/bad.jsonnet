// CONN013: a sink reads an Avro topic with the JSON converter.
local sk = import 'streamkit.libsonnet';

{
  topics: [sk.topic('pricing.orders.v1')],
  schemas: [{ subject: 'pricing.orders.v1-value', schema: '{"type": "record", "name": "Order", "namespace": "pricing", "doc": "An order.", "fields": [{"name": "id", "type": "string", "doc": "The order id."}]}' }],
  connectors: [
    sk.fileSink('pricing-orders-sink', 'pricing.orders.v1', '/data/out.txt') + {
      config+: { 'value.converter': 'org.apache.kafka.connect.json.JsonConverter' },
    },
  ],
}
