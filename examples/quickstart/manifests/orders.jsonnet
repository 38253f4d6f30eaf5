// The quickstart's desired state: the orders topic and the Avro schema of
// its values, under <topic>-value (the subject the producer registers).
local sk = import 'streamkit.libsonnet';

// The program passes min(3, brokers): a one-broker dev cluster cannot hold
// three replicas of a partition.
local replication = std.parseInt(std.extVar('replication'));

{
  topics: [sk.topic('retail.orders.v1', partitions=3, replication=replication)],
  schemas: [{ subject: 'retail.orders.v1-value', file: 'order.avsc' }],
}
