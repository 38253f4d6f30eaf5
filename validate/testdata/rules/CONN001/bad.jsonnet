// CONN001: a connector without connector.class.
{
  connectors: [
    { name: 'pricing-db-source', config: { 'tasks.max': '1' } },
  ],
}
