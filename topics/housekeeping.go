package topics

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// HousekeepingOptions selects what Housekeeping looks for. The zero value
// reports groups, topics without groups and storage, and skips the checks
// that need a threshold.
type HousekeepingOptions struct {
	// IdleAfter reports topics whose newest record is older than this, and
	// empty topics. Zero skips the check.
	IdleAfter time.Duration `json:"idle_after_ns"`
	// MaxRetention reports topics whose retention.ms exceeds it; infinite
	// retention (-1) always exceeds it. Zero skips the check.
	MaxRetention time.Duration `json:"max_retention_ns"`
	// PricePerGBMonth is the storage price per gigabyte (10^9 bytes) and
	// month, used for the cost estimate. Zero estimates no cost.
	PricePerGBMonth float64 `json:"price_per_gb_month"`
	// Prefix limits the report to topics and groups whose names start with
	// it; empty means all.
	Prefix string `json:"prefix,omitempty"`
	// IncludeInternal includes internal topics (Kafka's own, and any name
	// starting with "_"), which are otherwise left out of every section.
	IncludeInternal bool `json:"include_internal"`
}

// HousekeepingReport is what Housekeeping found. It is plain data: String
// renders it for people, encoding/json for programs. Nothing in it has
// been acted on; pass it to DeleteIdleTopics or DeleteDeadGroups for that.
type HousekeepingReport struct {
	// Time is when the report was made, by the client's clock.
	Time time.Time `json:"time"`
	// Options are the options the report was made with.
	Options HousekeepingOptions `json:"options"`
	// IdleTopics are the topics with no write for Options.IdleAfter, and
	// the empty topics, sorted by name. Nil when IdleAfter is zero.
	IdleTopics []IdleTopic `json:"idle_topics"`
	// TopicsWithoutGroups are the topics that no group has committed
	// offsets for, sorted. Nil when the groups could not be listed; when
	// only some groups could not be inspected (see the error Housekeeping
	// returns), it may name topics that those groups consume.
	TopicsWithoutGroups []string `json:"topics_without_groups"`
	// EmptyGroups are the groups in state Empty: no member, but committed
	// offsets kept until they expire. Sorted by name.
	EmptyGroups []InactiveGroup `json:"empty_groups"`
	// DeadGroups are the groups in state Dead, sorted by name.
	DeadGroups []InactiveGroup `json:"dead_groups"`
	// OverRetention are the topics whose retention exceeds
	// Options.MaxRetention, sorted by name. Nil when MaxRetention is zero.
	OverRetention []LongRetention `json:"over_retention"`
	// Storage is the size of each topic, largest first.
	Storage []TopicStorage `json:"storage"`
	// Brokers is the size of the reported topics' replicas on each
	// broker, by broker ID.
	Brokers []BrokerStorage `json:"brokers"`
	// TotalBytes is the size of the reported topics, all replicas.
	TotalBytes int64 `json:"total_bytes"`
	// TotalMonthlyCost is the estimated monthly cost of TotalBytes.
	TotalMonthlyCost float64 `json:"total_monthly_cost"`
}

// IdleTopic is a topic with no recent write.
type IdleTopic struct {
	// Topic is the topic's name.
	Topic string `json:"topic"`
	// Empty is true when the topic holds no record.
	Empty bool `json:"empty"`
	// Newest is the timestamp of the topic's newest record; zero when
	// Empty.
	Newest time.Time `json:"newest,omitzero"`
	// IdleFor is how long before the report's Time the newest record was
	// written; zero when Empty.
	IdleFor time.Duration `json:"idle_for_ns"`
}

// InactiveGroup is a group with no member.
type InactiveGroup struct {
	// Group is the group's name.
	Group string `json:"group"`
	// State is Empty or Dead.
	State string `json:"state"`
	// ProtocolType is "consumer" for consumers, "connect" for Kafka
	// Connect workers, empty when the group never had a member.
	ProtocolType string `json:"protocol_type"`
	// Topics are the topics the group has committed offsets for, sorted.
	Topics []string `json:"topics"`
	// LastConsumed is the timestamp of the newest record the group has
	// consumed, the record before a committed offset; zero when unknown
	// (nothing committed, or those records are gone).
	LastConsumed time.Time `json:"last_consumed,omitzero"`
	// Age is how long before the report's Time LastConsumed was; zero
	// when unknown. Kafka keeps no time for a group, so this is the best
	// available estimate of how long the group has been inactive, and an
	// upper bound: the group read that record at LastConsumed or later.
	Age time.Duration `json:"age_ns"`
}

