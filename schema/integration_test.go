package schema

// Integration tests against the real platform: Apache Kafka and the
// Confluent-compatible API of the platform's registry (Apicurio). make test
// runs them with STREAMKIT_REQUIRE_PLATFORM=1.

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/internal/platformenv"
)

type realPlatform struct {
	brokers []string
	url     string
	reg     *Registry
	calls   *countingTransport
}

// requireReal reads the platform's brokers and registry from the variables
// platformtest.FromEnvironment reads (STREAMKIT_BROKERS,
// STREAMKIT_SCHEMA_REGISTRY_URL). This package's tests cannot import
// platformtest, which imports schema for its ready-made clients.
func requireReal(t testing.TB) (context.Context, realPlatform) {
	t.Helper()
	brokers := strings.FieldsFunc(os.Getenv("STREAMKIT_BROKERS"), func(r rune) bool { return r == ',' || r == ' ' })
	url := strings.TrimRight(strings.TrimSpace(os.Getenv("STREAMKIT_SCHEMA_REGISTRY_URL")), "/")
	if len(brokers) == 0 || url == "" {
		platformenv.Missing(t, "platform not configured: STREAMKIT_BROKERS or STREAMKIT_SCHEMA_REGISTRY_URL unset (scripts/platform up; eval \"$(scripts/platform env)\")")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	ct := &countingTransport{next: http.DefaultTransport}
	reg, err := NewRegistryFromOptions(sr.URLs(url), sr.HTTPClient(&http.Client{Transport: ct}))
	if err != nil {
		t.Fatal(err)
	}
	return ctx, realPlatform{brokers: brokers, url: url, reg: reg, calls: ct}
}

// topic creates a uniquely named topic and deletes it when the test ends.
func (rp realPlatform) topic(t testing.TB, ctx context.Context, prefix string, partitions int32) string {
	t.Helper()
	name := platformenv.UniqueName(prefix)
	rp.createTopic(t, ctx, name, partitions)
	return name
}

// createTopic creates topic name, deletes it when the test ends, and
// waits until every broker knows it.
func (rp realPlatform) createTopic(t testing.TB, ctx context.Context, name string, partitions int32) {
	t.Helper()
	adm := kadm.NewClient(rawClient(t, rp.brokers))
	resp, err := adm.CreateTopic(ctx, partitions, -1, nil, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = adm.DeleteTopic(ctx, name)
	})
	// On several brokers a new topic reaches each a moment apart: wait
	// until its offsets can be listed.
	for {
		ends, err := adm.ListEndOffsets(ctx, name)
		if err == nil && ends.Error() == nil && len(ends[name]) == int(partitions) {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("topic %s not ready: %v %v", name, err, ends.Error())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (rp realPlatform) endOffsets(t *testing.T, ctx context.Context, topic string) int64 {
	t.Helper()
	ends, err := kadm.NewClient(rawClient(t, rp.brokers)).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			t.Fatalf("end offset of %s[%d]: %v", topic, o.Partition, o.Err)
		}
		n += o.Offset
	})
	return n
}

