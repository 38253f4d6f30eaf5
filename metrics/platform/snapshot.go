package platform

import "time"

// Snapshot is what one collector cycle saw of the platform. The lag status
// evaluator, the alert rules and the capacity report all read snapshots,
// so they can be tested with constructed ones.
type Snapshot struct {
	Time       time.Time
	Groups     []GroupSnapshot
	Topics     []TopicSnapshot
	Brokers    []BrokerSnapshot
	Connectors []ConnectorSnapshot
}

// GroupSnapshot is one consumer group's state and lag.
type GroupSnapshot struct {
	Group   string
	State   string
	Members int
	// Lag is the sum of the partitions' lag in records.
	Lag int64
	// LagSeconds is the largest partition lag in seconds: the age of the
	// oldest unconsumed record.
	LagSeconds float64
	Partitions []PartitionLag
}

// PartitionLag is one partition of a group.
type PartitionLag struct {
	Topic      string
	Partition  int32
	Committed  int64 // -1 when nothing is committed
	End        int64
	Lag        int64
	LagSeconds float64
}

// TopicSnapshot is one topic's size, throughput and health.
type TopicSnapshot struct {
	Topic string
	// EndOffsets is the sum of the partitions' end offsets.
	EndOffsets int64
	// RecordsPerSecond is the end-offset delta since the previous cycle
	// over the time between them; 0 on the first cycle.
	RecordsPerSecond float64
	// Bytes is the size of all replicas; LeaderBytes of the leaders only.
	Bytes, LeaderBytes int64
	// BytesPerSecond is the LeaderBytes delta per second; negative when
	// retention removed more than was written.
	BytesPerSecond  float64
	Partitions      int
	UnderReplicated int
	Offline         int
}

// BrokerSnapshot is one broker's storage and load.
type BrokerSnapshot struct {
	Broker     int32
	Bytes      int64
	LogDirs    map[string]int64
	Partitions int
	Leaders    int
}

// ConnectorSnapshot is one connector's state.
type ConnectorSnapshot struct {
	Name        string
	State       string
	Tasks       int
	FailedTasks int
	// Trace is the first failure's trace, if any.
	Trace string
}
