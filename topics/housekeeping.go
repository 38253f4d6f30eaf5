package topics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
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
func (c *Client) Housekeeping(ctx context.Context, opts HousekeepingOptions) (*HousekeepingReport, error) {
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

// isPartial reports whether err is a kadm.ShardErrors from a request
// that some brokers did answer.
func isPartial(err error) bool {
	se, ok := errors.AsType[*kadm.ShardErrors](err)
	return ok && !se.AllFailed
}

// idleTopics returns the topics among names whose newest record is older
// than now-after, or that are empty. A topic that could not be listed is
// left out and named in the error.
func (c *Client) idleTopics(ctx context.Context, now time.Time, after time.Duration, names []string) ([]IdleTopic, error) {
	newest, failed, err := c.newestRecords(ctx, names)
	if err != nil {
		return nil, err
	}
	var idle []IdleTopic
	var problems []error
	for _, name := range names {
		ts, ok := newest[name]
		switch {
		case !ok:
			problems = append(problems, failed[name])
		case ts.IsZero():
			idle = append(idle, IdleTopic{Topic: name, Empty: true})
		case ts.Before(now.Add(-after)):
			idle = append(idle, IdleTopic{Topic: name, Newest: ts, IdleFor: now.Sub(ts)})
		}
	}
	if len(problems) > 0 {
		return idle, errors.Join(problems...)
	}
	return idle, nil
}

// newestRecords returns the newest record timestamp of each topic that
// could be listed, zero for an empty topic, and why each other topic could
// not be. The error is for the listing as a whole.
func (c *Client) newestRecords(ctx context.Context, names []string) (map[string]time.Time, map[string]error, error) {
	listed, err := c.adm.ListMaxTimestampOffsets(ctx, names...)
	if err != nil && !isPartial(err) {
		return nil, nil, fmt.Errorf("list newest records: %w", err)
	}
	newest := make(map[string]time.Time)
	failed := make(map[string]error)
	for _, name := range names {
		ps, ok := listed[name]
		if !ok {
			failed[name] = fmt.Errorf("list newest record of %q: %w", name, err) // its broker failed
			continue
		}
		var ts time.Time
		for _, p := range sortedListed(ps) {
			switch {
			case p.Err != nil:
				failed[name] = fmt.Errorf("list newest record of %q: %w", name, p.Err)
			case p.Offset >= 0 && time.UnixMilli(p.Timestamp).After(ts):
				ts = time.UnixMilli(p.Timestamp)
			}
		}
		if failed[name] == nil {
			newest[name] = ts
		}
	}
	return newest, failed, nil
}

func sortedListed(ps map[int32]kadm.ListedOffset) []kadm.ListedOffset {
	out := make([]kadm.ListedOffset, 0, len(ps))
	for _, p := range slices.Sorted(maps.Keys(ps)) {
		out = append(out, ps[p])
	}
	return out
}

// groupOffsets lists the groups and fetches the committed offsets of each
// that has them: share groups keep theirs apart (KIP-932), and a group
// that is Dead or gone by the time its offsets are asked for has none. A
// partial listing or a failed fetch is a problem, not an error, and the
// group is left out; err is for a listing that failed whole.
func (c *Client) groupOffsets(ctx context.Context) (kadm.ListedGroups, kadm.FetchOffsetsResponses, []error, error) {
	listed, err := c.adm.ListGroups(ctx)
	if err != nil && !isPartial(err) {
		return nil, nil, nil, fmt.Errorf("list groups: %w", err)
	}
	var problems []error
	if err != nil {
		problems = append(problems, fmt.Errorf("list groups: %w", err))
	}
	var withOffsets []string
	for _, g := range listed.Sorted() {
		if g.GroupType != "share" {
			withOffsets = append(withOffsets, g.Group)
		}
	}
	out := make(kadm.FetchOffsetsResponses, len(withOffsets))
	if len(withOffsets) == 0 {
		return listed, out, problems, nil
	}
	for name, f := range c.adm.FetchManyOffsets(ctx, withOffsets...) {
		if f.Err != nil {
			if listed[name].State != "Dead" && !errors.Is(f.Err, kerr.GroupIDNotFound) {
				problems = append(problems, fmt.Errorf("fetch offsets of group %q: %w", name, f.Err))
			}
			continue
		}
		out[name] = f
	}
	return listed, out, problems, nil
}

// inspectGroups fills the sections on groups: topics no group has
// committed to, and empty and dead groups with their age.
func (c *Client) inspectGroups(ctx context.Context, r *HousekeepingReport, all kadm.TopicDetails, names []string) error {
	listed, fetched, problems, err := c.groupOffsets(ctx)
	if err != nil {
		return err
	}
	consumed := make(map[string]bool)
	committedTopics := make(map[string][]string)
	for _, name := range slices.Sorted(maps.Keys(fetched)) {
		for t, ps := range fetched[name].Fetched {
			for _, p := range ps {
				if p.Err == nil && p.At >= 0 {
					consumed[t] = true
					committedTopics[name] = append(committedTopics[name], t)
					break
				}
			}
		}
		sort.Strings(committedTopics[name])
	}
	for _, t := range names {
		if !consumed[t] {
			r.TopicsWithoutGroups = append(r.TopicsWithoutGroups, t)
		}
	}

	for _, g := range listed.Sorted() {
		if !strings.HasPrefix(g.Group, r.Options.Prefix) || (g.State != "Empty" && g.State != "Dead") {
			continue
		}
		ig := InactiveGroup{Group: g.Group, State: g.State, ProtocolType: g.ProtocolType, Topics: committedTopics[g.Group]}
		if g.State == "Empty" {
			r.EmptyGroups = append(r.EmptyGroups, ig)
		} else {
			r.DeadGroups = append(r.DeadGroups, ig)
		}
	}
	if err := c.addGroupAges(ctx, r.Time, r.EmptyGroups, fetched, all); err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		return errors.Join(problems...)
	}
	return nil
}

