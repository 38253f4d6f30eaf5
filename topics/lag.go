package topics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
	"github.com/twmb/franz-go/pkg/sasl"
)

// recordReadTimeout bounds how long one call of Lag or Housekeeping waits
// for the records whose timestamps it reads. A partition that has not
// answered by then gets a TimeErr instead of a time lag.
const recordReadTimeout = 10 * time.Second

// recordReadPartitionBytes keeps each partition's fetch to about one small
// batch: only the first record at an offset is wanted. A larger first batch
// is still returned whole (KIP-74).
const recordReadPartitionBytes = 32 << 10

// LagReport is the lag of a set of consumer groups at one moment. Record
// lag follows kadm.CalculateGroupLagWithStartOffsets, including its
// partitions that a group never committed to but whose topic it reads,
// which lag from the log start; unlike kadm, a commit below the log start
// also counts from the log start, as the records before it are gone. Time
// lag is how old the oldest record a group has not consumed is.
type LagReport struct {
	// Time is when the lag was measured, by the client's clock.
	Time time.Time `json:"time"`
	// Groups holds one entry per group, sorted by name.
	Groups []GroupLag `json:"groups"`
	// MaxTimeLag is the largest TimeLag of any partition of any group.
	MaxTimeLag time.Duration `json:"max_time_lag_ns"`
}

// Group returns the lag of the named group and whether the report holds it.
func (r LagReport) Group(name string) (GroupLag, bool) {
	for _, g := range r.Groups {
		if g.Group == name {
			return g, true
		}
	}
	return GroupLag{}, false
}

// GroupLag is the lag of one consumer group across the topics it has
// committed to or is assigned.
type GroupLag struct {
	// Group is the group's name.
	Group string `json:"group"`
	// State is the group's state (Stable, Empty, PreparingRebalance, ...);
	// empty when the group could not be described.
	State string `json:"state"`
	// ProtocolType is "consumer" for consumers, "connect" for Kafka
	// Connect workers.
	ProtocolType string `json:"protocol_type"`
	// Members is the number of members in the group.
	Members int `json:"members"`
	// Lag is the group's total lag in records; partitions whose lag is
	// unknown count as zero.
	Lag int64 `json:"lag"`
	// MaxTimeLag is the largest TimeLag of the group's partitions.
	MaxTimeLag time.Duration `json:"max_time_lag_ns"`
	// Topics holds the group's lag per topic, sorted by name.
	Topics []TopicLag `json:"topics"`
	// Err is why the group could not be described or its committed
	// offsets fetched; Topics is then empty. It is not part of the JSON
	// encoding.
	Err error `json:"-"`
}

// Topic returns the group's lag on the named topic and whether the group
// has any.
func (g GroupLag) Topic(name string) (TopicLag, bool) {
	for _, t := range g.Topics {
		if t.Topic == name {
			return t, true
		}
	}
	return TopicLag{}, false
}

// TopicLag is one group's lag on one topic.
type TopicLag struct {
	// Topic is the topic's name.
	Topic string `json:"topic"`
	// Lag is the total lag in records over the topic's partitions whose
	// lag is known.
	Lag int64 `json:"lag"`
	// MaxTimeLag is the largest TimeLag of the topic's partitions.
	MaxTimeLag time.Duration `json:"max_time_lag_ns"`
	// Partitions holds the lag per partition, sorted by number.
	Partitions []PartitionLag `json:"partitions"`
}

