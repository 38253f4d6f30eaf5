// CONN005: an Avro value converter without its schema registry URL.
local sk = import 'streamkit.libsonnet';

{
  connectors: [
    sk.fileSink('pricing-orders-sink', 'pricing.existing.v1', '/data/out.txt') + {
      config+: { 'value.converter': 'io.confluent.connect.avro.AvroConverter' },
    },
  ],
}
