package faults

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/schema"
)

// TestFaultMissingDeadLetterTopic: NewConsumer refuses a dead-letter topic
// that does not exist. Deleted while the consumer runs, the consumer
// delivers every record before the first poison record of each
// partition and nothing after it, commits nothing past it, and says why;
// once the topic exists, every poison record is dead-lettered once and the
// rest follow.
func TestFaultMissingDeadLetterTopic(t *testing.T) {
	p := requireFaults(t, platformtest.Kafka, platformtest.SchemaRegistry)
	ctx := suiteCtx(t, 3*time.Minute)
	topic := platformtest.UniqueName("fault-dlq")
	dlq := topic + ".dlq"
	platformtest.CreateTopicsT(t, p.Clients.Admin, 3, topic)
	w := newWriter(t, ctx, p, topic)
	w.write(ctx, 900, 0, 3, 50)

	group := platformtest.UniqueName("fault-dlq")
	newConsumer := func() (*schema.Consumer[Order], error) {
		return schema.NewConsumer[Order](ctx, p.Clients.Registry, group, []string{topic}, schema.OnInvalid(schema.DeadLetter(dlq)),
			schema.WithBackoff(100*time.Millisecond, time.Second),
			schema.WithClientOpts(kgo.SeedBrokers(p.Brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	}
	// Missing at start-up: NewConsumer refuses, before any record is read.
	if _, err := newConsumer(); !errors.Is(err, schema.ErrTopicNotFound) {
		t.Fatalf("NewConsumer without its dead-letter topic: %v, want schema.ErrTopicNotFound", err)
	}
	// Deleted once the consumer runs: what follows.
	platformtest.CreateTopicsT(t, p.Clients.Admin, 1, dlq)
	c, err := newConsumer()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := p.Clients.Admin.DeleteTopics(ctx, dlq); err != nil {
		t.Fatal(err)
	}
	for {
		listed, err := p.Clients.Admin.ListTopics(ctx, dlq)
		if err == nil && !listed.Has(dlq) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the dead-letter topic is still listed: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	led := newLedger(w.bad)

	// The first poison record of each partition blocks it.
	firstBad := map[int32]int64{}
	for part, offs := range w.bad {
		firstBad[part] = -1
		for o := range offs {
			if firstBad[part] < 0 || o < firstBad[part] {
				firstBad[part] = o
			}
		}
	}
	blocked := func(_ int, st schema.ConsumerStats) bool {
		for part, o := range firstBad {
			if led.firstUnhandled(part) < o {
				return false
			}
		}
		return st.Held >= uint64(len(firstBad))
	}
	r := consume(ctx, c, led, p.Clients.Admin, group, topic, blocked)
	if r.err != nil {
		t.Fatalf("with the topic missing: %v", r.err)
	}
	for _, h := range r.holds {
		var he *schema.HoldError
		if !errors.As(h, &he) || he.Offset != firstBad[he.Partition] {
			t.Fatalf("got %v, want holds at the first poison record of a partition", h)
		}
	}
	for part, o := range firstBad {
		if led.max[part] >= o {
			t.Fatalf("partition %d: delivered offset %d, past the undelivered poison record at %d", part, led.max[part], o)
		}
	}
	if st := c.Stats(); st.DeadLettered != 0 {
		t.Fatalf("stats %+v: dead-lettered with no topic to write to", st)
	}
	if err := led.checkCommitted(ctx, p.Clients.Admin, group, topic); err != nil {
		t.Fatal(err)
	}
	offs, err := committed(ctx, p.Clients.Admin, group, topic)
	if err != nil {
		t.Fatal(err)
	}
	for part, o := range offs {
		if o > firstBad[part] {
			t.Fatalf("partition %d committed at %d, past the poison record at %d", part, o, firstBad[part])
		}
	}

	platformtest.CreateTopicsT(t, p.Clients.Admin, 1, dlq)
	r = consume(ctx, c, led, p.Clients.Admin, group, topic, func(_ int, st schema.ConsumerStats) bool {
		return st.Decoded+st.DeadLettered >= uint64(w.good+w.nbad)
	})
	if r.err != nil {
		t.Fatalf("after the topic was created: %v", r.err)
	}
	st := c.Stats()
	if st.Decoded != uint64(w.good) || st.DeadLettered != uint64(w.nbad) {
		t.Fatalf("stats %+v, want %d decoded and %d dead-lettered", st, w.good, w.nbad)
	}
	if n := endOffsetsSum(t, ctx, p.Clients.Admin, dlq); n != int64(w.nbad) {
		t.Fatalf("dead-letter topic holds %d records, want %d", n, w.nbad)
	}
	wantCommittedTotal(t, ctx, p.Clients.Admin, group, topic, int64(w.good+w.nbad))
}
