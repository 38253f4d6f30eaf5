{
  topics: [
    { name: 'pricing.orders.v1', partitions: 3, replication_factor: 3 }
  ],
  acls: [,
}