func TestIntegrationRoundTrip10000(t *testing.T) {
	ctx, rp := requireReal(t)
	topic := rp.topic(t, ctx, "it.orders", 3)

	p, err := NewProducer[retailOrder](ctx, rp.reg, topic, WithSchema(mustOrderSchema(t)),
		WithClientOpts(kgo.SeedBrokers(rp.brokers...)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	warm := rp.calls.total.Load()

	const n, batch = 10_000, 1_000
	for start := 0; start < n; start += batch {
		msgs := make([]Message[retailOrder], batch)
		for i := range msgs {
			o := makeOrder(start + i)
			msgs[i] = Message[retailOrder]{Key: []byte(o.OrderID), Value: o}
		}
		if err := p.ProduceSync(ctx, msgs...); err != nil {
			t.Fatal(err)
		}
	}
	if got := rp.calls.total.Load() - warm; got != 0 {
		t.Fatalf("producing %d records made %d registry calls after NewProducer, want 0", n, got)
	}

	c, err := NewConsumer[retailOrder](ctx, rp.reg, platformenv.UniqueName("it-group"), []string{topic},
		WithSchema(mustOrderSchema(t)),
		WithClientOpts(kgo.SeedBrokers(rp.brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	seen := make(map[int64]bool, n)
	for len(seen) < n {
		recs, err := c.Poll(ctx)
		if err != nil {
			t.Fatalf("after %d records: %v", len(seen), err)
		}
		for _, r := range recs {
			i := r.Value.Revision
			if seen[i] {
				t.Fatalf("order %d delivered twice", i)
			}
			seen[i] = true
			if err := equalOrders(makeOrder(int(i)), r.Value); err != nil {
				t.Fatalf("order %d: %v", i, err)
			}
			if string(r.Key) != r.Value.OrderID {
				t.Fatalf("order %d: key %q", i, r.Key)
			}
		}
		c.MarkProcessed(recs...)
	}
	// The consumer shares the producer's registry cache; with its own it
	// makes exactly one call per schema ID, shown below.
	if got := rp.calls.total.Load() - warm; got != 0 {
		t.Fatalf("round trip made %d registry calls after warm-up, want 0", got)
	}

	cold, err := NewRegistryFromOptions(sr.URLs(rp.url), sr.HTTPClient(&http.Client{Transport: rp.calls}))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSerde[retailOrder](cold, WithSchema(mustOrderSchema(t)))
	if err != nil {
		t.Fatal(err)
	}
	wire, err := p.Serde().Encode(ctx, topic, makeOrder(1))
	if err != nil {
		t.Fatal(err)
	}
	before := rp.calls.total.Load()
	for i := 0; i < 1000; i++ {
		var o retailOrder
		if err := s.Decode(ctx, wire, &o); err != nil {
			t.Fatal(err)
		}
	}
	if got := rp.calls.total.Load() - before; got != 1 {
		t.Fatalf("1000 decodes with a cold cache made %d registry calls, want 1", got)
	}
}

func TestIntegrationEvolution(t *testing.T) {
	ctx, rp := requireReal(t)
	topic := rp.topic(t, ctx, "it.evolution", 1)
	opts := []ProducerOpt{WithClientOpts(kgo.SeedBrokers(rp.brokers...))}
	v1, v2, v3 := mustParse(t, orderV1Schema), mustParse(t, orderV2Schema), mustParse(t, orderV3Schema)

	p1, err := NewProducer[orderV1](ctx, rp.reg, topic, append(opts, WithSchema(v1))...)
	if err != nil {
		t.Fatal(err)
	}
	defer p1.Close(ctx)
	if err := p1.ProduceSync(ctx, Message[orderV1]{Value: orderV1{ID: "from-v1", Quantity: 1}}); err != nil {
		t.Fatal(err)
	}

	// The team's CI asks the registry before registering.
	if err := rp.reg.CheckCompatibility(ctx, topic+"-value", v2); err != nil {
		t.Fatalf("v2 after v1: %v", err)
	}
	p2, err := NewProducer[orderV2](ctx, rp.reg, topic, append(opts, WithSchema(v2))...)
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close(ctx)
	if err := p2.ProduceSync(ctx, Message[orderV2]{Value: orderV2{ID: "from-v2", Quantity: 2, Currency: "USD"}}); err != nil {
		t.Fatal(err)
	}
	id1, _ := p1.Serde().Prepare(ctx, topic)
	id2, _ := p2.Serde().Prepare(ctx, topic)
	if id1 == id2 {
		t.Fatalf("v1 and v2 share schema id %d", id1)
	}

	// v3 adds a field without a default: the registry refuses it, and the
	// error reaches the caller before any record is produced.
	err = rp.reg.CheckCompatibility(ctx, topic+"-value", v3)
	var ie *IncompatibleError
	if !errors.As(err, &ie) || len(ie.Messages) == 0 {
		t.Fatalf("registry compatibility check of v3: got %v, want an *IncompatibleError with messages", err)
	}
	before := rp.endOffsets(t, ctx, topic)
	_, err = NewProducer[orderV3](ctx, rp.reg, topic, append(opts, WithSchema(v3))...)
	var re *RegistryError
	if !errors.Is(err, ErrIncompatible) || !errors.As(err, &re) || re.StatusCode != http.StatusConflict || re.Message == "" {
		t.Fatalf("producer with v3: got %v, want a 409 *RegistryError matching ErrIncompatible", err)
	}
	if after := rp.endOffsets(t, ctx, topic); after != before {
		t.Fatalf("records went from %d to %d though v3 was refused", before, after)
	}

	// A v2 consumer reads v1 records with the default, and v2 records.
	if got := readTwo[orderV2](t, ctx, rp, topic, v2); got[0] != (orderV2{"from-v1", 1, "EUR"}) || got[1] != (orderV2{"from-v2", 2, "USD"}) {
		t.Fatalf("v2 reader: %+v", got)
	}
	// A v1 consumer reads v2 records without the new field.
	if got := readTwo[orderV1](t, ctx, rp, topic, v1); got[0] != (orderV1{"from-v1", 1}) || got[1] != (orderV1{"from-v2", 2}) {
		t.Fatalf("v1 reader: %+v", got)
	}
	// A Go type that does not fit its reader schema is refused at start.
	if _, err := NewConsumer[orderV2](ctx, rp.reg, platformenv.UniqueName("it-evo"), []string{topic}, WithSchema(v1),
		WithClientOpts(kgo.SeedBrokers(rp.brokers...))); !errors.Is(err, ErrTypeMismatch) {
		t.Fatalf("orderV2 read with v1: %v, want ErrTypeMismatch", err)
	}
}

// readTwo reads the first two records of topic into T with reader, as a
// group of its own.
func readTwo[T any](t *testing.T, ctx context.Context, rp realPlatform, topic string, reader *Schema) []T {
	t.Helper()
	c, err := NewConsumer[T](ctx, rp.reg, platformenv.UniqueName("it-evo"), []string{topic}, WithSchema(reader),
		WithClientOpts(kgo.SeedBrokers(rp.brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var out []T
	for len(out) < 2 {
		recs, err := c.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			out = append(out, r.Value)
		}
	}
	return out
}

func TestIntegrationLookupOnly(t *testing.T) {
	ctx, rp := requireReal(t)
	topic := rp.topic(t, ctx, "it.lookup", 1)
	v1 := mustParse(t, orderV1Schema)
	opts := []ProducerOpt{WithSchema(v1), WithRegistration(LookupOnly()), WithClientOpts(kgo.SeedBrokers(rp.brokers...))}

	_, err := NewProducer[orderV1](ctx, rp.reg, topic, opts...)
	if !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("got %v, want ErrNotRegistered", err)
	}
	if n := rp.endOffsets(t, ctx, topic); n != 0 {
		t.Fatalf("%d records produced", n)
	}
	if _, err := rp.reg.Client().SubjectVersions(ctx, topic+"-value"); err == nil {
		t.Fatal("lookup-only registered the schema")
	}

	// Once the team's CI has registered it, lookup-only finds it.
	id, err := rp.reg.Register(ctx, topic+"-value", v1)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewProducer[orderV1](ctx, rp.reg, topic, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	if got, _ := p.Serde().Prepare(ctx, topic); got != id {
		t.Fatalf("lookup-only found id %d, want %d", got, id)
	}
	if err := p.ProduceSync(ctx, Message[orderV1]{Value: orderV1{ID: "x", Quantity: 1}}); err != nil {
		t.Fatal(err)
	}

	// Registered by another client as other text, without the default
	// (as Confluent's serializer registers it): found by canonical form.
	other := rp.topic(t, ctx, "it.lookup-other", 1)
	bare := `{"name":"Order","namespace":"retail","type":"record","fields":[{"type":"string","name":"id"},
		{"name":"quantity","type":"int"},{"name":"currency","type":"string"}]}`
	registered, err := rp.reg.Client().CreateSchema(ctx, other+"-value", sr.Schema{Schema: bare, Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := NewProducer[orderV2](ctx, rp.reg, other, WithSchema(mustParse(t, orderV2Schema)), WithRegistration(LookupOnly()),
		WithClientOpts(kgo.SeedBrokers(rp.brokers...)))
	if err != nil {
		t.Fatalf("lookup-only of the same schema with its default: %v", err)
	}
	defer p2.Close(ctx)
	if got, _ := p2.Serde().Prepare(ctx, other); got != registered.ID {
		t.Fatalf("lookup-only found id %d, want %d", got, registered.ID)
	}
	if vs, err := rp.reg.Client().SubjectVersions(ctx, other+"-value"); err != nil || len(vs) != 1 {
		t.Fatalf("versions after lookup-only: %v, %v; want the one registered", vs, err)
	}
}

func TestIntegrationDeadLetter(t *testing.T) {
	ctx, rp := requireReal(t)
	in := rp.topic(t, ctx, "it.dlq.in", 2)
	dlq := rp.topic(t, ctx, "it.dlq.out", 1)
	deadLetterScenario(t, ctx, rp.brokers, rp.reg, in, dlq, platformenv.UniqueName("it-dlq"))
}

// TestIntegrationWrongPassword: against the platform's SASL/SCRAM
// listeners, a producer and a consumer with a wrong password get an
// *AuthError within seconds, from ProduceSync and from Poll, instead of a
// deadline.
func TestIntegrationWrongPassword(t *testing.T) {
	ctx, rp := requireReal(t)
	saslBrokers := strings.FieldsFunc(os.Getenv("STREAMKIT_SASL_BROKERS"), func(r rune) bool { return r == ',' || r == ' ' })
	user := os.Getenv("STREAMKIT_KAFKA_ADMIN_USER")
	if len(saslBrokers) == 0 || user == "" {
		platformenv.Missing(t, "STREAMKIT_SASL_BROKERS or STREAMKIT_KAFKA_ADMIN_USER unset")
	}
	topic := rp.topic(t, ctx, "it-auth", 1)
	opts := WithClientOpts(kgo.SeedBrokers(saslBrokers...),
		kgo.SASL(scram.Auth{User: user, Pass: "not-the-password"}.AsSha512Mechanism()))
	check := func(what string, start time.Time, err error) {
		t.Helper()
		if !errors.Is(err, ErrAuthentication) || !errors.Is(err, kerr.SaslAuthenticationFailed) {
			t.Fatalf("%s: got %v, want an error matching ErrAuthentication and SASL_AUTHENTICATION_FAILED", what, err)
		}
		if took := time.Since(start); took > 15*time.Second {
			t.Fatalf("%s: took %s", what, took)
		}
		if strings.Contains(err.Error(), "not-the-password") {
			t.Fatalf("%s: the error shows the password", what)
		}
	}
	p, err := NewProducer[orderV1](ctx, rp.reg, topic, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	start := time.Now()
	check("ProduceSync", start, p.ProduceSync(ctx, Message[orderV1]{Value: orderV1{ID: "x"}}))

	c, err := NewConsumer[orderV1](ctx, rp.reg, platformenv.UniqueName("it-auth"), []string{topic}, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	start = time.Now()
	_, err = c.Poll(ctx)
	check("Poll", start, err)
}
