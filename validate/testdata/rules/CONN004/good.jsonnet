// CONN004 fixed: the password is a Vault reference.
local sk = import 'streamkit.libsonnet';

{
  connectors: [
    sk.connector('pricing-db-source', 'io.debezium.connector.postgresql.PostgresConnector', {
      'database.hostname': 'pricing-db',
      'database.user': 'debezium',
      'database.password': '${vault:secret/data/pricing/db:password}',
    }),
  ],
}
