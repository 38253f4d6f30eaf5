package topics_test

// Integration tests of Housekeeping and Lag on the platform's real Kafka.
// The clock is the real one, so times are checked within a tolerance.

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/topics"
)

// hkEnv is what the integration tests of this file share: a client on the
// platform, its brokers, a unique name prefix and an admin client that
// asks without kgo's metadata cache.
type hkEnv struct {
	ctx     context.Context
	c       *topics.Client
	brokers []string
	prefix  string
	rf      int16
}

func newHKEnv(t *testing.T, name string) *hkEnv {
	t.Helper()
	p := platformtest.Require(t, platformtest.Kafka)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	c, err := topics.NewFromOptions([]kgo.Opt{kgo.SeedBrokers(p.Brokers...)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	e := &hkEnv{ctx: ctx, c: c, brokers: p.Brokers, prefix: platformtest.UniqueName(name) + "."}
	md, err := c.Admin().BrokerMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.rf = int16(min(3, len(md.Brokers)))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		adm := e.fresh(t)
		if tds, err := adm.ListTopics(ctx); err == nil {
			var mine []string
			for _, n := range tds.Names() {
				if strings.HasPrefix(n, e.prefix) {
					mine = append(mine, n)
				}
			}
			if len(mine) > 0 {
				_, _ = adm.DeleteTopics(ctx, mine...)
			}
		}
		if gs, err := adm.ListGroups(ctx); err == nil {
			var mine []string
			for _, g := range gs.Groups() {
				if strings.HasPrefix(g, e.prefix) {
					mine = append(mine, g)
				}
			}
			if len(mine) > 0 {
				_, _ = adm.DeleteGroups(ctx, mine...)
			}
		}
	})
	return e
}

// fresh returns an admin client on a new kgo client, closed with the
// test: kadm answers topic listings from metadata cached for up to
// MetadataMinAge, which would hide a deletion.
func (e *hkEnv) fresh(t *testing.T) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

func (e *hkEnv) createTopic(t *testing.T, name string, partitions int32, configs map[string]*string) {
	t.Helper()
	if _, err := e.c.Admin().CreateTopic(e.ctx, partitions, e.rf, configs, name); err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
}

func (e *hkEnv) produce(t *testing.T, topic string, partition int32, stamps ...time.Time) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	recs := make([]*kgo.Record, len(stamps))
	for i, ts := range stamps {
		recs[i] = &kgo.Record{Topic: topic, Partition: partition, Timestamp: ts, Value: []byte("v")}
	}
	if err := cl.ProduceSync(e.ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s[%d]: %v", topic, partition, err)
	}
}

func (e *hkEnv) commit(t *testing.T, group, topic string, partition int32, at int64) {
	t.Helper()
	var os kadm.Offsets
	os.AddOffset(topic, partition, at, -1)
	if err := e.c.Admin().CommitAllOffsets(e.ctx, group, os); err != nil {
		t.Fatalf("commit %s %s[%d]@%d: %v", group, topic, partition, at, err)
	}
}

