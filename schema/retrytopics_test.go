package schema

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/internal/platformenv"
)

// retryCall is one call of a handler under retry topics.
type retryCall struct {
	topic    string
	key      string
	quantity int32
	at       time.Time
	due      time.Time // for a record of a retry topic: its write time plus the delay
	info     RetryInfo
	retried  bool
}

// TestProcessRetryTopics: a record that fails where it was read goes to
// the first retry topic and is handled from there once its delay is over,
// while its key's later records go on; one that fails everywhere goes
// through both retry topics, then to the dead-letter topic with the place
// it was first read and every attempt; a rejected one goes to the
// dead-letter topic at once. Every offset of the three topics is
// committed.
func TestProcessRetryTopics(t *testing.T) {
	ctx := testCtx(t)
	brokers := newKafka(t, 1, "in", "in.retry-a", "in.retry-b", "in.dlq")
	reg, _, _ := newFakeRegistry(t)
	keyedOrders(t, ctx, reg, brokers, "in", 30, 10) // key kN: offsets N, N+10, N+20
	steps := []RetryTopic{{"in.retry-a", 200 * time.Millisecond}, {"in.retry-b", 300 * time.Millisecond}}
	delay := map[string]time.Duration{steps[0].Topic: steps[0].Delay, steps[1].Topic: steps[1].Delay}

	c, err := NewConsumer[orderV1](ctx, reg, "retry-topics", []string{"in"}, AnyRecordName(),
		OnInvalid(DeadLetter("in.dlq")), WithRetryTopics(steps...), WithRetries(1), WithConcurrency(4),
		WithBackoff(time.Millisecond, 2*time.Millisecond),
		WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)

	var mu sync.Mutex
	var calls []retryCall
	stop := runProcess(c, func(ctx context.Context, r *Record[orderV1]) error {
		call := retryCall{topic: r.Topic, key: string(r.Key), quantity: r.Value.Quantity, at: time.Now()}
		call.info, call.retried = r.Retry()
		if d, ok := delay[r.Topic]; ok {
			call.due = r.Timestamp.Add(d)
		}
		mu.Lock()
		calls = append(calls, call)
		mu.Unlock()
		switch {
		case call.key == "k1" && call.quantity == 0 && r.Topic == "in":
			return errors.New("stock service timed out")
		case call.key == "k2" && call.quantity == 0:
			return fmt.Errorf("price service: %w", errors.New("unavailable"))
		case call.key == "k3" && call.quantity == 0:
			return Reject(errors.New("order id not allowed"))
		}
		return nil
	})
	waitUntil(t, ctx, "every record done", func() bool {
		st := c.Stats()
		return st.Processed == 28 && st.DeadLettered == 2
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Deferred != 3 || st.Processed != 28 || st.DeadLettered != 2 {
		t.Errorf("stats %+v, want 3 deferred, 28 processed, 2 dead-lettered", st)
	}

	mu.Lock()
	defer mu.Unlock()
	count := map[string]int{}
	var k1Retried, k1Later time.Time
	for _, call := range calls {
		count[call.topic+"/"+call.key+"/"+fmt.Sprint(call.quantity)]++
		if call.topic == "in" {
			if call.retried {
				t.Errorf("%s %s read from %q with retry headers %+v", call.key, call.topic, call.topic, call.info)
			}
			if call.key == "k1" && call.quantity == 2 {
				k1Later = call.at
			}
			continue
		}
		if call.at.Before(call.due) {
			t.Errorf("%s handled from %s at %s, before its delay was over (%s)", call.key, call.topic,
				call.at.Format(time.StampMilli), call.due.Format(time.StampMilli))
		}
		wantOffset := map[string]int64{"k1": 1, "k2": 2}[call.key]
		if !call.retried || call.info.Topic != "in" || call.info.Offset != wantOffset || call.info.Attempts < 2 {
			t.Errorf("%s handled from %s with retry info %+v (ok %v), want from in@%d after 2 or more attempts",
				call.key, call.topic, call.info, call.retried, wantOffset)
		}
		if call.key == "k1" {
			k1Retried = call.at
		}
	}
	want := map[string]int{
		"in/k1/0": 2, "in.retry-a/k1/0": 1,
		"in/k2/0": 2, "in.retry-a/k2/0": 2, "in.retry-b/k2/0": 2,
		"in/k3/0": 1,
	}
	for k, n := range count {
		if strings.HasSuffix(k, "/0") && want[k] == 0 && strings.Contains(k, ".retry-") {
			t.Errorf("%s handled %d times, want none", k, n)
		}
	}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%s handled %d times, want %d", k, count[k], n)
		}
	}
	if !k1Later.Before(k1Retried) {
		t.Errorf("k1's third order (at %s) waited for its first one's retry (at %s): a record in a retry topic must not hold up its key",
			k1Later.Format(time.StampMilli), k1Retried.Format(time.StampMilli))
	}

	offsets, err := kadm.NewClient(rawClient(t, brokers)).FetchOffsets(ctx, "retry-topics")
	if err != nil {
		t.Fatal(err)
	}
	for topic, want := range map[string]int64{"in": 30, "in.retry-a": 2, "in.retry-b": 1} {
		if o, _ := offsets.Lookup(topic, 0); o.At != want {
			t.Errorf("committed %d on %s, want %d", o.At, topic, want)
		}
	}

	wantDL := map[int64]DeadLetterInfo{
		2: {Topic: "in", Offset: 2, Stage: StageHandle, Attempts: 6, Error: "price service: unavailable"},
		3: {Topic: "in", Offset: 3, Stage: StageHandle, Attempts: 1, Error: "order id not allowed"},
	}
	for _, dl := range readDeadLetters(t, ctx, brokers, "in.dlq", 2) {
		info := dl.DeadLetterInfo
		info.SchemaID = 0
		if w := wantDL[info.Offset]; info != w {
			t.Errorf("dead letter %+v, want %+v", info, w)
		}
	}
}