// LongRetention is a topic that keeps records longer than the limit.
type LongRetention struct {
	// Topic is the topic's name.
	Topic string `json:"topic"`
	// RetentionMS is the topic's retention.ms; -1 means infinite.
	RetentionMS int64 `json:"retention_ms"`
	// CleanupPolicy is the topic's cleanup.policy; retention.ms only
	// deletes records when it includes "delete".
	CleanupPolicy string `json:"cleanup_policy"`
}

// Infinite reports whether the topic keeps records forever.
func (r LongRetention) Infinite() bool { return r.RetentionMS < 0 }

// TopicStorage is the size on disk of one topic.
type TopicStorage struct {
	// Topic is the topic's name.
	Topic string `json:"topic"`
	// Partitions is the topic's partition count.
	Partitions int `json:"partitions"`
	// Bytes is the size of all the topic's replicas, summed over brokers.
	Bytes int64 `json:"bytes"`
	// LeaderBytes is the size of the partition leaders' replicas only:
	// the data once, without replication.
	LeaderBytes int64 `json:"leader_bytes"`
	// MonthlyCost is Bytes / 10^9 * PricePerGBMonth.
	MonthlyCost float64 `json:"monthly_cost"`
}

// BrokerStorage is the size of the reported topics on one broker.
type BrokerStorage struct {
	// Broker is the broker's node ID.
	Broker int32 `json:"broker"`
	// Bytes is the size of the reported topics' replicas on the broker.
	Bytes int64 `json:"bytes"`
}

// Housekeeping inspects the cluster and reports idle topics, topics no
// group consumes, empty and dead groups, topics over the retention limit,
// and storage with its estimated cost. It changes nothing.
//
// Idle topics are found with ListOffsets at the max timestamp (Kafka
// 3.0+). Group ages come from reading the record before each committed
// offset of an empty group, with one short-lived direct consumer (see
// Lag); a record not read within 10s leaves the age unknown.
//
// When some topics, groups, configs or brokers cannot be inspected,
// Housekeeping returns the report of the rest together with an error
// listing each failure. It returns a nil report only when the topics
// cannot be listed, or when ctx ends.
func (c *Client) Housekeeping(ctx context.Context, opts HousekeepingOptions) (_ *HousekeepingReport, err error) {
	ctx, done := c.guard(ctx)
	defer done(&err)
	now := c.now()
	r := &HousekeepingReport{Time: now, Options: opts}
	var problems []error

	all, err := c.adm.ListTopicsWithInternal(ctx)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	selected := make(map[string]kadm.TopicDetail)
	for name, td := range all {
		if !strings.HasPrefix(name, opts.Prefix) || (!opts.IncludeInternal && (td.IsInternal || strings.HasPrefix(name, "_"))) {
			continue
		}
		if td.Err != nil {
			problems = append(problems, fmt.Errorf("describe topic %q: %w", name, td.Err))
			continue
		}
		selected[name] = td
	}
	names := slices.Sorted(maps.Keys(selected))

	if opts.IdleAfter > 0 && len(names) > 0 {
		idle, err := c.idleTopics(ctx, now, opts.IdleAfter, names)
		if err != nil {
			problems = append(problems, err)
		}
		r.IdleTopics = idle
	}
	if err := c.inspectGroups(ctx, r, all, names); err != nil {
		problems = append(problems, err)
	}
	if opts.MaxRetention > 0 && len(names) > 0 {
		over, err := c.overRetention(ctx, opts.MaxRetention, names)
		if err != nil {
			problems = append(problems, err)
		}
		r.OverRetention = over
	}
	dirs, err := c.adm.DescribeAllLogDirs(ctx, nil)
	if err != nil {
		problems = append(problems, fmt.Errorf("describe log dirs: %w", err))
	}
	problems = append(problems, r.addStorage(selected, dirs)...)

	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("housekeeping: %w", err)
	}
	if len(problems) > 0 {
		return r, fmt.Errorf("housekeeping: %d items not inspected: %w", len(problems), errors.Join(problems...))
	}
	return r, nil
}