// eventually retries check until it returns true or the test's context
// ends: topic and group deletions complete asynchronously on Kafka.
func (e *hkEnv) eventually(t *testing.T, what string, check func() bool) {
	t.Helper()
	for !check() {
		select {
		case <-e.ctx.Done():
			t.Fatalf("%s: still not so when the test timed out", what)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// within reports whether got is want, give or take tolerance.
func within(got, want, tolerance time.Duration) bool {
	return got >= want-tolerance && got <= want+tolerance
}

// checkOwnProblems fails the test when Housekeeping's error concerns this
// test's topics or groups; errors about the rest of a shared platform,
// such as a group another test deletes meanwhile, are only logged.
func (e *hkEnv) checkOwnProblems(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if strings.Contains(err.Error(), e.prefix) {
		t.Fatalf("housekeeping: %v", err)
	}
	t.Logf("housekeeping, elsewhere on the platform: %v", err)
}

func TestIntegrationHousekeeping(t *testing.T) {
	e := newHKEnv(t, "it-hk")
	var (
		idle, vacant, active = e.prefix + "idle", e.prefix + "vacant", e.prefix + "active"
		group                = e.prefix + "empty"
		now                  = time.Now()
		month                = 30 * 24 * time.Hour
		forever              = "-1" // or Kafka's retention would delete the month-old records
	)
	e.createTopic(t, idle, 1, map[string]*string{"retention.ms": &forever})
	e.createTopic(t, vacant, 1, nil)
	e.createTopic(t, active, 1, nil)
	e.produce(t, idle, 0, now.Add(-month))
	e.produce(t, active, 0, now.Add(-3*time.Hour), now.Add(-2*time.Hour), now.Add(-time.Hour), now)
	e.commit(t, group, active, 0, 3) // consumed the record of an hour ago

	r, err := e.c.Housekeeping(e.ctx, topics.HousekeepingOptions{
		IdleAfter:       7 * 24 * time.Hour,
		MaxRetention:    14 * 24 * time.Hour,
		PricePerGBMonth: 1,
		Prefix:          e.prefix,
	})
	if r == nil {
		t.Fatalf("housekeeping: %v", err)
	}
	e.checkOwnProblems(t, err)
	t.Logf("report:\n%s", r)

	t.Run("report", func(t *testing.T) {
		if len(r.IdleTopics) != 2 || r.IdleTopics[0].Topic != idle || r.IdleTopics[1].Topic != vacant || !r.IdleTopics[1].Empty {
			t.Fatalf("got idle %+v, want %s and empty %s", r.IdleTopics, idle, vacant)
		}
		if got, want := r.IdleTopics[0].Newest, now.Add(-month).Truncate(time.Millisecond); !got.Equal(want) {
			t.Fatalf("got newest %v, want %v", got, want)
		}
		if want := []string{idle, vacant}; !slices.Equal(r.TopicsWithoutGroups, want) {
			t.Fatalf("got topics without groups %v, want %v", r.TopicsWithoutGroups, want)
		}
		if len(r.EmptyGroups) != 1 || r.EmptyGroups[0].Group != group || !slices.Equal(r.EmptyGroups[0].Topics, []string{active}) {
			t.Fatalf("got empty groups %+v, want %s on %s", r.EmptyGroups, group, active)
		}
		if age := r.EmptyGroups[0].Age; !within(age, time.Hour, time.Minute) {
			t.Fatalf("got age %v, want about 1h", age)
		}
		if len(r.OverRetention) != 1 || r.OverRetention[0].Topic != idle || !r.OverRetention[0].Infinite() {
			t.Fatalf("got over retention %+v, want %s infinite", r.OverRetention, idle)
		}
		var total int64
		for _, s := range r.Storage {
			total += s.Bytes
			if s.Topic == vacant {
				continue
			}
			if s.LeaderBytes <= 0 || s.Bytes < int64(e.rf)*s.LeaderBytes {
				t.Fatalf("%s: got %d bytes, %d on leaders, want all %d replicas counted", s.Topic, s.Bytes, s.LeaderBytes, e.rf)
			}
			if want := float64(s.Bytes) / 1e9; s.MonthlyCost != want {
				t.Fatalf("%s: got cost %v, want %v", s.Topic, s.MonthlyCost, want)
			}
		}
		var onBrokers int64
		for _, b := range r.Brokers {
			onBrokers += b.Bytes
		}
		if len(r.Storage) != 3 || r.TotalBytes != total || onBrokers != total {
			t.Fatalf("got %d topics, total %d, on brokers %d, want 3 topics and %d", len(r.Storage), r.TotalBytes, onBrokers, total)
		}
	})

	t.Run("delete idle topics", func(t *testing.T) {
		for _, mode := range []topics.ActionMode{topics.DryRun, topics.Execute} {
			dryRun := mode == topics.DryRun
			entries, err := e.c.DeleteIdleTopics(e.ctx, r, mode)
			if err != nil || len(entries) != 2 || entries[0].DryRun != dryRun {
				t.Fatalf("dry run %v: got %+v, %v, want two entries", dryRun, entries, err)
			}
		}
		e.eventually(t, "idle topics deleted", func() bool {
			tds, err := e.fresh(t).ListTopics(e.ctx)
			return err == nil && !tds.Has(idle) && !tds.Has(vacant) && tds.Has(active)
		})
	})

	t.Run("delete empty groups", func(t *testing.T) {
		entries, err := e.c.DeleteDeadGroups(e.ctx, r, topics.DryRun)
		if err != nil || len(entries) != 1 || !entries[0].DryRun {
			t.Fatalf("got %+v, %v, want one dry-run entry", entries, err)
		}
		if gs, err := e.fresh(t).ListGroups(e.ctx); err != nil || gs[group].State != "Empty" {
			t.Fatalf("got %+v, %v after a dry run, want %s still Empty", gs[group], err, group)
		}
		if _, err := e.c.DeleteDeadGroups(e.ctx, r, topics.Execute); err != nil {
			t.Fatal(err)
		}
		e.eventually(t, "group deleted", func() bool {
			gs, err := e.fresh(t).ListGroups(e.ctx)
			_, exists := gs[group]
			return err == nil && !exists
		})
	})

	t.Run("truncate before", func(t *testing.T) {
		entries, err := e.c.TruncateBefore(e.ctx, active, now.Add(-90*time.Minute), topics.Execute)
		if err != nil || len(entries) != 1 || entries[0].Target != active+"[0]" {
			t.Fatalf("got %+v, %v, want one entry for %s[0]", entries, err, active)
		}
		starts, err := e.fresh(t).ListStartOffsets(e.ctx, active)
		if err != nil {
			t.Fatal(err)
		}
		if o, _ := starts.Lookup(active, 0); o.Offset != 2 {
			t.Fatalf("got log start %d, want 2 (the records of 3h and 2h ago deleted)", o.Offset)
		}
	})
}

func TestIntegrationLag(t *testing.T) {
	e := newHKEnv(t, "it-lag")
	var (
		topic                   = e.prefix + "orders"
		at4, below, fresh, none = e.prefix + "at-4", e.prefix + "below-start", e.prefix + "fresh", e.prefix + "none"
		now                     = time.Now()
	)
	stamp := func(offset int) time.Time { return now.Add(-time.Hour + time.Duration(offset)*time.Minute) }
	e.createTopic(t, topic, 2, nil)
	var stamps []time.Time
	for i := range 10 {
		stamps = append(stamps, stamp(i))
	}
	e.produce(t, topic, 0, stamps...)
	e.produce(t, topic, 1, now.Add(-2*time.Hour), now.Add(-2*time.Hour))
	e.commit(t, at4, topic, 0, 4)
	e.commit(t, below, topic, 0, 1)
	var cut kadm.Offsets
	cut.AddOffset(topic, 0, 3, -1)
	if _, err := e.c.Admin().DeleteRecords(e.ctx, cut); err != nil {
		t.Fatal(err)
	}

	joined := make(chan struct{})
	member, err := kgo.NewClient(
		kgo.SeedBrokers(e.brokers...),
		kgo.ConsumerGroup(fresh),
		kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(),
		kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) { close(joined) }),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(member.Close)
	go func() {
		for e.ctx.Err() == nil {
			if member.PollFetches(e.ctx).IsClientClosed() {
				return
			}
		}
	}()
	select {
	case <-joined:
	case <-e.ctx.Done():
		t.Fatal("no assignment for the member of " + fresh)
	}

	r, err := e.c.Lag(e.ctx, at4, below, fresh, none)
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(now) + time.Second // record timestamps are in ms

	for _, tc := range []struct {
		group   string
		members int
		lag     int64 // over both partitions
		timeLag time.Duration
	}{
		// As in kadm, a partition of a topic the group reads that it
		// never committed to lags entirely: partition 1 adds 2 records
		// of two hours ago to every group.
		{at4, 0, 6 + 2, 2 * time.Hour},
		{below, 0, 7 + 2, 2 * time.Hour},
		{fresh, 1, 7 + 2, 2 * time.Hour},
	} {
		t.Run(tc.group, func(t *testing.T) {
			g, ok := r.Group(tc.group)
			if !ok || g.Err != nil {
				t.Fatalf("got %+v, want the group without error", g)
			}
			if g.Members != tc.members || g.Lag != tc.lag {
				t.Fatalf("got %d members, lag %d, want %d and %d", g.Members, g.Lag, tc.members, tc.lag)
			}
			if g.MaxTimeLag < tc.timeLag-time.Second || g.MaxTimeLag > tc.timeLag+elapsed {
				t.Fatalf("got max time lag %v, want about %v", g.MaxTimeLag, tc.timeLag)
			}
			tl, _ := g.Topic(topic)
			for _, p := range tl.Partitions {
				if p.Err != nil || p.TimeErr != nil {
					t.Fatalf("%s[%d]: got %v, %v, want no error", topic, p.Partition, p.Err, p.TimeErr)
				}
				if p.Partition == 0 && (p.LogStart != 3 || p.End != 10) {
					t.Fatalf("got start %d end %d, want 3 and 10", p.LogStart, p.End)
				}
				if p.Partition == 1 && (p.Committed != -1 || p.Lag != 2 || !within(p.TimeLag, 2*time.Hour, elapsed)) {
					t.Fatalf("%s[1]: got committed %d lag %d time lag %v, want -1, 2, about 2h", topic, p.Committed, p.Lag, p.TimeLag)
				}
				if tc.members > 0 && p.MemberID == "" {
					t.Fatalf("%s[%d]: got no member, want the assigned one", topic, p.Partition)
				}
			}
		})
	}
	if g, ok := r.Group(none); ok && (g.Lag != 0 || len(g.Topics) != 0) {
		t.Fatalf("got %+v for a group that does not exist, want no lag", g)
	}
	if r.MaxTimeLag < 2*time.Hour || r.MaxTimeLag > 2*time.Hour+elapsed {
		t.Fatalf("got max time lag %v, want about 2h", r.MaxTimeLag)
	}
	all, err := e.c.Lag(e.ctx)
	if err != nil {
		t.Fatalf("lag of all groups: %v", err)
	}
	if _, ok := all.Group(at4); !ok {
		t.Fatalf("got no %s in the lag of all groups", at4)
	}
}
