package platform

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/connect"
)

// fakeKafka starts a one-broker kfake cluster with the given topics and
// returns a client on it.
func fakeKafka(t testing.TB, partitions int32, topics ...string) *kgo.Client {
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
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// produce writes n records to topic's partition with timestamps in the
// past, so that a lagging group has a positive time lag.
func produce(t testing.TB, cl *kgo.Client, topic string, partition int32, n int) {
	t.Helper()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: topic, Partition: partition, Value: []byte("value"), Timestamp: time.Now().Add(-time.Minute)}
	}
	if err := cl.ProduceSync(testContext(t), recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s[%d]: %v", topic, partition, err)
	}
}

// commit commits offset at for group on topic's partition.
func commit(t testing.TB, cl *kgo.Client, group, topic string, partition int32, at int64) {
	t.Helper()
	var os kadm.Offsets
	os.AddOffset(topic, partition, at, -1)
	if err := kadm.NewClient(cl).CommitAllOffsets(testContext(t), group, os); err != nil {
		t.Fatalf("commit %s %s[%d]@%d: %v", group, topic, partition, at, err)
	}
}

func newTestCollector(t testing.TB, cl *kgo.Client, opts ...CollectorOpt) *Collector {
	t.Helper()
	c, err := NewCollector(cl, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func collect(t testing.TB, c *Collector) Snapshot {
	t.Helper()
	s, err := c.Collect(testContext(t))
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	return s
}

func findTopic(s Snapshot, name string) (TopicSnapshot, bool) {
	for _, t := range s.Topics {
		if t.Topic == name {
			return t, true
		}
	}
	return TopicSnapshot{}, false
}

func findGroup(s Snapshot, name string) (GroupSnapshot, bool) {
	for _, g := range s.Groups {
		if g.Group == name {
			return g, true
		}
	}
	return GroupSnapshot{}, false
}

// fakeConnect serves GET /connectors?expand=info&expand=status with the
// given connectors' states; states maps a name to the connector's state
// followed by its tasks' states.
func fakeConnect(t testing.TB, states *atomic.Value) *connect.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/connectors" {
			http.NotFound(w, r)
			return
		}
		var b strings.Builder
		b.WriteString("{")
		i := 0
		for name, st := range states.Load().(map[string][]string) {
			if i > 0 {
				b.WriteString(",")
			}
			i++
			b.WriteString(`"` + name + `":{"info":{"name":"` + name + `","config":{},"tasks":[],"type":"sink"},"status":{"name":"` + name + `","type":"sink","connector":{"state":"` + st[0] + `","worker_id":"w:8083"},"tasks":[`)
			for ti, ts := range st[1:] {
				if ti > 0 {
					b.WriteString(",")
				}
				b.WriteString(`{"id":` + string(rune('0'+ti)) + `,"state":"` + ts + `","worker_id":"w:8083","trace":"trace-` + ts + `"}`)
			}
			b.WriteString("]}}")
		}
		b.WriteString("}")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(b.String()))
	}))
	t.Cleanup(srv.Close)
	cc, err := connect.New(connect.WithURLs(srv.URL), connect.WithRetries(1))
	if err != nil {
		t.Fatal(err)
	}
	return cc
}

func TestNewCollectorValidation(t *testing.T) {
	cl := fakeKafka(t, 1)
	tests := []struct {
		name string
		cl   *kgo.Client
		opts []CollectorOpt
		want string // "" for success
	}{
		{"defaults", cl, nil, ""},
		{"no kafka", nil, nil, "nil kafka client"},
		{"zero interval", cl, []CollectorOpt{WithInterval(0)}, "interval"},
		{"zero history", cl, []CollectorOpt{WithHistory(0)}, "history"},
		{"bad group regexp", cl, []CollectorOpt{WithGroups([]string{"("}, nil)}, "group filter"},
		{"bad topic regexp", cl, []CollectorOpt{WithTopics(nil, []string{"[a"})}, "topic filter"},
		{"nil logger", cl, []CollectorOpt{WithLogger(nil)}, "nil logger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewCollector(tt.cl, tt.opts...)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %v, want error containing %q", err, tt.want)
			}
		})
	}
	// Every problem is reported at once.
	_, err := NewCollector(nil, WithInterval(-1), WithHistory(-1))
	if !strings.Contains(err.Error(), "nil kafka client") || !strings.Contains(err.Error(), "interval") || !strings.Contains(err.Error(), "history") {
		t.Fatalf("got %v, want all three problems", err)
	}
}

