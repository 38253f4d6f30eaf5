package schema

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/internal/platformenv"
)

// TestIntegrationProcess runs Process on the real platform as a service
// fleet does: NewConsumer refuses a dead-letter topic that does not exist;
// then a first member processes four partitions of keyed orders with 8
// handlers, a second joins (a rebalance moves partitions while records
// are being handled), the first stops and leaves (a restart), and a third
// takes its place. Every record is handled exactly once, each key's
// records in order; the orders the handler rejects are in the dead-letter
// topic, read back with ReadDeadLetter; every offset is committed.
func TestIntegrationProcess(t *testing.T) {
	ctx, rp := requireReal(t)
	topic := rp.topic(t, ctx, "it-process", 4)
	group := platformenv.UniqueName("it-process")
	const n, keys = 4000, 40
	keyedOrders(t, ctx, rp.reg, rp.brokers, topic, n, keys)
	endsBy := endOffsets(t, ctx, rp.brokers, topic)

	dlq := topic + ".dlq"
	newConsumer := func(name string) (*Consumer[orderV1], error) {
		return NewConsumer[orderV1](ctx, rp.reg, group, []string{topic}, AnyRecordName(), OnInvalid(DeadLetter(dlq)),
			WithConcurrency(8), WithMaxPending(64),
			WithClientOpts(kgo.SeedBrokers(rp.brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.ClientID(name)))
	}
	if _, err := newConsumer("c0"); !errors.Is(err, ErrTopicNotFound) || !strings.Contains(err.Error(), dlq) {
		t.Fatalf("NewConsumer without its dead-letter topic: %v, want ErrTopicNotFound naming it", err)
	}
	rp.createTopic(t, ctx, dlq, 1)

	l := newOrderLedger()
	// Every 100th order of a key breaks a business rule.
	rejected := func(o orderV1) bool { return o.Quantity%100 == 99 }
	start := func(name string) (*Consumer[orderV1], func() error) {
		c, err := newConsumer(name)
		if err != nil {
			t.Fatal(err)
		}
		h := l.handler(name, 6*time.Millisecond)
		return c, runProcess(c, func(ctx context.Context, r *Record[orderV1]) error {
			if err := h(ctx, r); err != nil {
				return err
			}
			if rejected(r.Value) {
				return Reject(fmt.Errorf("order %s: quantity %d refused", r.Value.ID, r.Value.Quantity))
			}
			return nil
		})
	}
	handledBy := func(name string) int64 {
		l.mu.Lock()
		defer l.mu.Unlock()
		var sum int64
		for _, v := range l.by[name] {
			sum += v
		}
		return sum
	}
	c1, stop1 := start("c1")
	waitUntil(t, ctx, "c1 under way", func() bool { return l.total() >= 400 })
	c2, stop2 := start("c2")
	waitUntil(t, ctx, "c2 under way", func() bool { return handledBy("c2") >= 100 })
	if err := stop1(); err != nil {
		t.Fatal(err)
	}
	if err := c1.Close(ctx); err != nil {
		t.Fatal(err)
	}
	c3, stop3 := start("c3")
	waitUntil(t, ctx, "every record", func() bool { return l.total() >= n })
	time.Sleep(time.Second) // a duplicate would show now
	for i, stop := range []func() error{stop2, stop3} {
		if err := stop(); err != nil {
			t.Fatalf("Process of c%d: %v", i+2, err)
		}
	}
	for _, c := range []*Consumer[orderV1]{c2, c3} {
		if err := c.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	l.check(t, topic, endsBy)
	t.Logf("handled: c1 %d, c2 %d, c3 %d", handledBy("c1"), handledBy("c2"), handledBy("c3"))
	if handledBy("c3") == 0 {
		t.Error("c3 handled nothing: the restart moved no partition")
	}
	offsets, err := kadm.NewClient(rawClient(t, rp.brokers)).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	var committed int64
	offsets.Each(func(o kadm.OffsetResponse) { committed += o.At })
	if committed != n {
		t.Errorf("committed %d, want %d", committed, n)
	}

	// The rejected orders, each once, in the dead-letter topic.
	wantDead := 0
	for i := range n {
		if rejected(orderV1{Quantity: int32(i / keys)}) {
			wantDead++
		}
	}
	seen := map[string]bool{}
	for _, dl := range readDeadLetters(t, ctx, rp.brokers, dlq, wantDead) {
		id := fmt.Sprintf("%d@%d", dl.Partition, dl.Offset)
		if seen[id] || dl.Topic != topic || dl.Stage != StageHandle || dl.Attempts != 1 || !strings.Contains(dl.Error, "refused") {
			t.Errorf("dead letter %+v (seen before: %t)", dl.DeadLetterInfo, seen[id])
		}
		seen[id] = true
	}
}
