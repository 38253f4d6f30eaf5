// CONN004: literal passwords in the manifest, one in a JDBC URL.
local sk = import 'streamkit.libsonnet';

{
  connectors: [
    sk.connector('pricing-db-source', 'io.debezium.connector.postgresql.PostgresConnector', {
      'database.hostname': 'pricing-db',
      'database.user': 'debezium',
      'database.password': 'hunter2',
    }),
    sk.connector('pricing-db-sink', 'io.confluent.connect.jdbc.JdbcSinkConnector', {
      topics: 'pricing.existing.v1',
      'connection.url': 'jdbc:postgresql://pricing-db:5432/pricing?user=app&password=hunter2',
      'value.converter.basic.auth.credentials.source': 'USER_INFO',
    }),
  ],
}