// addGroupAges sets LastConsumed and Age of each group from the timestamp
// of the record before each of its committed offsets. Only offsets inside
// the partition's current log are read: reading past the end would wait
// for a record that may never come.
func (c *Client) addGroupAges(ctx context.Context, now time.Time, groups []InactiveGroup, fetched kadm.FetchOffsetsResponses, all kadm.TopicDetails) error {
	topicSet := make(map[string]bool)
	for _, g := range groups {
		for _, t := range g.Topics {
			if _, exists := all[t]; exists {
				topicSet[t] = true
			}
		}
	}
	if len(topicSet) == 0 {
		return nil
	}
	topics := slices.Sorted(maps.Keys(topicSet))
	starts, err := c.adm.ListStartOffsets(ctx, topics...)
	if err != nil && !isPartial(err) {
		return fmt.Errorf("list start offsets: %w", err)
	}
	ends, err := c.adm.ListEndOffsets(ctx, topics...)
	if err != nil && !isPartial(err) {
		return fmt.Errorf("list end offsets: %w", err)
	}

	var want []offsetKey
	for _, g := range groups {
		fetched[g.Group].Fetched.Each(func(o kadm.OffsetResponse) {
			if k, ok := lastConsumedKey(o, starts, ends); ok {
				want = append(want, k)
			}
		})
	}
	found, _ := c.readRecordsAt(ctx, want)
	for i := range groups {
		g := &groups[i]
		fetched[g.Group].Fetched.Each(func(o kadm.OffsetResponse) {
			k, ok := lastConsumedKey(o, starts, ends)
			if !ok {
				return
			}
			// Only the record at exactly that offset was consumed; a
			// later one (after compaction) was not.
			if rec, ok := found[k]; ok && rec.offset == k.offset && rec.timestamp.After(g.LastConsumed) {
				g.LastConsumed = rec.timestamp
			}
		})
		if !g.LastConsumed.IsZero() {
			g.Age = max(now.Sub(g.LastConsumed), 0)
		}
	}
	return nil
}

// lastConsumedKey returns the offset of the record before committed
// offset o, when that record is still in the partition's log.
func lastConsumedKey(o kadm.OffsetResponse, starts, ends kadm.ListedOffsets) (offsetKey, bool) {
	if o.Err != nil || o.At <= 0 {
		return offsetKey{}, false
	}
	start, ok1 := starts.Lookup(o.Topic, o.Partition)
	end, ok2 := ends.Lookup(o.Topic, o.Partition)
	if !ok1 || !ok2 || start.Err != nil || end.Err != nil {
		return offsetKey{}, false
	}
	at := o.At - 1
	if at < start.Offset || at >= end.Offset {
		return offsetKey{}, false
	}
	return offsetKey{partitionKey{o.Topic, o.Partition}, at}, true
}

