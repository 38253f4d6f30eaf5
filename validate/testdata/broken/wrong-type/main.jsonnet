{
  topics: [
    {
      name: 'pricing.orders.v1',
      partitions: '3',
      replication_factor: 3,
      configs: {
        'retention.ms': 604800000,
      },
    },
  ],
  connectors: [
    { name: 'pricing-sink', config: { 'tasks.max': 1 }, stat: 'PAUSED' },
  ],
}
