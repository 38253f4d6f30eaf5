// CONN004: a literal password in the manifest.
local sk = import 'streamkit.libsonnet';

{
  connectors: [
    sk.connector('pricing-db-source', 'io.debezium.connector.postgresql.PostgresConnector', {
      'database.hostname': 'pricing-db',
      'database.user': 'debezium',
      'database.password': 'hunter2',
    }),
  ],
}