// overRetention returns the topics among names whose retention.ms exceeds
// limit.
func (c *Client) overRetention(ctx context.Context, limit time.Duration, names []string) ([]LongRetention, error) {
	rcs, err := c.adm.DescribeTopicConfigs(ctx, names...)
	if err != nil && !isPartial(err) {
		return nil, fmt.Errorf("describe topic configs: %w", err)
	}
	var problems []error
	if err != nil {
		problems = append(problems, fmt.Errorf("describe topic configs: %w", err))
	}
	var over []LongRetention
	for _, rc := range rcs {
		if rc.Err != nil {
			problems = append(problems, fmt.Errorf("describe configs of topic %q: %w", rc.Name, rc.Err))
			continue
		}
		lr := LongRetention{Topic: rc.Name, RetentionMS: -2}
		for _, cfg := range rc.Configs {
			if cfg.Value == nil {
				continue
			}
			switch cfg.Key {
			case "retention.ms":
				ms, err := strconv.ParseInt(*cfg.Value, 10, 64)
				if err != nil {
					problems = append(problems, fmt.Errorf("parse retention.ms of topic %q: %w", rc.Name, err))
					continue
				}
				lr.RetentionMS = ms
			case "cleanup.policy":
				lr.CleanupPolicy = *cfg.Value
			}
		}
		if lr.RetentionMS == -2 { // not reported; unparsable ones are in problems
			continue
		}
		if lr.Infinite() || lr.RetentionMS > limit.Milliseconds() {
			over = append(over, lr)
		}
	}
	sort.Slice(over, func(i, j int) bool { return over[i].Topic < over[j].Topic })
	if len(problems) > 0 {
		return over, errors.Join(problems...)
	}
	return over, nil
}

// addStorage fills the storage sections from the brokers' log dirs:
// every replica counts toward its topic and broker, the leader's replica
// also toward the topic's LeaderBytes. Replicas being moved between
// directories (future replicas) are not counted twice.
func (r *HousekeepingReport) addStorage(selected map[string]kadm.TopicDetail, dirs kadm.DescribedAllLogDirs) []error {
	var problems []error
	byTopic := make(map[string]*TopicStorage, len(selected))
	for name, td := range selected {
		byTopic[name] = &TopicStorage{Topic: name, Partitions: len(td.Partitions)}
	}
	for _, b := range slices.Sorted(maps.Keys(dirs)) {
		bs := BrokerStorage{Broker: b}
		for _, d := range dirs[b].Sorted() {
			if d.Err != nil {
				problems = append(problems, fmt.Errorf("describe log dir %q of broker %d: %w", d.Dir, b, d.Err))
				continue
			}
			d.Topics.Each(func(p kadm.DescribedLogDirPartition) {
				ts, ok := byTopic[p.Topic]
				if !ok || p.IsFuture {
					return
				}
				ts.Bytes += p.Size
				bs.Bytes += p.Size
				if selected[p.Topic].Partitions[p.Partition].Leader == b {
					ts.LeaderBytes += p.Size
				}
			})
		}
		r.Brokers = append(r.Brokers, bs)
	}
	r.TotalBytes, r.TotalMonthlyCost = 0, 0
	for _, ts := range byTopic {
		ts.MonthlyCost = monthlyCost(ts.Bytes, r.Options.PricePerGBMonth)
		r.Storage = append(r.Storage, *ts)
		r.TotalBytes += ts.Bytes
		r.TotalMonthlyCost += ts.MonthlyCost
	}
	sort.Slice(r.Storage, func(i, j int) bool {
		if r.Storage[i].Bytes != r.Storage[j].Bytes {
			return r.Storage[i].Bytes > r.Storage[j].Bytes
		}
		return r.Storage[i].Topic < r.Storage[j].Topic
	})
	return problems
}

// monthlyCost is the cost of storing bytes for a month at pricePerGB per
// gigabyte (10^9 bytes).
func monthlyCost(bytes int64, pricePerGB float64) float64 {
	return float64(bytes) / 1e9 * pricePerGB
}

