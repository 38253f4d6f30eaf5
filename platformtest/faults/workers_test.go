package faults

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/platformtest"
)

// statusCounter counts the responses a client gets, by status code.
type statusCounter struct {
	next     http.RoundTripper
	conflict atomic.Int64 // 409s
	failed   atomic.Int64 // requests that reached no worker
}

func (s *statusCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(r)
	switch {
	case err != nil:
		s.failed.Add(1)
	case resp.StatusCode == http.StatusConflict:
		s.conflict.Add(1)
	}
	return resp, err
}

// TestFaultConnectWorkerKilled runs eight sink connectors on the
// platform's two-worker Connect cluster and SIGKILLs the second worker,
// which runs some of their tasks, while records keep arriving. The
// client lists the dead worker first: every request fails over to the
// live one. Within the group's rebalance delay the dead worker's
// connectors and tasks run on the live one, with a healer watching; a
// plan and apply made meanwhile converge; then the worker comes back and,
// while the group rebalances again, every connector's config is updated:
// the writes are retried on 409 until they land, and the next plan is
// empty. Every record reaches every sink's file.
func TestFaultConnectWorkerKilled(t *testing.T) {
	p := requireFaults(t, platformtest.Kafka, platformtest.Connect)
	if len(p.ConnectURLs) < 2 {
		t.Fatalf("the platform has %d Connect workers; this test needs two (scripts/platform starts STREAMKIT_CONNECT_WORKERS=2)", len(p.ConnectURLs))
	}
	ctx := suiteCtx(t, 5*time.Minute)
	ns := platformtest.UniqueName("fault-workers") + "-"
	topic := ns + "orders"
	platformtest.CreateTopicsT(t, p.Clients.Admin, 4, topic)
	produce := func(from, to int) {
		t.Helper()
		var rs []*kgo.Record
		for i := from; i < to; i++ {
			rs = append(rs, &kgo.Record{Topic: topic, Value: []byte("order-" + strconv.Itoa(i))})
		}
		if err := p.Clients.Kafka.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	produce(0, 300)

	dir := t.TempDir()
	spec := func(i int, extra map[string]string) connect.Spec {
		cfg := map[string]string{
			"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
			"tasks.max":       "1",
			"topics":          topic,
			"file":            filepath.Join(dir, fmt.Sprintf("sink-%d.txt", i)),
			"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
			"value.converter": "org.apache.kafka.connect.storage.StringConverter",
		}
		for k, v := range extra {
			cfg[k] = v
		}
		return connect.Spec{Name: fmt.Sprintf("%ssink-%d", ns, i), Config: cfg}
	}
	var desired []connect.Spec
	for i := range 8 {
		desired = append(desired, spec(i, nil))
	}
	// The worker to kill first in the list: the client must fail over.
	victim, survivor := p.ConnectURLs[1], p.ConnectURLs[0]
	counter := &statusCounter{next: http.DefaultTransport}
	newClient := func() *connect.Client {
		t.Helper()
		c, err := connect.New(connect.WithURLs(victim, survivor), connect.WithHTTPClient(&http.Client{Transport: counter}),
			connect.WithRetries(8), connect.WithBackoff(200*time.Millisecond, 2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := newClient()
	opts := connect.PlanOptions{Namespace: ns, Prune: true}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		plan, err := c.Plan(ctx, nil, opts)
		if err == nil {
			_, err = c.Apply(ctx, plan, connect.ApplyOptions{Wait: -1})
		}
		if err != nil {
			t.Logf("clean up %s: %v", ns, err)
		}
	})
	apply := func(specs []connect.Spec) {
		t.Helper()
		plan, err := c.Plan(ctx, specs, opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Apply(ctx, plan, connect.ApplyOptions{Wait: 2 * time.Minute}); err != nil {
			t.Fatal(err)
		}
		if again, err := c.Plan(ctx, specs, opts); err != nil || !again.Empty() {
			t.Fatalf("plan after apply (%v):\n%s", err, again)
		}
	}
	apply(desired)

	// The victim runs some of the tasks.
	victimID := mustHost(t, victim)
	onVictim := 0
	for _, s := range desired {
		st, err := c.Status(ctx, s.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range st.Tasks {
			if task.WorkerID == victimID {
				onVictim++
			}
		}
	}
	t.Logf("%d of %d tasks run on %s", onVictim, len(desired), victimID)
	if onVictim == 0 {
		t.Fatalf("no task runs on %s: the group did not spread them", victimID)
	}

	// A healer watches the namespace throughout, as the agent would.
	var (
		mu     sync.Mutex
		events []connect.HealEvent
	)
	healer, err := connect.NewHealer(c, connect.WithNamespace(ns), connect.WithInterval(time.Second),
		connect.WithEvents(func(e connect.HealEvent) { mu.Lock(); events = append(events, e); mu.Unlock() }))
	if err != nil {
		t.Fatal(err)
	}
	hctx, stopHealer := context.WithCancel(ctx)
	healed := make(chan error, 1)
	go func() { healed <- healer.Run(hctx) }()
	defer func() {
		stopHealer()
		<-healed
	}()

	kill(t, "connect-2")
	killedAt := time.Now()
	// A client keeps to the worker that last answered, and the one above
	// may have failed over already (a worker busy with a rebalance): a
	// new one starts at the dead worker, as a CLI run after the kill does.
	c = newClient()
	counter.failed.Store(0)
	produce(300, 600)
	// Meanwhile a team applies one more connector: through the survivor.
	desired = append(desired, spec(8, nil))
	apply(desired)

	// Every connector and task runs on the survivor.
	survivorID := mustHost(t, survivor)
	for {
		moved := 0
		for _, s := range desired {
			st, err := c.Status(ctx, s.Name)
			if err == nil && st.Connector.State == connect.StateRunning && st.Connector.WorkerID == survivorID &&
				len(st.Tasks) == 1 && st.Tasks[0].State == connect.StateRunning && st.Tasks[0].WorkerID == survivorID {
				moved++
			}
		}
		if moved == len(desired) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("%d of %d connectors run on %s", moved, len(desired), survivorID)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("the dead worker's tasks run on %s %s after the kill", survivorID, time.Since(killedAt).Round(100*time.Millisecond))

	// The worker comes back; while the group rebalances, every config
	// changes. Writes refused with 409 are retried until they land.
	restarted := startAsync(t, "connect-2")
	time.Sleep(2 * time.Second) // the worker's JVM is up and joining
	for i := range desired {
		desired[i] = spec(i, map[string]string{"errors.log.enable": "true"})
	}
	apply(desired)
	if err := <-restarted; err != nil {
		t.Fatal(err)
	}
	apply(desired) // converged with both workers: an empty plan
	t.Logf("409s retried: %d; requests that reached no worker (failed over): %d", counter.conflict.Load(), counter.failed.Load())
	if counter.failed.Load() == 0 {
		t.Error("no request failed over from the dead worker, though it was the client's first")
	}

	produce(600, 900)
	for i := range desired {
		file := filepath.Join(dir, fmt.Sprintf("sink-%d.txt", i))
		for {
			seen, err := distinctLines(file)
			if err == nil && seen == 900 {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("%s holds %d distinct records, want 900 (%v)", file, seen, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, e := range events {
		if e.Kind == connect.HealGaveUp {
			t.Errorf("the healer gave up on %s: %+v", e.Connector, e)
		}
	}
	t.Logf("healer events: %d", len(events))
}

// mustHost is the host:port of a worker URL, as the worker names itself
// in a status (its advertised host and port).
func mustHost(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}
