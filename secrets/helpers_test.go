package secrets

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeVaultMarker is part of every secret the fake holds or issues (tokens,
// secret IDs, JWTs, wrapping tokens, KV values), so that a leak check only
// has to look for it. No path, key or error message contains it.
const fakeVaultMarker = "s3cr3t"

// fakeVaultLeaks collects every log line and every error string the tests
// produce, for the leak check in TestMain and TestNoSecretLeaks.
var fakeVaultLeaks struct {
	mu   sync.Mutex
	text bytes.Buffer
}

func fakeVaultCollect(s string) {
	fakeVaultLeaks.mu.Lock()
	defer fakeVaultLeaks.mu.Unlock()
	fakeVaultLeaks.text.WriteString(s)
	fakeVaultLeaks.text.WriteByte('\n')
}

// fakeVaultLeaked returns the collected lines that hold a secret.
func fakeVaultLeaked() []string {
	fakeVaultLeaks.mu.Lock()
	defer fakeVaultLeaks.mu.Unlock()
	var out []string
	for _, line := range strings.Split(fakeVaultLeaks.text.String(), "\n") {
		if strings.Contains(line, fakeVaultMarker) {
			out = append(out, line)
		}
	}
	return out
}

func TestMain(m *testing.M) {
	code := m.Run()
	if leaked := fakeVaultLeaked(); len(leaked) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: a secret reached a log or an error:\n%s\n", strings.Join(leaked, "\n"))
		code = 1
	}
	os.Exit(code)
}

// fakeVaultLog is a concurrency-safe log buffer that also feeds the leak
// collector.
type fakeVaultLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *fakeVaultLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fakeVaultCollect(string(p))
	return l.buf.Write(p)
}

func (l *fakeVaultLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// fakeVaultLogger returns a debug-level JSON logger into a new buffer.
func fakeVaultLogger() (*slog.Logger, *fakeVaultLog) {
	l := &fakeVaultLog{}
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug})), l
}

// fakeVaultWantErr fails unless err matches every target, and feeds the
// error's text to the leak collector.
func fakeVaultWantErr(t *testing.T, err error, targets ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want %v", targets)
	}
	fakeVaultCollect(err.Error())
	fakeVaultCollect(fmt.Sprintf("%+v %#v", err, err))
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Fatalf("got %v, want errors.Is %v", err, target)
		}
	}
	if strings.Contains(err.Error(), fakeVaultMarker) {
		t.Fatalf("error holds a secret: %v", err)
	}
}

// fakeVaultNoErr fails on err, after feeding it to the leak collector.
func fakeVaultNoErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		fakeVaultCollect(err.Error())
		t.Fatal(err)
	}
}

// fakeVaultRequest is one request the fake received.
type fakeVaultRequest struct {
	Method, Path string // Path without /v1/
	Query        url.Values
	Token        string
	Namespace    string
	Body         map[string]any
}

// fakeVaultFault makes requests to one path fail.
type fakeVaultFault struct {
	status int
	errs   []string
	times  int  // how many requests fail; 0 means all
	hang   bool // answer nothing until the request ends
}

type fakeVaultToken struct {
	ttl       int
	renewable bool
}

type fakeVaultKV2 struct {
	versions []map[string]any // version i+1; nil when deleted
	updated  time.Time
}

// fakeVaultServer is an httptest server with the part of Vault's HTTP API the
// client uses: token lookup and renewal, AppRole and Kubernetes login,
// response unwrapping, KV v2 (mount "secret"), KV v1 (mount "kv") and a
// leased secret (path "database/creds/app").
type fakeVaultServer struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	reqs     []fakeVaultRequest
	faults   map[string]*fakeVaultFault
	tokens   map[string]fakeVaultToken
	issued   int
	roleID   string
	secretID map[string]bool
	wraps    map[string]string // wrapping token -> secret ID
	k8sRole  string
	jwts     map[string]bool
	kv2      map[string]*fakeVaultKV2
	kv1      map[string]map[string]any

	// Login answers: token TTL in seconds and renewability.
	loginTTL       int
	loginRenewable bool
	// Renewal answers: TTL in seconds, or an error status when above 0.
	renewTTL    int
	renewStatus int

	done chan struct{}
}

// Fixed secrets of the fake. Each holds fakeVaultMarker.
const (
	fakeVaultRootToken = "hvs.s3cr3t-root"
	fakeVaultRoleID    = "s3cr3t-role-id"
	fakeVaultSecretID  = "s3cr3t-secret-id-1"
	fakeVaultJWT       = "eyJ.s3cr3t-jwt-1"
)

func newFakeVaultServer(t *testing.T) *fakeVaultServer { return startFakeVaultServer(t, false) }

