package platform

import (
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric names the Collector exports; doc.go's table describes each.
const (
	MetricConsumerLagRecords      = "streamkit_consumer_lag_records"
	MetricConsumerLagSeconds      = "streamkit_consumer_lag_seconds"
	MetricConsumerGroupLagRecords = "streamkit_consumer_group_lag_records"
	MetricConsumerGroupLagSeconds = "streamkit_consumer_group_lag_seconds"
	MetricConsumerGroupMembers    = "streamkit_consumer_group_members"
	MetricConsumerGroupState      = "streamkit_consumer_group_state"
	MetricTopicRecordsPerSecond   = "streamkit_topic_records_per_second"
	MetricTopicBytesPerSecond     = "streamkit_topic_bytes_per_second"
	MetricTopicEndOffset          = "streamkit_topic_end_offset"
	MetricTopicSizeBytes          = "streamkit_topic_size_bytes"
	MetricTopicPartitions         = "streamkit_topic_partitions"
	MetricTopicUnderReplicated    = "streamkit_topic_under_replicated_partitions"
	MetricTopicOffline            = "streamkit_topic_offline_partitions"
	MetricBrokerSizeBytes         = "streamkit_broker_size_bytes"
	MetricBrokerLogDirSizeBytes   = "streamkit_broker_log_dir_size_bytes"
	MetricBrokerPartitions        = "streamkit_broker_partitions"
	MetricBrokerLeaders           = "streamkit_broker_leaders"
	MetricConnectorState          = "streamkit_connector_state"
	MetricConnectorTasks          = "streamkit_connector_tasks"
	MetricConnectorFailedTasks    = "streamkit_connector_failed_tasks"
	MetricCollectorCycleSeconds   = "streamkit_collector_cycle_seconds"
	MetricCollectorErrorsTotal    = "streamkit_collector_errors_total"
)

// MetricNames returns the names of the metrics the Collector exports, in
// the order of the table in the package documentation.
func MetricNames() []string {
	return []string{
		MetricConsumerLagRecords,
		MetricConsumerLagSeconds,
		MetricConsumerGroupLagRecords,
		MetricConsumerGroupLagSeconds,
		MetricConsumerGroupMembers,
		MetricConsumerGroupState,
		MetricTopicRecordsPerSecond,
		MetricTopicBytesPerSecond,
		MetricTopicEndOffset,
		MetricTopicSizeBytes,
		MetricTopicPartitions,
		MetricTopicUnderReplicated,
		MetricTopicOffline,
		MetricBrokerSizeBytes,
		MetricBrokerLogDirSizeBytes,
		MetricBrokerPartitions,
		MetricBrokerLeaders,
		MetricConnectorState,
		MetricConnectorTasks,
		MetricConnectorFailedTasks,
		MetricCollectorCycleSeconds,
		MetricCollectorErrorsTotal,
	}
}

// promMetrics holds the collector's Prometheus side. The snapshot gauges
// are produced at scrape time from the last snapshot, so a topic, group
// or connector that disappears from a snapshot disappears from the next
// scrape: no stale label set outlives the cycle that stopped seeing it.
type promMetrics struct {
	c            *Collector
	cycleSeconds prometheus.Gauge
	errors       prometheus.Counter

	partLag, partLagSec                                      *prometheus.Desc
	groupLag, groupLagSec, groupMembers, groupState          *prometheus.Desc
	topicRate, topicByteRate, topicEnd, topicSize, topicPart *prometheus.Desc
	topicUnder, topicOffline                                 *prometheus.Desc
	brokerSize, brokerDirSize, brokerPart, brokerLeaders     *prometheus.Desc
	connState, connTasks, connFailed                         *prometheus.Desc
}

var _ prometheus.Collector = (*promMetrics)(nil)

func (c *Collector) initPrometheus() error {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	pm := &promMetrics{
		c: c,
		cycleSeconds: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: MetricCollectorCycleSeconds,
			Help: "Duration of the last collector cycle in seconds.",
		}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: MetricCollectorErrorsTotal,
			Help: "Failed parts of collector cycles (metadata, end offsets, log dirs, lag, connectors).",
		}),
		partLag:       d(MetricConsumerLagRecords, "Records a consumer group has yet to consume on a partition.", "group", "topic", "partition"),
		partLagSec:    d(MetricConsumerLagSeconds, "Age in seconds of the oldest record a group has not consumed on a partition.", "group", "topic", "partition"),
		groupLag:      d(MetricConsumerGroupLagRecords, "Records a consumer group has yet to consume, over its partitions.", "group"),
		groupLagSec:   d(MetricConsumerGroupLagSeconds, "Largest partition lag in seconds of a consumer group.", "group"),
		groupMembers:  d(MetricConsumerGroupMembers, "Members of a consumer group.", "group"),
		groupState:    d(MetricConsumerGroupState, "1 for a consumer group's current state.", "group", "state"),
		topicRate:     d(MetricTopicRecordsPerSecond, "Records produced per second to a topic since the previous cycle.", "topic"),
		topicByteRate: d(MetricTopicBytesPerSecond, "Change per second of a topic's leader replicas' size since the previous cycle.", "topic"),
		topicEnd:      d(MetricTopicEndOffset, "Sum of a topic's partitions' end offsets.", "topic"),
		topicSize:     d(MetricTopicSizeBytes, "Size in bytes of all replicas of a topic.", "topic"),
		topicPart:     d(MetricTopicPartitions, "Partitions of a topic.", "topic"),
		topicUnder:    d(MetricTopicUnderReplicated, "Partitions of a topic whose ISR is shorter than their replica set.", "topic"),
		topicOffline:  d(MetricTopicOffline, "Partitions of a topic without a leader.", "topic"),
		brokerSize:    d(MetricBrokerSizeBytes, "Size in bytes of all replicas a broker stores.", "broker"),
		brokerDirSize: d(MetricBrokerLogDirSizeBytes, "Size in bytes of the replicas in one log directory of a broker.", "broker", "dir"),
		brokerPart:    d(MetricBrokerPartitions, "Partition replicas a broker hosts.", "broker"),
		brokerLeaders: d(MetricBrokerLeaders, "Partitions a broker leads.", "broker"),
		connState:     d(MetricConnectorState, "1 for a Kafka Connect connector's current state.", "connector", "state"),
		connTasks:     d(MetricConnectorTasks, "Tasks of a connector.", "connector"),
		connFailed:    d(MetricConnectorFailedTasks, "FAILED tasks of a connector.", "connector"),
	}
	c.prom = pm

	c.reg = c.cfg.reg
	var private *prometheus.Registry
	if c.reg == nil {
		private = prometheus.NewRegistry()
		c.reg = private
	}
	for _, m := range []prometheus.Collector{pm, pm.cycleSeconds, pm.errors} {
		if err := c.reg.Register(m); err != nil {
			return fmt.Errorf("register metrics: %w", err)
		}
	}
	switch g := c.reg.(type) {
	case prometheus.Gatherer:
		c.handler = collectorHandler(g)
	default:
		// The caller's registerer cannot be gathered: serve ours alone.
		own := prometheus.NewRegistry()
		own.MustRegister(pm, pm.cycleSeconds, pm.errors)
		c.handler = collectorHandler(own)
	}
	return nil
}

