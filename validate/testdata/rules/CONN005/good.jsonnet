// CONN005 fixed: the converter names its registry.
local sk = import 'streamkit.libsonnet';

{
  connectors: [
    sk.fileSink('pricing-orders-sink', 'pricing.existing.v1', '/data/out.txt') + {
      config+: {
        'value.converter': 'io.confluent.connect.avro.AvroConverter',
        'value.converter.schema.registry.url': 'http://registry:8081',
      },
    },
  ],
}
