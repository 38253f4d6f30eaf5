// DATA003 fixed: the sink speaks TLS and runs on the secure cluster; no file
// sink, no mirror to the standard cluster; the mirror between secure
// clusters speaks TLS to both.
local sk = import 'streamkit.libsonnet';

{
  topics: [
    sk.topic('pricing.cards.v1', classification='restricted'),
  ],
  connectors: [
    sk.connector('pricing-cards-sink', 'io.debezium.connector.jdbc.JdbcSinkConnector', {
      topics: 'pricing.cards.v1',
      'connection.url': 'jdbc:postgresql://vault-db:5432/cards?sslmode=verify-full',
      'connection.username': '${vault:secret/data/pricing/cards-db:user}',
      'connection.password': '${vault:secret/data/pricing/cards-db:password}',
    }),
    sk.mirrorSource('pricing-cards-dr', 'secure-dc1', ['kafka-dc1:9094'], ['kafka-dc2:9094'], ['pricing.cards.v1'])
    + { cluster: 'secure', config+: {
      'source.cluster.security.protocol': 'SSL',
      'target.cluster.security.protocol': 'SASL_SSL',
    } },
  ],
}
