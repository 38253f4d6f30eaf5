package schema

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/internal/platformenv"
)

// orderKey is an Avro key: a store and an order number.
type orderKey struct {
	Store string `avro:"store"`
	ID    string `avro:"id"`
}

const orderKeySchema = `{"type":"record","name":"OrderKey","namespace":"retail","fields":[
	{"name":"store","type":"string"},{"name":"id","type":"string"}]}`

func TestStringKeys(t *testing.T) {
	ctx := context.Background()
	keys := StringKeys()
	for _, k := range []string{"order-1", "", "größe 🚚"} {
		b, err := keys.EncodeKey(ctx, "t", k)
		if err != nil || b == nil {
			t.Fatalf("EncodeKey(%q) = %q, %v: want bytes, never nil", k, b, err)
		}
		got, err := keys.DecodeKey(ctx, b)
		if err != nil || got != k {
			t.Errorf("DecodeKey(EncodeKey(%q)) = %q, %v", k, got, err)
		}
	}
	if _, err := keys.DecodeKey(ctx, nil); !errors.Is(err, ErrNullKey) || !Permanent(err) {
		t.Errorf("nil key: %v, want a permanent ErrNullKey", err)
	}
	if _, err := keys.DecodeKey(ctx, []byte{0xff, 'a'}); !errors.Is(err, ErrCorruptPayload) || !Permanent(err) {
		t.Errorf("invalid UTF-8: %v, want a permanent ErrCorruptPayload", err)
	}
}

