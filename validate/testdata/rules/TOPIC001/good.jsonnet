// TOPIC001 fixed: min.insync.replicas below the replication factor.
local sk = import 'streamkit.libsonnet';

{
  topics: [
    sk.topic('pricing.orders.v1', replication=3, configs={ 'min.insync.replicas': 2 }),
  ],
}
