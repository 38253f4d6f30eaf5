// CONN012: Apicurio's AvroConverter with its own framing: ids in headers.
local sk = import 'streamkit.libsonnet';

{
  connectors: [
    sk.fileSink('pricing-orders-sink', 'pricing.existing.v1', '/data/out.txt') + {
      config+: {
        'value.converter': 'io.apicurio.registry.utils.converter.AvroConverter',
        'value.converter.apicurio.registry.url': 'http://registry:8080/apis/registry/v2',
        'value.converter.apicurio.registry.headers.enabled': 'true',
      },
    },
  ],
}
