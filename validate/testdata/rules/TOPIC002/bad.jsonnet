// TOPIC002: two topics with one name.
local sk = import 'streamkit.libsonnet';

{
  topics: [
    sk.topic('pricing.orders.v1'),
    sk.topic('pricing.orders.v1', partitions=6),
  ],
}
