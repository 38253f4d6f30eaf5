// CONN009: a Vault reference without its key.
local sk = import 'streamkit.libsonnet';

{
  connectors: [
    sk.connector('pricing-db-source', 'io.debezium.connector.postgresql.PostgresConnector', {
      'database.hostname': 'pricing-db',
      'database.password': '${vault:secret/data/pricing/db}',
    }),
  ],
}