// Describe implements prometheus.Collector.
func (pm *promMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		pm.partLag, pm.partLagSec, pm.groupLag, pm.groupLagSec, pm.groupMembers, pm.groupState,
		pm.topicRate, pm.topicByteRate, pm.topicEnd, pm.topicSize, pm.topicPart, pm.topicUnder, pm.topicOffline,
		pm.brokerSize, pm.brokerDirSize, pm.brokerPart, pm.brokerLeaders,
		pm.connState, pm.connTasks, pm.connFailed,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector, from the last snapshot.
func (pm *promMetrics) Collect(ch chan<- prometheus.Metric) {
	snap, ok := pm.c.Last()
	if !ok {
		return
	}
	g := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, gr := range snap.Groups {
		for _, p := range gr.Partitions {
			if p.Lag < 0 {
				continue // unknown
			}
			part := strconv.Itoa(int(p.Partition))
			g(pm.partLag, float64(p.Lag), gr.Group, p.Topic, part)
			g(pm.partLagSec, p.LagSeconds, gr.Group, p.Topic, part)
		}
		g(pm.groupLag, float64(gr.Lag), gr.Group)
		g(pm.groupLagSec, gr.LagSeconds, gr.Group)
		g(pm.groupMembers, float64(gr.Members), gr.Group)
		if gr.State != "" {
			g(pm.groupState, 1, gr.Group, gr.State)
		}
	}
	for _, t := range snap.Topics {
		g(pm.topicRate, t.RecordsPerSecond, t.Topic)
		g(pm.topicByteRate, t.BytesPerSecond, t.Topic)
		g(pm.topicEnd, float64(t.EndOffsets), t.Topic)
		g(pm.topicSize, float64(t.Bytes), t.Topic)
		g(pm.topicPart, float64(t.Partitions), t.Topic)
		g(pm.topicUnder, float64(t.UnderReplicated), t.Topic)
		g(pm.topicOffline, float64(t.Offline), t.Topic)
	}
	for _, b := range snap.Brokers {
		id := strconv.Itoa(int(b.Broker))
		g(pm.brokerSize, float64(b.Bytes), id)
		for dir, size := range b.LogDirs {
			g(pm.brokerDirSize, float64(size), id, dir)
		}
		g(pm.brokerPart, float64(b.Partitions), id)
		g(pm.brokerLeaders, float64(b.Leaders), id)
	}
	for _, cn := range snap.Connectors {
		if cn.State != "" {
			g(pm.connState, 1, cn.Name, cn.State)
		}
		g(pm.connTasks, float64(cn.Tasks), cn.Name)
		g(pm.connFailed, float64(cn.FailedTasks), cn.Name)
	}
}
