package topics

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// base is the fixed "now" of the tests that inject time; records are
// produced with timestamps relative to it.
var base = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeCluster starts a one-broker kfake cluster with the given topics and
// returns a Client on it whose clock reads base, and the broker addresses.
func fakeCluster(t *testing.T, partitions int32, topics ...string) (*Client, []string) {
	t.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(1)}
	if len(topics) > 0 {
		opts = append(opts, kfake.SeedTopics(partitions, topics...))
	}
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	c, err := NewFromOptions([]kgo.Opt{kgo.SeedBrokers(cluster.ListenAddrs()...)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	c.now = func() time.Time { return base }
	return c, cluster.ListenAddrs()
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// produceAt writes one record per timestamp to topic's partition, in
// order, so that record i gets offset i (on an empty partition).
func produceAt(t *testing.T, c *Client, topic string, partition int32, stamps ...time.Time) {
	t.Helper()
	recs := make([]*kgo.Record, len(stamps))
	for i, ts := range stamps {
		recs[i] = &kgo.Record{Topic: topic, Partition: partition, Timestamp: ts, Value: []byte("v")}
	}
	cl, err := kgo.NewClient(append(c.readerOpts(), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(testContext(t), recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s[%d]: %v", topic, partition, err)
	}
}

// minutes returns n timestamps one minute apart, starting at from.
func minutes(from time.Time, n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = from.Add(time.Duration(i) * time.Minute)
	}
	return out
}

// commitAt commits offset at for group on topic's partition.
func commitAt(t *testing.T, c *Client, group, topic string, partition int32, at int64) {
	t.Helper()
	var os kadm.Offsets
	os.AddOffset(topic, partition, at, -1)
	if err := c.adm.CommitAllOffsets(testContext(t), group, os); err != nil {
		t.Fatalf("commit %s %s[%d]@%d: %v", group, topic, partition, at, err)
	}
}

// joinGroup starts a group member on topic that commits nothing and
// returns once it has an assignment.
func joinGroup(t *testing.T, brokers []string, group, topic string) {
	t.Helper()
	joined := make(chan struct{})
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(),
		kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) { close(joined) }),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	go func() {
		for {
			if fs := cl.PollFetches(context.Background()); fs.IsClientClosed() {
				return
			}
		}
	}()
	select {
	case <-joined:
	case <-testContext(t).Done():
		t.Fatalf("group %s: no assignment", group)
	}
}

func TestRecordLag(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		committed, logStart, end int64
		want                     int64
	}{
		{"committed", 4, 0, 10, 6},
		{"caught up", 10, 0, 10, 0},
		{"commit past end", 12, 0, 10, 0},
		{"nothing committed counts from log start", -1, 3, 10, 7},
		{"nothing committed, start unknown", -1, -1, 10, 10},
		{"commit below log start counts from log start", 2, 3, 10, 7},
		{"commit, start unknown", 2, -1, 10, 8},
		{"empty partition", -1, 5, 5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := recordLag(tc.committed, tc.logStart, tc.end); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLag(t *testing.T) {
	c, brokers := fakeCluster(t, 1, "orders")
	ctx := testContext(t)
	if _, err := c.adm.CreateTopic(ctx, 2, 1, nil, "payments"); err != nil {
		t.Fatal(err)
	}
	produceAt(t, c, "orders", 0, minutes(base.Add(-time.Hour), 10)...) // offsets 0..9
	produceAt(t, c, "payments", 0, minutes(base.Add(-2*time.Hour), 3)...)
	produceAt(t, c, "payments", 1, minutes(base.Add(-3*time.Hour), 2)...)

	commitAt(t, c, "at-4", "orders", 0, 4)
	commitAt(t, c, "at-10", "orders", 0, 10)
	commitAt(t, c, "at-2", "orders", 0, 2)
	commitAt(t, c, "multi", "orders", 0, 5)
	commitAt(t, c, "multi", "payments", 0, 1)
	commitAt(t, c, "multi", "payments", 1, 0)
	commitAt(t, c, "half", "payments", 0, 3)
	joinGroup(t, brokers, "fresh", "orders")

	// Move the log start of orders to 3: "at-2" committed below it.
	var cut kadm.Offsets
	cut.AddOffset("orders", 0, 3, -1)
	if _, err := c.adm.DeleteRecords(ctx, cut); err != nil {
		t.Fatal(err)
	}

	ordersTS := func(offset int) time.Time { return base.Add(-time.Hour + time.Duration(offset)*time.Minute) }
	report, err := c.Lag(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !report.Time.Equal(base) {
		t.Fatalf("got time %v, want %v", report.Time, base)
	}
	if got, want := report.MaxTimeLag, 3*time.Hour; got != want {
		t.Fatalf("got max time lag %v, want %v", got, want)
	}

	for _, tc := range []struct {
		group     string
		state     string
		members   int
		committed int64
		lag       int64
		oldest    time.Time
	}{
		{"at-4", "Empty", 0, 4, 6, ordersTS(4)},
		{"at-10", "Empty", 0, 10, 0, time.Time{}},
		{"at-2", "Empty", 0, 2, 7, ordersTS(3)},
		{"fresh", "Stable", 1, -1, 7, ordersTS(3)},
		{"multi", "Empty", 0, 5, 5, ordersTS(5)},
	} {
		t.Run(tc.group, func(t *testing.T) {
			g, ok := report.Group(tc.group)
			if !ok {
				t.Fatalf("group %s missing from %+v", tc.group, report.Groups)
			}
			if g.Err != nil {
				t.Fatalf("got error %v, want none", g.Err)
			}
			if g.State != tc.state || g.Members != tc.members {
				t.Fatalf("got state %q with %d members, want %q with %d", g.State, g.Members, tc.state, tc.members)
			}
			tl, ok := g.Topic("orders")
			if !ok || len(tl.Partitions) != 1 {
				t.Fatalf("got topics %+v, want orders with one partition", g.Topics)
			}
			p := tl.Partitions[0]
			if p.Err != nil || p.TimeErr != nil {
				t.Fatalf("got errors %v, %v, want none", p.Err, p.TimeErr)
			}
			if p.Committed != tc.committed || p.LogStart != 3 || p.End != 10 || p.Lag != tc.lag {
				t.Fatalf("got committed %d start %d end %d lag %d, want %d 3 10 %d", p.Committed, p.LogStart, p.End, p.Lag, tc.committed, tc.lag)
			}
			if !p.Oldest.Equal(tc.oldest) {
				t.Fatalf("got oldest %v, want %v", p.Oldest, tc.oldest)
			}
			var wantTimeLag time.Duration
			if !tc.oldest.IsZero() {
				wantTimeLag = base.Sub(tc.oldest)
			}
			if p.TimeLag != wantTimeLag || tl.MaxTimeLag != wantTimeLag {
				t.Fatalf("got time lag %v (topic max %v), want %v", p.TimeLag, tl.MaxTimeLag, wantTimeLag)
			}
			if tc.members > 0 && p.MemberID == "" {
				t.Fatalf("got no member for an assigned partition, want one")
			}
		})
	}

	t.Run("totals per group and topic", func(t *testing.T) {
		g, _ := report.Group("multi")
		payments, ok := g.Topic("payments")
		if !ok {
			t.Fatalf("payments missing from %+v", g.Topics)
		}
		if got, want := payments.Lag, int64(2+2); got != want {
			t.Fatalf("got payments lag %v, want %v", got, want)
		}
		if got, want := payments.MaxTimeLag, 3*time.Hour; got != want {
			t.Fatalf("got payments max time lag %v, want %v", got, want)
		}
		if got, want := g.Lag, int64(5+4); got != want {
			t.Fatalf("got group lag %v, want %v", got, want)
		}
		if got, want := g.MaxTimeLag, 3*time.Hour; got != want {
			t.Fatalf("got group max time lag %v, want %v", got, want)
		}
	})

	t.Run("uncommitted partition of a consumed topic", func(t *testing.T) {
		g, _ := report.Group("half")
		tl, _ := g.Topic("payments")
		if len(tl.Partitions) != 2 {
			t.Fatalf("got %+v, want both partitions of payments", tl.Partitions)
		}
		p := tl.Partitions[1]
		if p.Committed != -1 || p.Lag != 2 || p.TimeLag != 3*time.Hour {
			t.Fatalf("got committed %d lag %d time lag %v, want -1, 2, 3h", p.Committed, p.Lag, p.TimeLag)
		}
		if g.Lag != 2 {
			t.Fatalf("got group lag %v, want %v", g.Lag, 2)
		}
	})

	t.Run("named groups only", func(t *testing.T) {
		r, err := c.Lag(ctx, "at-4", "at-10")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, g := range r.Groups {
			names = append(names, g.Group)
		}
		if len(names) != 2 || names[0] != "at-10" || names[1] != "at-4" {
			t.Fatalf("got groups %v, want [at-10 at-4]", names)
		}
		if got, want := r.MaxTimeLag, base.Sub(ordersTS(4)); got != want {
			t.Fatalf("got max time lag %v, want %v", got, want)
		}
	})
}

func TestReadRecordsAt(t *testing.T) {
	c, _ := fakeCluster(t, 2, "t")
	produceAt(t, c, "t", 0, minutes(base, 20)...)
	produceAt(t, c, "t", 1, minutes(base.Add(time.Hour), 3)...)
	ctx := testContext(t)

	key := func(p int32, o int64) offsetKey { return offsetKey{partitionKey{"t", p}, o} }
	want := []offsetKey{key(0, 15), key(0, 2), key(0, 3), key(0, 2), key(1, 1)}
	found, errs := c.readRecordsAt(ctx, want)
	if len(errs) != 0 {
		t.Fatalf("got errors %v, want none", errs)
	}
	for _, tc := range []struct {
		key  offsetKey
		want time.Time
	}{
		{key(0, 2), base.Add(2 * time.Minute)},
		{key(0, 3), base.Add(3 * time.Minute)},
		{key(0, 15), base.Add(15 * time.Minute)},
		{key(1, 1), base.Add(time.Hour + time.Minute)},
	} {
		rec, ok := found[tc.key]
		if !ok {
			t.Fatalf("%v: no record", tc.key)
		}
		if rec.offset != tc.key.offset || !rec.timestamp.Equal(tc.want) {
			t.Fatalf("%v: got offset %d at %v, want %d at %v", tc.key, rec.offset, rec.timestamp, tc.key.offset, tc.want)
		}
	}

	t.Run("beyond the end times out", func(t *testing.T) {
		short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		_, errs := c.readRecordsAt(short, []offsetKey{key(1, 50)})
		if err := errs[partitionKey{"t", 1}]; !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want a deadline error", err)
		}
	})
}
