// DATA003: restricted data to a database without TLS, to plain files,
// copied to the standard cluster, and a sink running there; a mirror
// between secure clusters in plain text.
local sk = import 'streamkit.libsonnet';

{
  topics: [
    sk.topic('pricing.cards.v1', classification='restricted'),
  ],
  connectors: [
    sk.connector('pricing-cards-sink', 'io.debezium.connector.jdbc.JdbcSinkConnector', {
      topics: 'pricing.cards.v1',
      'connection.url': 'jdbc:postgresql://vault-db:5432/cards',
      'connection.username': '${vault:secret/data/pricing/cards-db:user}',
      'connection.password': '${vault:secret/data/pricing/cards-db:password}',
    }),
    sk.connector('pricing-cards-files', 'org.apache.kafka.connect.file.FileStreamSinkConnector', {
      topics: 'pricing.cards.v1',
      file: '/var/tmp/cards.txt',
    }) + { cluster: 'secure' },
    sk.connector('pricing-cards-mirror', 'org.apache.kafka.connect.mirror.MirrorSourceConnector', {
      topics: 'pricing.cards.v1',
      'source.cluster.alias': 'secure',
      'target.cluster.alias': 'standard',
    }) + { cluster: 'standard' },
    sk.mirrorSource('pricing-cards-dr', 'secure-dc1', ['kafka-dc1:9094'], ['kafka-dc2:9094'], ['pricing.cards.v1'])
    + { cluster: 'secure', config+: { 'source.cluster.security.protocol': 'PLAINTEXT' } },
  ],
}
