// Package platform watches a Kafka platform: a Collector takes a Snapshot
// of the cluster (topics, partitions, brokers' storage, consumer lag) and
// of the Kafka Connect connectors every interval, keeps the latest ones
// for the lag status, alert and capacity code that reads Snapshots, and
// exports them as Prometheus gauges.
//
//	c, err := platform.NewCollector(cl,
//		platform.WithConnect(cc),
//		platform.WithGroups([]string{"^orders-"}, nil),
//	)
//	if err != nil {
//		return err
//	}
//	http.Handle("/metrics", c.Handler())
//	go c.Run(ctx) // collects every 30s until ctx ends
//
// A cycle's requests are batched: their number grows with brokers and
// group coordinators, never with partitions (see Collector). Throughput
// is the change of end offsets and of leader replicas' size between two
// cycles over the time between them.
//
// Metrics are registered on a private registry, served by
// Collector.Handler, or on the prometheus.Registerer given with
// WithRegisterer; never on the global registry. Other metrics of the
// package register on Collector.Registerer. Gauges are produced from the
// last snapshot at scrape time, so the series of a topic, group, broker
// or connector that is gone disappear with the first snapshot that lacks
// it. WithGroups and WithTopics bound the cardinality; internal
// topics ("__*", "_*") are left out by default.
//
// The metrics:
//
//	name                                          type     labels                  meaning
//	streamkit_consumer_lag_records                gauge    group, topic, partition records the group has yet to consume on the partition
//	streamkit_consumer_lag_seconds                gauge    group, topic, partition age of the oldest unconsumed record (0 when caught up)
//	streamkit_consumer_group_lag_records          gauge    group                   sum of the group's partition lags
//	streamkit_consumer_group_lag_seconds          gauge    group                   largest partition lag in seconds of the group
//	streamkit_consumer_group_members              gauge    group                   members of the group
//	streamkit_consumer_group_state                gauge    group, state            1 for the group's current state (Stable, Empty, ...)
//	streamkit_topic_records_per_second            gauge    topic                   end-offset growth per second since the previous cycle
//	streamkit_topic_bytes_per_second              gauge    topic                   leader replicas' size change per second (negative when retention deletes more)
//	streamkit_topic_end_offset                    gauge    topic                   sum of the partitions' end offsets
//	streamkit_topic_size_bytes                    gauge    topic                   size of all replicas of the topic
//	streamkit_topic_partitions                    gauge    topic                   partitions of the topic
//	streamkit_topic_under_replicated_partitions   gauge    topic                   partitions whose ISR is shorter than their replicas
//	streamkit_topic_offline_partitions            gauge    topic                   partitions without a leader
//	streamkit_broker_size_bytes                   gauge    broker                  size of all replicas on the broker, every topic
//	streamkit_broker_log_dir_size_bytes           gauge    broker, dir             size of the replicas in one log directory
//	streamkit_broker_partitions                   gauge    broker                  replicas the broker hosts, every topic
//	streamkit_broker_leaders                      gauge    broker                  partitions the broker leads, every topic
//	streamkit_connector_state                     gauge    connector, state        1 for the connector's current state (RUNNING, FAILED, ...)
//	streamkit_connector_tasks                     gauge    connector               tasks of the connector
//	streamkit_connector_failed_tasks              gauge    connector               FAILED tasks of the connector
//	streamkit_collector_cycle_seconds             gauge    -                       duration of the last cycle
//	streamkit_collector_errors_total              counter  -                       failed parts of cycles (metadata, offsets, log dirs, lag, connectors)
//
// MetricNames lists the same names. Metrics that other parts of the
// package register on Collector.Registerer, such as the lag status gauge
// streamkit_consumer_group_lag_status, are served beside them.
//
// It is the platform side of streamkit's metrics; the client side that a
// service hooks into its own clients is package metrics, which imports
// nothing of this package or of connect and topics.
//
// The package does not push metrics, evaluate alerting rules in
// Prometheus, or keep history beyond the latest WithHistory
// snapshots; a cycle with errors is logged and counted, not retried.
package platform
