// TOPIC002 fixed: the names differ.
local sk = import 'streamkit.libsonnet';

{
  topics: [
    sk.topic('pricing.orders.v1'),
    sk.topic('pricing.refunds.v1', partitions=6),
  ],
}
