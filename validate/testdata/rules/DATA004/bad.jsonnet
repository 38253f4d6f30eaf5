// DATA004: a user name and a URL user written next to restricted data.
local sk = import 'streamkit.libsonnet';

{
  topics: [
    sk.topic('pricing.cards.v1', classification='restricted'),
  ],
  connectors: [
    sk.connector('pricing-cards-sink', 'io.debezium.connector.jdbc.JdbcSinkConnector', {
      topics: 'pricing.cards.v1',
      'connection.url': 'jdbc:postgresql://cards@vault-db:5432/cards?sslmode=verify-full',
      'connection.username': 'cards',
      'connection.password': '${vault:secret/data/pricing/cards-db:password}',
    }),
  ],
}