func TestCollectorCycle(t *testing.T) {
	cl := fakeKafka(t, 3, "orders", "payments", "_schemas", "__consumer_offsets_like")
	produce(t, cl, "orders", 0, 10)
	produce(t, cl, "orders", 2, 5)
	produce(t, cl, "payments", 1, 7)
	commit(t, cl, "billing", "orders", 0, 4)

	c := newTestCollector(t, cl)
	s := collect(t, c)

	if s.Time.IsZero() {
		t.Error("snapshot time is zero")
	}
	var names []string
	for _, tp := range s.Topics {
		names = append(names, tp.Topic)
	}
	if got, want := strings.Join(names, ","), "orders,payments"; got != want {
		t.Fatalf("topics: got %s, want %s (internal topics denied by default)", got, want)
	}
	orders, _ := findTopic(s, "orders")
	if orders.Partitions != 3 || orders.EndOffsets != 15 || orders.UnderReplicated != 0 || orders.Offline != 0 {
		t.Errorf("orders: got %+v, want 3 partitions, 15 end offsets, healthy", orders)
	}
	if orders.RecordsPerSecond != 0 {
		t.Errorf("orders records/s on the first cycle: got %v, want 0", orders.RecordsPerSecond)
	}
	if orders.LeaderBytes <= 0 || orders.Bytes < orders.LeaderBytes {
		t.Errorf("orders sizes: got bytes %d, leader bytes %d, want positive", orders.Bytes, orders.LeaderBytes)
	}

	if len(s.Brokers) != 1 {
		t.Fatalf("brokers: got %d, want 1", len(s.Brokers))
	}
	b := s.Brokers[0]
	if b.Partitions != 12 || b.Leaders != 12 {
		t.Errorf("broker partitions/leaders: got %d/%d, want 12/12 (every topic)", b.Partitions, b.Leaders)
	}
	if b.Bytes < orders.Bytes || len(b.LogDirs) == 0 {
		t.Errorf("broker size: got %d in %v, want at least %d", b.Bytes, b.LogDirs, orders.Bytes)
	}

	g, ok := findGroup(s, "billing")
	if !ok {
		t.Fatalf("group billing missing from %+v", s.Groups)
	}
	// topics.Lag counts the topic's partitions the group never committed
	// to from their log start: 6 on orders[0] and 5 on orders[2].
	if g.Lag != 11 {
		t.Errorf("billing lag: got %d, want 11", g.Lag)
	}
	if g.LagSeconds < 30 {
		t.Errorf("billing lag seconds: got %v, want about 60", g.LagSeconds)
	}
	var p0 *PartitionLag
	for i := range g.Partitions {
		if g.Partitions[i].Topic == "orders" && g.Partitions[i].Partition == 0 {
			p0 = &g.Partitions[i]
		}
	}
	if p0 == nil || p0.Committed != 4 || p0.End != 10 || p0.Lag != 6 {
		t.Errorf("billing orders[0]: got %+v, want committed 4, end 10, lag 6", p0)
	}

	if last, ok := c.Last(); !ok || !last.Time.Equal(s.Time) {
		t.Errorf("Last: got %v, %v, want the snapshot", last.Time, ok)
	}
}

func TestCollectorThroughput(t *testing.T) {
	cl := fakeKafka(t, 2, "events")
	c := newTestCollector(t, cl)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }

	first := collect(t, c)
	before, _ := findTopic(first, "events")
	produce(t, cl, "events", 0, 30)
	produce(t, cl, "events", 1, 20)
	now = now.Add(10 * time.Second)
	second := collect(t, c)

	after, _ := findTopic(second, "events")
	if got, want := after.RecordsPerSecond, 5.0; got != want {
		t.Errorf("records/s: got %v, want %v", got, want)
	}
	wantBytes := float64(after.LeaderBytes-before.LeaderBytes) / 10
	if after.BytesPerSecond <= 0 || after.BytesPerSecond != wantBytes {
		t.Errorf("bytes/s: got %v, want %v (> 0)", after.BytesPerSecond, wantBytes)
	}
	if h := c.History(); len(h) != 2 || !h[0].Time.Equal(first.Time) || !h[1].Time.Equal(second.Time) {
		t.Errorf("history: got %d snapshots, want the two cycles in order", len(h))
	}
}

