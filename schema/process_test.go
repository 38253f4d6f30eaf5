package schema

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// keyedOrders produces n orders to topic over keys k0..k(keys-1), each
// key's orders numbered 0, 1, 2... in Quantity, and returns the brokers.
func keyedOrders(t *testing.T, ctx context.Context, reg *Registry, brokers []string, topic string, n, keys int) {
	t.Helper()
	s, err := NewSerde[orderV1](reg, WithSchema(mustParse(t, orderV1Schema)))
	if err != nil {
		t.Fatal(err)
	}
	seq := map[int]int32{}
	rs := make([]*kgo.Record, n)
	for i := range rs {
		k := i % keys
		v, err := s.Encode(ctx, topic, orderV1{ID: "o" + strconv.Itoa(i), Quantity: seq[k]})
		if err != nil {
			t.Fatal(err)
		}
		seq[k]++
		rs[i] = &kgo.Record{Topic: topic, Key: []byte("k" + strconv.Itoa(k)), Value: v}
	}
	if err := rawClient(t, brokers).ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// orderLedger checks what handlers saw: each key's orders in order, each
// record once.
type orderLedger struct {
	mu      sync.Mutex
	next    map[string]int32            // key -> the Quantity expected next
	seen    map[topicPartition][]int64  // offsets handled
	by      map[string]map[string]int64 // consumer -> key -> records handled
	errs    []string
	active  atomic.Int32
	maxBusy atomic.Int32
}

func newOrderLedger() *orderLedger {
	return &orderLedger{next: map[string]int32{}, seen: map[topicPartition][]int64{}, by: map[string]map[string]int64{}}
}

// handler returns a Handler that records into the ledger as consumer
// name, sleeping up to maxSleep in each call.
func (l *orderLedger) handler(name string, maxSleep time.Duration) Handler[orderV1] {
	return func(ctx context.Context, r *Record[orderV1]) error {
		if n := l.active.Add(1); n > l.maxBusy.Load() {
			l.maxBusy.Store(n)
		}
		defer l.active.Add(-1)
		if maxSleep > 0 {
			time.Sleep(rand.N(maxSleep))
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		key := string(r.Key)
		if want := l.next[key]; r.Value.Quantity != want {
			l.errs = append(l.errs, fmt.Sprintf("%s: key %s: got order %d, want %d", name, key, r.Value.Quantity, want))
		}
		l.next[key] = r.Value.Quantity + 1
		tp := topicPartition{r.Topic, r.Partition}
		l.seen[tp] = append(l.seen[tp], r.Offset)
		if l.by[name] == nil {
			l.by[name] = map[string]int64{}
		}
		l.by[name][key]++
		return nil
	}
}

// check fails t unless every offset below ends[partition] was handled
// exactly once and every key in order.
func (l *orderLedger) check(t *testing.T, topic string, ends map[int32]int64) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.errs {
		t.Error(e)
	}
	for p, end := range ends {
		count := map[int64]int{}
		for _, o := range l.seen[topicPartition{topic, p}] {
			count[o]++
		}
		for o := range end {
			if count[o] != 1 {
				t.Errorf("partition %d offset %d handled %d times, want once", p, o, count[o])
			}
		}
	}
}

func (l *orderLedger) total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.seen {
		n += len(s)
	}
	return n
}

// runProcess runs c.Process in a goroutine; stop cancels it and returns
// its error.
func runProcess[T any](c *Consumer[T], h Handler[T]) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Process(ctx, h) }()
	return func() error {
		cancel()
		return <-done
	}
}

