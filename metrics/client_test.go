package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/streamkit/streamkit/metrics"
	"github.com/streamkit/streamkit/schema"
)

// ClientMetrics is a schema.Observer by its method set; package metrics
// does not import schema to say so.
var _ schema.Observer = (*metrics.ClientMetrics)(nil)

type clientOrder struct {
	ID       string `avro:"id"`
	Quantity int32  `avro:"quantity"`
}

// clientPlatform is a kfake cluster and an srfake registry.
type clientPlatform struct {
	brokers []string
	reg     *schema.Registry
}

func newClientPlatform(t testing.TB, topics ...string) clientPlatform {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	fake := srfake.New()
	t.Cleanup(fake.Close)
	reg, err := schema.NewRegistryFromOptions(sr.URLs(fake.URL()))
	if err != nil {
		t.Fatal(err)
	}
	return clientPlatform{brokers: c.ListenAddrs(), reg: reg}
}

func clientCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newTestClientMetrics(t testing.TB) (*metrics.ClientMetrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := metrics.NewClientMetrics(metrics.ClientRegisterer(reg))
	if err != nil {
		t.Fatal(err)
	}
	return m, reg
}

// clientSum sums the values of the series of family name whose labels
// include want.
func clientSum(t testing.TB, g prometheus.Gatherer, name string, want map[string]string) float64 {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if have[k] != v {
					continue series
				}
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				sum += m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				sum += m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				sum += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return sum
}

