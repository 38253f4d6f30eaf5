package pipelines

import (
	"context"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/internal/platformenv"
	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/schema"
)

// script is scripts/platform, from this package's folder.
var script = filepath.Join("..", "..", "scripts", "platform")

// TestFaultPipelinesWorkerKilled runs both pipelines at once on the
// two-worker platform and SIGKILLs the worker that runs the Debezium
// source's task while rows keep arriving in PostgreSQL and records keep
// arriving from the Go producer. The dead worker's tasks move to the
// other worker; every row inserted reaches the Go consumer as a change
// event and every record produced reaches the JDBC sink's table: counted,
// nothing lost (a replay after the kill may repeat events, never drop
// one). It runs in the fault suite (make faults), since it kills a
// component under every other test.
func TestFaultPipelinesWorkerKilled(t *testing.T) {
	if !platformenv.IsTrue(os.Getenv("STREAMKIT_FAULTS")) {
		t.Skip("kills a Connect worker under every other test: it runs with STREAMKIT_FAULTS=1 (make faults)")
	}
	p := platformtest.StartT(t, platformtest.WithComponents(platformtest.Kafka, platformtest.SchemaRegistry,
		platformtest.Connect, platformtest.Vault, platformtest.Postgres))
	if len(p.ConnectURLs) < 2 {
		t.Fatalf("the platform has %d Connect workers; this test needs two", len(p.ConnectURLs))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	reg := registryV2(t, p)

	// Inbound: Debezium -> Consumer[Envelope].
	src := newDatabase(ctx, t, p, "fsrc", "id integer PRIMARY KEY, item text NOT NULL, price_cents bigint NOT NULL")
	srcNS := src.role + "."
	srcTopic := srcNS + "public." + src.role
	platformtest.CreateTopicsT(t, p.Clients.Admin, 1, srcTopic)
	srcCfg := src.sourceConfig(p)
	maps.Copy(srcCfg, avro("key.converter", reg))
	maps.Copy(srcCfg, avro("value.converter", reg))
	deploy(ctx, t, p, srcNS, connect.Spec{Name: srcNS + "source", Config: srcCfg})

	// Outbound: Producer[Stock] -> JDBC sink.
	sink := newDatabase(ctx, t, p, "fsink", "")
	sinkNS := sink.role + "."
	sinkTopic := sinkNS + "stock"
	platformtest.CreateTopicsT(t, p.Clients.Admin, 3, sinkTopic)
	sinkCfg := sink.sinkConfig(p, sinkTopic)
	maps.Copy(sinkCfg, avro("value.converter", reg))
	deploy(ctx, t, p, sinkNS, connect.Spec{Name: sinkNS + "sink", Config: sinkCfg})
	prod, err := schema.NewProducer[Stock](ctx, p.Clients.Registry, sinkTopic, schema.WithClientOpts(kgo.SeedBrokers(p.Brokers...)))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close(ctx)

	consumer, err := schema.NewConsumer[Envelope](ctx, p.Clients.Registry, srcNS+"service", []string{srcTopic},
		schema.WithClientOpts(kgo.SeedBrokers(p.Brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close(ctx)
	seen := map[int32]bool{}
	readAll := func(n int) {
		t.Helper()
		for len(seen) < n {
			recs, err := consumer.Poll(ctx)
			if err != nil {
				st, _ := p.Clients.Connect.Status(context.Background(), srcNS+"source")
				t.Fatalf("change events of %d of %d rows: %v; connector %+v", len(seen), n, err, st)
			}
			for _, r := range recs {
				if !r.Tombstone && r.Value.After != nil {
					seen[r.Value.After.ID] = true
				}
			}
			consumer.MarkProcessed(recs...)
		}
	}

	const batches, per = 10, 500
	batch := func(i int) {
		t.Helper()
		src.exec(ctx, t, "INSERT INTO "+src.table()+" SELECT g, 'item-' || g, g FROM generate_series($1::int, $2::int) AS g", i*per, (i+1)*per-1)
		msgs := make([]schema.Message[Stock], 0, per)
		for k := i * per; k < (i+1)*per; k++ {
			msgs = append(msgs, schema.Message[Stock]{Key: []byte(strconv.Itoa(k)), Value: Stock{Item: "item-" + strconv.Itoa(k), Quantity: int64(k)}})
		}
		if err := prod.ProduceSync(ctx, msgs...); err != nil {
			t.Fatal(err)
		}
	}
	batch(0)
	readAll(per)

	// Kill the worker that runs the source's task, mid-stream.
	st, err := p.Clients.Connect.Status(ctx, srcNS+"source")
	if err != nil || len(st.Tasks) == 0 {
		t.Fatalf("source status %+v: %v", st, err)
	}
	victim := slices.IndexFunc(p.ConnectURLs, func(u string) bool { pu, _ := url.Parse(u); return pu.Host == st.Tasks[0].WorkerID })
	if victim < 0 {
		t.Fatalf("the source's task runs on %s, none of %v", st.Tasks[0].WorkerID, p.ConnectURLs)
	}
	name := "connect-" + strconv.Itoa(victim+1)
	sinkSt, _ := p.Clients.Connect.Status(ctx, sinkNS+"sink")
	t.Logf("killing %s, which runs the source's task (the sink's task runs on %v)", name, sinkSt.Tasks)
	t.Cleanup(func() {
		if out, err := exec.Command(script, "start", name).CombinedOutput(); err != nil {
			t.Errorf("restore %s: %v\n%s", name, err, out)
		}
	})
	batch(1)
	if out, err := exec.Command(script, "kill", name).CombinedOutput(); err != nil {
		t.Fatalf("kill %s: %v\n%s", name, err, out)
	}
	killed := time.Now()
	for i := 2; i < batches; i++ {
		batch(i)
	}
	readAll(batches * per)
	t.Logf("every row's change event read %s after the kill", time.Since(killed).Round(100*time.Millisecond))
	for {
		var n int
		err := sink.admin.QueryRow(ctx, "SELECT count(DISTINCT id) FROM "+sink.table()).Scan(&n)
		if err == nil && n == batches*per {
			break
		}
		if ctx.Err() != nil {
			st, _ := p.Clients.Connect.Status(context.Background(), sinkNS+"sink")
			t.Fatalf("the sink's table holds %d of %d rows (%v); connector %+v", n, batches*per, err, st)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("every record produced is a row %s after the kill", time.Since(killed).Round(100*time.Millisecond))
	if cs := consumer.Stats(); cs.DeadLettered != 0 || cs.Skipped != 0 {
		t.Errorf("consumer stats %+v", cs)
	}
}