// String renders the report for people.
func (r *HousekeepingReport) String() string {
	var b strings.Builder
	o := r.Options
	fmt.Fprintf(&b, "housekeeping report at %s", r.Time.UTC().Format(time.RFC3339))
	var scope []string
	if o.Prefix != "" {
		scope = append(scope, fmt.Sprintf("prefix %q", o.Prefix))
	}
	if o.IncludeInternal {
		scope = append(scope, "internal topics included")
	}
	if o.IdleAfter > 0 {
		scope = append(scope, "idle after "+o.IdleAfter.String())
	}
	if o.MaxRetention > 0 {
		scope = append(scope, "max retention "+o.MaxRetention.String())
	}
	if o.PricePerGBMonth > 0 {
		scope = append(scope, fmt.Sprintf("%.4g per GB-month", o.PricePerGBMonth))
	}
	if len(scope) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(scope, ", "))
	}
	b.WriteString("\n")

	if o.IdleAfter > 0 {
		fmt.Fprintf(&b, "\nidle topics (%d):\n", len(r.IdleTopics))
		for _, t := range r.IdleTopics {
			if t.Empty {
				fmt.Fprintf(&b, "  %s: empty\n", t.Topic)
				continue
			}
			fmt.Fprintf(&b, "  %s: newest record %s, idle %s\n", t.Topic, t.Newest.UTC().Format(time.RFC3339), t.IdleFor.Round(time.Second))
		}
	}

	fmt.Fprintf(&b, "\ntopics without a consumer group (%d):\n", len(r.TopicsWithoutGroups))
	for _, t := range r.TopicsWithoutGroups {
		fmt.Fprintf(&b, "  %s\n", t)
	}

	for _, sec := range []struct {
		title  string
		groups []InactiveGroup
	}{{"empty groups", r.EmptyGroups}, {"dead groups", r.DeadGroups}} {
		fmt.Fprintf(&b, "\n%s (%d):\n", sec.title, len(sec.groups))
		for _, g := range sec.groups {
			fmt.Fprintf(&b, "  %s", g.Group)
			var info []string
			if g.ProtocolType != "" {
				info = append(info, g.ProtocolType)
			}
			if len(g.Topics) > 0 {
				info = append(info, "topics "+strings.Join(g.Topics, ", "))
			}
			if g.Age > 0 {
				info = append(info, fmt.Sprintf("last consumed record %s, age %s", g.LastConsumed.UTC().Format(time.RFC3339), g.Age.Round(time.Second)))
			} else {
				info = append(info, "age unknown")
			}
			fmt.Fprintf(&b, ": %s\n", strings.Join(info, "; "))
		}
	}

	if o.MaxRetention > 0 {
		fmt.Fprintf(&b, "\ntopics over the retention limit (%d):\n", len(r.OverRetention))
		for _, t := range r.OverRetention {
			ret := "infinite"
			if !t.Infinite() {
				ret = (time.Duration(t.RetentionMS) * time.Millisecond).String()
			}
			fmt.Fprintf(&b, "  %s: retention %s, cleanup.policy %s\n", t.Topic, ret, t.CleanupPolicy)
		}
	}

	b.WriteString("\nstorage by topic:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  topic\tpartitions\tbytes (all replicas)\tbytes (leaders)\tmonthly cost\t")
	for _, t := range r.Storage {
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%.2f\t\n", t.Topic, t.Partitions, formatBytes(t.Bytes), formatBytes(t.LeaderBytes), t.MonthlyCost)
	}
	fmt.Fprintf(tw, "  total\t\t%s\t\t%.2f\t\n", formatBytes(r.TotalBytes), r.TotalMonthlyCost)
	_ = tw.Flush()

	b.WriteString("\nstorage by broker:\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  broker\tbytes\t")
	for _, bs := range r.Brokers {
		fmt.Fprintf(tw, "  %d\t%s\t\n", bs.Broker, formatBytes(bs.Bytes))
	}
	_ = tw.Flush()
	return b.String()
}

// formatBytes renders n in decimal units, as the cost estimate counts
// them.
func formatBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTP"[exp])
}

// Audit actions, the Action of an AuditEntry.
const (
	// AuditDeleteTopic deletes a topic.
	AuditDeleteTopic = "delete topic"
	// AuditDeleteGroup deletes a consumer group and its committed offsets.
	AuditDeleteGroup = "delete group"
	// AuditDeleteRecords deletes a partition's records before an offset.
	AuditDeleteRecords = "delete records"
)

// AuditEntry records one housekeeping action: done, or only described
// in a dry run. Each is also logged at info level.
type AuditEntry struct {
	// Time is when the action was taken, by the client's clock.
	Time time.Time
	// Action is one of the Audit constants.
	Action string
	// Target is the topic, the group, or the partition as topic[n].
	Target string
	// Detail says more, such as the offset records were deleted before.
	Detail string
	// DryRun is true when the action was only described.
	DryRun bool
	// Err is why the action failed; nil when it succeeded, or, in a dry
	// run, would have been attempted.
	Err error
}

