package faults

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/platformtest"
)

// TestFaultConnectKilledDuringApply kills the Connect worker while Apply
// creates eight sink connectors. Apply fails with ErrUnavailable (or, if
// its retries outlast the outage, succeeds); once the worker is back, a
// new plan finishes the job, a plan after that is empty, every connector
// runs with the config asked for, and every record of their topic reaches
// every sink's file.
func TestFaultConnectKilledDuringApply(t *testing.T) {
	p := requireFaults(t, platformtest.Kafka, platformtest.Connect)
	ctx := suiteCtx(t, 5*time.Minute)
	ns := platformtest.UniqueName("fault-connect") + "-"
	topic := ns + "orders"
	platformtest.CreateTopicsT(t, p.Clients.Admin, 3, topic)
	const records = 300
	rs := make([]*kgo.Record, records)
	for i := range rs {
		rs[i] = &kgo.Record{Topic: topic, Value: []byte("order-" + strconv.Itoa(i))}
	}
	if err := p.Clients.Kafka.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	var desired []connect.Spec
	for i := range 8 {
		desired = append(desired, connect.Spec{Name: fmt.Sprintf("%ssink-%d", ns, i), Config: map[string]string{
			"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
			"tasks.max":       "1",
			"topics":          topic,
			"file":            filepath.Join(dir, fmt.Sprintf("sink-%d.txt", i)),
			"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
			"value.converter": "org.apache.kafka.connect.storage.StringConverter",
		}})
	}
	c, err := connect.New(connect.WithURLs(p.ConnectURL), connect.WithRetries(3),
		connect.WithBackoff(200*time.Millisecond, time.Second))
	if err != nil {
		t.Fatal(err)
	}
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

	plan, err := c.Plan(ctx, desired, opts)
	if err != nil {
		t.Fatal(err)
	}
	applied := make(chan error, 1)
	go func() {
		_, err := c.Apply(ctx, plan, connect.ApplyOptions{})
		applied <- err
	}()
	// Kill the worker once the first of the connectors exists.
	for {
		names, err := c.Names(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(names, func(n string) bool { return len(n) > len(ns) && n[:len(ns)] == ns }) {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("no connector was created")
		}
		time.Sleep(20 * time.Millisecond)
	}
	kill(t, "connect")
	err = <-applied
	t.Logf("apply with the worker killed: %v", err)
	if err != nil && !errors.Is(err, connect.ErrUnavailable) {
		t.Fatalf("apply with the worker killed: got %v, want nil or an error matching ErrUnavailable", err)
	}
	if _, err := c.Names(ctx); !errors.Is(err, connect.ErrUnavailable) {
		t.Fatalf("a call while the worker is down: got %v, want ErrUnavailable", err)
	}
	if err := <-startAsync(t, "connect"); err != nil {
		t.Fatal(err)
	}

	// The worker is back: plan again and apply until converged.
	var again *connect.Plan
	for attempt := 1; ; attempt++ {
		if again, err = c.Plan(ctx, desired, opts); err == nil {
			if _, err = c.Apply(ctx, again, connect.ApplyOptions{}); err == nil {
				break
			}
		}
		if attempt == 5 || ctx.Err() != nil {
			t.Fatalf("re-apply after the worker came back: %v", err)
		}
		t.Logf("re-apply attempt %d: %v", attempt, err)
		time.Sleep(2 * time.Second)
	}
	final, err := c.Plan(ctx, desired, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !final.Empty() {
		t.Fatalf("plan after the re-apply is not empty:\n%s", final)
	}
	for _, s := range desired {
		st, err := c.Status(ctx, s.Name)
		if err != nil {
			t.Fatal(err)
		}
		if st.Connector.State != "RUNNING" || len(st.Tasks) != 1 || st.Tasks[0].State != "RUNNING" {
			t.Fatalf("%s: %+v, want the connector and its task RUNNING", s.Name, st)
		}
	}

	// Every record reaches every sink's file (at least once: a sink that
	// was killed may write a record again).
	for i := range desired {
		file := filepath.Join(dir, fmt.Sprintf("sink-%d.txt", i))
		for {
			seen, err := distinctLines(file)
			if err == nil && seen == records {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("%s holds %d distinct records, want %d (%v)", file, seen, records, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

func distinctLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		seen[sc.Text()] = true
	}
	return len(seen), sc.Err()
}
