// CONN013 fixed: the sink reads the topic's Avro records.
local sk = import 'streamkit.libsonnet';

{
  topics: [sk.topic('pricing.orders.v1')],
  schemas: [{ subject: 'pricing.orders.v1-value', schema: '{"type": "record", "name": "Order", "namespace": "pricing", "doc": "An order.", "fields": [{"name": "id", "type": "string", "doc": "The order id."}]}' }],
  connectors: [
    sk.fileSink('pricing-orders-sink', 'pricing.orders.v1', '/data/out.txt')
    + sk.avro('http://registry:8080/apis/registry/v2', keys=false),
  ],
}