// TestProcessRetryTopicSurvivesRestart: a record waiting in a retry topic
// when its consumer stops is handled by the next one, once, after its
// delay.
func TestProcessRetryTopicSurvivesRestart(t *testing.T) {
	ctx := testCtx(t)
	brokers := newKafka(t, 1, "in", "in.retry")
	reg, _, _ := newFakeRegistry(t)
	keyedOrders(t, ctx, reg, brokers, "in", 10, 10)
	newC := func() *Consumer[orderV1] {
		c, err := NewConsumer[orderV1](ctx, reg, "restart", []string{"in"}, AnyRecordName(),
			WithRetryTopics(RetryTopic{"in.retry", 1500 * time.Millisecond}), WithRetries(0),
			WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	var mu sync.Mutex
	handled := map[string]int{}
	h := func(ctx context.Context, r *Record[orderV1]) error {
		mu.Lock()
		defer mu.Unlock()
		handled[r.Topic+"/"+string(r.Key)]++
		if r.Topic == "in" && string(r.Key) == "k4" {
			return errors.New("not yet")
		}
		return nil
	}
	count := func(k string) int { mu.Lock(); defer mu.Unlock(); return handled[k] }

	c1 := newC()
	stop := runProcess(c1, h)
	waitUntil(t, ctx, "k4 written to the retry topic", func() bool { return c1.Stats().Deferred == 1 })
	waitUntil(t, ctx, "the first records", func() bool { return c1.Stats().Processed >= 9 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := c1.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count("in.retry/k4"); n != 0 {
		t.Fatalf("k4 handled from the retry topic %d times before its delay", n)
	}

	c2 := newC()
	defer c2.Close(ctx)
	stop = runProcess(c2, h)
	waitUntil(t, ctx, "k4 from the retry topic", func() bool { return count("in.retry/k4") == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := count("in/k4"); n != 1 {
		t.Errorf("k4 handled %d times from in, want 1", n)
	}
	if n := count("in/k5"); n != 1 {
		t.Errorf("k5 handled %d times, want 1: the restart handled records again", n)
	}
}

// TestRetryTopicsRefused: bad retry topics are refused by NewConsumer,
// a missing one with ErrTopicNotFound before any record is read.
func TestRetryTopicsRefused(t *testing.T) {
	ctx := testCtx(t)
	brokers := newKafka(t, 1, "in", "in.retry", "in.dlq")
	reg, _, _ := newFakeRegistry(t)
	cases := []struct {
		name  string
		steps []RetryTopic
		want  string
	}{
		{"empty topic", []RetryTopic{{"", time.Second}}, "empty topic"},
		{"no delay", []RetryTopic{{"in.retry", 0}}, "want more than 0"},
		{"twice", []RetryTopic{{"in.retry", time.Second}, {"in.retry", time.Minute}}, "named twice"},
		{"the input", []RetryTopic{{"in", time.Second}}, "also a topic the consumer reads"},
		{"the dead-letter topic", []RetryTopic{{"in.dlq", time.Second}}, "dead-letter topic"},
		{"missing", []RetryTopic{{"in.retry", time.Second}, {"in.retry-later", time.Minute}}, "in.retry-later"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewConsumer[orderV1](ctx, reg, "refused", []string{"in"}, AnyRecordName(),
				OnInvalid(DeadLetter("in.dlq")), WithRetryTopics(tc.steps...), WithClientOpts(kgo.SeedBrokers(brokers...)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
			if tc.name == "missing" && !errors.Is(err, ErrTopicNotFound) {
				t.Errorf("%v is not ErrTopicNotFound", err)
			}
		})
	}
}

// TestReadRetry: ReadRetry reads what retryRecord writes, replacing an
// earlier step's headers, and refuses incomplete or malformed headers.
func TestReadRetry(t *testing.T) {
	src := &kgo.Record{Topic: "in.retry-a", Partition: 3, Offset: 9, Key: []byte("k"), Value: []byte("v"),
		Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("t1")}}}
	first := retryRecord("in.retry-a", src, RetryInfo{Topic: "in", Partition: 1, Offset: 7}, 2, errors.New("boom"))
	second := retryRecord("in.retry-b", first, RetryInfo{Topic: "in", Partition: 1, Offset: 7}, 4, errors.New("bang"))
	info, ok := ReadRetry(second)
	if want := (RetryInfo{Topic: "in", Partition: 1, Offset: 7, Attempts: 4, Error: "bang"}); !ok || info != want {
		t.Fatalf("ReadRetry = %+v, %v; want %+v", info, ok, want)
	}
	if len(second.Headers) != 6 || second.Headers[0].Key != "trace" {
		t.Errorf("headers %v: want the record's own and one set of retry headers", second.Headers)
	}
	if !second.Timestamp.IsZero() || second.Topic != "in.retry-b" || string(second.Key) != "k" {
		t.Errorf("retry record %+v: want the step's topic, the key, and no timestamp", second)
	}
	if _, ok := ReadRetry(src); ok {
		t.Error("a record without retry headers reads as retried")
	}
	bad := *second
	bad.Headers = append([]kgo.RecordHeader(nil), second.Headers...)
	bad.Headers[len(bad.Headers)-2].Value = []byte("four")
	if _, ok := ReadRetry(&bad); ok {
		t.Error("malformed attempts read as retried")
	}
}

// TestIntegrationProcessRetryTopics runs retry topics on the real
// platform: NewConsumer refuses a retry topic that does not exist; then
// 600 keyed orders on three partitions, of which every tenth fails once
// where it is read (a downstream timeout) and every tenth other one fails
// everywhere. A first member stops while records wait in the retry
// topics, a second takes over. Every order is handled successfully
// exactly once, none from a retry topic before its delay, and the ones
// that always fail are in the dead-letter topic with the place they were
// first read and all six attempts.
func TestIntegrationProcessRetryTopics(t *testing.T) {
	ctx, rp := requireReal(t)
	topic := rp.topic(t, ctx, "it-retry", 3)
	group := platformenv.UniqueName("it-retry")
	const n, keys = 600, 60
	keyedOrders(t, ctx, rp.reg, rp.brokers, topic, n, keys)
	steps := []RetryTopic{{topic + ".retry-1s", time.Second}, {topic + ".retry-2s", 2 * time.Second}}
	dlq := topic + ".dlq"
	rp.createTopic(t, ctx, dlq, 1)
	rp.createTopic(t, ctx, steps[0].Topic, 3)
	newConsumer := func(name string) (*Consumer[orderV1], error) {
		return NewConsumer[orderV1](ctx, rp.reg, group, []string{topic}, AnyRecordName(), OnInvalid(DeadLetter(dlq)),
			WithRetryTopics(steps...), WithRetries(1), WithConcurrency(8), WithBackoff(5*time.Millisecond, 20*time.Millisecond),
			WithClientOpts(kgo.SeedBrokers(rp.brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.ClientID(name)))
	}
	if _, err := newConsumer("c0"); !errors.Is(err, ErrTopicNotFound) || !strings.Contains(err.Error(), steps[1].Topic) {
		t.Fatalf("NewConsumer without its second retry topic: %v, want ErrTopicNotFound naming it", err)
	}
	rp.createTopic(t, ctx, steps[1].Topic, 3)

	delays := map[string]time.Duration{steps[0].Topic: steps[0].Delay, steps[1].Topic: steps[1].Delay}
	flaky := func(o orderV1) bool { return o.Quantity%10 == 3 }
	broken := func(o orderV1) bool { return o.Quantity%10 == 7 }
	var mu sync.Mutex
	done := map[string]int{} // order ID -> successful handlings
	var early []string
	h := func(ctx context.Context, r *Record[orderV1]) error {
		if d, ok := delays[r.Topic]; ok && time.Now().Before(r.Timestamp.Add(d)) {
			mu.Lock()
			early = append(early, fmt.Sprintf("%s from %s at %s, due %s", r.Value.ID, r.Topic,
				time.Now().Format(time.StampMilli), r.Timestamp.Add(d).Format(time.StampMilli)))
			mu.Unlock()
		}
		_, retried := r.Retry()
		switch {
		case broken(r.Value):
			return errors.New("ledger refused the write")
		case flaky(r.Value) && !retried:
			return errors.New("stock service timed out")
		}
		mu.Lock()
		done[r.Value.ID]++
		mu.Unlock()
		return nil
	}
	succeeded := func() int { mu.Lock(); defer mu.Unlock(); return len(done) }
	wantDone, wantDead := 0, 0
	for i := range n {
		if broken(orderV1{Quantity: int32(i / keys)}) {
			wantDead++
		} else {
			wantDone++
		}
	}

	c1, err := newConsumer("c1")
	if err != nil {
		t.Fatal(err)
	}
	stop1 := runProcess(c1, h)
	waitUntil(t, ctx, "records in the second retry topic", func() bool { return c1.Stats().Deferred >= 70 })
	if err := stop1(); err != nil {
		t.Fatal(err)
	}
	if err := c1.Close(ctx); err != nil {
		t.Fatal(err)
	}
	c2, err := newConsumer("c2")
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close(ctx)
	stop2 := runProcess(c2, h)
	waitUntil(t, ctx, "every order done or dead", func() bool {
		return succeeded() == wantDone && c1.Stats().DeadLettered+c2.Stats().DeadLettered >= uint64(wantDead)
	})
	time.Sleep(time.Second) // a duplicate would show now
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
	t.Logf("c1 %+v; c2 %+v", c1.Stats(), c2.Stats())

	mu.Lock()
	for id, k := range done {
		if k != 1 {
			t.Errorf("order %s handled successfully %d times", id, k)
		}
	}
	for _, e := range early {
		t.Errorf("handled before its delay: %s", e)
	}
	mu.Unlock()

	seen := map[string]bool{}
	for _, dl := range readDeadLetters(t, ctx, rp.brokers, dlq, wantDead) {
		id := fmt.Sprintf("%d@%d", dl.Partition, dl.Offset)
		if seen[id] || dl.Topic != topic || dl.Stage != StageHandle || dl.Attempts != 6 || dl.Error != "ledger refused the write" {
			t.Errorf("dead letter %+v (seen before: %t), want from %s after 6 attempts", dl.DeadLetterInfo, seen[id], topic)
		}
		seen[id] = true
	}
	offsets, err := kadm.NewClient(rawClient(t, rp.brokers)).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	var committed int64
	offsets.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic {
			committed += o.At
		}
	})
	if committed != n {
		t.Errorf("committed %d on %s, want %d", committed, topic, n)
	}
}