func startFakeVaultServer(t *testing.T, tls bool) *fakeVaultServer {
	t.Helper()
	f := &fakeVaultServer{
		t:        t,
		faults:   map[string]*fakeVaultFault{},
		tokens:   map[string]fakeVaultToken{fakeVaultRootToken: {}},
		roleID:   fakeVaultRoleID,
		secretID: map[string]bool{fakeVaultSecretID: true},
		wraps:    map[string]string{},
		k8sRole:  "pricing",
		jwts:     map[string]bool{fakeVaultJWT: true},
		kv2: map[string]*fakeVaultKV2{
			"pricing/db": {versions: []map[string]any{
				{"username": "pricing", "password": "s3cr3t-pw-v1"},
				{"username": "pricing", "password": "s3cr3t-pw-v2", "port": json.Number("5432")},
			}, updated: time.Date(2025, 3, 1, 10, 0, 0, 123456000, time.UTC)},
		},
		kv1: map[string]map[string]any{
			"legacy/app": {"api_key": "s3cr3t-api-key"},
		},
		loginTTL:       3600,
		loginRenewable: true,
		renewTTL:       3600,
		done:           make(chan struct{}),
	}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	// Quiet the handshake errors of the tests that connect without the CA.
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tls {
		f.srv.StartTLS()
	} else {
		f.srv.Start()
	}
	t.Cleanup(f.close)
	return f
}

// close stops the server; hanging requests end first.
func (f *fakeVaultServer) close() {
	f.mu.Lock()
	select {
	case <-f.done:
	default:
		close(f.done)
	}
	f.mu.Unlock()
	f.srv.Close()
}

func (f *fakeVaultServer) addr() string { return f.srv.URL }

// caFile writes the TLS server's certificate as a PEM file.
func (f *fakeVaultServer) caFile() string {
	f.t.Helper()
	p := filepath.Join(f.t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
	if err := os.WriteFile(p, b, 0o600); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// set runs fn with the fake's lock held, to change its state.
func (f *fakeVaultServer) set(fn func(f *fakeVaultServer)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeVaultServer) fault(path string, ft fakeVaultFault) {
	f.set(func(f *fakeVaultServer) { f.faults[path] = &ft })
}

func (f *fakeVaultServer) clearFaults() {
	f.set(func(f *fakeVaultServer) { f.faults = map[string]*fakeVaultFault{} })
}

func (f *fakeVaultServer) addToken(tok string, ttl int, renewable bool) {
	f.set(func(f *fakeVaultServer) { f.tokens[tok] = fakeVaultToken{ttl: ttl, renewable: renewable} })
}

func (f *fakeVaultServer) requests() []fakeVaultRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeVaultRequest(nil), f.reqs...)
}

// count returns how many requests reached path (without /v1/).
func (f *fakeVaultServer) count(path string) int {
	n := 0
	for _, r := range f.requests() {
		if r.Path == path {
			n++
		}
	}
	return n
}

// last returns the last request to path.
func (f *fakeVaultServer) last(path string) fakeVaultRequest {
	f.t.Helper()
	rs := f.requests()
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].Path == path {
			return rs[i]
		}
	}
	f.t.Fatalf("no request to %s", path)
	return fakeVaultRequest{}
}

// new builds a client on the fake with a logger into the returned buffer.
func (f *fakeVaultServer) new(opts ...Opt) (*Client, *fakeVaultLog) {
	f.t.Helper()
	l, logs := fakeVaultLogger()
	c, err := New(context.Background(), append([]Opt{WithAddress(f.addr()), WithLogger(l)}, opts...)...)
	fakeVaultNoErr(f.t, err)
	return c, logs
}

func fakeVaultJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fakeVaultErrors(w http.ResponseWriter, status int, errs ...string) {
	if errs == nil {
		errs = []string{}
	}
	fakeVaultJSON(w, status, map[string]any{"errors": errs})
}

