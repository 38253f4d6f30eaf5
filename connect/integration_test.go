package connect_test

// Integration tests on the platform's real Kafka Connect worker and Kafka.
// make test runs them with STREAMKIT_REQUIRE_PLATFORM=1.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/platformtest"
)

const (
	fileSource = "org.apache.kafka.connect.file.FileStreamSourceConnector"
	fileSink   = "org.apache.kafka.connect.file.FileStreamSinkConnector"
	mirror     = "org.apache.kafka.connect.mirror.MirrorSourceConnector"
	stringConv = "org.apache.kafka.connect.storage.StringConverter"
	bytesConv  = "org.apache.kafka.connect.converters.ByteArrayConverter"
)

// writeCounter counts the requests that change something on the worker.
type writeCounter struct {
	next   http.RoundTripper
	mu     sync.Mutex
	writes []string
	total  atomic.Int64
}

func (w *writeCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	w.total.Add(1)
	if r.Method != http.MethodGet && !strings.HasSuffix(r.URL.Path, "/config/validate") {
		w.mu.Lock()
		w.writes = append(w.writes, r.Method+" "+r.URL.Path)
		w.mu.Unlock()
	}
	return w.next.RoundTrip(r)
}

func (w *writeCounter) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.writes
	w.writes = nil
	return out
}

type env struct {
	p      platformtest.Platform
	client *connect.Client
	writes *writeCounter
	ns     string
	adm    *kadm.Client
}

func setup(t *testing.T) (context.Context, *env) {
	t.Helper()
	p := platformtest.Require(t, platformtest.Kafka, platformtest.Connect)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	wc := &writeCounter{next: http.DefaultTransport}
	c, err := connect.New(connect.WithURLs(p.ConnectURL), connect.WithHTTPClient(&http.Client{Transport: wc}))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	e := &env{p: p, client: c, writes: wc, ns: platformtest.UniqueName("it") + "-", adm: kadm.NewClient(cl)}
	// Whatever a test leaves in its namespace goes when it ends.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		plan, err := c.Plan(ctx, nil, connect.PlanOptions{Namespace: e.ns, Prune: true})
		if err == nil {
			_, err = c.Apply(ctx, plan, connect.ApplyOptions{Wait: -1})
		}
		if err != nil {
			t.Logf("clean up namespace %s: %v", e.ns, err)
		}
	})
	return ctx, e
}

func (e *env) topic(t *testing.T, name string) string {
	t.Helper()
	platformtest.CreateTopicsT(t, e.adm, 1, name)
	return name
}

func (e *env) consume(t *testing.T, ctx context.Context, topic string, n int) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.p.Brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []string
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("topic %s: %d of %d records: %v", topic, len(got), n, ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return got
}

func waitForFileLines(t *testing.T, ctx context.Context, path string, n int) []string {
	t.Helper()
	for {
		b, _ := os.ReadFile(path)
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(b) > 0 && len(lines) >= n {
			return lines
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s has %d of %d lines", path, len(lines), n)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func lines(prefix string, n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%s-%03d\n", prefix, i)
	}
	return b.Bytes()
}

