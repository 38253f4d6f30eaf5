// TOPIC003 fixed: the topic is in the namespace.
local sk = import 'streamkit.libsonnet';

{
  topics: [sk.topic('pricing.orders.v1')],
}
