local partitionsFor(env) =
  if env == 'prod' then 12
  else error 'no partition count for env ' + env;

{
  topics: [
    { name: 'pricing.orders.v1', partitions: partitionsFor('qa'), replication_factor: 3 },
  ],
}