func waitUntil(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if ctx.Err() != nil {
			t.Fatalf("%s: timed out", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestProcessKeyOrderConcurrent: 16 handlers at once over 50 keys of one
// partition: each key's records in order, each record once, several keys
// at a time, and every offset committed at the end.
func TestProcessKeyOrderConcurrent(t *testing.T) {
	ctx := testCtx(t)
	brokers := newKafka(t, 1, "in")
	reg, _, _ := newFakeRegistry(t)
	const n = 2000
	keyedOrders(t, ctx, reg, brokers, "in", n, 50)

	c, err := NewConsumer[orderV1](ctx, reg, "keyed", []string{"in"}, AnyRecordName(), WithConcurrency(16), WithMaxPending(256),
		WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	l := newOrderLedger()
	stop := runProcess(c, l.handler("c1", time.Millisecond))
	waitUntil(t, ctx, "all records handled", func() bool { return l.total() >= n })
	if err := stop(); err != nil {
		t.Fatalf("Process: %v", err)
	}
	l.check(t, "in", map[int32]int64{0: n})
	if busy := l.maxBusy.Load(); busy < 4 {
		t.Errorf("at most %d records handled at once, want several of the 16", busy)
	}
	if got := committedTotal(t, ctx, brokers, "keyed"); got != n {
		t.Errorf("committed %d, want %d", got, n)
	}
	if st := c.Stats(); st.Processed != n {
		t.Errorf("stats: %+v, want %d processed", st, n)
	}
}

// TestProcessCommitsContiguous: a record still being handled holds back
// the commit of every record after it in its partition, however many of
// them are done.
func TestProcessCommitsContiguous(t *testing.T) {
	ctx := testCtx(t)
	brokers := newKafka(t, 1, "in")
	reg, _, _ := newFakeRegistry(t)
	keyedOrders(t, ctx, reg, brokers, "in", 100, 10)

	c, err := NewConsumer[orderV1](ctx, reg, "contiguous", []string{"in"}, AnyRecordName(), WithConcurrency(4),
		WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	release := make(chan struct{})
	var done atomic.Int64
	stop := runProcess(c, func(ctx context.Context, r *Record[orderV1]) error {
		if r.Offset == 3 {
			<-release
		}
		done.Add(1)
		return nil
	})
	// Offset 3 is key k3: its 9 later records wait behind it, the other
	// 90 are done.
	waitUntil(t, ctx, "the other keys' records", func() bool { return done.Load() >= 90 })
	if err := c.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := committedTotal(t, ctx, brokers, "contiguous"); got != 3 {
		t.Fatalf("committed %d with offset 3 in progress, want 3", got)
	}
	close(release)
	waitUntil(t, ctx, "all records", func() bool { return done.Load() == 100 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := committedTotal(t, ctx, brokers, "contiguous"); got != 100 {
		t.Fatalf("committed %d, want 100", got)
	}
}

// TestProcessRetriesAndDeadLetters: a record that fails twice and then
// succeeds is done after two retries; one that always fails goes to the
// dead-letter topic after its retries, one rejected at once, and one that
// panics at once too, each with headers ReadDeadLetter reads back; nothing
// else is dead-lettered, and every offset is committed.
func TestProcessRetriesAndDeadLetters(t *testing.T) {
	ctx := testCtx(t)
	brokers := newKafka(t, 1, "in", "in.dlq")
	reg, _, _ := newFakeRegistry(t)
	keyedOrders(t, ctx, reg, brokers, "in", 20, 20)

	c, err := NewConsumer[orderV1](ctx, reg, "retries", []string{"in"}, AnyRecordName(), OnInvalid(DeadLetter("in.dlq")),
		WithConcurrency(4), WithRetries(2), WithBackoff(time.Millisecond, 5*time.Millisecond),
		WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var mu sync.Mutex
	calls := map[int64]int{}
	var processed atomic.Int64
	stop := runProcess(c, func(ctx context.Context, r *Record[orderV1]) error {
		mu.Lock()
		calls[r.Offset]++
		n := calls[r.Offset]
		mu.Unlock()
		switch {
		case r.Offset == 2 && n <= 2:
			return errors.New("downstream timed out")
		case r.Offset == 5:
			return fmt.Errorf("price service: %w", errors.New("unavailable"))
		case r.Offset == 7:
			return Reject(errors.New("order id not allowed"))
		case r.Offset == 9:
			panic("nil map")
		}
		processed.Add(1)
		return nil
	})
	waitUntil(t, ctx, "every record handled or dead-lettered", func() bool {
		st := c.Stats()
		return st.DeadLettered == 3 && processed.Load() == 17
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if calls[2] != 3 || calls[5] != 3 || calls[7] != 1 || calls[9] != 1 {
		t.Errorf("calls: offset 2: %d (want 3), 5: %d (want 3), 7: %d (want 1), 9: %d (want 1)", calls[2], calls[5], calls[7], calls[9])
	}
	mu.Unlock()
	if st := c.Stats(); st.Processed != 17 || st.Retried != 4 {
		t.Errorf("stats %+v, want 17 processed and 4 retries", st)
	}
	if got := committedTotal(t, ctx, brokers, "retries"); got != 20 {
		t.Errorf("committed %d, want 20", got)
	}

	want := map[int64]DeadLetterInfo{
		5: {Topic: "in", Offset: 5, Stage: StageHandle, Attempts: 3, Error: "price service: unavailable"},
		7: {Topic: "in", Offset: 7, Stage: StageHandle, Attempts: 1, Error: "order id not allowed"},
		9: {Topic: "in", Offset: 9, Stage: StageHandle, Attempts: 1, Error: "handler panicked: nil map"},
	}
	for _, dl := range readDeadLetters(t, ctx, brokers, "in.dlq", 3) {
		info := dl.DeadLetterInfo
		w, ok := want[info.Offset]
		if info.SchemaID < 1 {
			t.Errorf("dead letter of %d: schema id %d", info.Offset, info.SchemaID)
		}
		info.SchemaID = 0
		if !ok || info != w {
			t.Errorf("dead letter %+v, want %+v", info, w)
		}
		if string(dl.key) != "k"+strconv.FormatInt(info.Offset, 10) {
			t.Errorf("dead letter of %d has key %q", info.Offset, dl.key)
		}
	}
}

// TestProcessStopOnInvalid: under the default policy, a record the
// handler fails on ends Process with a *HandlerError after the records
// being handled finish; the commit stops before it, and Process and Poll
// return the same error again.
func TestProcessStopOnInvalid(t *testing.T) {
	ctx := testCtx(t)
	brokers := newKafka(t, 1, "in")
	reg, _, _ := newFakeRegistry(t)
	keyedOrders(t, ctx, reg, brokers, "in", 50, 1) // one key: in order

	c, err := NewConsumer[orderV1](ctx, reg, "stop", []string{"in"}, AnyRecordName(), WithRetries(0), WithConcurrency(8),
		WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	boom := errors.New("boom")
	err = c.Process(ctx, func(ctx context.Context, r *Record[orderV1]) error {
		if r.Offset == 30 {
			return boom
		}
		return nil
	})
	var he *HandlerError
	if !errors.As(err, &he) || he.Offset != 30 || he.Attempts != 1 || !errors.Is(err, boom) {
		t.Fatalf("Process: got %v, want a *HandlerError at offset 30 wrapping boom", err)
	}
	if got := committedTotal(t, ctx, brokers, "stop"); got != 30 {
		t.Errorf("committed %d, want 30: up to the failed record", got)
	}
	if err2 := c.Process(ctx, func(context.Context, *Record[orderV1]) error { return nil }); !errors.As(err2, &he) {
		t.Errorf("Process again: %v, want the same *HandlerError", err2)
	}
	if _, err2 := c.Poll(ctx); !errors.As(err2, &he) {
		t.Errorf("Poll after: %v, want the same *HandlerError", err2)
	}
}

// TestProcessRebalanceAndRestart: a second consumer joins the group while
// the first processes four partitions; then the first stops and a third
// takes its place. Every record is handled exactly once, each key in
// order: revoked partitions are drained and committed before they move.
func TestProcessRebalanceAndRestart(t *testing.T) {
	ctx := testCtx(t)
	brokers := newKafka(t, 4, "in")
	reg, _, _ := newFakeRegistry(t)
	const n = 3000
	keyedOrders(t, ctx, reg, brokers, "in", n, 40)
	endsBy := endOffsets(t, ctx, brokers, "in")

	l := newOrderLedger()
	start := func(name string) (*Consumer[orderV1], func() error) {
		c, err := NewConsumer[orderV1](ctx, reg, "moving", []string{"in"}, AnyRecordName(), WithConcurrency(8), WithMaxPending(64),
			WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
				kgo.ClientID(name)))
		if err != nil {
			t.Fatal(err)
		}
		return c, runProcess(c, l.handler(name, 10*time.Millisecond))
	}
	c1, stop1 := start("c1")
	waitUntil(t, ctx, "c1 under way", func() bool { return l.total() >= 300 })
	c2, stop2 := start("c2")
	waitUntil(t, ctx, "c2 under way", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.by["c2"]) > 0
	})
	if err := stop1(); err != nil {
		t.Fatal(err)
	}
	if err := c1.Close(ctx); err != nil {
		t.Fatal(err)
	}
	c3, stop3 := start("c3")
	waitUntil(t, ctx, "every record", func() bool { return l.total() >= n })
	time.Sleep(100 * time.Millisecond) // a duplicate would show now
	for _, stop := range []func() error{stop2, stop3} {
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*Consumer[orderV1]{c2, c3} {
		if err := c.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	l.check(t, "in", endsBy)
	if got := committedTotal(t, ctx, brokers, "moving"); got != n {
		t.Errorf("committed %d, want %d", got, n)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var parts []string
	for name, keys := range l.by {
		var sum int64
		for _, v := range keys {
			sum += v
		}
		parts = append(parts, fmt.Sprintf("%s %d", name, sum))
	}
	t.Logf("handled: %s", strings.Join(parts, ", "))
	if len(l.by) < 2 {
		t.Errorf("only %v handled records: no rebalance happened", parts)
	}
}

// TestProcessRunsOnce: a second Process of one consumer is refused, and
// a nil handler.
func TestProcessRunsOnce(t *testing.T) {
	ctx := testCtx(t)
	brokers := newFakeKafka(t, "in")
	reg, _, _ := newFakeRegistry(t)
	c, err := NewConsumer[orderV1](ctx, reg, "once", []string{"in"}, AnyRecordName(), WithClientOpts(kgo.SeedBrokers(brokers...)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if err := c.Process(ctx, nil); err == nil {
		t.Error("a nil handler was accepted")
	}
	stop := runProcess(c, func(context.Context, *Record[orderV1]) error { return nil })
	time.Sleep(50 * time.Millisecond)
	if err := c.Process(ctx, func(context.Context, *Record[orderV1]) error { return nil }); !errors.Is(err, ErrRunning) {
		t.Errorf("second Process: %v, want ErrRunning", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
