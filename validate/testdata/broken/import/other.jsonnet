{
  topics: [{ name: 'pricing.quotes.v1', partitions: 3, replication_factor: undefinedVar }],
}
