{
  event(name):: {
    name: 'pricing.' + name,
    partitions: 3,
    replication_factor: 3 +,
  },
}
