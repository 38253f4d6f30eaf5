// CONN001 fixed: the connector names its class.
{
  connectors: [
    {
      name: 'pricing-db-source',
      config: { 'connector.class': 'io.debezium.connector.postgresql.PostgresConnector', 'tasks.max': '1' },
    },
  ],
}