// PartitionLag is one group's lag on one partition.
type PartitionLag struct {
	// Topic and Partition name the partition.
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// Committed is the group's committed offset, -1 when it has
	// committed nothing.
	Committed int64 `json:"committed"`
	// LogStart is the partition's log start offset, -1 when unknown.
	LogStart int64 `json:"log_start"`
	// End is the partition's end offset (high watermark), -1 when unknown.
	End int64 `json:"end"`
	// Lag is the number of records the group has yet to consume: End
	// minus the larger of Committed and LogStart, so that a group that
	// has committed nothing, or whose commit was deleted from under it,
	// counts only records that still exist. It is -1 when unknown, and
	// Err says why.
	Lag int64 `json:"lag"`
	// Oldest is the timestamp of the oldest record the group has not
	// consumed (the record at the larger of Committed and LogStart); zero
	// when Lag is not positive or the record could not be read.
	Oldest time.Time `json:"oldest,omitzero"`
	// TimeLag is how old that record is at LagReport.Time; zero when Lag
	// is not positive or the record could not be read.
	TimeLag time.Duration `json:"time_lag_ns"`
	// MemberID, InstanceID, ClientID and Host describe the member the
	// partition is assigned to; all are empty when no member has it.
	MemberID   string `json:"member_id,omitempty"`
	InstanceID string `json:"instance_id,omitempty"`
	ClientID   string `json:"client_id,omitempty"`
	Host       string `json:"host,omitempty"`
	// Err is why Lag is unknown. It is not part of the JSON encoding.
	Err error `json:"-"`
	// TimeErr is why TimeLag is unknown although Lag is positive. It is
	// not part of the JSON encoding.
	TimeErr error `json:"-"`
}

// Lag measures the lag of the given consumer groups, or of every group
// when none are given, per group, topic and partition, in records and in
// time.
//
// Time lag needs the timestamp of the oldest unconsumed record of each
// lagging partition. Lag reads those records with one short-lived direct
// consumer for all partitions, fetching a small amount of data at exactly
// those offsets; the consumer uses the wrapped client's seed brokers,
// dialer (and so its TLS), SASL, client ID and version bounds, not its
// hooks. The reads are bounded by ctx and by a 10s timeout; a partition
// not read by then keeps its record lag and gets a TimeErr.
//
// A group that cannot be described or whose offsets cannot be fetched is
// in the report with its Err set. Lag returns an error when the groups
// cannot be listed or described at all, on an authorization failure, and
// when ctx ends.
func (c *Client) Lag(ctx context.Context, groups ...string) (_ LagReport, err error) {
	ctx, done := c.guard(ctx)
	defer done(&err)
	now := c.now()
	described, err := c.adm.Lag(ctx, groups...)
	if err != nil {
		return LagReport{}, fmt.Errorf("describe group lag: %w", err)
	}

	report := LagReport{Time: now}
	for _, dl := range described.Sorted() {
		report.Groups = append(report.Groups, groupLagFrom(dl))
	}

	var want []offsetKey
	eachPartitionLag(report.Groups, func(p *PartitionLag) {
		if p.Lag > 0 {
			want = append(want, offsetKey{partitionKey{p.Topic, p.Partition}, oldestUnconsumed(p)})
		}
	})
	found, readErrs := c.readRecordsAt(ctx, want)
	if err := ctx.Err(); err != nil {
		return LagReport{}, fmt.Errorf("read oldest unconsumed records: %w", err)
	}
	eachPartitionLag(report.Groups, func(p *PartitionLag) {
		if p.Lag <= 0 {
			return
		}
		pk := partitionKey{p.Topic, p.Partition}
		rec, ok := found[offsetKey{pk, oldestUnconsumed(p)}]
		if !ok {
			p.TimeErr = readErrs[pk]
			if p.TimeErr == nil {
				p.TimeErr = fmt.Errorf("read record at offset %d: no record", oldestUnconsumed(p))
			}
			return
		}
		p.Oldest = rec.timestamp
		p.TimeLag = max(now.Sub(rec.timestamp), 0)
	})

	for gi := range report.Groups {
		g := &report.Groups[gi]
		for ti := range g.Topics {
			t := &g.Topics[ti]
			for _, p := range t.Partitions {
				if p.Lag > 0 {
					t.Lag += p.Lag
				}
				t.MaxTimeLag = max(t.MaxTimeLag, p.TimeLag)
			}
			g.Lag += t.Lag
			g.MaxTimeLag = max(g.MaxTimeLag, t.MaxTimeLag)
		}
		report.MaxTimeLag = max(report.MaxTimeLag, g.MaxTimeLag)
	}
	return report, nil
}

