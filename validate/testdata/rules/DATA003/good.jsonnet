// DATA003 fixed: the sink speaks TLS and runs on the secure cluster; no file sink, no mirror.
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
  ],
}