func TestCollectorFilters(t *testing.T) {
	cl := fakeKafka(t, 1, "orders", "orders-dlq", "tmp-scratch", "_internal")
	for _, g := range []string{"app-a", "app-b", "test-x"} {
		commit(t, cl, g, "orders", 0, 0)
	}
	tests := []struct {
		name       string
		opts       []CollectorOpt
		wantTopics string
		wantGroups string
	}{
		{"defaults", nil, "orders,orders-dlq,tmp-scratch", "app-a,app-b,test-x"},
		{"topic allow", []CollectorOpt{WithTopics([]string{"^orders"}, nil)}, "orders,orders-dlq", "app-a,app-b,test-x"},
		{"topic allow and deny", []CollectorOpt{WithTopics([]string{"^orders"}, []string{"-dlq$"})}, "orders", "app-a,app-b,test-x"},
		{"topic deny replaces default", []CollectorOpt{WithTopics(nil, []string{"^tmp-"})}, "_internal,orders,orders-dlq", "app-a,app-b,test-x"},
		{"group allow", []CollectorOpt{WithGroups([]string{"^app-"}, nil)}, "orders,orders-dlq,tmp-scratch", "app-a,app-b"},
		{"group deny", []CollectorOpt{WithGroups(nil, []string{"^test-", "-b$"})}, "orders,orders-dlq,tmp-scratch", "app-a"},
		{"no group left", []CollectorOpt{WithGroups([]string{"^none$"}, nil)}, "orders,orders-dlq,tmp-scratch", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestCollector(t, cl, tt.opts...)
			s := collect(t, c)
			var topics, groups []string
			for _, tp := range s.Topics {
				topics = append(topics, tp.Topic)
			}
			for _, g := range s.Groups {
				groups = append(groups, g.Group)
			}
			if got := strings.Join(topics, ","); got != tt.wantTopics {
				t.Errorf("topics: got %s, want %s", got, tt.wantTopics)
			}
			if got := strings.Join(groups, ","); got != tt.wantGroups {
				t.Errorf("groups: got %s, want %s", got, tt.wantGroups)
			}
		})
	}
}

func TestCollectorGroupPartitionsFollowTopicFilter(t *testing.T) {
	cl := fakeKafka(t, 1, "orders", "secret")
	produce(t, cl, "orders", 0, 3)
	produce(t, cl, "secret", 0, 4)
	commit(t, cl, "app", "orders", 0, 1)
	commit(t, cl, "app", "secret", 0, 1)
	c := newTestCollector(t, cl, WithTopics(nil, []string{"^secret$"}))
	g, ok := findGroup(collect(t, c), "app")
	if !ok {
		t.Fatal("group app missing")
	}
	if len(g.Partitions) != 1 || g.Partitions[0].Topic != "orders" || g.Lag != 2 {
		t.Errorf("got lag %d over %+v, want 2 over orders[0] only", g.Lag, g.Partitions)
	}
}

func TestCollectorConnectors(t *testing.T) {
	cl := fakeKafka(t, 1, "orders")
	var states atomic.Value
	states.Store(map[string][]string{
		"sink-ok":  {connect.StateRunning, connect.StateRunning, connect.StateRunning},
		"sink-bad": {connect.StateRunning, connect.StateFailed, connect.StateRunning},
	})
	c := newTestCollector(t, cl, WithConnect(fakeConnect(t, &states)))
	s := collect(t, c)
	if len(s.Connectors) != 2 {
		t.Fatalf("connectors: got %+v, want 2", s.Connectors)
	}
	bad, ok := s.Connectors[0], s.Connectors[0].Name == "sink-bad"
	if !ok || bad.State != connect.StateRunning || bad.Tasks != 2 || bad.FailedTasks != 1 || bad.Trace != "trace-FAILED" {
		t.Errorf("sink-bad: got %+v, want RUNNING, 2 tasks, 1 failed with its trace", bad)
	}
}

