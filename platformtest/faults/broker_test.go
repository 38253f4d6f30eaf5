package faults

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/schema"
)

// TestFaultBrokerKilledMidStream kills one of three brokers while a typed
// producer (acks=all, idempotent) writes to a topic with three replicas and
// a minimum of two in sync, and starts it again. Every acknowledged record
// is read back exactly once by a typed consumer: none lost, none doubled.
// The restarted broker still authenticates a SCRAM user created before
// the kill, with a deleted user's name ahead of it (Kafka's ScramDelta
// drops a mechanism's credentials when it replays them that way without a
// snapshot of its own; see scripts/platform).
func TestFaultBrokerKilledMidStream(t *testing.T) {
	p := requireFaults(t, platformtest.Kafka, platformtest.SchemaRegistry, platformtest.KafkaSASL)
	if len(p.Brokers) < 3 {
		t.Fatalf("%d brokers: the broker fault needs three (STREAMKIT_KAFKA_NODES=3)", len(p.Brokers))
	}
	ctx := suiteCtx(t, 4*time.Minute)
	topic := platformtest.UniqueName("fault-broker")
	resp, err := p.Clients.Admin.CreateTopic(ctx, 6, 3, map[string]*string{"min.insync.replicas": ptr("2")}, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = p.Clients.Admin.DeleteTopic(context.Background(), topic) })

	// A SCRAM user that must survive the restart, and a deleted one whose
	// name the broker's replay meets first.
	user, pass := platformtest.UniqueName("fault-scram"), platformtest.UniqueName("pw")
	scram(t, ctx, p, kadm.UpsertSCRAM{User: user, Mechanism: kadm.ScramSha512, Iterations: 4096, Password: pass})
	scram(t, ctx, p, kadm.UpsertSCRAM{User: "smoke-sasl-user-0dd9341e00fe", Mechanism: kadm.ScramSha512, Iterations: 4096, Password: pass})
	if _, err := p.Clients.Admin.AlterUserSCRAMs(ctx, []kadm.DeleteSCRAM{{User: "smoke-sasl-user-0dd9341e00fe", Mechanism: kadm.ScramSha512}}, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = p.Clients.Admin.AlterUserSCRAMs(context.Background(), []kadm.DeleteSCRAM{{User: user, Mechanism: kadm.ScramSha512}}, nil)
	})
	if err := p.WaitForSCRAM(ctx, user, pass, true); err != nil {
		t.Fatal(err)
	}

	prod, err := schema.NewProducer[Order](ctx, p.Clients.Registry, topic,
		schema.WithClientOpts(kgo.SeedBrokers(p.Brokers...)))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close(context.Background())

	const total = 30000
	var (
		acked  sync.Map // key -> true
		nAcked atomic.Int64
		failMu sync.Mutex
		failed []error
	)
	var restarted <-chan error
	start := time.Now()
	for i := range total {
		switch {
		case i == 8000:
			kill(t, "kafka-2")
		case i == 20000:
			restarted = startAsync(t, "kafka-2")
		}
		key := "order-" + strconv.Itoa(i)
		prod.Produce(ctx, schema.Message[Order]{Key: []byte(key), Value: Order{ID: key, Seq: int64(i)}},
			func(_ *kgo.Record, err error) {
				if err != nil {
					failMu.Lock()
					failed = append(failed, err)
					failMu.Unlock()
					return
				}
				acked.Store(key, true)
				nAcked.Add(1)
			})
		if i%1000 == 999 {
			time.Sleep(100 * time.Millisecond) // a stream, not one burst
		}
	}
	if err := prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d acknowledged, %d failed, in %s", nAcked.Load(), len(failed), time.Since(start).Round(time.Millisecond))
	if restarted == nil {
		t.Fatalf("the stream ended before the restart (%d acknowledged)", nAcked.Load())
	}
	if err := <-restarted; err != nil {
		t.Fatal(err)
	}
	if len(failed) > 0 {
		t.Fatalf("%d records failed at acks=all with one broker of three down, first: %v", len(failed), failed[0])
	}
	scramCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := p.WaitForSCRAM(scramCtx, user, pass, true); err != nil {
		t.Fatalf("the restarted broker lost a SCRAM credential: %v", err)
	}

	c, err := schema.NewConsumer[Order](ctx, p.Clients.Registry, platformtest.UniqueName("fault-broker"), []string{topic},
		schema.WithClientOpts(kgo.SeedBrokers(p.Brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	seen := map[string]int{}
	read := 0
	for read < int(nAcked.Load()) {
		recs, err := c.Poll(ctx)
		if err != nil {
			t.Fatalf("after %d read: %v", read, err)
		}
		for _, r := range recs {
			seen[r.Value.ID]++
			read++
		}
		c.MarkProcessed(recs...)
	}
	lost, doubled := 0, 0
	acked.Range(func(k, _ any) bool {
		switch seen[k.(string)] {
		case 0:
			lost++
		case 1:
		default:
			doubled++
		}
		return true
	})
	if lost != 0 || doubled != 0 || read != int(nAcked.Load()) {
		t.Fatalf("read %d of %d acknowledged: %d lost, %d doubled", read, nAcked.Load(), lost, doubled)
	}
}

func ptr(s string) *string { return &s }

// scram creates or changes one SCRAM credential.
func scram(t *testing.T, ctx context.Context, p *platformtest.Platform, u kadm.UpsertSCRAM) {
	t.Helper()
	res, err := p.Clients.Admin.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{u})
	if err == nil {
		err = res.Error()
	}
	if err != nil {
		t.Fatalf("scram credential of %s: %v", u.User, err)
	}
}
