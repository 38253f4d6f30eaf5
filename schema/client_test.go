package schema

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// newKafka starts a one-broker kfake cluster with topics of partitions
// partitions each, closed when the test ends, and returns its addresses.
func newKafka(t *testing.T, partitions int32, topics ...string) []string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

// newFakeKafka is newKafka with two partitions a topic.
func newFakeKafka(t *testing.T, topics ...string) []string {
	t.Helper()
	return newKafka(t, 2, topics...)
}

func rawClient(t testing.TB, brokers []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestProducerConsumerRoundTrip(t *testing.T) {
	ctx := testCtx(t)
	brokers := newFakeKafka(t, "orders")
	reg, _, ct := newFakeRegistry(t)

	p, err := NewProducer[orderV2](ctx, reg, "orders", WithClientOpts(kgo.SeedBrokers(brokers...)))
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	msgs := make([]Message[orderV2], n)
	for i := range msgs {
		msgs[i] = Message[orderV2]{
			Key:     []byte("k" + strconv.Itoa(i%7)),
			Value:   orderV2{ID: "o-" + strconv.Itoa(i), Quantity: int32(i), Currency: "EUR"},
			Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte(strconv.Itoa(i))}},
		}
	}
	if err := p.ProduceSync(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	p.Produce(ctx, Message[orderV2]{Value: orderV2{ID: "async", Quantity: -1}}, func(_ *kgo.Record, err error) { done <- err })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(ctx); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if err := p.ProduceSync(ctx, msgs[0]); !errors.Is(err, ErrClosed) {
		t.Fatalf("produce after close: got %v, want ErrClosed", err)
	}
	registryCalls := ct.total.Load()

	c, err := NewConsumer[orderV2](ctx, reg, "g", []string{"orders"},
		WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Record[orderV2]{}
	for len(got) < n+1 {
		recs, err := c.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			got[r.Value.ID] = r
		}
		c.MarkProcessed(recs...)
	}
	for i, m := range msgs {
		r := got[m.Value.ID]
		if r.Value != m.Value || !bytes.Equal(r.Key, m.Key) || len(r.Headers) != 1 || string(r.Headers[0].Value) != strconv.Itoa(i) {
			t.Fatalf("record %d: got %+v, want %+v", i, r, m)
		}
		if r.Topic != "orders" || r.Raw() == nil || r.Timestamp.IsZero() {
			t.Fatalf("record %d lacks its metadata: %+v", i, r)
		}
	}
	if st := c.Stats(); st.Decoded != n+1 || st.Skipped != 0 || st.DeadLettered != 0 {
		t.Fatalf("stats %+v", st)
	}
	// Decoding used the cache filled by the producer: no registry call.
	if got := ct.total.Load() - registryCalls; got != 0 {
		t.Fatalf("consumer made %d registry calls, want 0", got)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// Close left the group, and everything was marked, so the group's
	// committed offsets are the ends.
	adm := kadm.NewClient(rawClient(t, brokers))
	groups, err := adm.DescribeGroups(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	if g := groups["g"]; len(g.Members) != 0 {
		t.Fatalf("group still has %d members after Close", len(g.Members))
	}
	committed, err := adm.FetchOffsets(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	ends, err := adm.ListEndOffsets(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		c, _ := committed.Lookup("orders", o.Partition)
		if c.At != o.Offset {
			t.Errorf("partition %d: committed %d, end %d", o.Partition, c.At, o.Offset)
		}
	})
}

func TestProducerFailsBeforeSending(t *testing.T) {
	ctx := testCtx(t)
	brokers := newFakeKafka(t, "prod")
	reg, _, _ := newFakeRegistry(t)

	_, err := NewProducer[orderV1](ctx, reg, "prod",
		WithRegistration(LookupOnly()), WithClientOpts(kgo.SeedBrokers(brokers...)))
	if !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("lookup-only with nothing registered: got %v, want ErrNotRegistered", err)
	}

	generic, err := NewProducer[map[string]any](ctx, reg, "prod",
		WithSchema(mustParse(t, orderV1Schema)), WithClientOpts(kgo.SeedBrokers(brokers...)))
	if err != nil {
		t.Fatal(err)
	}
	defer generic.Close(ctx)
	err = generic.ProduceSync(ctx,
		Message[map[string]any]{Value: map[string]any{"id": "ok", "quantity": int32(1)}},
		Message[map[string]any]{Value: map[string]any{"id": "no quantity"}},
	)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("message 1")) {
		t.Fatalf("got %v, want an encoding error for message 1", err)
	}
	ends, err := kadm.NewClient(rawClient(t, brokers)).ListEndOffsets(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset != 0 {
			t.Errorf("partition %d has %d records; a failed batch must produce nothing", o.Partition, o.Offset)
		}
	})

	for name, opts := range map[string][]ProducerOpt{
		"no topic given":     nil,
		"client and options": {WithClient(rawClient(t, brokers)), WithClientOpts(kgo.SeedBrokers(brokers...))},
	} {
		topic := "prod"
		if name == "no topic given" {
			topic = ""
		}
		if _, err := NewProducer[orderV1](ctx, reg, topic, opts...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// poisonFixture writes good and bad records, interleaved, to two
// partitions of topic and returns the bad ones and the count of good ones.
func poisonFixture(t *testing.T, ctx context.Context, brokers []string, reg *Registry, topic string) (bad []*kgo.Record, good int) {
	t.Helper()
	s, err := NewSerde[orderV1](reg, WithSchema(mustParse(t, orderV1Schema)))
	if err != nil {
		t.Fatal(err)
	}
	valid, err := s.Encode(ctx, topic, orderV1{ID: "valid", Quantity: 1})
	if err != nil {
		t.Fatal(err)
	}
	poison := [][]byte{
		[]byte("plain text"),             // bad magic
		{0, 0, 0, 0x7f, 0xff, 2, 'x', 2}, // unknown schema id
		valid[:len(valid)-1],             // truncated
		{0, 0},                           // shorter than the header
		append(append([]byte{}, valid...), 1, 2, 3), // trailing bytes
	}
	var rs []*kgo.Record
	for i := 0; i < 40; i++ {
		part := int32(i % 2)
		if i%8 == 3 {
			r := &kgo.Record{Topic: topic, Partition: part, Key: []byte("bad-" + strconv.Itoa(i)),
				Value: poison[(i/8)%len(poison)], Headers: []kgo.RecordHeader{{Key: "origin", Value: []byte("test")}}}
			rs = append(rs, r)
			bad = append(bad, r)
			continue
		}
		v, err := s.Encode(ctx, topic, orderV1{ID: "good-" + strconv.Itoa(i), Quantity: int32(i)})
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, &kgo.Record{Topic: topic, Partition: part, Value: v})
		good++
	}
	cl := rawClient(t, brokers, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	return bad, good
}

func TestConsumerDeadLetter(t *testing.T) {
	ctx := testCtx(t)
	brokers := newFakeKafka(t, "in", "in.dlq")
	reg, _, _ := newFakeRegistry(t)
	deadLetterScenario(t, ctx, brokers, reg, "in", "in.dlq", "dlq-group")
}

// deadLetterScenario writes good and corrupt records interleaved to topic
// in, consumes them with a DeadLetter policy, and checks that every good
// record is delivered, every bad one is in topic dlq byte for byte with
// its headers, and that the counts and committed offsets reconcile.
func deadLetterScenario(t *testing.T, ctx context.Context, brokers []string, reg *Registry, in, dlq, group string) {
	t.Helper()
	bad, good := poisonFixture(t, ctx, brokers, reg, in)

	c, err := NewConsumer[orderV1](ctx, reg, group, []string{in}, AnyRecordName(), OnInvalid(DeadLetter(dlq)), UnknownIDGrace(300*time.Millisecond), WithBackoff(50*time.Millisecond, 100*time.Millisecond),
		WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	var delivered int
	for delivered < good || c.Stats().DeadLettered < uint64(len(bad)) {
		recs, err := c.Poll(ctx)
		if err != nil && !isHold(err) {
			t.Fatal(err)
		}
		delivered += len(recs)
		c.MarkProcessed(recs...)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if delivered != good || st.Decoded != uint64(good) || st.DeadLettered != uint64(len(bad)) || st.Skipped != 0 {
		t.Fatalf("delivered %d, stats %+v; want %d good and %d dead-lettered", delivered, st, good, len(bad))
	}

	// Every bad record is in the dead-letter topic, byte for byte.
	dl := rawClient(t, brokers, kgo.ConsumeTopics(dlq), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []*kgo.Record
	for len(got) < len(bad) {
		fs := dl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("found %d of %d dead letters", len(got), len(bad))
		}
		got = append(got, fs.Records()...)
	}
	if len(got) != len(bad) {
		t.Fatalf("%d dead letters, want %d", len(got), len(bad))
	}
	byKey := map[string]*kgo.Record{}
	for _, r := range got {
		byKey[string(r.Key)] = r
	}
	for _, b := range bad {
		d := byKey[string(b.Key)]
		if d == nil {
			t.Fatalf("bad record %s not dead-lettered", b.Key)
		}
		if !bytes.Equal(d.Value, b.Value) {
			t.Fatalf("%s: dead letter %x, original %x", b.Key, d.Value, b.Value)
		}
		h := map[string]string{}
		for _, kv := range d.Headers {
			h[kv.Key] = string(kv.Value)
		}
		if h["origin"] != "test" || h[HeaderSourceTopic] != in ||
			h[HeaderSourcePartition] != strconv.Itoa(int(b.Partition)) ||
			h[HeaderSourceOffset] != strconv.FormatInt(b.Offset, 10) || h[HeaderError] == "" || h[HeaderSchemaID] == "" {
			t.Fatalf("%s: headers %v", b.Key, h)
		}
	}

	// Nothing is left uncommitted: the committed offsets add up to every
	// record written.
	committed, err := kadm.NewClient(rawClient(t, brokers)).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	committed.Each(func(o kadm.OffsetResponse) { total += o.At })
	if total != int64(good+len(bad)) {
		t.Fatalf("committed offsets add up to %d, want %d", total, good+len(bad))
	}
}

func TestConsumerSkipAndStop(t *testing.T) {
	ctx := testCtx(t)
	brokers := newFakeKafka(t, "in")
	reg, _, _ := newFakeRegistry(t)
	bad, good := poisonFixture(t, ctx, brokers, reg, "in")

	t.Run("skip", func(t *testing.T) {
		c, err := NewConsumer[orderV1](ctx, reg, "skip-group", []string{"in"}, AnyRecordName(), UnknownIDGrace(0), OnInvalid(SkipInvalid()), UnknownIDGrace(300*time.Millisecond), WithBackoff(50*time.Millisecond, 100*time.Millisecond),
			WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		delivered := 0
		for delivered < good || c.Stats().Skipped < uint64(len(bad)) {
			recs, err := c.Poll(ctx)
			if err != nil && !isHold(err) {
				t.Fatal(err)
			}
			delivered += len(recs)
		}
		if st := c.Stats(); st.Skipped != uint64(len(bad)) || delivered != good {
			t.Fatalf("stats %+v, delivered %d", st, delivered)
		}
	})

	t.Run("stop", func(t *testing.T) {
		c, err := NewConsumer[orderV1](ctx, reg, "stop-group", []string{"in"}, AnyRecordName(), UnknownIDGrace(0),
			WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		var de *DecodeError
		for {
			recs, err := c.Poll(ctx)
			c.MarkProcessed(recs...)
			if err != nil && !isHold(err) {
				if !errors.As(err, &de) {
					t.Fatalf("got %v, want a *DecodeError", err)
				}
				break
			}
		}
		if de.Topic != "in" || de.Offset < 0 || !errors.Is(de, ErrBadMagic) && !errors.Is(de, ErrCorruptPayload) && !errors.Is(de, ErrUnknownSchemaID) {
			t.Fatalf("decode error %+v", de)
		}
		if _, err := c.Poll(ctx); !errors.As(err, new(*DecodeError)) {
			t.Fatalf("poll after stop: got %v, want the same *DecodeError", err)
		}
		if err := c.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		committed, err := kadm.NewClient(rawClient(t, brokers)).FetchOffsets(ctx, "stop-group")
		if err != nil {
			t.Fatal(err)
		}
		if o, ok := committed.Lookup("in", de.Partition); ok && o.At > de.Offset {
			t.Fatalf("committed %d past the undecodable record at %d", o.At, de.Offset)
		}
	})
}

// A dead-lettered record must not be committed while a good record before
// it in the same partition is still unprocessed.
func TestConsumerDeadLetterWaitsForEarlierRecords(t *testing.T) {
	ctx := testCtx(t)
	brokers := newFakeKafka(t, "one", "one.dlq")
	reg, _, _ := newFakeRegistry(t)
	s, _ := NewSerde[orderV1](reg, WithSchema(mustParse(t, orderV1Schema)))
	v, err := s.Encode(ctx, "one", orderV1{ID: "first", Quantity: 1})
	if err != nil {
		t.Fatal(err)
	}
	cl := rawClient(t, brokers, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := cl.ProduceSync(ctx,
		&kgo.Record{Topic: "one", Value: v},
		&kgo.Record{Topic: "one", Value: []byte("poison")},
	).FirstErr(); err != nil {
		t.Fatal(err)
	}
	c, err := NewConsumer[orderV1](ctx, reg, "wait-group", []string{"one"}, AnyRecordName(), OnInvalid(DeadLetter("one.dlq")),
		WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var recs []Record[orderV1]
	for len(recs) == 0 || c.Stats().DeadLettered == 0 {
		got, err := c.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, got...)
	}
	committedAt := func() int64 {
		if err := c.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		o, err := kadm.NewClient(rawClient(t, brokers)).FetchOffsets(ctx, "wait-group")
		if err != nil {
			t.Fatal(err)
		}
		r, ok := o.Lookup("one", 0)
		if !ok {
			return 0
		}
		return r.At
	}
	if at := committedAt(); at > 0 {
		t.Fatalf("committed %d before the good record at 0 was marked", at)
	}
	c.MarkProcessed(recs...)
	if at := committedAt(); at != 2 {
		t.Fatalf("after marking: committed %d, want 2 (the good record and the dead letter)", at)
	}
}

func TestConsumerOptions(t *testing.T) {
	reg, _, _ := newFakeRegistry(t)
	for name, tc := range map[string]struct {
		group  string
		topics []string
		opts   []ConsumerOpt
	}{
		"no group":              {"", []string{"t"}, nil},
		"no topics":             {"g", nil, nil},
		"empty dead-letter":     {"g", []string{"t"}, []ConsumerOpt{OnInvalid(DeadLetter(""))}},
		"nil logger":            {"g", []string{"t"}, []ConsumerOpt{WithLogger(nil)}},
		"client and client opt": {"g", []string{"t"}, []ConsumerOpt{WithClient(&kgo.Client{}), WithClientOpts()}},
		"bad backoff":           {"g", []string{"t"}, []ConsumerOpt{WithBackoff(time.Second, time.Millisecond)}},
		"negative grace":        {"g", []string{"t"}, []ConsumerOpt{UnknownIDGrace(-time.Second)}},
		"no concurrency":        {"g", []string{"t"}, []ConsumerOpt{WithConcurrency(0)}},
		"pending below workers": {"g", []string{"t"}, []ConsumerOpt{WithConcurrency(8), WithMaxPending(4)}},
		"negative retries":      {"g", []string{"t"}, []ConsumerOpt{WithRetries(-2)}},
		"no drain timeout":      {"g", []string{"t"}, []ConsumerOpt{WithDrainTimeout(0)}},
	} {
		if _, err := NewConsumer[orderV1](t.Context(), reg, tc.group, tc.topics, tc.opts...); err == nil {
			t.Errorf("%s: accepted", name)
		} else if testing.Verbose() {
			fmt.Println(name+":", err)
		}
	}
}

func TestAvroKeys(t *testing.T) {
	ctx := testCtx(t)
	brokers := newFakeKafka(t, "keyed")
	reg, _, ct := newFakeRegistry(t)
	type orderKey struct {
		Store string `avro:"store"`
		ID    string `avro:"id"`
	}
	keys, err := NewSerde[orderKey](reg, ForKeys())
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewProducer[orderV1](ctx, reg, "keyed", WithClientOpts(kgo.SeedBrokers(brokers...)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	k, err := keys.Encode(ctx, "keyed", orderKey{Store: "berlin-01", ID: "o-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.ProduceSync(ctx, Message[orderV1]{Key: k, Value: orderV1{ID: "o-1", Quantity: 1}}); err != nil {
		t.Fatal(err)
	}
	if ct.count("POST /subjects/keyed-key/versions") != 1 || ct.count("POST /subjects/keyed-value/versions") != 1 {
		t.Fatalf("want one key and one value subject, registry saw %v", ct.paths)
	}
	c, err := NewConsumer[orderV1](ctx, reg, "kg", []string{"keyed"},
		WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	recs, err := c.Poll(ctx)
	if err != nil || len(recs) != 1 {
		t.Fatalf("got %d records, %v", len(recs), err)
	}
	var got orderKey
	if err := keys.Decode(ctx, recs[0].Key, &got); err != nil || got != (orderKey{"berlin-01", "o-1"}) {
		t.Fatalf("key: got %+v, %v", got, err)
	}
}

// isHold reports whether err is only partitions held back.
func isHold(err error) bool {
	var he *HoldError
	return errors.As(err, &he)
}

// TestTombstones: a Message with Tombstone writes a null value, and the
// consumer delivers a record with a null value as a Tombstone with T's
// zero value, neither decoding it nor dead-lettering it, while an empty
// value that is not null stays a decode error.
func TestTombstones(t *testing.T) {
	ctx := testCtx(t)
	brokers := newFakeKafka(t, "orders", "orders.dlq")
	reg, _, _ := newFakeRegistry(t)
	p, err := NewProducer[orderV2](ctx, reg, "orders", WithClientOpts(kgo.SeedBrokers(brokers...)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	if err := p.ProduceSync(ctx,
		Message[orderV2]{Key: []byte("o-1"), Value: orderV2{ID: "o-1", Quantity: 1}},
		Message[orderV2]{Key: []byte("o-1"), Value: orderV2{ID: "ignored"}, Tombstone: true},
	); err != nil {
		t.Fatal(err)
	}
	raw, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := raw.ProduceSync(ctx, &kgo.Record{Topic: "orders", Key: []byte("o-2"), Value: []byte{}}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	c, err := NewConsumer[orderV2](ctx, reg, "g", []string{"orders"}, OnInvalid(DeadLetter("orders.dlq")),
		WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var got []Record[orderV2]
	for len(got) < 2 {
		recs, err := c.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, recs...)
		c.MarkProcessed(recs...)
	}
	if got[0].Tombstone || got[0].Value.ID != "o-1" {
		t.Errorf("first record: %+v, want the order", got[0])
	}
	if !got[1].Tombstone || got[1].Value != (orderV2{}) || string(got[1].Key) != "o-1" || got[1].Raw().Value != nil {
		t.Errorf("second record: %+v, want a tombstone of o-1 with the zero value", got[1])
	}
	if len(got) != 2 {
		t.Errorf("got %d records, want 2: the empty value is not a record", len(got))
	}
	for c.Stats().DeadLettered == 0 {
		recs, err := c.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) > 0 {
			t.Fatalf("the empty value was delivered: %+v", recs)
		}
	}
}
