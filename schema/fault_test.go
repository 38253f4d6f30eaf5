package schema

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"github.com/twmb/franz-go/pkg/sr"
)

// faultMode is what a faultyRegistry does with a request.
type faultMode int32

const (
	passThrough    faultMode = iota
	answer503                // an HTML 503 page, as a proxy in front of a stopped registry answers
	dropConnection           // the connection closes without an answer
	answerNotFound           // 40403 for every schema ID, as a registry replaying its storage answers
)

// faultyRegistry is a proxy in front of an srfake registry whose failure
// mode a test switches at run time.
type faultyRegistry struct {
	srv      *httptest.Server
	mode     atomic.Int32
	failures atomic.Int64
}

func newFaultyRegistry(t testing.TB, target string) *faultyRegistry {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	f := &faultyRegistry{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch faultMode(f.mode.Load()) {
		case answer503:
			f.failures.Add(1)
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>")
		case answerNotFound:
			f.failures.Add(1)
			w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error_code":40403,"message":"Schema not found"}`)
		case dropConnection:
			f.failures.Add(1)
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		default:
			proxy.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *faultyRegistry) set(m faultMode) { f.mode.Store(int32(m)) }

// registryAnswering returns a Registry whose every request gets the
// answer of h.
func registryAnswering(t testing.TB, h http.HandlerFunc) *Registry {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	reg, err := NewRegistryFromOptions(sr.URLs(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func TestRegistryErrorsSayWhatHappened(t *testing.T) {
	ctx := testCtx(t)
	s := mustParse(t, orderV1Schema)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name    string
		reg     func(t *testing.T) *Registry
		call    func(*Registry) error
		want    []error
		notWant []error
		text    []string // in the error's message
	}{
		{
			name: "503 page",
			reg: func(t *testing.T) *Registry {
				return registryAnswering(t, func(w http.ResponseWriter, _ *http.Request) {
					w.WriteHeader(503)
					fmt.Fprint(w, "<html><body>Service Unavailable</body></html>")
				})
			},
			call: func(r *Registry) error { _, err := r.SchemaByID(ctx, 7); return err },
			want: []error{ErrUnavailable}, notWant: []error{ErrUnknownSchemaID, ErrMalformedResponse},
			text: []string{"503 Service Unavailable", "get schema id 7", "not the registry's JSON error"},
		},
		{
			name: "500 with the registry's error",
			reg: func(t *testing.T) *Registry {
				return registryAnswering(t, func(w http.ResponseWriter, _ *http.Request) {
					w.WriteHeader(500)
					fmt.Fprint(w, `{"error_code":50001,"message":"storage backend down"}`)
				})
			},
			call: func(r *Registry) error { _, err := r.Register(ctx, "orders-value", s); return err },
			want: []error{ErrUnavailable}, text: []string{"500 Internal Server Error", "error code 50001", "storage backend down"},
		},
		{
			name: "404 page from a wrong path",
			reg: func(t *testing.T) *Registry {
				return registryAnswering(t, func(w http.ResponseWriter, _ *http.Request) {
					w.WriteHeader(404)
					fmt.Fprint(w, "<!DOCTYPE html><title>Not Found</title>")
				})
			},
			call: func(r *Registry) error { _, err := r.SchemaByID(ctx, 7); return err },
			want: []error{ErrMalformedResponse}, notWant: []error{ErrUnknownSchemaID, ErrSchemaNotFound, ErrUnavailable},
			text: []string{"404 Not Found"},
		},
		{
			name: "401",
			reg: func(t *testing.T) *Registry {
				return registryAnswering(t, func(w http.ResponseWriter, _ *http.Request) {
					w.WriteHeader(401)
					fmt.Fprint(w, `{"error_code":401,"message":"Unauthorized"}`)
				})
			},
			call: func(r *Registry) error { _, err := r.Register(ctx, "orders-value", s); return err },
			want: []error{ErrRefused}, notWant: []error{ErrUnavailable}, text: []string{"401 Unauthorized"},
		},
		{
			name: "truncated answer",
			reg: func(t *testing.T) *Registry {
				return registryAnswering(t, func(w http.ResponseWriter, _ *http.Request) {
					fmt.Fprint(w, `{"schema":"{\"type\":\"str`)
				})
			},
			call: func(r *Registry) error { _, err := r.SchemaByID(ctx, 7); return err },
			want: []error{ErrMalformedResponse}, notWant: []error{ErrUnavailable, ErrUnknownSchemaID},
		},
		{
			name: "HTML with 200",
			reg: func(t *testing.T) *Registry {
				return registryAnswering(t, func(w http.ResponseWriter, _ *http.Request) {
					fmt.Fprint(w, "<html>login</html>")
				})
			},
			call: func(r *Registry) error { _, err := r.SchemaByID(ctx, 7); return err },
			want: []error{ErrMalformedResponse},
		},
		{
			name: "registration answered with {}",
			reg: func(t *testing.T) *Registry {
				return registryAnswering(t, func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{}`) })
			},
			call: func(r *Registry) error { _, err := r.Register(ctx, "orders-value", s); return err },
			want: []error{ErrMalformedResponse},
		},
		{
			name: "registration answered with id 0",
			reg: func(t *testing.T) *Registry {
				return registryAnswering(t, func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{"id":0}`) })
			},
			call: func(r *Registry) error { _, err := r.Lookup(ctx, "orders-value", s); return err },
			want: []error{ErrMalformedResponse},
		},
		{
			name: "schema answered without a schema",
			reg: func(t *testing.T) *Registry {
				return registryAnswering(t, func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{}`) })
			},
			call: func(r *Registry) error { _, err := r.SchemaByID(ctx, 7); return err },
			want: []error{ErrMalformedResponse}, notWant: []error{ErrInvalidSchema},
		},
		{
			name: "connection refused",
			reg: func(t *testing.T) *Registry {
				reg, err := NewRegistryFromOptions(sr.URLs(closedURL))
				if err != nil {
					t.Fatal(err)
				}
				return reg
			},
			call: func(r *Registry) error { _, err := r.SchemaByID(ctx, 7); return err },
			want: []error{ErrUnavailable},
		},
		{
			name: "producer with the registry down",
			reg: func(t *testing.T) *Registry {
				reg, err := NewRegistryFromOptions(sr.URLs(closedURL))
				if err != nil {
					t.Fatal(err)
				}
				return reg
			},
			call: func(r *Registry) error {
				_, err := NewProducer[orderV1](ctx, r, "orders", WithClientOpts(kgo.SeedBrokers("127.0.0.1:1")))
				return err
			},
			want: []error{ErrUnavailable},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(tt.reg(t))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("got %v, want it to match %v", err, w)
				}
			}
			for _, w := range tt.notWant {
				if errors.Is(err, w) {
					t.Errorf("got %v, want it not to match %v", err, w)
				}
			}
			for _, s := range tt.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("got %q, want it to say %q", err, s)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestPermanent(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("x: %w", ErrBadMagic), true},
		{fmt.Errorf("x: %w", ErrCorruptPayload), true},
		{fmt.Errorf("%w: %w", ErrUnknownSchemaID, &RegistryError{StatusCode: 404, sentinels: []error{ErrSchemaNotFound}}), true},
		{&IncompatibleError{}, true},
		{fmt.Errorf("x: %w", ErrInvalidSchema), true},
		{fmt.Errorf("x: %w", ErrUnavailable), false},
		{&RegistryError{StatusCode: 503, sentinels: []error{ErrUnavailable}}, false},
		{fmt.Errorf("x: %w", ErrMalformedResponse), false},
		{fmt.Errorf("x: %w", ErrRefused), false},
		{fmt.Errorf("x: %w", context.Canceled), false},
		{errors.New("something else"), false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := Permanent(tt.err); got != tt.want {
			t.Errorf("Permanent(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// writeOrders writes n orderV1 records with keys k0.. to topic, alternating
// between its two partitions, through reg (not through a proxy).
func writeOrders(t *testing.T, ctx context.Context, brokers []string, reg *Registry, topic string, n int) {
	t.Helper()
	s, err := NewSerde[orderV1](reg, WithSchema(mustParse(t, orderV1Schema)))
	if err != nil {
		t.Fatal(err)
	}
	rs := make([]*kgo.Record, n)
	for i := range rs {
		v, err := s.Encode(ctx, topic, orderV1{ID: "o" + strconv.Itoa(i), Quantity: int32(i)})
		if err != nil {
			t.Fatal(err)
		}
		rs[i] = &kgo.Record{Topic: topic, Partition: int32(i % 2), Key: []byte("k" + strconv.Itoa(i)), Value: v}
	}
	cl := rawClient(t, brokers, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// committedTotal returns the sum of group's committed offsets.
func committedTotal(t *testing.T, ctx context.Context, brokers []string, group string) int64 {
	t.Helper()
	offsets, err := kadm.NewClient(rawClient(t, brokers)).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	offsets.Each(func(o kadm.OffsetResponse) { total += o.At })
	return total
}

// TestConsumerHoldsDuringRegistryOutage: with the registry answering 503
// or dropping connections, a consumer under any policy delivers every
// valid record once it is back, dead-letters and skips none, and commits
// nothing it has not delivered.
func TestConsumerHoldsDuringRegistryOutage(t *testing.T) {
	policies := []struct {
		name   string
		policy InvalidPolicy
	}{
		{"dead-letter", DeadLetter("in.dlq")},
		{"skip", SkipInvalid()},
		{"stop", StopOnInvalid()},
	}
	for _, mode := range []faultMode{answer503, dropConnection} {
		for _, p := range policies {
			t.Run(fmt.Sprintf("%s/mode%d", p.name, mode), func(t *testing.T) {
				ctx := testCtx(t)
				brokers := newFakeKafka(t, "in", "in.dlq")
				fake, srv, _ := newFakeRegistry(t)
				const n = 200
				writeOrders(t, ctx, brokers, fake, "in", n)

				faulty := newFaultyRegistry(t, srv.URL())
				faulty.set(mode)
				reg, err := NewRegistryFromOptions(sr.URLs(faulty.srv.URL))
				if err != nil {
					t.Fatal(err)
				}
				group := "outage-" + p.name
				c, err := NewConsumer[orderV1](ctx, reg, group, []string{"in"}, AnyRecordName(), OnInvalid(p.policy),
					WithBackoff(20*time.Millisecond, 100*time.Millisecond),
					WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close(ctx)

				seen := map[string]int{}
				next := map[int32]int64{}
				var holds int
				for len(seen) < n {
					recs, err := c.Poll(ctx)
					for _, r := range recs {
						seen[r.Value.ID]++
						if r.Offset != next[r.Partition] {
							t.Fatalf("partition %d: got offset %d, want %d", r.Partition, r.Offset, next[r.Partition])
						}
						next[r.Partition]++
					}
					c.MarkProcessed(recs...)
					if err := c.Commit(ctx); err != nil {
						t.Fatal(err)
					}
					if err != nil {
						var he *HoldError
						if !errors.As(err, &he) || !errors.Is(err, ErrUnavailable) {
							t.Fatalf("got %v, want a *HoldError matching ErrUnavailable", err)
						}
						holds++
						// Nothing undelivered is committed during the outage.
						if got := committedTotal(t, ctx, brokers, group); got != int64(len(seen)) {
							t.Fatalf("committed %d with %d delivered", got, len(seen))
						}
						if holds == 5 {
							faulty.set(passThrough)
						}
					}
					if ctx.Err() != nil {
						t.Fatalf("delivered %d of %d", len(seen), n)
					}
				}
				if holds < 5 {
					t.Fatalf("%d holds reported, want at least 5", holds)
				}
				for id, k := range seen {
					if k != 1 {
						t.Fatalf("%s delivered %d times", id, k)
					}
				}
				st := c.Stats()
				if st.DeadLettered != 0 || st.Skipped != 0 || st.Decoded != n || st.Held < 5 {
					t.Fatalf("stats %+v: want %d decoded, none dead-lettered or skipped, 5 or more held", st, n)
				}
				if got := committedTotal(t, ctx, brokers, group); got != n {
					t.Fatalf("committed %d, want %d", got, n)
				}
				dlq := rawClient(t, brokers)
				ends, err := kadm.NewClient(dlq).ListEndOffsets(ctx, "in.dlq")
				if err != nil {
					t.Fatal(err)
				}
				ends.Each(func(o kadm.ListedOffset) {
					if o.Offset != 0 {
						t.Fatalf("dead-letter topic holds %d records in partition %d", o.Offset, o.Partition)
					}
				})
			})
		}
	}
}

// TestConsumerHoldsWhenDeadLetterFails: NewConsumer refuses a dead-letter
// topic that does not exist; one deleted while the consumer runs makes a
// dead letter that cannot be written, which holds its partition at the
// bad record; Poll returns nothing
// after it, so marking all Poll returned never commits past it, and once
// the dead-letter topic exists the record is dead-lettered once and the
// rest follow.
func TestConsumerHoldsWhenDeadLetterFails(t *testing.T) {
	ctx := testCtx(t)
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "one"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	brokers := cluster.ListenAddrs()
	reg, _, _ := newFakeRegistry(t)
	s, err := NewSerde[orderV1](reg, WithSchema(mustParse(t, orderV1Schema)))
	if err != nil {
		t.Fatal(err)
	}
	// Offsets 0-4 good, 5 bad, 6-9 good, 10 bad, 11 good.
	var rs []*kgo.Record
	for i := 0; i < 12; i++ {
		v, err := s.Encode(ctx, "one", orderV1{ID: "o" + strconv.Itoa(i)})
		if err != nil {
			t.Fatal(err)
		}
		if i == 5 || i == 10 {
			v = []byte("poison " + strconv.Itoa(i))
		}
		rs = append(rs, &kgo.Record{Topic: "one", Value: v})
	}
	if err := rawClient(t, brokers).ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	newConsumer := func() (*Consumer[orderV1], error) {
		return NewConsumer[orderV1](ctx, reg, "dlq-missing", []string{"one"}, AnyRecordName(), OnInvalid(DeadLetter("one.dlq")),
			WithBackoff(50*time.Millisecond, 200*time.Millisecond),
			WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
				kgo.UnknownTopicRetries(0)))
	}
	// Missing at start-up: refused before any record is read.
	if _, err := newConsumer(); !errors.Is(err, ErrTopicNotFound) || !strings.Contains(err.Error(), "one.dlq") {
		t.Fatalf("NewConsumer without its dead-letter topic: got %v, want ErrTopicNotFound naming it", err)
	}
	adm := kadm.NewClient(rawClient(t, brokers))
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "one.dlq"); err != nil {
		t.Fatal(err)
	}
	c, err := newConsumer()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	// Deleted while the consumer runs: the partition holds at the bad
	// record.
	if _, err := adm.DeleteTopic(ctx, "one.dlq"); err != nil {
		t.Fatal(err)
	}

	var got []int64
	var he *HoldError
	for len(got) < 5 || he == nil {
		recs, err := c.Poll(ctx)
		for _, r := range recs {
			got = append(got, r.Offset)
		}
		c.MarkProcessed(recs...)
		if err != nil {
			if !errors.As(err, &he) || he.Offset != 5 {
				t.Fatalf("got %v, want a *HoldError at offset 5", err)
			}
			if !errors.Is(err, kerr.UnknownTopicOrPartition) || !strings.Contains(err.Error(), `"one.dlq"`) {
				t.Fatalf("got %v, want it to say the dead-letter topic is missing", err)
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("got offsets %v and no hold", got)
		}
	}
	if fmt.Sprint(got) != "[0 1 2 3 4]" {
		t.Fatalf("delivered %v with the dead-letter topic missing, want [0 1 2 3 4]", got)
	}
	if err := c.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if total := committedTotal(t, ctx, brokers, "dlq-missing"); total != 5 {
		t.Fatalf("committed %d, want 5: the bad record at 5 is not handled", total)
	}
	// More holds while the topic is missing; nothing after 5 appears.
	for i := 0; i < 2; i++ {
		recs, err := c.Poll(ctx)
		if len(recs) != 0 || !errors.As(err, &he) {
			t.Fatalf("got %d records and %v, want none and a hold", len(recs), err)
		}
	}

	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "one.dlq"); err != nil {
		t.Fatal(err)
	}
	for len(got) < 10 {
		recs, err := c.Poll(ctx)
		if err != nil && !errors.As(err, &he) {
			t.Fatal(err)
		}
		for _, r := range recs {
			got = append(got, r.Offset)
		}
		c.MarkProcessed(recs...)
		if ctx.Err() != nil {
			t.Fatalf("got offsets %v after the topic was created", got)
		}
	}
	if fmt.Sprint(got) != "[0 1 2 3 4 6 7 8 9 11]" {
		t.Fatalf("delivered %v, want [0 1 2 3 4 6 7 8 9 11]", got)
	}
	if err := c.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if total := committedTotal(t, ctx, brokers, "dlq-missing"); total != 12 {
		t.Fatalf("committed %d, want 12", total)
	}
	ends, err := kadm.NewClient(rawClient(t, brokers)).ListEndOffsets(ctx, "one.dlq")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := ends.Lookup("one.dlq", 0); o.Offset != 2 {
		t.Fatalf("dead-letter topic holds %d records, want 2", o.Offset)
	}
	if st := c.Stats(); st.DeadLettered != 2 || st.Decoded != 10 {
		t.Fatalf("stats %+v, want 2 dead-lettered and 10 decoded", st)
	}
}

// Order is a reader whose derived record name is "Order", as in the
// writers' .avsc.
type Order struct {
	ID       string `avro:"id"`
	Quantity int32  `avro:"quantity"`
}

func TestConsumerRefusesAnotherRecordName(t *testing.T) {
	ctx := testCtx(t)
	brokers := newFakeKafka(t, "mixed")
	reg, _, _ := newFakeRegistry(t)
	payment := mustParse(t, `{"type":"record","name":"Payment","namespace":"billing","fields":[
		{"name":"id","type":"string"},{"name":"quantity","type":"int"}]}`)
	aliased := mustParse(t, `{"type":"record","name":"Purchase","namespace":"shop","aliases":["legacy.Order"],"fields":[
		{"name":"id","type":"string"},{"name":"quantity","type":"int"}]}`)
	write := func(s *Schema, id string) {
		se, err := NewSerde[Order](reg, WithSchema(s), WithSubjectStrategy(TopicRecordName))
		if err != nil {
			t.Fatal(err)
		}
		v, err := se.Encode(ctx, "mixed", Order{ID: id, Quantity: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := rawClient(t, brokers).ProduceSync(ctx, &kgo.Record{Topic: "mixed", Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	write(mustParse(t, orderV1Schema), "order") // retail.Order: the same short name
	write(payment, "payment")
	write(aliased, "aliased")

	read := func(opts ...ConsumerOpt) (ids []string, decodeErrs []error) {
		c, err := NewConsumer[Order](ctx, reg, "names-"+strconv.Itoa(len(opts)), []string{"mixed"},
			append([]ConsumerOpt{OnInvalid(SkipInvalid()), WithObserver(&errorsObserver{errs: &decodeErrs}),
				WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		for st := c.Stats(); st.Decoded+st.Skipped < 3; st = c.Stats() {
			recs, err := c.Poll(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				ids = append(ids, r.Value.ID)
			}
		}
		return ids, decodeErrs
	}
	ids, errs := read()
	if len(ids) != 2 || len(errs) != 1 || !errors.Is(errs[0], ErrIncompatible) || !strings.Contains(errs[0].Error(), "billing.Payment") {
		t.Fatalf("default reader: got %v and %v, want order and aliased read, billing.Payment refused as incompatible", ids, errs)
	}
	ids, errs = read(AnyRecordName())
	if len(ids) != 3 || len(errs) != 0 {
		t.Fatalf("AnyRecordName: got %v and %v, want all three read", ids, errs)
	}
}

type errorsObserver struct {
	nopObserver
	errs *[]error
}

func (o *errorsObserver) OnDecodeError(_ string, err error) { *o.errs = append(*o.errs, err) }

type nopObserver struct{}

func (nopObserver) OnEncodeError(string, error)     {}
func (nopObserver) OnDecodeError(string, error)     {}
func (nopObserver) OnDeadLetter(string)             {}
func (nopObserver) OnSkip(string)                   {}
func (nopObserver) OnHold(string, error)            {}
func (nopObserver) OnSchemaCache(bool)              {}
func (nopObserver) OnRegistryRequest(string, error) {}

// TestAuthenticationFailureIsTyped: with a wrong SASL password, Poll and
// ProduceSync return an *AuthError within seconds, not a deadline.
func TestAuthenticationFailureIsTyped(t *testing.T) {
	ctx := testCtx(t)
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "secured"),
		kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "admin", "right-password"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	// kfake closes the connection on a failed SCRAM exchange; a broker
	// answers SASL_AUTHENTICATION_FAILED, as this control makes it do.
	cluster.ControlKey(kmsg.SASLAuthenticate.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		resp := req.(*kmsg.SASLAuthenticateRequest).ResponseKind().(*kmsg.SASLAuthenticateResponse)
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		msg := "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256"
		resp.ErrorMessage = &msg
		return resp, nil, true
	})
	reg, _, _ := newFakeRegistry(t)
	wrong := kgo.SASL(scram.Auth{User: "admin", Pass: "wrong-password"}.AsSha256Mechanism())
	opts := WithClientOpts(kgo.SeedBrokers(cluster.ListenAddrs()...), wrong)

	check := func(what string, start time.Time, err error) {
		t.Helper()
		var ae *AuthError
		if !errors.As(err, &ae) || !errors.Is(err, ErrAuthentication) || !errors.Is(err, kerr.SaslAuthenticationFailed) {
			t.Fatalf("%s: got %v, want an *AuthError matching ErrAuthentication and SASL_AUTHENTICATION_FAILED", what, err)
		}
		t.Logf("%s: %s after %s", what, err, time.Since(start).Round(time.Millisecond))
		if took := time.Since(start); took > 10*time.Second {
			t.Fatalf("%s: the failure took %s to arrive", what, took)
		}
		if strings.Contains(err.Error(), "wrong-password") {
			t.Fatalf("%s: the error shows the password: %v", what, err)
		}
		if _, _, err := net.SplitHostPort(ae.Broker); err != nil {
			t.Fatalf("%s: broker %q is not an address", what, ae.Broker)
		}
	}

	p, err := NewProducer[orderV1](ctx, reg, "secured", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	start := time.Now()
	check("ProduceSync", start, p.ProduceSync(ctx, Message[orderV1]{Value: orderV1{ID: "x"}}))
	done := make(chan error, 1)
	start = time.Now()
	p.Produce(ctx, Message[orderV1]{Value: orderV1{ID: "y"}}, func(_ *kgo.Record, err error) { done <- err })
	check("Produce", start, <-done)

	c, err := NewConsumer[orderV1](ctx, reg, "g", []string{"secured"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	start = time.Now()
	_, err = c.Poll(ctx)
	check("Poll", start, err)
	start = time.Now()
	_, err = c.Poll(ctx)
	check("second Poll", start, err)
}

// TestConsumerConfirmsUnknownIDs: a registry that says "not found" for
// IDs that exist (one replaying its journal after a restart) holds the
// records until it knows them again; one that keeps saying so for
// UnknownIDGrace has the records dead-lettered.
func TestConsumerConfirmsUnknownIDs(t *testing.T) {
	for _, restarts := range []bool{true, false} {
		t.Run(fmt.Sprintf("registry-recovers=%v", restarts), func(t *testing.T) {
			ctx := testCtx(t)
			brokers := newFakeKafka(t, "in", "in.dlq")
			fake, srv, _ := newFakeRegistry(t)
			const n = 50
			writeOrders(t, ctx, brokers, fake, "in", n)
			faulty := newFaultyRegistry(t, srv.URL())
			faulty.set(answerNotFound)
			reg, err := NewRegistryFromOptions(sr.URLs(faulty.srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			const grace = 600 * time.Millisecond
			c, err := NewConsumer[orderV1](ctx, reg, "confirm", []string{"in"}, AnyRecordName(), OnInvalid(DeadLetter("in.dlq")),
				UnknownIDGrace(grace), WithBackoff(20*time.Millisecond, 50*time.Millisecond),
				WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(ctx)
			start := time.Now()
			delivered := 0
			for st := c.Stats(); uint64(delivered)+st.DeadLettered < n; st = c.Stats() {
				recs, err := c.Poll(ctx)
				delivered += len(recs)
				c.MarkProcessed(recs...)
				if err != nil && !errors.Is(err, ErrUnknownSchemaID) {
					t.Fatalf("got %v, want holds for an unknown schema id", err)
				}
				if restarts && time.Since(start) > grace/3 {
					faulty.set(passThrough)
				}
				if ctx.Err() != nil {
					t.Fatalf("delivered %d, stats %+v", delivered, c.Stats())
				}
			}
			st := c.Stats()
			if restarts {
				if delivered != n || st.DeadLettered != 0 {
					t.Fatalf("delivered %d, dead-lettered %d: want all %d delivered", delivered, st.DeadLettered, n)
				}
				return
			}
			if delivered != 0 || st.DeadLettered != n {
				t.Fatalf("delivered %d, dead-lettered %d: want all %d dead-lettered", delivered, st.DeadLettered, n)
			}
			if took := time.Since(start); took < grace {
				t.Fatalf("dead-lettered after %s, before the grace of %s", took, grace)
			}
		})
	}
}