// TestIntegrationConnectorsAsCode applies a FileStreamSource, a
// FileStreamSink and a MirrorMaker 2 source, sees records flow end to end,
// then changes one key, then prunes.
func TestIntegrationConnectorsAsCode(t *testing.T) {
	ctx, e := setup(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	out := filepath.Join(dir, "out.txt")
	const n = 40
	if err := os.WriteFile(in, lines("order", n), 0o644); err != nil {
		t.Fatal(err)
	}
	topic := e.topic(t, e.ns+"orders")
	brokers := strings.Join(e.p.Brokers, ",")

	desired := []connect.Spec{
		{Name: e.ns + "file-source", Config: map[string]string{
			"connector.class": fileSource, "tasks.max": "1", "file": in, "topic": topic,
			"key.converter": stringConv, "value.converter": stringConv,
		}},
		{Name: e.ns + "file-sink", Config: map[string]string{
			"connector.class": fileSink, "tasks.max": "1", "file": out, "topics": topic,
			"key.converter": stringConv, "value.converter": stringConv,
		}},
		{Name: e.ns + "mirror", Config: map[string]string{
			"connector.class":                       mirror,
			"tasks.max":                             "1",
			"source.cluster.alias":                  "src",
			"target.cluster.alias":                  "dst",
			"source.cluster.bootstrap.servers":      brokers,
			"target.cluster.bootstrap.servers":      brokers,
			"topics":                                topic,
			"replication.factor":                    "1",
			"offset-syncs.topic.replication.factor": "1",
			"sync.topic.acls.enabled":               "false",
			"refresh.topics.interval.seconds":       "1",
			"key.converter":                         bytesConv,
			"value.converter":                       bytesConv,
		}},
	}
	opts := connect.PlanOptions{Namespace: e.ns, Prune: true}

	plan, err := e.client.Plan(ctx, desired, opts)
	if err != nil {
		t.Fatal(err)
	}
	if cr, _, _, _ := plan.Count(); cr != 3 {
		t.Fatalf("first plan:\n%s", plan)
	}
	res, err := e.client.Apply(ctx, plan, connect.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created) != 3 {
		t.Fatalf("created %v", res.Created)
	}

	// Records flow: file -> topic -> file, and topic -> mirrored topic.
	got := waitForFileLines(t, ctx, out, n)
	for i, l := range got[:n] {
		if want := fmt.Sprintf("order-%03d", i); l != want {
			t.Fatalf("sink line %d: got %q, want %q", i, l, want)
		}
	}
	mirrored := e.consume(t, ctx, "src."+topic, n)
	if mirrored[0] != "order-000" {
		t.Fatalf("mirrored topic starts with %q", mirrored[0])
	}
	t.Cleanup(func() { _, _ = e.adm.DeleteTopic(context.Background(), "src."+topic) })

	// The second plan is empty: nothing the worker added shows as drift.
	again, err := e.client.Plan(ctx, desired, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Empty() {
		t.Fatalf("second plan not empty:\n%s", again)
	}

	// One key of one connector: the plan shows exactly that, and apply
	// writes only that connector.
	desired[0].Config["batch.size"] = "500"
	plan, err = e.client.Plan(ctx, desired, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, up, _, same := plan.Count(); up != 1 || same != 2 {
		t.Fatalf("plan after one change:\n%s", plan)
	}
	for _, c := range plan.Changes {
		if c.Action == connect.Update && (c.Name != e.ns+"file-source" || len(c.Keys) != 1 || c.Keys[0].Key != "batch.size") {
			t.Fatalf("change %+v, want only batch.size of file-source", c)
		}
	}
	e.writes.take()
	if _, err := e.client.Apply(ctx, plan, connect.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if w := e.writes.take(); len(w) != 1 || w[0] != "PUT /connectors/"+e.ns+"file-source/config" {
		t.Fatalf("apply wrote %v, want one PUT of file-source's config", w)
	}

	// Prune: the mirror leaves the desired state; a connector outside the
	// namespace, also absent from it, stays.
	outsider := platformtest.UniqueName("other-team")
	if _, _, err := e.client.PutConfig(ctx, outsider, map[string]string{
		"connector.class": fileSink, "topics": topic, "file": filepath.Join(dir, "other.txt"),
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.client.Delete(context.Background(), outsider) })
	plan, err = e.client.Plan(ctx, desired[:2], opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, del, _ := plan.Count(); del != 1 || !strings.Contains(plan.String(), "- delete "+e.ns+"mirror") {
		t.Fatalf("prune plan:\n%s", plan)
	}
	if _, err := e.client.Apply(ctx, plan, connect.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	// With two workers, the one that answers may not have read the
	// delete from the config topic yet: its list catches up within
	// moments.
	var names []string
	var has map[string]bool
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if names, err = e.client.Names(ctx); err != nil {
			t.Fatal(err)
		}
		has = map[string]bool{}
		for _, n := range names {
			has[n] = true
		}
		if !has[e.ns+"mirror"] || time.Now().After(deadline) {
			break
		}
	}
	if has[e.ns+"mirror"] || !has[e.ns+"file-source"] || !has[e.ns+"file-sink"] || !has[outsider] {
		t.Fatalf("after prune: %v", names)
	}
}

// TestIntegrationRejectedConfig: the worker's validation refuses a config,
// the error carries its message for the key, and nothing is deployed.
func TestIntegrationRejectedConfig(t *testing.T) {
	ctx, e := setup(t)
	topic := e.topic(t, e.ns+"t")
	desired := []connect.Spec{
		{Name: e.ns + "good", Config: map[string]string{"connector.class": fileSink, "topics": topic, "file": filepath.Join(t.TempDir(), "x")}},
		{Name: e.ns + "bad", Config: map[string]string{"connector.class": fileSource, "tasks.max": "many", "file": "/dev/null", "topic": topic}},
	}
	plan, err := e.client.Plan(ctx, desired, connect.PlanOptions{Namespace: e.ns})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.client.Apply(ctx, plan, connect.ApplyOptions{})
	var ve *connect.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, connect.ErrInvalidConfig) {
		t.Fatalf("got %v, want a *ValidationError", err)
	}
	msgs := ve.Connectors[e.ns+"bad"]["tasks.max"]
	if len(msgs) == 0 || !strings.Contains(strings.Join(msgs, " "), "many") {
		t.Fatalf("worker's messages for tasks.max: %v (all: %v)", msgs, ve.Connectors)
	}
	if _, ok := ve.Connectors[e.ns+"good"]; ok {
		t.Fatalf("the good connector was rejected: %v", ve)
	}
	if w := e.writes.take(); len(w) != 0 {
		t.Fatalf("a rejected plan wrote %v", w)
	}
	names, _ := e.client.Names(ctx)
	for _, n := range names {
		if strings.HasPrefix(n, e.ns) {
			t.Fatalf("%s deployed though the plan was rejected", n)
		}
	}
}

// TestIntegrationDirPlaceholder: a connector config names its topic with a
// ${dir:...} reference to a file in the worker's secrets folder; the
// worker resolves it and the connector runs, and the stored config still
// holds the reference.
func TestIntegrationDirPlaceholder(t *testing.T) {
	ctx, e := setup(t)
	if e.p.ConnectSecretsDir == "" {
		platformtest.SkipOrFail(t, platformtest.EnvConnectSecretsDir+" unset")
	}
	secretDir := filepath.Join(e.p.ConnectSecretsDir, strings.TrimSuffix(e.ns, "-"))
	if err := os.MkdirAll(secretDir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(secretDir) })
	topic := e.topic(t, e.ns+"secret-topic")
	if err := os.WriteFile(filepath.Join(secretDir, "topic"), []byte(topic), 0o600); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "in.txt")
	if err := os.WriteFile(in, lines("s", 3), 0o644); err != nil {
		t.Fatal(err)
	}
	ref := "${dir:" + secretDir + ":topic}"
	desired := []connect.Spec{{Name: e.ns + "src", Config: map[string]string{
		"connector.class": fileSource, "file": in, "topic": ref,
		"key.converter": stringConv, "value.converter": stringConv,
	}}}
	plan, err := e.client.Plan(ctx, desired, connect.PlanOptions{Namespace: e.ns})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan.String(), ref) || strings.Contains(plan.String(), topic+`"`) {
		t.Fatalf("the plan should show the reference, not the value:\n%s", plan)
	}
	if _, err := e.client.Apply(ctx, plan, connect.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := e.consume(t, ctx, topic, 3); got[0] != "s-000" {
		t.Fatalf("records: %v", got)
	}
	cfg, err := e.client.Config(ctx, e.ns+"src")
	if err != nil {
		t.Fatal(err)
	}
	if cfg["topic"] != ref {
		t.Fatalf("stored topic %q, want the reference %q", cfg["topic"], ref)
	}
	if again, err := e.client.Plan(ctx, desired, connect.PlanOptions{Namespace: e.ns}); err != nil || !again.Empty() {
		t.Fatalf("second plan (%v):\n%s", err, again)
	}
}

// TestIntegrationHealer: a sink whose output folder is missing fails; once
// the folder exists the healer brings it back to RUNNING. A sink whose
// folder never appears is given up on after the cap.
func TestIntegrationHealer(t *testing.T) {
	ctx, e := setup(t)
	topic := e.topic(t, e.ns+"heal")
	dir := t.TempDir()
	fixable := filepath.Join(dir, "later", "out.txt")
	hopeless := filepath.Join(dir, "never", "out.txt")
	desired := []connect.Spec{
		{Name: e.ns + "fixable", Config: map[string]string{"connector.class": fileSink, "topics": topic, "file": fixable}},
		{Name: e.ns + "hopeless", Config: map[string]string{"connector.class": fileSink, "topics": topic, "file": hopeless}},
	}
	plan, err := e.client.Plan(ctx, desired, connect.PlanOptions{Namespace: e.ns})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.client.Apply(ctx, plan, connect.ApplyOptions{Wait: time.Minute})
	var se *connect.StateError
	if !errors.As(err, &se) || len(se.Connectors) != 2 || !strings.Contains(se.Connectors[e.ns+"fixable"], "FAILED") {
		t.Fatalf("apply: got %v, want both sinks FAILED with their traces", err)
	}
	if !strings.Contains(se.Connectors[e.ns+"fixable"], "later") {
		t.Fatalf("trace does not name the missing path: %s", se.Connectors[e.ns+"fixable"])
	}

	// The cause of one failure is fixed.
	if err := os.MkdirAll(filepath.Dir(fixable), 0o755); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var events []connect.HealEvent
	recovered, gaveUp := make(chan struct{}), make(chan struct{})
	var onceR, onceG sync.Once
	h, err := connect.NewHealer(e.client,
		connect.WithNamespace(e.ns),
		connect.WithInterval(500*time.Millisecond),
		connect.WithRestartBackoff(200*time.Millisecond, time.Second),
		connect.WithMaxRestarts(2, time.Hour),
		connect.WithEvents(func(ev connect.HealEvent) {
			mu.Lock()
			events = append(events, ev)
			mu.Unlock()
			switch {
			case ev.Kind == connect.HealRecovered && ev.Connector == e.ns+"fixable":
				onceR.Do(func() { close(recovered) })
			case ev.Kind == connect.HealGaveUp && ev.Connector == e.ns+"hopeless":
				onceG.Do(func() { close(gaveUp) })
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.Run(runCtx) }()
	for _, ch := range []chan struct{}{recovered, gaveUp} {
		select {
		case <-ch:
		case <-ctx.Done():
			mu.Lock()
			t.Fatalf("healer events so far: %+v", events)
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	st, err := e.client.Status(ctx, e.ns+"fixable")
	if err != nil {
		t.Fatal(err)
	}
	if st.Failed() || st.Connector.State != connect.StateRunning || len(st.Tasks) == 0 || st.Tasks[0].State != connect.StateRunning {
		t.Fatalf("fixable after healing: %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	restarts := map[string]int{}
	for _, ev := range events {
		if ev.Kind == connect.HealRestarted {
			restarts[ev.Connector]++
		}
	}
	if restarts[e.ns+"hopeless"] != 2 {
		t.Fatalf("hopeless restarted %d times, want the cap of 2 (events %+v)", restarts[e.ns+"hopeless"], events)
	}
	if st, _ := e.client.Status(ctx, e.ns+"hopeless"); !st.Failed() {
		t.Fatalf("hopeless: %+v", st)
	}

	// RestartFailed by hand restarts only the failed task of hopeless.
	rs, err := e.client.RestartFailed(ctx, e.ns+"hopeless", e.ns+"fixable")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Connector != e.ns+"hopeless" || len(rs[0].Tasks) != 1 {
		t.Fatalf("RestartFailed: %+v", rs)
	}
}

// TestIntegrationApplyAfterFailure: Apply waits for the tasks the worker
// restarts after a config change, which it does a moment after the PUT:
// until then the status still shows the old task's failure. A sink whose
// output folder is missing fails; a config naming another missing folder
// is reported with the new task's trace, not the old one; a config naming
// a folder that exists applies without error.
func TestIntegrationApplyAfterFailure(t *testing.T) {
	ctx, e := setup(t)
	topic := e.topic(t, e.ns+"fix")
	dir := t.TempDir()
	name := e.ns + "sink"
	apply := func(file string) error {
		t.Helper()
		desired := []connect.Spec{{Name: name, Config: map[string]string{
			"connector.class": fileSink, "tasks.max": "1", "topics": topic, "file": file,
		}}}
		plan, err := e.client.Plan(ctx, desired, connect.PlanOptions{Namespace: e.ns})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.client.Apply(ctx, plan, connect.ApplyOptions{Wait: time.Minute})
		return err
	}
	failsWith := func(err error, path string) {
		t.Helper()
		var se *connect.StateError
		if !errors.As(err, &se) || !strings.Contains(se.Connectors[name], "task 0 FAILED") {
			t.Fatalf("apply: got %v, want task 0 FAILED", err)
		}
		if !strings.Contains(se.Connectors[name], path) {
			t.Fatalf("apply: the trace does not name %s: %s", path, se.Connectors[name])
		}
	}

	failsWith(apply(filepath.Join(dir, "missing", "out.txt")), "missing")
	failsWith(apply(filepath.Join(dir, "gone", "out.txt")), "gone")
	if err := apply(filepath.Join(dir, "out.txt")); err != nil {
		t.Fatalf("apply the fixed config: %v", err)
	}
	st, err := e.client.Status(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if st.Failed() || len(st.Tasks) != 1 || st.Tasks[0].State != connect.StateRunning {
		t.Fatalf("status after the fix: %+v", st)
	}
}

// TestIntegrationClientEndpoints runs the client's endpoints against the
// real worker, so their request and response shapes are Connect's own.
func TestIntegrationClientEndpoints(t *testing.T) {
	ctx, e := setup(t)
	c := e.client
	topic := e.topic(t, e.ns+"api")
	in := filepath.Join(t.TempDir(), "in.txt")
	if err := os.WriteFile(in, lines("api", 5), 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(ctx)
	if err != nil || !strings.HasPrefix(info.Version, "4.") || info.KafkaClusterID == "" {
		t.Fatalf("info: %+v, %v", info, err)
	}
	plugins, err := c.Plugins(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	classes := map[string]bool{}
	for _, p := range plugins {
		classes[p.Class] = true
	}
	if !classes[fileSource] || !classes[mirror] {
		t.Fatalf("plugins: %v", plugins)
	}

	name := e.ns + "src"
	cfg := map[string]string{"connector.class": fileSource, "file": in, "topic": topic,
		"key.converter": stringConv, "value.converter": stringConv}
	created, err := c.Create(ctx, name, cfg, connect.InitialPaused)
	if err != nil || created.Name != name || created.Config["topic"] != topic {
		t.Fatalf("create: %+v, %v", created, err)
	}
	if _, err := c.Create(ctx, name, cfg, ""); !errors.Is(err, connect.ErrConflict) {
		t.Fatalf("create twice: got %v, want ErrConflict", err)
	}
	waitState := func(want string) connect.Status {
		t.Helper()
		for {
			st, err := c.Status(ctx, name)
			if err == nil && st.Connector.State == want && (want != connect.StateRunning || len(st.Tasks) > 0 && st.Tasks[0].State == want) {
				return st
			}
			if ctx.Err() != nil {
				t.Fatalf("waiting for %s: %+v, %v", want, st, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitState(connect.StatePaused)
	if err := c.Resume(ctx, name); err != nil {
		t.Fatal(err)
	}
	waitState(connect.StateRunning)
	e.consume(t, ctx, topic, 5)

	got, err := c.Get(ctx, name)
	if err != nil || got.Type != "source" || len(got.Tasks) != 1 {
		t.Fatalf("get: %+v, %v", got, err)
	}
	tasks, err := c.Tasks(ctx, name)
	if err != nil || len(tasks) != 1 || tasks[0].Config["file"] != in {
		t.Fatalf("tasks: %+v, %v", tasks, err)
	}
	// Two workers share the group: a rebalance (another test's connector)
	// leaves the task UNASSIGNED for a moment, so its status is polled.
	var ts connect.TaskState
	for deadline := time.Now().Add(30 * time.Second); ; {
		ts, err = c.TaskStatus(ctx, name, 0)
		if err == nil && ts.State == connect.StateRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("task status: %+v, %v", ts, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := c.RestartTask(ctx, name, 0); err != nil {
		t.Fatal(err)
	}
	st, err := c.Restart(ctx, name, connect.RestartOptions{IncludeTasks: true})
	if err != nil || st.Name != name {
		t.Fatalf("restart with tasks: %+v, %v", st, err)
	}
	if _, err := c.Restart(ctx, name, connect.RestartOptions{}); err != nil {
		t.Fatalf("plain restart: %v", err)
	}
	waitState(connect.StateRunning)

	topics, err := c.Topics(ctx, name)
	if err != nil || len(topics) != 1 || topics[0] != topic {
		t.Fatalf("active topics: %v, %v", topics, err)
	}

	patched, err := c.PatchConfig(ctx, name, map[string]string{"batch.size": "100"}, "value.converter")
	if err != nil || patched.Config["batch.size"] != "100" {
		t.Fatalf("patch: %+v, %v", patched, err)
	}
	if cur, _ := c.Config(ctx, name); cur["batch.size"] != "100" || cur["value.converter"] != "" {
		t.Fatalf("config after patch: %v", cur)
	}
	if err := c.Pause(ctx, name); err != nil {
		t.Fatal(err)
	}
	waitState(connect.StatePaused)

	// Offsets can be read any time and changed only when STOPPED.
	if err := c.Stop(ctx, name); err != nil {
		t.Fatal(err)
	}
	waitState(connect.StateStopped)
	offsets, err := c.Offsets(ctx, name)
	if err != nil || len(offsets) != 1 || offsets[0].Partition["filename"] != in {
		t.Fatalf("offsets: %+v, %v", offsets, err)
	}
	msg, err := c.AlterOffsets(ctx, name, []connect.Offset{{Partition: offsets[0].Partition, Offset: map[string]any{"position": 0}}})
	if err != nil || msg == "" {
		t.Fatalf("alter offsets: %q, %v", msg, err)
	}
	if after, _ := c.Offsets(ctx, name); len(after) != 1 || fmt.Sprint(after[0].Offset["position"]) != "0" {
		t.Fatalf("offsets after alter: %+v", after)
	}
	if msg, err := c.ResetOffsets(ctx, name); err != nil || msg == "" {
		t.Fatalf("reset offsets: %q, %v", msg, err)
	}
	if err := c.ResetTopics(ctx, name); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, name); err != nil {
		t.Fatal(err)
	}
	// The worker forgets a deleted connector's status a moment later.
	for {
		_, err := c.Status(ctx, name)
		if errors.Is(err, connect.ErrNotFound) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("status after delete: got %v, want ErrNotFound", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var apiErr *connect.APIError
	if _, err := c.Get(ctx, name); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Message == "" {
		t.Fatalf("get after delete: %v", err)
	}
}
