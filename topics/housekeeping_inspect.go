package topics

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

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