// MarshalJSON encodes the entry with Err as its message.
func (e AuditEntry) MarshalJSON() ([]byte, error) {
	var msg string
	if e.Err != nil {
		msg = e.Err.Error()
	}
	return json.Marshal(struct {
		Time   time.Time `json:"time"`
		Action string    `json:"action"`
		Target string    `json:"target"`
		Detail string    `json:"detail,omitempty"`
		DryRun bool      `json:"dry_run"`
		Error  string    `json:"error,omitempty"`
	}{e.Time, e.Action, e.Target, e.Detail, e.DryRun, msg})
}

// HousekeepingError lists the items a housekeeping action failed on. It
// unwraps to each item's error, so errors.Is finds a kerr error or
// ErrStaleReport in it.
type HousekeepingError struct {
	// Action is the action that failed, one of the Audit constants.
	Action string
	// Attempted is how many items the action was attempted on.
	Attempted int
	// Failed are the audit entries of the failed items.
	Failed []AuditEntry
}

func (e *HousekeepingError) Error() string {
	parts := make([]string, len(e.Failed))
	for i, f := range e.Failed {
		parts[i] = f.Target + ": " + f.Err.Error()
	}
	return fmt.Sprintf("%s: %d of %d failed: %s", e.Action, len(e.Failed), e.Attempted, strings.Join(parts, "; "))
}

// Unwrap returns each failed item's error.
func (e *HousekeepingError) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		errs[i] = f.Err
	}
	return errs
}

// audit completes and logs the entries of one action and returns the
// aggregate error of the failed ones.
func (c *Client) audit(ctx context.Context, action string, entries []AuditEntry) error {
	var failed []AuditEntry
	for _, e := range entries {
		attrs := []slog.Attr{
			slog.String("action", e.Action),
			slog.String("target", e.Target),
			slog.Bool("dry_run", e.DryRun),
		}
		if e.Detail != "" {
			attrs = append(attrs, slog.String("detail", e.Detail))
		}
		if e.Err != nil {
			attrs = append(attrs, slog.Any("error", e.Err))
			failed = append(failed, e)
		}
		c.log.LogAttrs(ctx, slog.LevelInfo, "housekeeping action", attrs...)
	}
	if len(failed) > 0 {
		return &HousekeepingError{Action: action, Attempted: len(entries), Failed: failed}
	}
	return nil
}

// DeleteIdleTopics deletes the report's idle topics, or with dryRun only
// says it would. Before either, it lists each topic's newest record again:
// a topic written since the report is left alone and its entry holds
// ErrStaleReport. It returns one audit entry per idle topic, and a
// *HousekeepingError when any failed.
func (c *Client) DeleteIdleTopics(ctx context.Context, report *HousekeepingReport, dryRun bool) ([]AuditEntry, error) {
	if report == nil || len(report.IdleTopics) == 0 {
		return nil, nil
	}
	names := make([]string, len(report.IdleTopics))
	for i, t := range report.IdleTopics {
		names[i] = t.Topic
	}
	newest, failed, err := c.newestRecords(ctx, names)
	if err != nil {
		return nil, fmt.Errorf("delete idle topics: %w", err)
	}

	now := c.now()
	entries := make([]AuditEntry, len(names))
	var doomed []string
	for i, t := range report.IdleTopics {
		e := AuditEntry{Time: now, Action: AuditDeleteTopic, Target: t.Topic, DryRun: dryRun}
		ts, ok := newest[t.Topic]
		switch {
		case !ok:
			e.Err = failed[t.Topic]
		case ts.After(t.Newest):
			e.Err = fmt.Errorf("written at %s: %w", ts.UTC().Format(time.RFC3339), ErrStaleReport)
		case t.Empty:
			e.Detail = "empty"
		default:
			e.Detail = "newest record " + t.Newest.UTC().Format(time.RFC3339)
		}
		if e.Err == nil && !dryRun {
			doomed = append(doomed, t.Topic)
		}
		entries[i] = e
	}
	if len(doomed) > 0 {
		resps, err := c.adm.DeleteTopics(ctx, doomed...)
		for i := range entries {
			e := &entries[i]
			if e.Err != nil {
				continue
			}
			if err != nil {
				e.Err = err
			} else if r, ok := resps[e.Target]; !ok {
				e.Err = kerr.UnknownServerError
			} else if r.Err != nil {
				e.Err = r.Err
			}
		}
	}
	return entries, c.audit(ctx, AuditDeleteTopic, entries)
}

