package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/internal/vaultfake"
)

func matWriteJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// newMatVaultClient returns a Client of v, logged in with its root token.
func newMatVaultClient(t *testing.T, v *vaultfake.Server, opts ...Opt) *Client {
	t.Helper()
	all := append([]Opt{WithAddress(v.Addr()), WithToken(NewValue(vaultfake.RootToken))}, opts...)
	c, err := New(context.Background(), all...)
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
}

func newMatConnect(t *testing.T) *matConnect {
	t.Helper()
	f := &matConnect{t: t, restarts: map[string]int{}, failures: map[string]int{}, missing: map[string]bool{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *matConnect) serve(w http.ResponseWriter, r *http.Request) {
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

// newMatMaterializer returns a Materializer of a fresh temporary folder.
func newMatMaterializer(t *testing.T, vault *Client, opts ...MaterializerOpt) *Materializer {
	t.Helper()
	m, err := NewMaterializer(vault, t.TempDir(), opts...)
	if err != nil {
		t.Fatalf("NewMaterializer: %v", err)
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

func TestNewMaterializer(t *testing.T) {
	v := vaultfake.NewServer(t)
	vc := newMatVaultClient(t, v)
	tests := []struct {
		name    string
		vault   *Client
		dir     string
		opts    []MaterializerOpt
		wantErr string
		wantDir string
	}{
		{name: "defaults", vault: vc, dir: "/etc/kafka/secrets", wantDir: "/etc/kafka/secrets"},
		{name: "cleaned", vault: vc, dir: "/etc/kafka/secrets/", wantDir: "/etc/kafka/secrets"},
		{name: "nil vault", dir: "/etc/kafka/secrets", wantErr: "nil vault client"},
		{name: "empty dir", vault: vc, wantErr: "empty secrets folder"},
		{name: "relative dir", vault: vc, dir: "secrets", wantErr: "want an absolute path"},
		{name: "root dir", vault: vc, dir: "/", wantErr: "a folder of its own"},
		{name: "colon in dir", vault: vc, dir: "/etc/kafka:x", wantErr: "may not hold ':'"},
		{name: "brace in dir", vault: vc, dir: "/etc/kafka}", wantErr: "may not hold ':'"},
		{name: "zero interval", vault: vc, dir: "/s", opts: []MaterializerOpt{MaterializeInterval(0)}, wantErr: "interval 0s"},
		{name: "nil logger", vault: vc, dir: "/s", opts: []MaterializerOpt{MaterializeLogger(nil)}, wantErr: "nil logger"},
		{name: "errors together", dir: "x", opts: []MaterializerOpt{MaterializeInterval(-1)}, wantErr: "nil vault client\nsecrets folder \"x\": want an absolute path\ninterval -1ns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMaterializer(tt.vault, tt.dir, tt.opts...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Dir() != tt.wantDir {
				t.Errorf("got dir %q, want %q", m.Dir(), tt.wantDir)
			}
			if m.interval != 30*time.Second {
				t.Errorf("got interval %v, want the default 30s", m.interval)
			}
		})
	}
}

func TestTranslate(t *testing.T) {
	m, err := NewMaterializer(newMatVaultClient(t, vaultfake.NewServer(t)), "/etc/kafka/secrets")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      map[string]string
		want    map[string]string
		wantErr string
	}{
		{
			name: "whole value",
			in:   map[string]string{"database.password": "${vault:secret/data/pricing/db:password}", "tasks.max": "1"},
			want: map[string]string{"database.password": "${dir:/etc/kafka/secrets/secret_data_pricing_db:password}", "tasks.max": "1"},
		},
		{
			name: "embedded and repeated",
			in:   map[string]string{"connection.url": "jdbc:postgresql://db/pricing?user=${vault:secret/data/pricing/db:user}&password=${vault:secret/data/pricing/db:password}"},
			want: map[string]string{"connection.url": "jdbc:postgresql://db/pricing?user=${dir:/etc/kafka/secrets/secret_data_pricing_db:user}&password=${dir:/etc/kafka/secrets/secret_data_pricing_db:password}"},
		},
		{
			name: "leading and trailing slashes name the same secret",
			in:   map[string]string{"a": "${vault:/secret/data/pricing/db/:password}"},
			want: map[string]string{"a": "${dir:/etc/kafka/secrets/secret_data_pricing_db:password}"},
		},
		{
			name: "escaped path characters",
			in:   map[string]string{"a": "${vault:kv/data/team_a/.hidden db?version=2:pw}"},
			want: map[string]string{"a": "${dir:/etc/kafka/secrets/kv_data_team%5Fa_.hidden%20db%3Fversion%3D2:pw}"},
		},
		{
			name: "other providers untouched",
			in:   map[string]string{"a": "${dir:/etc/kafka/secrets/x:pw}", "b": "${file:/etc/kafka/secrets/f.properties:k}", "c": "plain"},
			want: map[string]string{"a": "${dir:/etc/kafka/secrets/x:pw}", "b": "${file:/etc/kafka/secrets/f.properties:k}", "c": "plain"},
		},
		{name: "nil config", in: nil, want: map[string]string{}},
		{name: "kv v1 path", in: map[string]string{"a": "${vault:kv/pricing/db:pw}"}, wantErr: "a: invalid vault reference: kv/pricing/db: the materializer reads KV v2 secrets only"},
		{name: "dynamic path", in: map[string]string{"a": "${vault:database/creds/pricing:password}"}, wantErr: "KV v2 secrets only"},
		{name: "dot key", in: map[string]string{"a": "${vault:secret/data/x:.tmp-1}"}, wantErr: `key ".tmp-1" is not a file name`},
		{name: "dotdot key", in: map[string]string{"a": "${vault:secret/data/x:..}"}, wantErr: `key ".." is not a file name`},
		{name: "slash key", in: map[string]string{"a": "${vault:secret/data/x:a/b}"}, wantErr: "invalid vault reference"},
		{name: "malformed", in: map[string]string{"a": "${vault:secret/data/x}"}, wantErr: "a: malformed ${vault:...} reference"},
		{name: "dotdot path", in: map[string]string{"a": "${vault:secret/data/../x:k}"}, wantErr: "bad path"},
		{name: "too long", in: map[string]string{"a": "${vault:secret/data/" + strings.Repeat("x", 250) + ":k}"}, wantErr: "path too long for a folder name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.Translate(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				if !errors.Is(err, ErrInvalidRef) {
					t.Errorf("got %v, want it to match ErrInvalidRef", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTranslateIsDeterministic(t *testing.T) {
	vc := newMatVaultClient(t, vaultfake.NewServer(t))
	config := map[string]string{}
	for i := range 50 {
		config[fmt.Sprintf("k%02d", i)] = fmt.Sprintf("x${vault:secret/data/app/s%d:key%d}y${vault:secret/data/app/t:k}", i%7, i%3)
	}
	in := maps.Clone(config)
	var first map[string]string
	for i := range 20 {
		// A new Materializer each time: nothing may depend on its state.
		m, err := NewMaterializer(vc, "/srv/secrets")
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Translate(config)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = got
			continue
		}
		if !reflect.DeepEqual(got, first) {
			t.Fatalf("translation %d differs from the first: got %v, want %v", i, got, first)
		}
	}
	if !reflect.DeepEqual(config, in) {
		t.Errorf("Translate changed its input: got %v, want %v", config, in)
	}
	// Translating a translated config changes nothing.
	m, _ := NewMaterializer(vc, "/srv/secrets")
	again, err := m.Translate(first)
	if err != nil || !reflect.DeepEqual(again, first) {
		t.Errorf("translating twice: got %v, %v, want %v", again, err, first)
	}
}

func matCheckFolderName(t *testing.T, path string) {
	t.Helper()
	name := folderName(path)
	if strings.ContainsAny(name, "/:{}\x00") || name == "." || name == ".." || strings.HasPrefix(name, ".") {
		t.Errorf("folderName(%q) = %q: not a safe single name", path, name)
	}
	// A left inverse proves folderName injective.
	back, ok := decodeFolderName(name)
	if !ok || back != path {
		t.Errorf("folderName(%q) = %q decodes to %q, %v: not injective", path, name, back, ok)
	}
}

func TestFolderNameIsInjective(t *testing.T) {
	// Pairs a naive '/' -> '_' mapping, or '_' -> "__", would merge.
	paths := []string{
		"secret/data/pricing/db", "secret/data/pricing_db", "secret_data/pricing/db",
		"a/b_c", "a_b/c", "a/b/c", "a_b_c", "a__b", "a/_b", "a_/b", "a%5Fb", "a%b",
		".", "..", ".a", "a/.", "a/..b", "ü/ß", "a b", "a?version=1", "a\x00b",
	}
	seen := map[string]string{}
	for _, p := range paths {
		matCheckFolderName(t, p)
		name := folderName(p)
		if other, ok := seen[name]; ok {
			t.Errorf("folderName(%q) = folderName(%q) = %q", p, other, name)
		}
		seen[name] = p
	}
	if got, want := folderName("secret/data/pricing/db"), "secret_data_pricing_db"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func FuzzFolderName(f *testing.F) {
	for _, s := range []string{"secret/data/pricing/db", "a_b/c", "%", ".x", "x?version=3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) { matCheckFolderName(t, path) })
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
	events []MaterializeEvent
}

func (l *matEvents) add(e MaterializeEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *matEvents) all() []MaterializeEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]MaterializeEvent(nil), l.events...)
}

const (
	matDBPath    = "secret/data/app/db"
	matOtherPath = "secret/data/app/other"
)

func newMatSetup(t *testing.T, opts ...MaterializerOpt) *matSetup {
	t.Helper()
	s := &matSetup{vault: vaultfake.NewServer(t), connect: newMatConnect(t), events: &matEvents{}}
	s.vault.Put("app/db", map[string]any{"user": "user-s3cr3t", "password": "pw-v1-s3cr3t", "unused": "unused-s3cr3t"})
	s.vault.Put("app/other", map[string]any{"token": "tok-v1-s3cr3t"})
	all := append([]MaterializerOpt{
		MaterializeRestarts(s.connect.client(t)), MaterializeInterval(5 * time.Millisecond), MaterializeEvents(s.events.add),
	}, opts...)
	s.m = newMatMaterializer(t, newMatVaultClient(t, s.vault), all...)
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

func (s *matSetup) file(path, key string) string {
	return filepath.Join(s.m.Dir(), folderName(path), key)
}

func TestSyncWritesFiles(t *testing.T) {
	s := newMatSetup(t)
	changed, err := s.m.Sync(context.Background(), s.specs)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]Ref{
		"app-a": {{Path: matDBPath, Key: "password"}, {Path: matDBPath, Key: "user"}},
		"app-b": {{Path: matDBPath, Key: "password"}},
		"app-c": {{Path: matOtherPath, Key: "token"}},
	}
	if !reflect.DeepEqual(changed, want) {
		t.Errorf("got changed %v, want %v", changed, want)
	}
	for _, f := range []struct{ path, key, want string }{
		{matDBPath, "user", "user-s3cr3t"}, {matDBPath, "password", "pw-v1-s3cr3t"}, {matOtherPath, "token", "tok-v1-s3cr3t"},
	} {
		file := s.file(f.path, f.key)
		if got := matReadFile(t, file); got != f.want {
			t.Errorf("%s holds %q, want %q (exactly, no newline)", file, got, f.want)
		}
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode(); got != 0o600 {
			t.Errorf("%s: mode %v, want -rw-------", file, got)
		}
		di, err := os.Stat(filepath.Dir(file))
		if err != nil {
			t.Fatal(err)
		}
		if got := di.Mode(); got != fs.ModeDir|0o700 {
			t.Errorf("%s: mode %v, want drwx------", filepath.Dir(file), got)
		}
	}
	// Only the referenced keys, and no temporary file left behind.
	entries, err := os.ReadDir(filepath.Dir(s.file(matDBPath, "user")))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"password", "user"}; !reflect.DeepEqual(names, want) {
		t.Errorf("folder holds %v, want %v", names, want)
	}
	// One read per path, however many references.
	if got := s.vault.Count("secret/data/app/db"); got != 1 {
		t.Errorf("got %d reads of app/db, want 1", got)
	}
	// The files are where the translated placeholders point.
	translated, err := s.m.Translate(s.specs[0].Config)
	if err != nil {
		t.Fatal(err)
	}
	ph := translated["password"]
	inner := strings.TrimSuffix(strings.TrimPrefix(ph, "${dir:"), "}")
	i := strings.LastIndex(inner, ":")
	if got := filepath.Join(inner[:i], inner[i+1:]); got != s.file(matDBPath, "password") {
		t.Errorf("placeholder %s names %s, want %s", ph, got, s.file(matDBPath, "password"))
	}
	if s.m.versions[matDBPath] != 1 || s.m.versions[matOtherPath] != 1 {
		t.Errorf("got versions %v, want 1 for both paths", s.m.versions)
	}
}

func TestSyncDoesNotRewriteUnchanged(t *testing.T) {
	s := newMatSetup(t)
	ctx := context.Background()
	if _, err := s.m.Sync(ctx, s.specs); err != nil {
		t.Fatal(err)
	}
	file := s.file(matDBPath, "password")
	before, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	// A loose mode is tightened without a rewrite.
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	changed, err := s.m.Sync(ctx, s.specs)
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 0 {
		t.Errorf("got changed %v, want none", changed)
	}
	after, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Errorf("%s was replaced though its content did not change", file)
	}
	if after.Mode() != 0o600 {
		t.Errorf("got mode %v, want -rw-------", after.Mode())
	}

	// A new version changes only the file of the key that changed.
	s.vault.Put("app/db", map[string]any{"user": "user-s3cr3t", "password": "pw-v2-s3cr3t"})
	userBefore, _ := os.Stat(s.file(matDBPath, "user"))
	changed, err = s.m.Sync(ctx, s.specs)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]Ref{"app-a": {{Path: matDBPath, Key: "password"}}, "app-b": {{Path: matDBPath, Key: "password"}}}
	if !reflect.DeepEqual(changed, want) {
		t.Errorf("got changed %v, want %v", changed, want)
	}
	if got := matReadFile(t, file); got != "pw-v2-s3cr3t" {
		t.Errorf("got %q, want the new password", got)
	}
	userAfter, _ := os.Stat(s.file(matDBPath, "user"))
	if !os.SameFile(userBefore, userAfter) {
		t.Error("the user file was replaced though its content did not change")
	}
	if s.m.versions[matDBPath] != 2 {
		t.Errorf("got version %d, want 2", s.m.versions[matDBPath])
	}
}

func TestSyncFailuresWriteNothing(t *testing.T) {
	s := newMatSetup(t)
	ctx := context.Background()
	if _, err := s.m.Sync(ctx, s.specs); err != nil {
		t.Fatal(err)
	}
	// A new version without the user key: neither file may change, or
	// the connector would pair a new password with an old user.
	s.vault.Put("app/db", map[string]any{"password": "pw-v2-s3cr3t"})
	s.vault.FailWith("secret/data/app/other", http.StatusForbidden)
	changed, err := s.m.Sync(ctx, s.specs)
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, ErrPermissionDenied) {
		t.Fatalf("got %v, want an error matching ErrNotFound and ErrPermissionDenied", err)
	}
	for _, want := range []string{`secret/data/app/db: 404: no key "user"`, "secret/data/app/other: 403: permission denied"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if len(changed) != 0 {
		t.Errorf("got changed %v, want none", changed)
	}
	if got := matReadFile(t, s.file(matDBPath, "password")); got != "pw-v1-s3cr3t" {
		t.Errorf("password file holds %q, want the last good one", got)
	}
	if got := matReadFile(t, s.file(matOtherPath, "token")); got != "tok-v1-s3cr3t" {
		t.Errorf("token file holds %q, want the last good one", got)
	}
	if s.m.versions[matDBPath] != 1 {
		t.Errorf("got version %d, want 1: a failed sync must not advance it", s.m.versions[matDBPath])
	}
}

func TestSyncRefusesUnmaterializableRefs(t *testing.T) {
	s := newMatSetup(t)
	specs := []connect.Spec{{Name: "x", Config: map[string]string{"a": "${vault:kv/app:pw}"}}}
	if _, err := s.m.Sync(context.Background(), specs); !errors.Is(err, ErrInvalidRef) {
		t.Fatalf("got %v, want ErrInvalidRef", err)
	}
	if n := s.vault.Count("secret/data/app/db"); n != 0 {
		t.Errorf("Vault was read %d times before the specs were validated", n)
	}
}

func TestTranslateSpecs(t *testing.T) {
	s := newMatSetup(t)
	deployed, err := s.m.TranslateSpecs(s.specs)
	if err != nil {
		t.Fatal(err)
	}
	if len(deployed) != len(s.specs) || deployed[1].Name != "app-b" {
		t.Fatalf("got %v, want the specs in order", deployed)
	}
	want := "jdbc:x://db?password=${dir:" + s.m.Dir() + "/secret_data_app_db:password}"
	if got := deployed[1].Config["url"]; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := s.specs[1].Config["url"]; !strings.Contains(got, "${vault:") {
		t.Errorf("TranslateSpecs changed its input: %q", got)
	}
	// Sync and Run want the specs as written: translated ones would
	// silently sync nothing.
	if _, err := s.m.Sync(context.Background(), deployed); err == nil || !strings.Contains(err.Error(), `connector "app-a": password: a translated placeholder`) {
		t.Errorf("Sync of translated specs: got %v, want an error", err)
	}
	if err := s.m.Run(context.Background(), deployed); err == nil || !strings.Contains(err.Error(), "a translated placeholder") {
		t.Errorf("Run of translated specs: got %v, want an error", err)
	}
	// A folder someone else keeps in the secrets folder is not ours.
	mixed := []connect.Spec{{Name: "app-a", Config: map[string]string{
		"password": "${vault:secret/data/app/db:password}",
		"ssl":      "${dir:" + s.m.Dir() + "/tls:keystore.password}",
		"other":    "${dir:" + s.m.Dir() + "/secret_data_x:k}${dir:/elsewhere/secret_data_x:k}",
	}}}
	if _, err := s.m.Sync(context.Background(), mixed); err == nil || !strings.Contains(err.Error(), "other: a translated placeholder") ||
		strings.Contains(err.Error(), "ssl:") {
		t.Errorf("Sync of mixed placeholders: got %v, want an error for other only", err)
	}
	delete(mixed[0].Config, "other")
	if _, err := s.m.Sync(context.Background(), mixed); err != nil {
		t.Errorf("Sync with a placeholder of another folder: %v", err)
	}
	bad := []connect.Spec{{Name: "x", Config: map[string]string{"a": "${vault:kv/app:pw}"}}}
	if _, err := s.m.TranslateSpecs(bad); !errors.Is(err, ErrInvalidRef) || !strings.Contains(err.Error(), `connector "x"`) {
		t.Errorf("got %v, want ErrInvalidRef naming the connector", err)
	}
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

func TestRunRestartsOnlyOnVersionChange(t *testing.T) {
	s := newMatSetup(t)
	if _, err := s.m.Sync(context.Background(), s.specs); err != nil {
		t.Fatal(err)
	}
	matStartRun(t, s.m, s.specs)

	s.waitPolls(t, 5)
	if got := s.connect.counts(); len(got) != 0 {
		t.Fatalf("restarts %v while nothing changed, want none", got)
	}
	if got := s.vault.Count("secret/data/app/db"); got != 1 {
		t.Errorf("got %d reads of app/db, want only Sync's: polls read metadata", got)
	}

	// Rotate the password: the connectors that reference it restart once.
	s.vault.Put("app/db", map[string]any{"user": "user-s3cr3t", "password": "pw-v2-s3cr3t"})
	matWaitFor(t, "restarts of app-a and app-b", func() bool {
		c := s.connect.counts()
		return c["app-a"] == 1 && c["app-b"] == 1
	})
	if got := matReadFile(t, s.file(matDBPath, "password")); got != "pw-v2-s3cr3t" {
		t.Errorf("got %q, want the rotated password", got)
	}
	s.waitPolls(t, 5)
	if got, want := s.connect.counts(), map[string]int{"app-a": 1, "app-b": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("got restarts %v, want %v", got, want)
	}

	// A new version that leaves the referenced keys as they were
	// rewrites nothing and restarts nothing.
	reads := s.vault.Count("secret/data/app/db")
	s.vault.Put("app/db", map[string]any{"user": "user-s3cr3t", "password": "pw-v2-s3cr3t", "comment": "touched"})
	matWaitFor(t, "a read of version 3", func() bool { return s.vault.Count("secret/data/app/db") > reads })
	s.waitPolls(t, 5)
	if got, want := s.connect.counts(), map[string]int{"app-a": 1, "app-b": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("got restarts %v, want %v", got, want)
	}
	if got := s.vault.Count("secret/data/app/db"); got != reads+1 {
		t.Errorf("got %d reads of app/db after version 3, want 1", got-reads)
	}

	var kinds []string
	for _, e := range s.events.all() {
		kinds = append(kinds, fmt.Sprintf("%s %s%s", e.Kind, e.Path, e.Connector))
	}
	want := []string{
		"written " + matDBPath, "written " + matOtherPath, // Sync
		"written " + matDBPath, "restarted app-a", "restarted app-b", // rotation
	}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("got events %q, want %q", kinds, want)
	}
}

func TestRunWithoutSyncWritesAndRestartsOnlyOnChange(t *testing.T) {
	s := newMatSetup(t)
	// A file already right, as a previous process left it.
	if _, err := s.m.Sync(context.Background(), s.specs[2:3]); err != nil {
		t.Fatal(err)
	}
	fresh, err := NewMaterializer(s.m.vault, s.m.Dir(), MaterializeRestarts(s.connect.client(t)), MaterializeInterval(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	s.m = fresh
	matStartRun(t, s.m, s.specs)
	matWaitFor(t, "restarts of app-a and app-b", func() bool {
		c := s.connect.counts()
		return c["app-a"] == 1 && c["app-b"] == 1
	})
	s.waitPolls(t, 3)
	if got, want := s.connect.counts(), map[string]int{"app-a": 1, "app-b": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("got restarts %v, want %v: app-c's file was already right", got, want)
	}
}

func TestRunVaultErrorsKeepFilesAndRestartNothing(t *testing.T) {
	logs := &vaultfake.Log{} // also fed to the leak check
	s := newMatSetup(t, MaterializeLogger(slog.New(slog.NewTextHandler(logs, nil))))
	if _, err := s.m.Sync(context.Background(), s.specs); err != nil {
		t.Fatal(err)
	}
	matStartRun(t, s.m, s.specs)
	s.waitPolls(t, 1)
	s.vault.Put("app/db", map[string]any{"user": "user-s3cr3t", "password": "pw-v2-s3cr3t"})

	for _, status := range []int{http.StatusForbidden, http.StatusInternalServerError, http.StatusServiceUnavailable} {
		s.vault.FailWith("secret/metadata/app/db", status)
		s.waitPolls(t, 3)
		s.vault.FailWith("secret/metadata/app/db", 0)
		if got := matReadFile(t, s.file(matDBPath, "password")); got != "pw-v1-s3cr3t" {
			t.Fatalf("metadata %d: the file holds %q, want the last good one", status, got)
		}
		if got := s.connect.counts(); len(got) != 0 {
			t.Fatalf("metadata %d: restarts %v, want none", status, got)
		}
	}
	// The metadata shows the new version but its read fails: retried at
	// every poll, nothing written, nothing restarted.
	for _, status := range []int{http.StatusForbidden, http.StatusInternalServerError} {
		s.vault.FailWith("secret/data/app/db", status)
		reads := s.vault.Count("secret/data/app/db")
		matWaitFor(t, "3 failed reads", func() bool { return s.vault.Count("secret/data/app/db") >= reads+3 })
		if got := matReadFile(t, s.file(matDBPath, "password")); got != "pw-v1-s3cr3t" {
			t.Fatalf("read %d: the file holds %q, want the last good one", status, got)
		}
		if got := s.connect.counts(); len(got) != 0 {
			t.Fatalf("read %d: restarts %v, want none", status, got)
		}
	}
	// Vault is back: one write, one restart per connector.
	s.vault.FailWith("secret/data/app/db", 0)
	matWaitFor(t, "restarts of app-a and app-b", func() bool {
		c := s.connect.counts()
		return c["app-a"] == 1 && c["app-b"] == 1
	})
	s.waitPolls(t, 3)
	if got, want := s.connect.counts(), map[string]int{"app-a": 1, "app-b": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("got restarts %v, want %v", got, want)
	}
	if got := matReadFile(t, s.file(matDBPath, "password")); got != "pw-v2-s3cr3t" {
		t.Errorf("got %q, want the rotated password", got)
	}
	for _, want := range []string{
		`level=WARN msg="vault secret metadata not read; retrying at the next poll" path=secret/data/app/db error="vault read metadata secret/metadata/app/db: 403: permission denied"`,
		`level=WARN msg="vault secret not materialized; its files keep their content" path=secret/data/app/db error="vault read secret/data/app/db: 500: internal error"`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log does not hold %s", want)
		}
	}
}

func TestRunRetriesFailedRestarts(t *testing.T) {
	s := newMatSetup(t)
	if _, err := s.m.Sync(context.Background(), s.specs); err != nil {
		t.Fatal(err)
	}
	// The connect client tries 5 times a call: 7 failures fail one poll's
	// restart and the next poll's first tries.
	s.connect.mu.Lock()
	s.connect.failures["app-a"] = 7
	s.connect.missing["app-b"] = true
	s.connect.mu.Unlock()
	matStartRun(t, s.m, s.specs)
	s.vault.Put("app/db", map[string]any{"user": "user-s3cr3t", "password": "pw-v2-s3cr3t"})
	matWaitFor(t, "the restart of app-a", func() bool { return s.connect.counts()["app-a"] == 1 })
	s.waitPolls(t, 3)
	if got, want := s.connect.counts(), map[string]int{"app-a": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("got restarts %v, want %v (app-b is not deployed)", got, want)
	}
	var failed, restarted int
	for _, e := range s.events.all() {
		switch {
		case e.Kind == MaterializeFailed && e.Connector == "app-a":
			failed++
		case e.Kind == MaterializeRestarted && e.Connector == "app-a":
			restarted++
			if want := []string{matDBPath}; !reflect.DeepEqual(e.Paths, want) {
				t.Errorf("got paths %v, want %v", e.Paths, want)
			}
		}
	}
	if failed != 1 || restarted != 1 {
		t.Errorf("got %d failed and %d restarted events for app-a, want 1 and 1", failed, restarted)
	}
}

func TestRunPreconditions(t *testing.T) {
	s := newMatSetup(t)
	ctx := context.Background()
	noRestarts, err := NewMaterializer(s.m.vault, s.m.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if err := noRestarts.Run(ctx, s.specs); err == nil || !strings.Contains(err.Error(), "MaterializeRestarts") {
		t.Errorf("got %v, want an error naming MaterializeRestarts", err)
	}
	bad := []connect.Spec{{Name: "x", Config: map[string]string{"a": "${vault:kv/app:pw}"}}}
	if err := s.m.Run(ctx, bad); !errors.Is(err, ErrInvalidRef) {
		t.Errorf("got %v, want ErrInvalidRef", err)
	}
	stop := matStartRun(t, s.m, s.specs)
	s.waitPolls(t, 1)
	if err := s.m.Run(ctx, s.specs); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run: got %v, want ErrRunning", err)
	}
	stop()
	// Once the first returned, Run may run again.
	ctx2, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := s.m.Run(ctx2, s.specs); err != nil {
		t.Errorf("Run after Run: %v", err)
	}
}

func TestRunPinnedVersionIsNotPolled(t *testing.T) {
	s := newMatSetup(t)
	s.vault.Put("app/db", map[string]any{"user": "u2", "password": "pw-v2-s3cr3t"})
	specs := []connect.Spec{{Name: "pinned", Config: map[string]string{"p": "${vault:secret/data/app/db?version=1:password}"}}}
	matStartRun(t, s.m, specs)
	matWaitFor(t, "the pinned file", func() bool {
		b, _ := os.ReadFile(s.file(matDBPath+"?version=1", "password"))
		return string(b) == "pw-v1-s3cr3t"
	})
	time.Sleep(30 * time.Millisecond)
	if n := s.polls("app/db"); n != 0 {
		t.Errorf("a pinned version's metadata was read %d times, want 0", n)
	}
}

// TestSecretValuesNeverAppear runs everything that logs, fails, reports or
// emits events, and looks for the secrets in all of it.
func TestSecretValuesNeverAppear(t *testing.T) {
	logs := &vaultfake.Log{} // also fed to the leak check
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	values := []string{vaultfake.Marker, vaultfake.RootToken} // every value below holds the marker

	v := vaultfake.NewServer(t)
	v.Put("app/db", map[string]any{"user": "user-s3cr3t", "password": "pw-v1-s3cr3t", "unused": "unused-s3cr3t"})
	v.Put("app/other", map[string]any{"token": "tok-v1-s3cr3t"})
	fc := newMatConnect(t)
	cc, err := connect.New(connect.WithURLs(fc.URL), connect.WithBackoff(time.Millisecond, 2*time.Millisecond), connect.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	vc := newMatVaultClient(t, v, WithLogger(logger))
	var out []string // everything printed that is not the log
	events := &matEvents{}
	m, err := NewMaterializer(vc, t.TempDir(), MaterializeRestarts(cc), MaterializeInterval(2*time.Millisecond),
		MaterializeLogger(logger), MaterializeEvents(events.add))
	if err != nil {
		t.Fatal(err)
	}
	specs := []connect.Spec{
		{Name: "app-a", Config: map[string]string{"user": "${vault:secret/data/app/db:user}", "password": "${vault:secret/data/app/db:password}"}},
		{Name: "app-c", Config: map[string]string{"token": "${vault:secret/data/app/other:token}", "missing": "${vault:secret/data/app/other:nope}"}},
	}
	ctx := context.Background()
	translated, err := m.Translate(specs[0].Config)
	out = append(out, fmt.Sprint(translated, err))
	changed, err := m.Sync(ctx, specs)
	out = append(out, fmt.Sprintf("%v %+v %#v", changed, err, err))
	if err == nil {
		t.Fatal("Sync of a missing key succeeded")
	}
	specs[1].Config = map[string]string{"token": "${vault:secret/data/app/other:token}"}

	stop := matStartRun(t, m, specs)
	v.Put("app/db", map[string]any{"user": "user-s3cr3t", "password": "pw-v2-s3cr3t"})
	matWaitFor(t, "a restart", func() bool { return fc.counts()["app-a"] == 1 })
	v.Put("app/db", map[string]any{"user": "user-s3cr3t", "password": "pw-v1-s3cr3t"})
	v.FailWith("secret/data/app/db", http.StatusInternalServerError)
	v.FailWith("secret/metadata/app/other", http.StatusForbidden)
	reads := v.Count("secret/data/app/db")
	matWaitFor(t, "failed reads", func() bool { return v.Count("secret/data/app/db") >= reads+3 })
	fc.mu.Lock()
	fc.failures["app-a"] = 100
	fc.mu.Unlock()
	v.FailWith("secret/data/app/db", 0)
	matWaitFor(t, "failed restarts", func() bool {
		fc.mu.Lock()
		defer fc.mu.Unlock()
		return fc.failures["app-a"] < 90
	})
	stop()

	v.SetCaps("secret/data/app/other", "deny")
	rep, err := vc.Preflight(ctx, []connect.Spec{
		{Name: "app-a", Config: map[string]string{"user": "${vault:secret/data/app/db:user}", "x": "${vault:secret/data/app/db:nope}"}},
		{Name: "app-c", Config: map[string]string{"token": "${vault:secret/data/app/other:token}", "bad": "${vault:oops}"}},
		{Name: "app-e", Config: map[string]string{"gone": "${vault:secret/data/app/gone:k}"}},
	})
	if rep == nil || err == nil {
		t.Fatalf("Preflight with problems: got %v, %v, want a report and an error", rep, err)
	}
	j, jerr := json.Marshal(rep)
	out = append(out, rep.String(), fmt.Sprintf("%v %+v %#v", rep, rep, rep), string(j), fmt.Sprint(jerr), err.Error(), fmt.Sprintf("%#v", err))
	for _, e := range events.all() {
		out = append(out, fmt.Sprintf("%v %+v %#v", e, e, e))
		if e.Err != nil {
			out = append(out, e.Err.Error())
		}
	}
	out = append(out, fmt.Sprintf("%v %+v", vc, vc))

	all := logs.String() + strings.Join(out, "\n")
	vaultfake.Collect(strings.Join(out, "\n")) // the logs were collected as written; TestMain looks for vaultfake.Marker in both
	for _, want := range []string{"vault secret materialized", "connector restart failed", "vault secret not materialized", "secret/data/app/db", `no key \"nope\"`} {
		if !strings.Contains(all, want) {
			t.Errorf("the output lacks %q: the test did not exercise what it means to", want)
		}
	}
	for _, secret := range values {
		if strings.Contains(all, secret) {
			i := strings.Index(all, secret)
			t.Errorf("secret %q appears: ...%s...", secret, all[max(0, i-200):min(len(all), i+50)])
		}
	}
}