// clientEventually retries check until it returns nil or ctx ends: kgo
// runs its hooks on its own goroutines, just after the results.
func clientEventually(t testing.TB, ctx context.Context, check func() error) {
	t.Helper()
	for {
		err := check()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal(err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func clientWant(g prometheus.Gatherer, t testing.TB, name string, labels map[string]string, want float64) error {
	if got := clientSum(t, g, name, labels); got != want {
		return errors.New(name + " " + labelString(labels) + ": got " + strconv.FormatFloat(got, 'g', -1, 64) +
			", want " + strconv.FormatFloat(want, 'g', -1, 64))
	}
	return nil
}

func labelString(l map[string]string) string {
	var parts []string
	for k, v := range l {
		parts = append(parts, k+"="+strconv.Quote(v))
	}
	slices.Sort(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

func TestClientMetricsRoundTrip(t *testing.T) {
	ctx := clientCtx(t)
	pf := newClientPlatform(t, "orders")
	m, g := newTestClientMetrics(t)

	p, err := schema.NewProducer[clientOrder](ctx, pf.reg, "orders",
		schema.WithClientOpts(append([]kgo.Opt{kgo.SeedBrokers(pf.brokers...)}, m.KgoOpts()...)...),
		schema.WithObserver(m))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	const n = 50
	msgs := make([]schema.Message[clientOrder], n)
	for i := range msgs {
		msgs[i] = schema.Message[clientOrder]{Value: clientOrder{ID: "o-" + strconv.Itoa(i), Quantity: int32(i)}}
	}
	if err := p.ProduceSync(ctx, msgs...); err != nil {
		t.Fatal(err)
	}

	c, err := schema.NewConsumer[clientOrder](ctx, pf.reg, "g", []string{"orders"},
		schema.WithClientOpts(append([]kgo.Opt{kgo.SeedBrokers(pf.brokers...),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, m.KgoOpts()...)...),
		schema.WithObserver(m))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for got := 0; got < n; {
		recs, err := c.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got += len(recs)
		c.MarkProcessed(recs...)
	}

	topic := map[string]string{"topic": "orders"}
	clientEventually(t, ctx, func() error {
		return errors.Join(
			clientWant(g, t, "streamkit_client_produce_records_total", map[string]string{"topic": "orders", "client": "1"}, n),
			clientWant(g, t, "streamkit_client_fetch_records_total", map[string]string{"topic": "orders", "client": "2"}, n),
		)
	})
	for _, name := range []string{
		"streamkit_client_produce_uncompressed_bytes_total",
		"streamkit_client_fetch_uncompressed_bytes_total",
		"streamkit_client_request_duration_e2e_seconds",
	} {
		labels := topic
		if strings.HasSuffix(name, "_seconds") {
			labels = nil
		}
		if got := clientSum(t, g, name, labels); got <= 0 {
			t.Errorf("%s%s: got %v, want > 0", name, labelString(labels), got)
		}
	}
	// The producer registered the schema (a miss and a request); the
	// consumer found it in the Registry's cache (a hit).
	for _, w := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"streamkit_client_schema_cache_total", map[string]string{"result": "miss"}, 1},
		{"streamkit_client_schema_cache_total", map[string]string{"result": "hit"}, 1},
		{"streamkit_client_registry_requests_total", map[string]string{"op": "register", "result": "ok"}, 1},
		{"streamkit_client_registry_requests_total", nil, 1},
		{"streamkit_client_decode_errors_total", nil, 0},
		{"streamkit_client_encode_errors_total", nil, 0},
	} {
		if err := clientWant(g, t, w.name, w.labels, w.want); err != nil {
			t.Error(err)
		}
	}
}

func TestClientMetricsInvalidPolicies(t *testing.T) {
	for _, tc := range []struct {
		name    string
		policy  schema.InvalidPolicy
		counter string
	}{
		{"dead-letter", schema.DeadLetter("orders.dlq"), "streamkit_client_dead_lettered_total"},
		{"skip", schema.SkipInvalid(), "streamkit_client_skipped_total"},
		{"stop", schema.StopOnInvalid(), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := clientCtx(t)
			pf := newClientPlatform(t, "orders", "orders.dlq")
			m, g := newTestClientMetrics(t)

			p, err := schema.NewProducer[clientOrder](ctx, pf.reg, "orders",
				schema.WithClientOpts(kgo.SeedBrokers(pf.brokers...)))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close(ctx)
			if err := p.ProduceSync(ctx, schema.Message[clientOrder]{Value: clientOrder{ID: "good"}}); err != nil {
				t.Fatal(err)
			}
			// A corrupt record: the right header, a payload cut short.
			good, err := p.Serde().Encode(ctx, "orders", clientOrder{ID: "a-longer-id", Quantity: 7})
			if err != nil {
				t.Fatal(err)
			}
			bad := &kgo.Record{Topic: "orders", Value: good[:schema.HeaderSize+2]}
			if err := p.Client().ProduceSync(ctx, bad).FirstErr(); err != nil {
				t.Fatal(err)
			}

			c, err := schema.NewConsumer[clientOrder](ctx, pf.reg, "g", []string{"orders"},
				schema.WithClientOpts(kgo.SeedBrokers(pf.brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())),
				schema.OnInvalid(tc.policy), schema.WithObserver(m))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(ctx)
			for st := c.Stats(); st.Decoded+st.Skipped+st.DeadLettered < 2; st = c.Stats() {
				_, err := c.Poll(ctx)
				var de *schema.DecodeError
				if tc.counter == "" && errors.As(err, &de) {
					break // StopOnInvalid
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			orders := map[string]string{"topic": "orders"}
			want := []struct {
				name string
				want float64
			}{
				{"streamkit_client_decode_errors_total", 1},
				{"streamkit_client_encode_errors_total", 0},
				{"streamkit_client_dead_lettered_total", 0},
				{"streamkit_client_skipped_total", 0},
			}
			for i := range want {
				if want[i].name == tc.counter {
					want[i].want = 1
				}
			}
			for _, w := range want {
				if err := clientWant(g, t, w.name, orders, w.want); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestClientMetricsEncodeError(t *testing.T) {
	ctx := clientCtx(t)
	pf := newClientPlatform(t)
	m, g := newTestClientMetrics(t)

	s, err := schema.NewSerde[clientOrder](pf.reg, schema.WithRegistration(schema.LookupOnly()), schema.WithObserver(m))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Encode(ctx, "orders", clientOrder{ID: "x"}); !errors.Is(err, schema.ErrNotRegistered) {
		t.Fatalf("encode: got %v, want ErrNotRegistered", err)
	}
	for _, w := range []struct {
		name   string
		labels map[string]string
	}{
		{"streamkit_client_encode_errors_total", map[string]string{"topic": "orders"}},
		{"streamkit_client_registry_requests_total", map[string]string{"op": "lookup", "result": "not_found"}},
		{"streamkit_client_schema_cache_total", map[string]string{"result": "miss"}},
	} {
		if err := clientWant(g, t, w.name, w.labels, 1); err != nil {
			t.Error(err)
		}
	}
}

// TestClientMetricsRegistryOps shows each registration's registry
// request and its result.
func TestClientMetricsRegistryOps(t *testing.T) {
	ctx := clientCtx(t)
	pf := newClientPlatform(t)
	writer, err := schema.NewSerde[clientOrder](pf.reg)
	if err != nil {
		t.Fatal(err)
	}
	id, err := writer.Prepare(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		reg     schema.Registration
		wantErr bool
		op      string
		result  string
		hit     float64 // Registry cache hits
	}{
		{"use latest", schema.UseLatest(), false, "latest", "ok", 0},
		{"lookup", schema.LookupOnly(), false, "", "", 1},
		{"pinned id, cached", schema.PinnedID(id), false, "", "", 1},
		{"pinned id, unknown", schema.PinnedID(id + 100), true, "schema_by_id", "not_found", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, g := newTestClientMetrics(t)
			s, err := schema.NewSerde[clientOrder](pf.reg, schema.WithRegistration(tc.reg), schema.WithObserver(m))
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Encode(ctx, "orders", clientOrder{ID: "x"})
			if (err != nil) != tc.wantErr {
				t.Fatalf("encode: got error %v, want error %v", err, tc.wantErr)
			}
			var requests float64
			if tc.op != "" {
				requests = 1
				if err := clientWant(g, t, "streamkit_client_registry_requests_total",
					map[string]string{"op": tc.op, "result": tc.result}, 1); err != nil {
					t.Error(err)
				}
			}
			var encodeErrors float64
			if tc.wantErr {
				encodeErrors = 1
			}
			for _, w := range []struct {
				name   string
				labels map[string]string
				want   float64
			}{
				{"streamkit_client_registry_requests_total", nil, requests},
				{"streamkit_client_schema_cache_total", map[string]string{"result": "hit"}, tc.hit},
				{"streamkit_client_encode_errors_total", map[string]string{"topic": "orders"}, encodeErrors},
			} {
				if err := clientWant(g, t, w.name, w.labels, w.want); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestClientMetricsHandler(t *testing.T) {
	ctx := clientCtx(t)
	pf := newClientPlatform(t, "orders")
	m, err := metrics.NewClientMetrics() // the private registry
	if err != nil {
		t.Fatal(err)
	}
	// Every observer event once, and a producer and a consumer hooked in.
	m.OnEncodeError("orders", errors.New("boom"))
	m.OnDecodeError("orders", errors.New("boom"))
	m.OnDeadLetter("orders")
	m.OnSkip("orders")
	m.OnHold("orders", errors.New("registry down"))
	m.OnSchemaCache(true)
	m.OnRegistryRequest("register", nil)

	p, err := schema.NewProducer[clientOrder](ctx, pf.reg, "orders",
		schema.WithClientOpts(append([]kgo.Opt{kgo.SeedBrokers(pf.brokers...), kgo.ProducerBatchCompression(kgo.SnappyCompression())},
			m.KgoOpts()...)...))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	if err := p.ProduceSync(ctx, schema.Message[clientOrder]{Value: clientOrder{ID: "o"}}); err != nil {
		t.Fatal(err)
	}
	c, err := schema.NewConsumer[clientOrder](ctx, pf.reg, "g", []string{"orders"},
		schema.WithClientOpts(append([]kgo.Opt{kgo.SeedBrokers(pf.brokers...),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, m.KgoOpts()...)...))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for got := 0; got < 1; {
		recs, err := c.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got += len(recs)
	}

	// Only failures, throttling and closed connections are absent.
	absent := map[string]bool{
		"streamkit_client_connect_errors_total":      true,
		"streamkit_client_write_errors_total":        true,
		"streamkit_client_read_errors_total":         true,
		"streamkit_client_request_throttled_seconds": true,
		"streamkit_client_disconnects_total":         true,
	}
	names := m.MetricNames()
	if !slices.IsSorted(names) {
		t.Errorf("MetricNames not sorted: %v", names)
	}
	clientEventually(t, ctx, func() error {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		body, _ := io.ReadAll(rec.Body)
		var missing []string
		for _, name := range names {
			if !strings.HasPrefix(name, "streamkit_client_") {
				t.Fatalf("%s lacks the prefix streamkit_client_", name)
			}
			if !absent[name] && !strings.Contains(string(body), "\n# TYPE "+name+" ") {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			return errors.New("handler output lacks " + strings.Join(missing, ", "))
		}
		return nil
	})
}

func TestNewClientMetricsOptions(t *testing.T) {
	shared := prometheus.NewRegistry()
	if _, err := metrics.NewClientMetrics(metrics.ClientRegisterer(shared)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		opts    []metrics.ClientOpt
		wantErr bool
		prefix  string
	}{
		{"defaults", nil, false, "streamkit_client_"},
		{"namespace", []metrics.ClientOpt{metrics.ClientNamespace("shop")}, false, "shop_client_"},
		{"nil registerer", []metrics.ClientOpt{metrics.ClientRegisterer(nil)}, true, ""},
		{"empty namespace", []metrics.ClientOpt{metrics.ClientNamespace("")}, true, ""},
		{"bad namespace", []metrics.ClientOpt{metrics.ClientNamespace("shop-eu")}, true, ""},
		{"registered twice", []metrics.ClientOpt{metrics.ClientRegisterer(shared)}, true, ""},
		{"twice, other namespace", []metrics.ClientOpt{metrics.ClientRegisterer(shared), metrics.ClientNamespace("other")}, false, "other_client_"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := metrics.NewClientMetrics(tc.opts...)
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			for _, name := range m.MetricNames() {
				if !strings.HasPrefix(name, tc.prefix) {
					t.Errorf("metric %s: want prefix %s", name, tc.prefix)
				}
			}
		})
	}
}

// TestClientMetricsSharedHooks gives one KgoOpts result to two clients at
// once: kprom alone panics on the second; the metrics count both.
func TestClientMetricsSharedHooks(t *testing.T) {
	ctx := clientCtx(t)
	pf := newClientPlatform(t, "orders")
	m, g := newTestClientMetrics(t)
	opts := append([]kgo.Opt{kgo.SeedBrokers(pf.brokers...)}, m.KgoOpts()...)
	var cls []*kgo.Client
	for range 2 {
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			t.Fatal(err)
		}
		cls = append(cls, cl)
	}
	for _, cl := range cls {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	labels := map[string]string{"topic": "orders", "client": "1"}
	clientEventually(t, ctx, func() error {
		return clientWant(g, t, "streamkit_client_produce_records_total", labels, 2)
	})
	cls[0].Close()
	if err := clientWant(g, t, "streamkit_client_produce_records_total", labels, 2); err != nil {
		t.Errorf("after closing one client: %v", err)
	}
	cls[1].Close()
	if err := clientWant(g, t, "streamkit_client_produce_records_total", labels, 0); err != nil {
		t.Errorf("after closing both: %v", err)
	}
}

func TestObserverNilClientMetrics(t *testing.T) {
	var m *metrics.ClientMetrics
	var o schema.Observer = m // a typed nil must not panic
	o.OnEncodeError("t", nil)
	o.OnDecodeError("t", nil)
	o.OnDeadLetter("t")
	o.OnSkip("t")
	o.OnHold("t", nil)
	o.OnSchemaCache(true)
	o.OnRegistryRequest("register", nil)
}

// TestClientLabelsFromClientID: a client's series are labelled with its
// kgo.ClientID; a second client with the same ID gets the ID and its
// number, and a client without an ID its number alone.
func TestClientLabelsFromClientID(t *testing.T) {
	ctx := clientCtx(t)
	pf := newClientPlatform(t, "orders")
	m, g := newTestClientMetrics(t)
	produce := func(opts ...kgo.Opt) {
		t.Helper()
		cl, err := kgo.NewClient(append(append([]kgo.Opt{kgo.SeedBrokers(pf.brokers...), kgo.DefaultProduceTopic("orders")}, opts...), m.KgoOpts()...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("x")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	produce(kgo.ClientID("pricer-out"))
	produce(kgo.ClientID("pricer-out"))
	produce()
	clientEventually(t, ctx, func() error {
		var errs []error
		for _, label := range []string{"pricer-out", "pricer-out-2", "3"} {
			errs = append(errs, clientWant(g, t, "streamkit_client_produce_records_total", map[string]string{"topic": "orders", "client": label}, 1))
		}
		return errors.Join(errs...)
	})
}
