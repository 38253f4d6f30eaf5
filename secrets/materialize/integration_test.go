package materialize_test

// Integration tests of the Materializer on the platform's real Vault API
// (an OpenBao dev server), Kafka Connect worker and Kafka. make test runs
// them with STREAMKIT_REQUIRE_PLATFORM=1.

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/secrets"
	"github.com/streamkit/streamkit/secrets/materialize"
)

const (
	matFileSource = "org.apache.kafka.connect.file.FileStreamSourceConnector"
	matStringConv = "org.apache.kafka.connect.storage.StringConverter"
)

// matLog is a log buffer safe for Run's goroutine.
type matLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *matLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *matLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// matVaultClient logs in to the platform's Vault with token.
func matVaultClient(t *testing.T, ctx context.Context, addr, token string, logs *matLog) *secrets.Client {
	t.Helper()
	c, err := secrets.New(ctx, secrets.WithAddress(addr), secrets.WithToken(secrets.NewValue(token)),
		secrets.WithLogger(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// matPut writes a KV v2 secret at path of mount "secret" and deletes all
// its versions when the test ends.
func matPut(t *testing.T, ctx context.Context, c *secrets.Client, path string, data map[string]any) {
	t.Helper()
	if _, err := c.API().KVv2("secret").Put(ctx, path, data); err != nil {
		t.Fatalf("put %s: %v", path, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.API().KVv2("secret").DeleteMetadata(ctx, path)
	})
}

// matConsume reads topic from its start until it holds every one of want,
// and returns every value read.
func matConsume(t *testing.T, ctx context.Context, brokers []string, topic string, want []string) []string {
	t.Helper()
	// A placeholder the worker cannot resolve leaves the connector
	// RUNNING with nowhere to write: fail in a minute, not at the test's
	// deadline.
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	missing := map[string]bool{}
	for _, w := range want {
		missing[w] = true
	}
	var got []string
	for len(missing) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("topic %s: %d of %d records missing after %d read: %v", topic, len(missing), len(want), len(got), ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			got = append(got, string(r.Value))
			delete(missing, string(r.Value))
		})
	}
	return got
}

func matLines(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return out
}

func matAppend(t *testing.T, file string, lines []string) {
	t.Helper()
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// matPlaceholderFile returns the file a ${dir:<folder>:<key>} placeholder
// names.
func matPlaceholderFile(t *testing.T, placeholder string) string {
	t.Helper()
	inner, ok := strings.CutPrefix(placeholder, "${dir:")
	inner, ok2 := strings.CutSuffix(inner, "}")
	i := strings.LastIndex(inner, ":")
	if !ok || !ok2 || i < 0 {
		t.Fatalf("%q is not a ${dir:...} placeholder", placeholder)
	}
	return filepath.Join(inner[:i], inner[i+1:])
}

// matWaitRunning waits until the connector and all its tasks are RUNNING.
func matWaitRunning(t *testing.T, ctx context.Context, cc *connect.Client, name string) {
	t.Helper()
	for {
		st, err := cc.Status(ctx, name)
		running := err == nil && st.Connector.State == connect.StateRunning && len(st.Tasks) > 0
		for _, task := range st.Tasks {
			running = running && task.State == connect.StateRunning
		}
		if running {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("connector %s not running: %+v, %v", name, st, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestIntegrationMaterializer deploys a FileStreamSource whose topic comes
// from Vault through the worker's DirectoryConfigProvider, sees records
// arrive, rotates the secret to a second topic, and sees Run rewrite the
// file and restart the connector, which then writes new lines to the new
// topic. Connect's stored config holds the placeholder throughout.
func TestIntegrationMaterializer(t *testing.T) {
	p := platformtest.Require(t, platformtest.Vault, platformtest.Connect, platformtest.Kafka)
	if p.ConnectSecretsDir == "" {
		platformtest.SkipOrFail(t, platformtest.EnvConnectSecretsDir+" is unset: the worker's secrets folder is unknown")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	logs := &matLog{}
	vc := matVaultClient(t, ctx, p.VaultAddr, p.VaultToken, logs)
	cc, err := connect.New(connect.WithURLs(p.ConnectURL))
	if err != nil {
		t.Fatal(err)
	}
	kc, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	adm := kadm.NewClient(kc)

	unique := platformtest.UniqueName("it-mat")
	ns := unique + "-"
	name := ns + "file-source"
	secretPath := unique + "/cfg"
	topicA, topicB := platformtest.UniqueName("it-mat-topic-a"), platformtest.UniqueName("it-mat-topic-b")
	platformtest.CreateTopicsT(t, adm, 1, topicA, topicB)
	matPut(t, ctx, vc, secretPath, map[string]any{"topic": topicA})

	in := filepath.Join(t.TempDir(), "in.txt")
	before := matLines("before", 20)
	matAppend(t, in, before)

	restarted := make(chan string, 16)
	m, err := materialize.New(vc, cc, p.ConnectSecretsDir, materialize.WithInterval(500*time.Millisecond),
		materialize.WithLogger(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		materialize.WithEvents(func(e materialize.Event) {
			if e.Kind == materialize.Restarted {
				select {
				case restarted <- e.Connector:
				default:
				}
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	specs := []connect.Spec{{Name: name, Config: map[string]string{
		"connector.class": matFileSource, "tasks.max": "1", "file": in,
		"topic":         "${vault:secret/data/" + secretPath + ":topic}",
		"key.converter": matStringConv, "value.converter": matStringConv,
	}}}
	deployed, err := m.TranslateSpecs(specs)
	if err != nil {
		t.Fatal(err)
	}
	placeholder := deployed[0].Config["topic"]
	file := matPlaceholderFile(t, placeholder)
	if filepath.Dir(filepath.Dir(file)) != filepath.Clean(p.ConnectSecretsDir) || strings.Contains(placeholder, topicA) {
		t.Fatalf("placeholder %q: want a file in a folder of %s, and no secret", placeholder, p.ConnectSecretsDir)
	}
	t.Cleanup(func() { _ = os.RemoveAll(filepath.Dir(file)) })

	changed, err := m.Sync(ctx, specs)
	if err != nil {
		t.Fatal(err)
	}
	if refs := changed[name]; len(refs) != 1 || refs[0].Key != "topic" {
		t.Errorf("got changed %v, want the topic reference of %s", changed, name)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != topicA {
		t.Fatalf("%s: got %q, %v, want the first topic", file, b, err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: got %v, %v, want mode 0600", file, fi.Mode(), err)
	}

	opts := connect.PlanOptions{Namespace: ns, Prune: true}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		plan, err := cc.Plan(ctx, nil, opts)
		if err == nil {
			_, err = cc.Apply(ctx, plan, connect.ApplyOptions{Wait: -1})
		}
		if err != nil {
			t.Logf("clean up namespace %s: %v", ns, err)
		}
	})
	plan, err := cc.Plan(ctx, deployed, opts)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plan.String(), topicA) {
		t.Errorf("the plan holds the secret:\n%s", plan)
	}
	if _, err := cc.Apply(ctx, plan, connect.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	matConsume(t, ctx, p.Brokers, topicA, before)

	// Connect stores and serves the placeholder, never the value.
	stored, err := cc.Config(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if stored["topic"] != placeholder {
		t.Errorf("stored topic: got %q, want %q", stored["topic"], placeholder)
	}
	info, err := cc.Get(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := cc.Tasks(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	served := fmt.Sprint(stored, info, tasks)
	if strings.Contains(served, topicA) {
		t.Errorf("the worker serves the secret: %s", served)
	}
	// The translation is deterministic: a second deploy plans nothing.
	again, err := m.TranslateSpecs(specs)
	if err != nil {
		t.Fatal(err)
	}
	if plan, err := cc.Plan(ctx, again, opts); err != nil || !plan.Empty() {
		t.Errorf("second plan: got %v, %v, want an empty plan", plan, err)
	}

	// Rotate: the secret now names the second topic.
	matPut(t, ctx, vc, secretPath, map[string]any{"topic": topicB})
	runCtx, stopRun := context.WithCancel(ctx)
	runErr := make(chan error, 1)
	go func() { runErr <- m.Run(runCtx, specs) }()
	defer stopRun()
	select {
	case got := <-restarted:
		if got != name {
			t.Fatalf("restarted %s, want %s", got, name)
		}
	case <-time.After(time.Minute):
		t.Fatalf("no restart a minute after the rotation; log:\n%s", logs)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != topicB {
		t.Fatalf("%s: got %q, %v, want the second topic", file, b, err)
	}
	matWaitRunning(t, ctx, cc, name)
	// The worker processes a restart request after it answers it: let
	// the new task start before writing, or the old one takes the lines.
	time.Sleep(5 * time.Second)
	matWaitRunning(t, ctx, cc, name)

	// FileStreamSource resumes from its stored offset: only lines
	// appended now go to the new topic.
	after := matLines("after", 10)
	matAppend(t, in, after)
	got := matConsume(t, ctx, p.Brokers, topicB, after)
	if extra := len(got) - len(after); extra != 0 {
		t.Logf("the new topic got %d records besides the new lines (offsets not committed before the restart)", extra)
	}
	ends, err := adm.ListEndOffsets(ctx, topicA)
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := ends.Lookup(topicA, 0); !ok || o.Offset != int64(len(before)) {
		t.Errorf("first topic ends at %+v, want %d: lines after the rotation went to the old topic", o, len(before))
	}

	// Rotation changed no connector config: the plan stays empty and the
	// worker still holds the placeholder.
	if plan, err := cc.Plan(ctx, deployed, opts); err != nil || !plan.Empty() {
		t.Errorf("plan after rotation: got %v, %v, want an empty plan", plan, err)
	}
	if stored, err := cc.Config(ctx, name); err != nil || stored["topic"] != placeholder {
		t.Errorf("stored topic after rotation: got %q, %v, want %q", stored["topic"], err, placeholder)
	}

	// One restart for one rotation: further polls restart nothing.
	time.Sleep(2 * time.Second)
	select {
	case got := <-restarted:
		t.Errorf("restarted %s again without a rotation", got)
	default:
	}
	stopRun()
	if err := <-runErr; err != nil {
		t.Errorf("Run: %v", err)
	}
	for _, secret := range []string{topicA, topicB} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds the secret %q:\n%s", secret, logs)
		}
	}
}
