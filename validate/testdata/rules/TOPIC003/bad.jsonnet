// TOPIC003: a topic outside the namespace "pricing" (it matches the name pattern).
local sk = import 'streamkit.libsonnet';

{
  topics: [sk.topic('billing.orders.v1')],
}
