// CONN008: topics.regex does not compile.
local sk = import 'streamkit.libsonnet';

{
  connectors: [
    sk.connector('pricing-orders-sink', 'org.apache.kafka.connect.file.FileStreamSinkConnector', {
      'topics.regex': 'pricing\\.(orders',
      file: '/data/out.txt',
    }),
  ],
}
