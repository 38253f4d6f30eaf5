package faults

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/schema"
)

// TestFaultProcessAndPipeline runs a service's two loops on one stream of
// orders while the platform fails under them: Consumer.Process, with
// retry topics and a dead-letter topic, and an exactly-once
// schema.Pipeline. A broker of three is killed and started again; then
// the registry is killed, the Process service restarts while it is down
// (its new instance knows no schema yet), and the registry comes back.
//
// Process handles every order written, none is dead-lettered (an outage
// is no reason to), and its group commits every offset. A read_committed
// reader of the pipeline's output sees each order transformed exactly
// once.
func TestFaultProcessAndPipeline(t *testing.T) {
	p := requireFaults(t, platformtest.Kafka, platformtest.SchemaRegistry)
	if len(p.Brokers) < 3 {
		t.Fatalf("%d brokers: the broker fault needs three (STREAMKIT_KAFKA_NODES=3)", len(p.Brokers))
	}
	ctx := suiteCtx(t, 5*time.Minute)
	topic := platformtest.UniqueName("fault-process")
	retry, dlq, output := topic+".retry-2s", topic+".dlq", topic+".priced"
	for _, name := range []string{topic, retry, dlq, output} {
		resp, err := p.Clients.Admin.CreateTopic(ctx, 6, 3, map[string]*string{"min.insync.replicas": ptr("2")}, name)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _, _ = p.Clients.Admin.DeleteTopic(context.Background(), name) })
	}

	prod, err := schema.NewProducer[Order](ctx, p.Clients.Registry, topic, schema.WithClientOpts(kgo.SeedBrokers(p.Brokers...)))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close(context.Background())

	// The Process service: every 97th order fails where it is read and
	// goes to the retry topic; every order handled is counted by ID.
	var mu sync.Mutex
	handled := map[string]int{}
	group := platformtest.UniqueName("fault-process")
	newService := func(name string) *schema.Consumer[Order] {
		// A registry client of its own: a new instance has cached nothing.
		reg, err := schema.NewRegistryFromOptions(sr.URLs(p.SchemaRegistryURL))
		if err != nil {
			t.Fatal(err)
		}
		c, err := schema.NewConsumer[Order](ctx, reg, group, []string{topic},
			schema.WithConcurrency(16), schema.WithRetries(1),
			schema.WithRetryTopics(schema.RetryTopic{Topic: retry, Delay: 2 * time.Second}),
			schema.OnInvalid(schema.DeadLetter(dlq)),
			schema.WithBackoff(100*time.Millisecond, 2*time.Second),
			schema.WithClientOpts(kgo.SeedBrokers(p.Brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.ClientID(name)))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	handler := func(ctx context.Context, r *schema.Record[Order]) error {
		if _, retried := r.Retry(); r.Value.Seq%97 == 5 && !retried {
			return fmt.Errorf("order %s: stock service timed out", r.Value.ID)
		}
		time.Sleep(time.Millisecond)
		mu.Lock()
		handled[r.Value.ID]++
		mu.Unlock()
		return nil
	}
	run := func(c *schema.Consumer[Order]) func() error {
		pctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- c.Process(pctx, handler) }()
		return func() error { cancel(); return <-done }
	}

	// The pipeline: each order priced, in transactions.
	pl, err := schema.NewPipeline[Order, Order](ctx, p.Clients.Registry, platformtest.UniqueName("fault-pipeline"), []string{topic}, output,
		schema.WithTransactionalID(platformtest.UniqueName("fault-pipeline-0")),
		schema.WithOutputRegistration(schema.AutoRegister()),
		schema.WithPipelineClientOpts(kgo.SeedBrokers(p.Brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	plCtx, plStop := context.WithCancel(ctx)
	plDone := make(chan error, 1)
	go func() {
		plDone <- pl.Run(plCtx, func(ctx context.Context, r *schema.Record[Order]) ([]schema.Message[Order], error) {
			return []schema.Message[Order]{{Key: r.Key, Value: Order{ID: r.Value.ID, Seq: r.Value.Seq * 2}}}, nil
		})
	}()

	c1 := newService("process-1")
	stop1 := run(c1)

	// The stream: 200 orders every 100 ms, the faults on a timeline.
	written := 0
	write := func(n int) {
		ms := make([]schema.Message[Order], n)
		for i := range ms {
			id := "order-" + strconv.Itoa(written+i)
			ms[i] = schema.Message[Order]{Key: []byte("k" + strconv.Itoa((written+i)%100)), Value: Order{ID: id, Seq: int64(written + i)}}
		}
		if err := prod.ProduceSync(ctx, ms...); err != nil {
			t.Fatalf("write orders %d to %d: %v", written, written+n, err)
		}
		written += n
	}
	var brokerBack, registryBack <-chan error
	var c2 *schema.Consumer[Order]
	var stop2 func() error
	start := time.Now()
	for tick := 0; tick < 180; tick++ {
		switch tick {
		case 20:
			kill(t, "kafka-2")
		case 50:
			brokerBack = startAsync(t, "kafka-2")
		case 90:
			kill(t, "registry")
		case 95:
			// The service restarts while the registry is down.
			if err := stop1(); err != nil {
				t.Fatalf("Process of process-1: %v", err)
			}
			if err := c1.Close(ctx); err != nil {
				t.Fatal(err)
			}
			c2 = newService("process-2")
			stop2 = run(c2)
		case 110:
			registryBack = startAsync(t, "registry")
		}
		write(200)
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("wrote %d orders in %s", written, time.Since(start).Round(time.Millisecond))
	for _, back := range []<-chan error{brokerBack, registryBack} {
		if err := <-back; err != nil {
			t.Fatal(err)
		}
	}

	all := func() (missing, doubled int) {
		mu.Lock()
		defer mu.Unlock()
		for i := range written {
			switch handled["order-"+strconv.Itoa(i)] {
			case 0:
				missing++
			case 1:
			default:
				doubled++
			}
		}
		return missing, doubled
	}
	waitFor(t, ctx, "Process to handle every order", func() bool { m, _ := all(); return m == 0 })
	waitFor(t, ctx, "the pipeline to consume every order", func() bool { return pl.Stats().Consumed >= uint64(written) })
	if err := stop2(); err != nil {
		t.Fatalf("Process of process-2: %v", err)
	}
	plStop()
	if err := <-plDone; err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	s1, s2 := c1.Stats(), c2.Stats()
	_, doubled := all()
	t.Logf("process-1 %+v; process-2 %+v; %d orders handled more than once (at-least-once); pipeline %+v", s1, s2, doubled, pl.Stats())
	if s1.DeadLettered+s2.DeadLettered != 0 || s1.Skipped+s2.Skipped != 0 {
		t.Errorf("an outage turned records into dead letters or skips: %+v, %+v", s1, s2)
	}
	if s2.Held == 0 {
		t.Error("process-2 never held a partition: it did not meet the registry's outage")
	}
	if s1.Deferred+s2.Deferred < uint64(written/97) {
		t.Errorf("%d records went to the retry topic, want at least %d", s1.Deferred+s2.Deferred, written/97)
	}
	if err := c2.Close(ctx); err != nil {
		t.Fatal(err)
	}
	wantCommittedTotal(t, ctx, p.Clients.Admin, group, topic, int64(written))
	if n := endOffsetsSum(t, ctx, p.Clients.Admin, dlq); n != 0 {
		t.Errorf("the dead-letter topic holds %d records, want none", n)
	}

	// The pipeline's output, read_committed: each order exactly once.
	out, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...), kgo.ConsumeTopics(output),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	serde, err := schema.NewSerde[Order](p.Clients.Registry)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]int{}
	for read := 0; read < written; {
		fs := out.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("read the output (%d of %d): %v", read, written, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			var o Order
			if err := serde.Decode(ctx, r.Value, &o); err != nil {
				t.Fatal(err)
			}
			seen[o.Seq/2]++
			read++
		})
	}
	bad := 0
	for i := range written {
		if seen[int64(i)] != 1 {
			bad++
			if bad <= 5 {
				t.Errorf("order %d is in the output %d times, want once", i, seen[int64(i)])
			}
		}
	}
	if len(seen) != written || bad > 0 {
		t.Fatalf("output: %d distinct orders of %d, %d not exactly once", len(seen), written, bad)
	}
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if ctx.Err() != nil {
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