// groupLagFrom converts kadm's lag of one group, recomputing each
// partition's record lag with recordLag.
func groupLagFrom(dl kadm.DescribedGroupLag) GroupLag {
	g := GroupLag{
		Group:        dl.Group,
		State:        dl.State,
		ProtocolType: dl.ProtocolType,
		Members:      len(dl.Members),
		Err:          dl.Error(),
	}
	var cur *TopicLag
	for _, ml := range dl.Lag.Sorted() {
		if cur == nil || cur.Topic != ml.Topic {
			g.Topics = append(g.Topics, TopicLag{Topic: ml.Topic})
			cur = &g.Topics[len(g.Topics)-1]
		}
		p := PartitionLag{
			Topic:     ml.Topic,
			Partition: ml.Partition,
			Committed: ml.Commit.At,
			LogStart:  -1,
			End:       -1,
			Lag:       -1,
			Err:       ml.Err,
		}
		if p.Committed < 0 {
			p.Committed = -1
		}
		if m := ml.Member; m != nil {
			p.MemberID, p.ClientID, p.Host = m.MemberID, m.ClientID, m.ClientHost
			if m.InstanceID != nil {
				p.InstanceID = *m.InstanceID
			}
		}
		if ml.Start.Err == nil {
			p.LogStart = ml.Start.Offset
		}
		if ml.Err == nil {
			p.End = ml.End.Offset
			p.Lag = recordLag(p.Committed, p.LogStart, p.End)
		}
		cur.Partitions = append(cur.Partitions, p)
	}
	return g
}

// recordLag is the lag in records of a partition, with the semantics of
// kadm.CalculateGroupLagWithStartOffsets: with nothing committed the lag
// counts from the log start, not from zero. Beyond kadm, a commit below
// the log start also counts from the log start, as those records are gone.
// A negative logStart means unknown.
func recordLag(committed, logStart, end int64) int64 {
	from := committed
	if logStart >= 0 && from < logStart {
		from = logStart
	}
	return max(end-max(from, 0), 0)
}

// oldestUnconsumed is the offset of the oldest record p's group has not
// consumed and that still exists.
func oldestUnconsumed(p *PartitionLag) int64 {
	return max(p.Committed, p.LogStart, 0)
}

func eachPartitionLag(groups []GroupLag, fn func(*PartitionLag)) {
	for gi := range groups {
		for ti := range groups[gi].Topics {
			ps := groups[gi].Topics[ti].Partitions
			for pi := range ps {
				fn(&ps[pi])
			}
		}
	}
}

type partitionKey struct {
	topic     string
	partition int32
}

type offsetKey struct {
	partitionKey
	offset int64
}

type readRecord struct {
	offset    int64
	timestamp time.Time
}

