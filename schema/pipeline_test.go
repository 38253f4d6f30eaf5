package schema

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// readAll reads topic from the start with isolation until it has n records
// or ctx ends, and returns them.
func readAll(t *testing.T, ctx context.Context, brokers []string, topic string, n int, isolation kgo.IsolationLevel) []*kgo.Record {
	t.Helper()
	cl := rawClient(t, brokers, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(isolation))
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		out = append(out, fs.Records()...)
	}
	return out
}

// TestPipelineExactlyOnce: a pipeline doubles each order's quantity in
// transactions. A transform that fails twice aborts its transaction twice
// and the records are read again; an order the transform rejects is
// dead-lettered inside the transaction. A read_committed reader of the
// output sees every other order exactly once, and the group's offsets
// cover every input.
func TestPipelineExactlyOnce(t *testing.T) {
	ctx := testCtx(t)
	brokers := newKafka(t, 2, "in", "out", "in.dlq")
	reg, _, _ := newFakeRegistry(t)
	const n = 100
	keyedOrders(t, ctx, reg, brokers, "in", n, 10)

	p, err := NewPipeline[orderV1, orderV2](ctx, reg, "doubler", []string{"in"}, "out",
		WithTransactionalID("doubler-1"), WithInputAnyRecordName(),
		WithOutputSchema(mustParse(t, orderV2Schema)), WithOutputRegistration(AutoRegister()),
		WithPipelineInvalid(DeadLetter("in.dlq")), WithPipelineBackoff(10*time.Millisecond, 50*time.Millisecond),
		WithPipelineClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var mu sync.Mutex
	failures := 0
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- p.Run(runCtx, func(ctx context.Context, r *Record[orderV1]) ([]Message[orderV2], error) {
			switch r.Value.ID {
			case "o7":
				return nil, Reject(errors.New("order o7 refused"))
			case "o42":
				mu.Lock()
				defer mu.Unlock()
				if failures < 2 {
					failures++
					return nil, errors.New("price service timed out")
				}
			}
			return []Message[orderV2]{{Key: r.Key, Value: orderV2{ID: r.Value.ID, Quantity: 2 * r.Value.Quantity, Currency: "EUR"}}}, nil
		})
	}()
	for p.Stats().Consumed < n {
		if ctx.Err() != nil {
			t.Fatalf("stats %+v", p.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	st := p.Stats()
	if st.Aborted < 2 || st.DeadLettered != 1 || st.Produced != n-1 {
		t.Errorf("stats %+v, want at least 2 aborted, 1 dead letter, %d produced", st, n-1)
	}

	outs := readAll(t, ctx, brokers, "out", n-1, kgo.ReadCommitted())
	s, err := NewSerde[orderV2](reg, WithSchema(mustParse(t, orderV2Schema)))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range outs {
		var o orderV2
		if err := s.Decode(ctx, r.Value, &o); err != nil {
			t.Fatal(err)
		}
		seen[o.ID]++
	}
	for i := range n {
		id := "o" + strconv.Itoa(i)
		want := 1
		if id == "o7" {
			want = 0
		}
		if seen[id] != want {
			t.Errorf("order %s: %d outputs, want %d", id, seen[id], want)
		}
	}
	dead := readAll(t, ctx, brokers, "in.dlq", 1, kgo.ReadCommitted())
	if info, err := ReadDeadLetter(dead[0]); err != nil || info.Stage != StageHandle || !strings.Contains(info.Error, "o7 refused") {
		t.Errorf("dead letter %+v, %v", info, err)
	}
	if got := committedTotal(t, ctx, brokers, "doubler"); got != n {
		t.Errorf("committed %d input offsets, want %d", got, n)
	}
}

// TestNewPipelineRefuses: what NewPipeline checks before it returns.
func TestNewPipelineRefuses(t *testing.T) {
	ctx := testCtx(t)
	brokers := newFakeKafka(t, "in", "out")
	reg, _, _ := newFakeRegistry(t)
	base := []PipelineOpt{WithTransactionalID("t"), WithPipelineClientOpts(kgo.SeedBrokers(brokers...)),
		WithOutputSchema(mustParse(t, orderV1Schema)), WithOutputRegistration(AutoRegister())}
	tests := []struct {
		name   string
		output string
		opts   []PipelineOpt
		want   error
		text   string
	}{
		{"no transactional id", "out", []PipelineOpt{WithTransactionalID("")}, nil, "transactional ID is required"},
		{"output schema not registered", "out", []PipelineOpt{WithOutputRegistration(LookupOnly())}, ErrNotRegistered, ""},
		{"output topic missing", "nowhere", nil, ErrTopicNotFound, "nowhere"},
		{"dead-letter topic missing", "out", []PipelineOpt{WithPipelineInvalid(DeadLetter("in.dlq"))}, ErrTopicNotFound, "in.dlq"},
		{"type does not fit", "out", []PipelineOpt{WithOutputSchema(mustParse(t, orderV3Schema))}, ErrTypeMismatch, "store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPipeline[orderV1, orderV1](ctx, reg, "g", []string{"in"}, tt.output, append(append([]PipelineOpt{}, base...), tt.opts...)...)
			if err == nil {
				p.Close()
				t.Fatal("accepted")
			}
			if (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("got %v, want %v containing %q", err, tt.want, tt.text)
			}
		})
	}
}