func TestCollectorPartialFailureKeepsPreviousPart(t *testing.T) {
	cl := fakeKafka(t, 1, "orders")
	var states atomic.Value
	states.Store(map[string][]string{"sink": {connect.StateRunning}})
	cc := fakeConnect(t, &states)
	c := newTestCollector(t, cl, WithConnect(cc))
	collect(t, c)

	// A Connect worker that answers garbage: the connectors part fails,
	// the rest is recorded, and the previous connectors carry over.
	states.Store(map[string][]string{`bad"json`: {"X"}})
	s, err := c.Collect(testContext(t))
	if err == nil || !strings.Contains(err.Error(), "list connectors") {
		t.Fatalf("got %v, want a list connectors error", err)
	}
	if len(s.Connectors) != 1 || s.Connectors[0].Name != "sink" {
		t.Errorf("connectors: got %+v, want the previous cycle's", s.Connectors)
	}
	if _, ok := findTopic(s, "orders"); !ok {
		t.Error("topics missing from a partial snapshot")
	}
	if got := testCounterValue(t, c, MetricCollectorErrorsTotal); got != 1 {
		t.Errorf("errors total: got %v, want 1", got)
	}
}

func TestCollectorMetadataFailure(t *testing.T) {
	cl := fakeKafka(t, 1, "orders")
	c := newTestCollector(t, cl)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Collect(ctx); err == nil {
		t.Fatal("got no error with a cancelled context")
	}
	if _, ok := c.Last(); ok {
		t.Error("a failed cycle was recorded")
	}
}

func TestCollectorHistoryBounded(t *testing.T) {
	cl := fakeKafka(t, 1, "orders")
	c := newTestCollector(t, cl, WithHistory(2))
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	for range 3 {
		collect(t, c)
		now = now.Add(time.Second)
	}
	h := c.History()
	if len(h) != 2 || h[0].Time.Unix() != 1001 || h[1].Time.Unix() != 1002 {
		t.Fatalf("history: got %d snapshots, want the latest 2", len(h))
	}
}

func TestCollectorOnSnapshot(t *testing.T) {
	cl := fakeKafka(t, 1, "orders")
	var calls atomic.Int32
	c := newTestCollector(t, cl, WithSnapshots(func(s Snapshot) {
		calls.Add(1)
		panic("callback bug")
	}))
	collect(t, c)
	collect(t, c)
	if calls.Load() != 2 {
		t.Errorf("callback calls: got %d, want 2 (panics recovered)", calls.Load())
	}
}

func TestCollectorRun(t *testing.T) {
	cl := fakeKafka(t, 1, "orders")
	cycles := make(chan Snapshot, 10)
	c := newTestCollector(t, cl, WithInterval(20*time.Millisecond),
		WithSnapshots(func(s Snapshot) {
			select {
			case cycles <- s:
			default:
			}
		}))
	ctx, cancel := context.WithCancel(testContext(t))
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	for range 2 {
		select {
		case <-cycles:
		case <-time.After(10 * time.Second):
			t.Fatal("no cycle within 10s")
		}
	}
	if err := c.Run(ctx); !errors.Is(err, ErrRunning) {
		t.Errorf("concurrent Run: got %v, want ErrRunning", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: got %v, want nil when ctx ends", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after ctx ended")
	}
	// Run may be called again once it returned.
	ctx2, cancel2 := context.WithCancel(testContext(t))
	cancel2()
	if err := c.Run(ctx2); err != nil {
		t.Errorf("second Run: got %v, want nil", err)
	}
}

// testCounterValue gathers the collector's registry and returns the
// value of the unlabelled metric name.
func testCounterValue(t *testing.T, c *Collector, name string) float64 {
	t.Helper()
	g, ok := c.Registerer().(prometheus.Gatherer)
	if !ok {
		t.Fatal("registerer is not a gatherer")
	}
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name || len(mf.GetMetric()) == 0 {
			continue
		}
		m := mf.GetMetric()[0]
		if m.GetCounter() != nil {
			return m.GetCounter().GetValue()
		}
		return m.GetGauge().GetValue()
	}
	t.Fatalf("metric %s not gathered", name)
	return 0
}
