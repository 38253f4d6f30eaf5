// CONN012 fixed: sk.avro sets the Confluent framing.
local sk = import 'streamkit.libsonnet';

{
  connectors: [
    sk.fileSink('pricing-orders-sink', 'pricing.existing.v1', '/data/out.txt')
    + sk.avro('http://registry:8080/apis/registry/v2', keys=false),
  ],
}