// readRecordsAt reads, for each wanted offset, the first record at or
// after it, with one direct consumer for all partitions. A partition
// wanted at several offsets is read at the lowest first and moved forward
// with SetOffsets; records arrive in offset order, so the first record at
// or past a wanted offset is the answer even when it comes from a fetch
// that started earlier. The second map has an error for every partition
// that was not fully answered.
func (c *Client) readRecordsAt(ctx context.Context, want []offsetKey) (map[offsetKey]readRecord, map[partitionKey]error) {
	found := make(map[offsetKey]readRecord, len(want))
	errs := make(map[partitionKey]error)
	if len(want) == 0 {
		return found, errs
	}
	queues := make(map[partitionKey][]int64)
	for _, k := range want {
		queues[k.partitionKey] = append(queues[k.partitionKey], k.offset)
	}
	start := make(map[string]map[int32]kgo.Offset)
	for pk, offs := range queues {
		slices.Sort(offs)
		offs = slices.Compact(offs)
		queues[pk] = offs
		if start[pk.topic] == nil {
			start[pk.topic] = make(map[int32]kgo.Offset)
		}
		start[pk.topic][pk.partition] = kgo.NewOffset().At(offs[0])
	}

	ctx, cancel := context.WithTimeout(ctx, recordReadTimeout)
	defer cancel()
	cl, err := kgo.NewClient(append(c.readerOpts(),
		kgo.ConsumePartitions(start),
		// Records deleted from under a wanted offset: the next one that
		// exists is the answer.
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxPartitionBytes(recordReadPartitionBytes),
		kgo.FetchMaxWait(250*time.Millisecond),
	)...)
	if err != nil {
		err = fmt.Errorf("create record reader: %w", err)
		for pk := range queues {
			errs[pk] = err
		}
		return found, errs
	}
	defer cl.Close()

	next := make(map[partitionKey]int, len(queues))
	done := func(pk partitionKey) bool { return next[pk] == len(queues[pk]) || errs[pk] != nil }
	pending := len(queues)
	for pending > 0 && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		pause := make(map[string][]int32)
		fs.EachError(func(t string, p int32, err error) {
			pk := partitionKey{t, p}
			if _, dataLoss := errors.AsType[*kgo.ErrDataLoss](err); dataLoss {
				return // informational: consuming continues after the loss
			}
			if _, ok := queues[pk]; !ok || done(pk) {
				return
			}
			errs[pk] = fmt.Errorf("read %s[%d]: %w", t, p, err)
			pending--
			pause[t] = append(pause[t], p)
		})
		advanced := make(map[partitionKey]bool)
		fs.EachRecord(func(r *kgo.Record) {
			pk := partitionKey{r.Topic, r.Partition}
			if _, ok := queues[pk]; !ok || done(pk) {
				return
			}
			offs := queues[pk]
			for next[pk] < len(offs) && r.Offset >= offs[next[pk]] {
				found[offsetKey{pk, offs[next[pk]]}] = readRecord{offset: r.Offset, timestamp: r.Timestamp}
				next[pk]++
				advanced[pk] = true
			}
			if next[pk] == len(offs) {
				pending--
				pause[r.Topic] = append(pause[r.Topic], r.Partition)
			}
		})
		seek := make(map[string]map[int32]kgo.EpochOffset)
		for pk := range advanced {
			if done(pk) {
				continue
			}
			if seek[pk.topic] == nil {
				seek[pk.topic] = make(map[int32]kgo.EpochOffset)
			}
			seek[pk.topic][pk.partition] = kgo.EpochOffset{Epoch: -1, Offset: queues[pk][next[pk]]}
		}
		if len(pause) > 0 {
			cl.PauseFetchPartitions(pause)
		}
		if len(seek) > 0 {
			cl.SetOffsets(seek)
		}
	}
	if pending > 0 {
		err := fmt.Errorf("read records: %d of %d partitions unanswered: %w", pending, len(queues), context.Cause(ctx))
		for pk := range queues {
			if !done(pk) {
				errs[pk] = err
			}
		}
	}
	return found, errs
}

// readerOpts returns the wrapped client's connection settings for the
// short-lived direct consumers that read record timestamps. The dialer
// carries the TLS configuration. Hooks and consumer settings are not
// copied: a group or regex consumer's options do not combine with direct
// partitions, and hooks such as metrics belong to the caller's client.
func (c *Client) readerOpts() []kgo.Opt {
	var opts []kgo.Opt
	if seeds, ok := c.cl.OptValue(kgo.SeedBrokers).([]string); ok && len(seeds) > 0 {
		opts = append(opts, kgo.SeedBrokers(seeds...))
	}
	if vs := c.cl.OptValues(kgo.ClientID); len(vs) == 2 && vs[1] == true {
		if id, ok := vs[0].(string); ok {
			opts = append(opts, kgo.ClientID(id))
		}
	}
	if dial, ok := c.cl.OptValue(kgo.Dialer).(func(context.Context, string, string) (net.Conn, error)); ok && dial != nil {
		opts = append(opts, kgo.Dialer(dial))
	}
	if ms, ok := c.cl.OptValue(kgo.SASL).([]sasl.Mechanism); ok && len(ms) > 0 {
		opts = append(opts, kgo.SASL(ms...))
	}
	if v, ok := c.cl.OptValue(kgo.MaxVersions).(*kversion.Versions); ok && v != nil {
		opts = append(opts, kgo.MaxVersions(v))
	}
	if v, ok := c.cl.OptValue(kgo.MinVersions).(*kversion.Versions); ok && v != nil {
		opts = append(opts, kgo.MinVersions(v))
	}
	return opts
}
