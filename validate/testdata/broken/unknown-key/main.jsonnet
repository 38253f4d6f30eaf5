local sk = import 'streamkit.libsonnet';

{
  topics: [sk.topic('pricing.orders.v1')],
  topic: [sk.topic('pricing.quotes.v1')],
}
