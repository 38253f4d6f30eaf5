// CONN008 fixed: the group is closed.
local sk = import 'streamkit.libsonnet';

{
  connectors: [
    sk.connector('pricing-orders-sink', 'org.apache.kafka.connect.file.FileStreamSinkConnector', {
      'topics.regex': 'pricing\\.(orders|refunds)\\.v1',
      file: '/data/out.txt',
    }),
  ],
}