func (f *fakeVaultServer) serve(w http.ResponseWriter, r *http.Request) {
	req := fakeVaultRequest{
		Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, "/v1/"), Query: r.URL.Query(),
		Token: r.Header.Get("X-Vault-Token"), Namespace: r.Header.Get("X-Vault-Namespace"),
	}
	if r.Body != nil {
		d := json.NewDecoder(r.Body)
		d.UseNumber()
		_ = d.Decode(&req.Body)
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	ft := f.faults[req.Path]
	if ft != nil && ft.times > 0 {
		ft.times--
		if ft.times == 0 {
			delete(f.faults, req.Path)
		}
	}
	f.mu.Unlock()
	if ft != nil {
		if ft.hang {
			select {
			case <-r.Context().Done():
			case <-f.done:
			}
			return
		}
		fakeVaultErrors(w, ft.status, ft.errs...)
		return
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	p := req.Path
	switch {
	case p == "auth/token/lookup-self":
		tok, ok := f.tokens[req.Token]
		if !ok {
			fakeVaultErrors(w, 403, "permission denied")
			return
		}
		fakeVaultJSON(w, 200, map[string]any{"data": map[string]any{"ttl": tok.ttl, "renewable": tok.renewable, "policies": []string{"default"}}})
	case p == "auth/token/renew-self":
		if _, ok := f.tokens[req.Token]; !ok {
			fakeVaultErrors(w, 403, "permission denied")
			return
		}
		if f.renewStatus == http.StatusForbidden {
			fakeVaultErrors(w, f.renewStatus, "permission denied")
			return
		}
		if f.renewStatus > 0 {
			fakeVaultErrors(w, f.renewStatus, "internal error")
			return
		}
		f.tokens[req.Token] = fakeVaultToken{ttl: f.renewTTL, renewable: true}
		fakeVaultJSON(w, 200, map[string]any{"auth": map[string]any{"client_token": req.Token, "renewable": true, "lease_duration": f.renewTTL}})
	case p == "sys/wrapping/unwrap":
		wt := req.Token
		if s, ok := req.Body["token"].(string); ok {
			wt = s
		}
		sid, ok := f.wraps[wt]
		if !ok {
			fakeVaultErrors(w, 400, "wrapping token is not valid or does not exist")
			return
		}
		delete(f.wraps, wt) // single use
		fakeVaultJSON(w, 200, map[string]any{"data": map[string]any{"secret_id": sid, "secret_id_accessor": "accessor-1"}})
	case strings.HasPrefix(p, "auth/") && strings.HasSuffix(p, "/login"):
		f.login(w, req)
	case strings.HasPrefix(p, "secret/data/"), strings.HasPrefix(p, "secret/metadata/"),
		strings.HasPrefix(p, "kv/"), p == "database/creds/app":
		if _, ok := f.tokens[req.Token]; !ok {
			fakeVaultErrors(w, 403, "permission denied")
			return
		}
		f.read(w, req)
	default:
		fakeVaultErrors(w, 404, "no handler for route "+p)
	}
}

// login answers AppRole (role_id, secret_id) and Kubernetes (role, jwt)
// logins at any mount.
func (f *fakeVaultServer) login(w http.ResponseWriter, req fakeVaultRequest) {
	var ok bool
	if _, isAppRole := req.Body["role_id"]; isAppRole {
		sid, _ := req.Body["secret_id"].(string)
		ok = req.Body["role_id"] == f.roleID && f.secretID[sid]
	} else {
		jwt, _ := req.Body["jwt"].(string)
		ok = req.Body["role"] == f.k8sRole && f.jwts[jwt]
	}
	if !ok {
		fakeVaultErrors(w, 400, "invalid role or secret ID")
		return
	}
	f.issued++
	tok := fmt.Sprintf("hvs.s3cr3t-login-%d", f.issued)
	f.tokens[tok] = fakeVaultToken{ttl: f.loginTTL, renewable: f.loginRenewable}
	fakeVaultJSON(w, 200, map[string]any{"auth": map[string]any{
		"client_token": tok, "accessor": "accessor", "policies": []string{"default"},
		"renewable": f.loginRenewable, "lease_duration": f.loginTTL,
	}})
}

func (f *fakeVaultServer) read(w http.ResponseWriter, req fakeVaultRequest) {
	p := req.Path
	switch {
	case strings.HasPrefix(p, "secret/data/"):
		s := f.kv2[strings.TrimPrefix(p, "secret/data/")]
		if s == nil {
			fakeVaultErrors(w, 404)
			return
		}
		v := len(s.versions)
		if q := req.Query.Get("version"); q != "" {
			v, _ = strconv.Atoi(q)
		}
		if v < 1 || v > len(s.versions) {
			fakeVaultErrors(w, 404)
			return
		}
		md := map[string]any{"version": v, "created_time": s.updated.Format(time.RFC3339Nano), "deletion_time": "", "destroyed": false}
		data := s.versions[v-1]
		if data == nil {
			// Vault answers a deleted version with 404 and data null.
			md["deletion_time"] = s.updated.Format(time.RFC3339Nano)
			fakeVaultJSON(w, 404, map[string]any{"data": map[string]any{"data": nil, "metadata": md}})
			return
		}
		fakeVaultJSON(w, 200, map[string]any{"data": map[string]any{"data": data, "metadata": md}})
	case strings.HasPrefix(p, "secret/metadata/"):
		s := f.kv2[strings.TrimPrefix(p, "secret/metadata/")]
		if s == nil {
			fakeVaultErrors(w, 404)
			return
		}
		fakeVaultJSON(w, 200, map[string]any{"data": map[string]any{
			"current_version": len(s.versions), "updated_time": s.updated.Format(time.RFC3339Nano),
		}})
	case p == "database/creds/app":
		fakeVaultJSON(w, 200, map[string]any{
			"lease_id": "database/creds/app/lease-1", "lease_duration": 3600, "renewable": true,
			"data": map[string]any{"username": "v-app-1", "password": "s3cr3t-db-pw"},
		})
	default:
		d := f.kv1[strings.TrimPrefix(p, "kv/")]
		if d == nil {
			fakeVaultErrors(w, 404)
			return
		}
		fakeVaultJSON(w, 200, map[string]any{"data": d})
	}
}

// fakeVaultClock is a settable clock for Client.now.
type fakeVaultClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeVaultClock() *fakeVaultClock {
	return &fakeVaultClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeVaultClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeVaultClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeVaultEventually polls cond every few milliseconds for up to 5s.
func fakeVaultEventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fakeVaultWriteFile writes s to a new file in a temporary directory.
func fakeVaultWriteFile(t *testing.T, name, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
