package schema

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestRecordsMarksWhatTheLoopMovesOn: a range loop over Records sees
// every record once, in order per partition; what it moved on from is
// committed, and the record it broke on is not.
func TestRecordsMarksWhatTheLoopMovesOn(t *testing.T) {
	ctx := testCtx(t)
	brokers := newKafka(t, 1, "in")
	reg, _, _ := newFakeRegistry(t)
	const n = 500
	keyedOrders(t, ctx, reg, brokers, "in", n, 1) // one key: quantities 0..n-1 in order
	c, err := NewConsumer[orderV1](ctx, reg, "records", []string{"in"}, AnyRecordName(),
		WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	const stopAt = 300
	next := int32(0)
	for r, err := range c.Records(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if r.Value.Quantity != next {
			t.Fatalf("got order %d, want %d", r.Value.Quantity, next)
		}
		if next == stopAt {
			break
		}
		next++
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := committedTotal(t, ctx, brokers, "records"); got != stopAt {
		t.Fatalf("committed %d, want %d: the records the loop moved on from, not the one it broke on", got, stopAt)
	}

	// The next consumer of the group starts at the record the loop broke on.
	c2, err := NewConsumer[orderV1](ctx, reg, "records", []string{"in"}, AnyRecordName(),
		WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close(ctx)
	rctx, cancel := context.WithCancel(ctx)
	for r, err := range c2.Records(rctx) {
		if err != nil {
			t.Fatal(err)
		}
		if r.Value.Quantity != next {
			t.Fatalf("after the restart: got order %d, want %d", r.Value.Quantity, next)
		}
		if next++; next == n {
			cancel() // the loop ends by itself, without an error
		}
	}
	cancel()
	if next != n {
		t.Fatalf("read up to %d, want %d", next, n)
	}
}

// TestRecordsErrors: under StopOnInvalid a record that cannot be decoded
// is yielded as a *DecodeError after the records before it, and the loop
// ends; a Records loop while Process runs yields ErrRunning.
func TestRecordsErrors(t *testing.T) {
	ctx := testCtx(t)
	brokers := newKafka(t, 1, "in", "ok")
	reg, _, _ := newFakeRegistry(t)
	keyedOrders(t, ctx, reg, brokers, "in", 10, 1)
	keyedOrders(t, ctx, reg, brokers, "ok", 10, 1)
	if err := rawClient(t, brokers).ProduceSync(ctx, &kgo.Record{Topic: "in", Value: []byte("not avro")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	keyedOrders(t, ctx, reg, brokers, "in", 10, 1)
	c, err := NewConsumer[orderV1](ctx, reg, "records-stop", []string{"in"}, AnyRecordName(),
		WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	got, errs := 0, 0
	for r, err := range c.Records(ctx) {
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Offset != 10 || r != nil {
				t.Fatalf("got %v with record %v, want the *DecodeError of offset 10 alone", err, r)
			}
			errs++
			continue
		}
		got++
	}
	if got != 10 || errs != 1 {
		t.Fatalf("%d records and %d errors before the loop ended, want 10 and 1", got, errs)
	}
	if err := c.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := committedTotal(t, ctx, brokers, "records-stop"); n != 10 {
		t.Fatalf("committed %d, want 10: the records before the one that stopped the consumer", n)
	}

	c2, err := NewConsumer[orderV1](ctx, reg, "records-busy", []string{"ok"}, AnyRecordName(),
		WithClientOpts(kgo.SeedBrokers(brokers...)))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close(ctx)
	stop := runProcess(c2, func(context.Context, *Record[orderV1]) error { return nil })
	defer stop()
	time.Sleep(50 * time.Millisecond)
	yields := 0
	for _, err := range c2.Records(ctx) {
		yields++
		if !errors.Is(err, ErrRunning) {
			t.Fatalf("Records while Process runs: %v, want ErrRunning", err)
		}
	}
	if yields != 1 {
		t.Fatalf("Records while Process runs yielded %d times, want ErrRunning once", yields)
	}
}

// TestRecordsRebalance: three members in turn, each a Records loop that
// is slow: every record is handled exactly once across the rebalances,
// since a rebalance waits until the records handed out are marked.
func TestRecordsRebalance(t *testing.T) {
	ctx := testCtx(t)
	brokers := newKafka(t, 4, "in")
	reg, _, _ := newFakeRegistry(t)
	const n = 2000
	keyedOrders(t, ctx, reg, brokers, "in", n, 40)
	endsBy := endOffsets(t, ctx, brokers, "in")
	l := newOrderLedger()
	start := func(name string) (*Consumer[orderV1], func()) {
		c, err := NewConsumer[orderV1](ctx, reg, "records-moving", []string{"in"}, AnyRecordName(),
			WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.ClientID(name)))
		if err != nil {
			t.Fatal(err)
		}
		h := l.handler(name, time.Millisecond)
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for r, err := range c.Records(rctx) {
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				_ = h(rctx, r)
			}
		}()
		return c, func() { cancel(); <-done }
	}
	c1, stop1 := start("c1")
	waitUntil(t, ctx, "c1 under way", func() bool { return l.total() >= 200 })
	c2, stop2 := start("c2")
	waitUntil(t, ctx, "c2 under way", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.by["c2"]) > 0
	})
	stop1()
	if err := c1.Close(ctx); err != nil {
		t.Fatal(err)
	}
	c3, stop3 := start("c3")
	waitUntil(t, ctx, "every record", func() bool { return l.total() >= n })
	time.Sleep(100 * time.Millisecond) // a duplicate would show now
	stop2()
	stop3()
	for _, c := range []*Consumer[orderV1]{c2, c3} {
		if err := c.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	l.check(t, "in", endsBy)
	if got := committedTotal(t, ctx, brokers, "records-moving"); got != n {
		t.Errorf("committed %d, want %d", got, n)
	}
}
