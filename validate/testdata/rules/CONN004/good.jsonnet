// CONN004 fixed: the passwords are Vault references.
local sk = import 'streamkit.libsonnet';

{
  connectors: [
    sk.connector('pricing-db-source', 'io.debezium.connector.postgresql.PostgresConnector', {
      'database.hostname': 'pricing-db',
      'database.user': 'debezium',
      'database.password': '${vault:secret/data/pricing/db:password}',
    }),
    sk.connector('pricing-db-sink', 'io.confluent.connect.jdbc.JdbcSinkConnector', {
      topics: 'pricing.existing.v1',
      'connection.url': 'jdbc:postgresql://pricing-db:5432/pricing?user=app&password=${vault:secret/data/pricing/db:password}',
      'value.converter.basic.auth.credentials.source': 'USER_INFO',
    }),
  ],
}