// keyedOrderProducer returns Avro keys of orderKey and a producer of
// orderV1 with them to "orders", closed when the test ends.
func keyedOrderProducer(t *testing.T, ctx context.Context, reg *Registry, brokers []string) (KeyCodec[orderKey], *KeyedProducer[orderKey, orderV1]) {
	t.Helper()
	keys, err := AvroKeys[orderKey](reg, WithSchema(mustParse(t, orderKeySchema)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewKeyedProducer[orderKey, orderV1](ctx, reg, "orders", keys, WithSchema(mustParse(t, orderV1Schema)),
		WithClientOpts(kgo.SeedBrokers(brokers...)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return keys, p
}

// TestKeyedAvroRoundTrip: a KeyedProducer registers the key schema under
// the key subject and writes keys in the wire format; ProcessKeyed hands
// each record's key to the handler decoded; a record without a key and
// one whose key is not Avro are dead-lettered at once, with a *KeyError.
func TestKeyedAvroRoundTrip(t *testing.T) {
	ctx := testCtx(t)
	brokers := newKafka(t, 2, "orders", "orders.dlq")
	reg, _, _ := newFakeRegistry(t)
	keys, p := keyedOrderProducer(t, ctx, reg, brokers)
	subjects, err := reg.Client().Subjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(subjects, "orders-key") || !slices.Contains(subjects, "orders-value") {
		t.Fatalf("subjects %v: want orders-key and orders-value registered at start-up", subjects)
	}
	const n = 40
	ms := make([]KeyedMessage[orderKey, orderV1], n)
	for i := range ms {
		ms[i] = KeyedMessage[orderKey, orderV1]{
			Key:   orderKey{Store: fmt.Sprintf("s%d", i%4), ID: fmt.Sprintf("o%d", i)},
			Value: orderV1{ID: fmt.Sprintf("o%d", i), Quantity: int32(i)},
		}
	}
	if err := p.ProduceSync(ctx, ms...); err != nil {
		t.Fatal(err)
	}
	// Two records whose keys cannot be read.
	good, err := p.Producer().Serde().Encode(ctx, "orders", orderV1{ID: "bad", Quantity: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := rawClient(t, brokers).ProduceSync(ctx,
		&kgo.Record{Topic: "orders", Value: good},
		&kgo.Record{Topic: "orders", Key: []byte("plain text"), Value: good}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	c, err := NewConsumer[orderV1](ctx, reg, "keyed", []string{"orders"}, AnyRecordName(), OnInvalid(DeadLetter("orders.dlq")),
		WithConcurrency(4), WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var mu sync.Mutex
	got := map[string]orderKey{}
	keysCodec := keys
	stopped := make(chan error, 1)
	pctx, cancel := context.WithCancel(ctx)
	go func() {
		stopped <- ProcessKeyed(pctx, c, keysCodec, func(ctx context.Context, key orderKey, r *Record[orderV1]) error {
			mu.Lock()
			defer mu.Unlock()
			got[r.Value.ID] = key
			return nil
		})
	}()
	waitUntil(t, ctx, "every record", func() bool { st := c.Stats(); return st.Processed == n && st.DeadLettered == 2 })
	cancel()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	for i := range n {
		id := fmt.Sprintf("o%d", i)
		if want := (orderKey{Store: fmt.Sprintf("s%d", i%4), ID: id}); got[id] != want {
			t.Errorf("order %s: key %+v, want %+v", id, got[id], want)
		}
	}
	var errs []string
	for _, dl := range readDeadLetters(t, ctx, brokers, "orders.dlq", 2) {
		if dl.Attempts != 1 || dl.Stage != StageHandle || !strings.Contains(dl.Error, "decode key of orders[") {
			t.Errorf("dead letter %+v: want a key error after 1 attempt", dl.DeadLetterInfo)
		}
		errs = append(errs, dl.Error)
	}
	joined := strings.Join(errs, "\n")
	if !strings.Contains(joined, ErrNullKey.Error()) || !strings.Contains(joined, ErrBadMagic.Error()) {
		t.Errorf("dead letters say %q: want one null key and one bad magic byte", joined)
	}
}

// TestKeyedProducerRefusesMissingKeySchema: under LookupOnly, a key
// schema the registry lacks is refused at start-up, naming the key.
func TestKeyedProducerRefusesMissingKeySchema(t *testing.T) {
	ctx := testCtx(t)
	brokers := newKafka(t, 1, "orders")
	reg, _, _ := newFakeRegistry(t)
	keys, err := AvroKeys[orderKey](reg, WithSchema(mustParse(t, orderKeySchema)), WithRegistration(LookupOnly()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewKeyedProducer[orderKey, orderV1](ctx, reg, "orders", keys, WithSchema(mustParse(t, orderV1Schema)),
		WithClientOpts(kgo.SeedBrokers(brokers...)))
	if !errors.Is(err, ErrSubjectNotFound) || !strings.Contains(err.Error(), "key") {
		t.Fatalf("got %v, want ErrSubjectNotFound for the key", err)
	}
	if _, err := NewKeyedProducer[string, orderV1](ctx, reg, "orders", nil); err == nil {
		t.Error("a nil key codec was accepted")
	}
}

// TestProcessKeyedRegistryOutage: while the registry the key codec asks
// is down, a key that needs it is tried again in place, not
// dead-lettered, and is handled once the registry is back.
func TestProcessKeyedRegistryOutage(t *testing.T) {
	ctx := testCtx(t)
	brokers := newKafka(t, 1, "orders", "orders.dlq")
	reg, fake, _ := newFakeRegistry(t)
	_, p := keyedOrderProducer(t, ctx, reg, brokers)
	const n = 10
	for i := range n {
		if err := p.ProduceSync(ctx, KeyedMessage[orderKey, orderV1]{Key: orderKey{"s1", fmt.Sprint(i)}, Value: orderV1{ID: fmt.Sprint(i)}}); err != nil {
			t.Fatal(err)
		}
	}

	// The consumer's values decode through the healthy registry; its keys
	// through one that is down.
	faulty := newFaultyRegistry(t, fake.URL())
	faulty.set(answer503)
	downReg, err := NewRegistryFromOptions(sr.URLs(faulty.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	downKeys, err := AvroKeys[orderKey](downReg, WithSchema(mustParse(t, orderKeySchema)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewConsumer[orderV1](ctx, reg, "keyed-outage", []string{"orders"}, AnyRecordName(), OnInvalid(DeadLetter("orders.dlq")),
		WithRetries(RetryForever), WithBackoff(10*time.Millisecond, 20*time.Millisecond),
		WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var handled sync.Map
	pctx, cancel := context.WithCancel(ctx)
	stopped := make(chan error, 1)
	go func() {
		stopped <- ProcessKeyed(pctx, c, downKeys, func(ctx context.Context, key orderKey, r *Record[orderV1]) error {
			handled.Store(key.ID, true)
			return nil
		})
	}()
	waitUntil(t, ctx, "retries while the registry is down", func() bool { return c.Stats().Retried >= 5 })
	if st := c.Stats(); st.Processed != 0 || st.DeadLettered != 0 {
		t.Fatalf("stats %+v while the registry is down: want nothing processed or dead-lettered", st)
	}
	faulty.set(passThrough)
	waitUntil(t, ctx, "every record once the registry is back", func() bool { return c.Stats().Processed == n })
	cancel()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.DeadLettered != 0 {
		t.Errorf("stats %+v: a transient key failure was dead-lettered", st)
	}
}

// TestIntegrationKeyedProducerAndProcess runs typed keys on the real
// platform: Avro keys registered under the topic's key subject and then
// looked up as a service would (LookupOnly), text keys on a second topic,
// and ProcessKeyed reading both back, each record's key decoded.
func TestIntegrationKeyedProducerAndProcess(t *testing.T) {
	ctx, rp := requireReal(t)
	avroTopic := rp.topic(t, ctx, "it-keys-avro", 3)
	textTopic := rp.topic(t, ctx, "it-keys-text", 3)
	keySchema := mustParse(t, orderKeySchema)
	if _, err := rp.reg.Register(ctx, avroTopic+"-key", keySchema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, s := range []string{avroTopic + "-key", avroTopic + "-value", textTopic + "-value"} {
			_, _ = rp.reg.Client().DeleteSubject(context.Background(), s, sr.SoftDelete)
			_, _ = rp.reg.Client().DeleteSubject(context.Background(), s, sr.HardDelete)
		}
	})
	avroKeys, err := AvroKeys[orderKey](rp.reg, WithSchema(keySchema), WithRegistration(LookupOnly()))
	if err != nil {
		t.Fatal(err)
	}
	opts := []ProducerOpt{WithSchema(mustParse(t, orderV1Schema)), WithClientOpts(kgo.SeedBrokers(rp.brokers...))}
	ap, err := NewKeyedProducer[orderKey, orderV1](ctx, rp.reg, avroTopic, avroKeys, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer ap.Close(ctx)
	tp, err := NewKeyedProducer[string, orderV1](ctx, rp.reg, textTopic, StringKeys(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close(ctx)
	const n = 300
	for i := range n {
		v := orderV1{ID: fmt.Sprintf("o%d", i), Quantity: int32(i)}
		ap.Produce(ctx, KeyedMessage[orderKey, orderV1]{Key: orderKey{Store: fmt.Sprintf("s%d", i%7), ID: v.ID}, Value: v}, nil)
		tp.Produce(ctx, KeyedMessage[string, orderV1]{Key: "store-" + fmt.Sprint(i%7), Value: v}, nil)
	}
	for _, flush := range []func(context.Context) error{ap.Flush, tp.Flush} {
		if err := flush(ctx); err != nil {
			t.Fatal(err)
		}
	}

	read := func(topic string, run func(ctx context.Context, c *Consumer[orderV1]) error) {
		c, err := NewConsumer[orderV1](ctx, rp.reg, platformenv.UniqueName("it-keys"), []string{topic}, AnyRecordName(),
			WithConcurrency(4), WithClientOpts(kgo.SeedBrokers(rp.brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		pctx, cancel := context.WithCancel(ctx)
		stopped := make(chan error, 1)
		go func() { stopped <- run(pctx, c) }()
		waitUntil(t, ctx, "every record of "+topic, func() bool { return c.Stats().Processed == n })
		cancel()
		if err := <-stopped; err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var wrong []string
	read(avroTopic, func(ctx context.Context, c *Consumer[orderV1]) error {
		return ProcessKeyed(ctx, c, avroKeys, func(ctx context.Context, k orderKey, r *Record[orderV1]) error {
			if want := (orderKey{Store: fmt.Sprintf("s%d", r.Value.Quantity%7), ID: r.Value.ID}); k != want {
				mu.Lock()
				wrong = append(wrong, fmt.Sprintf("%s: key %+v, want %+v", r.Value.ID, k, want))
				mu.Unlock()
			}
			return nil
		})
	})
	read(textTopic, func(ctx context.Context, c *Consumer[orderV1]) error {
		return ProcessKeyed(ctx, c, StringKeys(), func(ctx context.Context, k string, r *Record[orderV1]) error {
			if want := "store-" + fmt.Sprint(r.Value.Quantity%7); k != want {
				mu.Lock()
				wrong = append(wrong, fmt.Sprintf("%s: key %q, want %q", r.Value.ID, k, want))
				mu.Unlock()
			}
			return nil
		})
	})
	for _, w := range wrong {
		t.Error(w)
	}
}