// DeleteDeadGroups deletes the report's empty and dead groups with their
// committed offsets, or with dryRun only says it would. Kafka refuses to
// delete a group that has gained members since the report
// (NON_EMPTY_GROUP); a group already gone counts as deleted. It returns
// one audit entry per group, and a *HousekeepingError when any failed.
func (c *Client) DeleteDeadGroups(ctx context.Context, report *HousekeepingReport, dryRun bool) ([]AuditEntry, error) {
	if report == nil {
		return nil, nil
	}
	var groups []InactiveGroup
	groups = append(groups, report.EmptyGroups...)
	groups = append(groups, report.DeadGroups...)
	if len(groups) == 0 {
		return nil, nil
	}
	now := c.now()
	entries := make([]AuditEntry, len(groups))
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = g.Group
		entries[i] = AuditEntry{Time: now, Action: AuditDeleteGroup, Target: g.Group, Detail: "state " + g.State, DryRun: dryRun}
	}
	if !dryRun {
		resps, err := c.adm.DeleteGroups(ctx, names...)
		for i := range entries {
			e := &entries[i]
			r, ok := resps[e.Target]
			switch {
			case ok && errors.Is(r.Err, kerr.GroupIDNotFound):
				e.Detail += ", already gone"
			case ok:
				e.Err = r.Err
			case err != nil:
				e.Err = err
			default:
				e.Err = kerr.UnknownServerError
			}
		}
	}
	return entries, c.audit(ctx, AuditDeleteGroup, entries)
}

// TruncateBefore deletes the records of topic written before the given
// time, or with dryRun only says it would: in each partition, all records
// before the first one whose timestamp is at or after before. Partitions
// holding nothing older are left alone and get no entry. It returns one
// audit entry per partition, and a *HousekeepingError when any failed.
//
// Kafka finds that first record by the time index, so a record with an
// older timestamp written after it (a producer with a skewed clock) is
// kept.
func (c *Client) TruncateBefore(ctx context.Context, topic string, before time.Time, dryRun bool) ([]AuditEntry, error) {
	after, err := c.adm.ListOffsetsAfterMilli(ctx, before.UnixMilli(), topic)
	if err != nil {
		return nil, fmt.Errorf("truncate %q: list offsets after %s: %w", topic, before.UTC().Format(time.RFC3339), err)
	}
	starts, err := c.adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("truncate %q: list start offsets: %w", topic, err)
	}
	if o, ok := after.Lookup(topic, -1); ok && o.Err != nil {
		return nil, fmt.Errorf("truncate %q: %w", topic, o.Err)
	}

	now := c.now()
	var entries []AuditEntry
	cut := make(kadm.Offsets)
	var entryPartitions []int32
	for _, p := range slices.Sorted(maps.Keys(after[topic])) {
		a := after[topic][p]
		e := AuditEntry{Time: now, Action: AuditDeleteRecords, Target: fmt.Sprintf("%s[%d]", topic, p), DryRun: dryRun}
		s, ok := starts.Lookup(topic, p)
		switch {
		case a.Err != nil:
			e.Err = fmt.Errorf("list offset after %s: %w", before.UTC().Format(time.RFC3339), a.Err)
		case !ok:
			e.Err = fmt.Errorf("list start offset: %w", kerr.UnknownTopicOrPartition)
		case s.Err != nil:
			e.Err = fmt.Errorf("list start offset: %w", s.Err)
		case a.Offset <= s.Offset:
			continue // nothing older
		default:
			e.Detail = fmt.Sprintf("before offset %d (%d records)", a.Offset, a.Offset-s.Offset)
			if !dryRun {
				cut.AddOffset(topic, p, a.Offset, -1)
			}
		}
		entries = append(entries, e)
		entryPartitions = append(entryPartitions, p)
	}
	if len(cut) > 0 {
		resps, err := c.adm.DeleteRecords(ctx, cut)
		for i := range entries {
			e := &entries[i]
			if e.Err != nil {
				continue
			}
			r, ok := resps.Lookup(topic, entryPartitions[i])
			switch {
			case ok && r.Err != nil:
				e.Err = r.Err
			case ok:
			case err != nil:
				e.Err = err
			default:
				e.Err = kerr.UnknownServerError
			}
		}
	}
	return entries, c.audit(ctx, AuditDeleteRecords, entries)
}
