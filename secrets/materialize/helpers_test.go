package materialize

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/internal/vaultfake"
	"github.com/streamkit/streamkit/secrets"
)

// TestMain fails the run when a secret of the fake Vault reached a log or
// an error the tests collected (see vaultfake.Collect).
func TestMain(m *testing.M) { vaultfake.Main(m) }

func matWriteJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// newMatVaultClient returns a Client of v, logged in with its root token.
func newMatVaultClient(t *testing.T, v *vaultfake.Server, opts ...secrets.Opt) *secrets.Client {
	t.Helper()
	all := append([]secrets.Opt{secrets.WithAddress(v.Addr()), secrets.WithToken(secrets.NewValue(vaultfake.RootToken))}, opts...)
	c, err := secrets.New(context.Background(), all...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// matConnect answers POST /connectors/{name}/restart like a Connect
// worker (KIP-745: 202 and the status, instances RESTARTING) and counts
// the restarts by connector.
type matConnect struct {
	*httptest.Server
	t *testing.T

	mu       sync.Mutex
	restarts map[string]int
	failures map[string]int // connector -> 500 answers left
	missing  map[string]bool
	configs  map[string]map[string]string // what GET /connectors?expand=info lists
}

func newMatConnect(t *testing.T) *matConnect {
	t.Helper()
	f := &matConnect{t: t, restarts: map[string]int{}, failures: map[string]int{}, missing: map[string]bool{}, configs: map[string]map[string]string{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *matConnect) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/connectors" {
		f.mu.Lock()
		defer f.mu.Unlock()
		out := map[string]any{}
		for name, cfg := range f.configs {
			out[name] = map[string]any{
				"info":   map[string]any{"name": name, "config": cfg, "tasks": []any{}, "type": "source"},
				"status": map[string]any{"name": name, "connector": map[string]any{"state": "RUNNING", "worker_id": "w"}, "tasks": []any{}},
			}
		}
		matWriteJSON(w, 200, out)
		return
	}
	name, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/connectors/"), "/restart")
	if r.Method != http.MethodPost || !ok || !strings.HasPrefix(r.URL.Path, "/connectors/") {
		matWriteJSON(w, 404, map[string]any{"error_code": 404, "message": "HTTP 404 Not Found"})
		return
	}
	if q := r.URL.Query(); q.Get("includeTasks") != "true" || q.Get("onlyFailed") != "false" {
		f.t.Errorf("restart %s with query %q, want includeTasks=true&onlyFailed=false", name, r.URL.RawQuery)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.missing[name]:
		matWriteJSON(w, 404, map[string]any{"error_code": 404, "message": "Unknown connector " + name})
	case f.failures[name] > 0:
		f.failures[name]--
		matWriteJSON(w, 500, map[string]any{"error_code": 500, "message": "request timed out"})
	default:
		f.restarts[name]++
		matWriteJSON(w, 202, map[string]any{
			"name": name, "type": "source",
			"connector": map[string]any{"state": "RESTARTING", "worker_id": "127.0.0.1:8083"},
			"tasks":     []any{map[string]any{"id": 0, "state": "RESTARTING", "worker_id": "127.0.0.1:8083"}},
		})
	}
}

func (f *matConnect) counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.restarts)
}

func (f *matConnect) client(t *testing.T) *connect.Client {
	t.Helper()
	c, err := connect.New(connect.WithURLs(f.URL), connect.WithBackoff(time.Millisecond, 2*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// matNoConnect returns a connect client of an address nothing listens
// on, for a Materializer whose test never runs Run.
func matNoConnect(t *testing.T) *connect.Client {
	t.Helper()
	c, err := connect.New(connect.WithURLs("http://127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newMatMaterializer returns a Materializer of a fresh temporary folder.
func newMatMaterializer(t *testing.T, vault *secrets.Client, cc *connect.Client, opts ...Opt) *Materializer {
	t.Helper()
	m, err := New(vault, cc, t.TempDir(), opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

// matWaitFor polls cond until it holds or 5s pass.
func matWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// matStartRun runs m.Run in a goroutine; the returned function stops it and
// checks that it returned nil.
func matStartRun(t *testing.T, m *Materializer, specs []connect.Spec) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, specs) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v, want nil after ctx ended", err)
				}
			case <-time.After(5 * time.Second):
				t.Error("Run did not return after ctx ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func matReadFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// matSetup is a fake Vault with two secrets, the specs of three
// connectors that reference them, and a Materializer of a temp folder.
type matSetup struct {
	vault   *vaultfake.Server
	connect *matConnect
	m       *Materializer
	specs   []connect.Spec
	events  *matEvents
}

type matEvents struct {
	mu     sync.Mutex
	events []Event
}

func (l *matEvents) add(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *matEvents) all() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.events...)
}

const (
	matDBPath    = "secret/data/app/db"
	matOtherPath = "secret/data/app/other"
)

func newMatSetup(t *testing.T, opts ...Opt) *matSetup {
	t.Helper()
	s := &matSetup{vault: vaultfake.NewServer(t), connect: newMatConnect(t), events: &matEvents{}}
	s.vault.Put("app/db", map[string]any{"user": "user-s3cr3t", "password": "pw-v1-s3cr3t", "unused": "unused-s3cr3t"})
	s.vault.Put("app/other", map[string]any{"token": "tok-v1-s3cr3t"})
	all := append([]Opt{
		WithInterval(5 * time.Millisecond), WithEvents(s.events.add),
	}, opts...)
	s.m = newMatMaterializer(t, newMatVaultClient(t, s.vault), s.connect.client(t), all...)
	s.specs = []connect.Spec{
		{Name: "app-a", Config: map[string]string{
			"connector.class": "X", "user": "${vault:secret/data/app/db:user}", "password": "${vault:secret/data/app/db:password}",
		}},
		{Name: "app-b", Config: map[string]string{
			"connector.class": "X", "url": "jdbc:x://db?password=${vault:secret/data/app/db:password}",
		}},
		{Name: "app-c", Config: map[string]string{"connector.class": "X", "token": "${vault:secret/data/app/other:token}"}},
		{Name: "app-d", Config: map[string]string{"connector.class": "X", "plain": "no references"}},
	}
	return s
}

// deploy puts the specs on the fake worker as the CLI deploys them: their
// references translated into placeholders of the Materializer's folder.
func (s *matSetup) deploy(t *testing.T) {
	t.Helper()
	translated, err := s.m.TranslateSpecs(s.specs)
	if err != nil {
		t.Fatal(err)
	}
	s.connect.mu.Lock()
	defer s.connect.mu.Unlock()
	for _, sp := range translated {
		s.connect.configs[sp.Name] = sp.Config
	}
}

func (s *matSetup) file(path, key string) string {
	return filepath.Join(s.m.Dir(), folderName(path), key)
}

// polls returns how many times the metadata of path (in the mount) was read.
func (s *matSetup) polls(path string) int {
	return s.vault.Count("secret/metadata/" + path)
}

// waitPolls waits until the metadata of app/db and app/other were each
// read n more times, so a poll that could misbehave has run.
func (s *matSetup) waitPolls(t *testing.T, n int) {
	t.Helper()
	db, other := s.polls("app/db"), s.polls("app/other")
	matWaitFor(t, fmt.Sprintf("%d more polls", n), func() bool {
		return s.polls("app/db") >= db+n && s.polls("app/other") >= other+n
	})
}
