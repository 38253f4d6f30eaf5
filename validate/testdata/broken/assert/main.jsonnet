local sk = import 'streamkit.libsonnet';

{
  topics: [
    sk.topic('pricing.orders.v1'),
    sk.topic('pricing.quotes.v1', partitions=0),
  ],
}
