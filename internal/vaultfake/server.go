package vaultfake

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fixed secrets of the fake. Each holds Marker.
const (
	// RootToken is a token without TTL that every Server knows.
	RootToken = "hvs.s3cr3t-root"
	// RoleID and SecretID log in with AppRole at any mount.
	RoleID   = "s3cr3t-role-id"
	SecretID = "s3cr3t-secret-id-1"
	// JWT logs in with Kubernetes auth, role "pricing", at any mount.
	JWT = "eyJ.s3cr3t-jwt-1"
)

// Request is one request the fake received.
type Request struct {
	Method, Path string // Path without /v1/
	Query        url.Values
	Token        string
	Namespace    string
	Body         map[string]any
}

// Fault makes requests to one path fail.
type Fault struct {
	Status int
	Errs   []string
	Times  int  // how many requests fail; 0 means all
	Hang   bool // answer nothing until the request ends
}

// Token is what the fake knows of a token.
type Token struct {
	TTL       int // seconds
	Renewable bool
}

// Mount is what the fake's sys/internal/ui/mounts/<path> says of the
// secrets engine mounted at a path.
type Mount struct {
	Type string // "kv", "database", ...
	// Version is a KV mount's version, "1" or "2"; empty for another
	// engine.
	Version string
}

// KV2Secret is a KV v2 secret of the fake.
type KV2Secret struct {
	Versions []map[string]any // version i+1; nil when deleted
	// Times are when each version was written, when Put wrote it; a
	// version without one was written at Updated.
	Times   []time.Time
	Updated time.Time // the last write
}

// versionTime is when version v (from 1) was written.
func (s *KV2Secret) versionTime(v int) string {
	t := s.Updated
	if v >= 1 && v <= len(s.Times) {
		t = s.Times[v-1]
	}
	return t.Format(time.RFC3339Nano)
}

// Server is an httptest server with the part of Vault's HTTP API the
// secrets client uses: token lookup and renewal, AppRole and Kubernetes
// login, response unwrapping, sys/capabilities-self, the mount of a path
// (sys/internal/ui/mounts/<path>, from Mounts), KV v2 (mount "secret"),
// KV v1 (mount "kv") and a leased secret (path "database/creds/app"). It
// starts with secret/data/pricing/db (two versions) and kv/legacy/app.
//
// Change its exported fields only inside Set, which holds its lock; its
// methods are safe for concurrent use.
type Server struct {
	t   TB
	srv *httptest.Server

	mu     sync.Mutex
	reqs   []Request
	faults map[string]*Fault
	caps   map[string][]string // API path -> capabilities; "root" when absent
	issued int
	done   chan struct{}

	tokens  map[string]Token
	roleID  string
	k8sRole string

	SecretIDs map[string]bool       // the AppRole secret IDs that log in
	Wraps     map[string]string     // wrapping token -> secret ID
	JWTs      map[string]bool       // the Kubernetes JWTs that log in
	KV2       map[string]*KV2Secret // path in the "secret" mount
	KV1       map[string]map[string]any
	// Mounts are the mounts sys/internal/ui/mounts knows, by path with
	// its trailing slash; a path under none of them is refused with 403,
	// as Vault refuses a token with no access to any mount of the path.
	// It starts with "secret/" (KV v2), "kv/" (KV v1) and "database/".
	Mounts map[string]Mount

	// Login answers: token TTL in seconds and renewability.
	LoginTTL       int
	LoginRenewable bool
	// Renewal answers: TTL in seconds, or an error status when above 0.
	RenewTTL    int
	RenewStatus int

	// PKIRoles are the roles of a PKI engine mounted at "pki", each with
	// its max TTL: pki/issue/<role> issues a certificate of PKICA's, with
	// the request's common_name and ttl (capped at the max), backdated
	// 30s as Vault does; pki/revoke records a serial_number it issued in
	// Revoked (and answers 400 for one it did not).
	PKIRoles map[string]time.Duration
	Revoked  []string
	pki      *pkiCA
}

// NewServer starts a fake on plain HTTP; it stops when the test ends.
func NewServer(t TB) *Server { return start(t, false) }

// NewTLSServer starts a fake on HTTPS with a certificate of its own (see
// CAFile); it stops when the test ends.
func NewTLSServer(t TB) *Server { return start(t, true) }

func start(t TB, tls bool) *Server {
	t.Helper()
	f := &Server{
		t:         t,
		faults:    map[string]*Fault{},
		caps:      map[string][]string{},
		tokens:    map[string]Token{RootToken: {}},
		roleID:    RoleID,
		SecretIDs: map[string]bool{SecretID: true},
		Wraps:     map[string]string{},
		k8sRole:   "pricing",
		JWTs:      map[string]bool{JWT: true},
		KV2: map[string]*KV2Secret{
			"pricing/db": {Versions: []map[string]any{
				{"username": "pricing", "password": "s3cr3t-pw-v1"},
				{"username": "pricing", "password": "s3cr3t-pw-v2", "port": json.Number("5432")},
			}, Updated: time.Date(2025, 3, 1, 10, 0, 0, 123456000, time.UTC)},
		},
		KV1: map[string]map[string]any{
			"legacy/app": {"api_key": "s3cr3t-api-key"},
		},
		Mounts: map[string]Mount{
			"secret/":   {Type: "kv", Version: "2"},
			"kv/":       {Type: "kv", Version: "1"},
			"database/": {Type: "database"},
		},
		LoginTTL:       3600,
		LoginRenewable: true,
		RenewTTL:       3600,
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
	t.Cleanup(f.Close)
	return f
}

// Close stops the server; hanging requests end first. It is idempotent.
func (f *Server) Close() {
	f.mu.Lock()
	select {
	case <-f.done:
	default:
		close(f.done)
	}
	f.mu.Unlock()
	f.srv.Close()
}

// Addr returns the server's URL.
func (f *Server) Addr() string { return f.srv.URL }

// CAFile writes the TLS server's certificate as a PEM file and returns
// its path.
func (f *Server) CAFile() string {
	f.t.Helper()
	p := filepath.Join(f.t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
	if err := os.WriteFile(p, b, 0o600); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// Set runs fn with the fake's lock held, to change its state.
func (f *Server) Set(fn func(f *Server)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// Put writes a new version of the KV v2 secret at path (in the "secret"
// mount) and returns its number.
func (f *Server) Put(path string, data map[string]any) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now().UTC()
	s := f.KV2[path]
	if s == nil {
		s = &KV2Secret{}
		f.KV2[path] = s
	}
	for len(s.Times) < len(s.Versions) {
		s.Times = append(s.Times, s.Updated)
	}
	s.Updated = now
	s.Versions = append(s.Versions, data)
	s.Times = append(s.Times, now)
	return len(s.Versions)
}

// Delete deletes the KV v2 secret at path with its metadata and every
// version, as `vault kv metadata delete` does: a later Put starts again
// at version 1.
func (f *Server) Delete(path string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.KV2, path)
}

// Fault makes requests to path (without /v1/) fail as ft says, until
// ClearFault or ClearFaults.
func (f *Server) Fault(path string, ft Fault) {
	f.Set(func(f *Server) { f.faults[path] = &ft })
}

// ClearFault makes requests to path succeed again.
func (f *Server) ClearFault(path string) {
	f.Set(func(f *Server) { delete(f.faults, path) })
}

// ClearFaults makes every request succeed again.
func (f *Server) ClearFaults() {
	f.Set(func(f *Server) { f.faults = map[string]*Fault{} })
}

// SetCaps sets what sys/capabilities-self answers for apiPath; a path
// without it answers "root".
func (f *Server) SetCaps(apiPath string, caps ...string) {
	f.Set(func(f *Server) { f.caps[apiPath] = caps })
}

// AddToken makes tok a known token.
func (f *Server) AddToken(tok string, ttl int, renewable bool) {
	f.Set(func(f *Server) { f.tokens[tok] = Token{TTL: ttl, Renewable: renewable} })
}

// Requests returns every request received, in order.
func (f *Server) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.reqs...)
}

// Count returns how many requests reached path (without /v1/).
func (f *Server) Count(path string) int {
	n := 0
	for _, r := range f.Requests() {
		if r.Path == path {
			n++
		}
	}
	return n
}

// Last returns the last request to path, failing the test when there is
// none.
func (f *Server) Last(path string) Request {
	f.t.Helper()
	rs := f.Requests()
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].Path == path {
			return rs[i]
		}
	}
	f.t.Fatalf("no request to %s", path)
	return Request{}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErrors(w http.ResponseWriter, status int, errs ...string) {
	if errs == nil {
		errs = []string{}
	}
	writeJSON(w, status, map[string]any{"errors": errs})
}

func (f *Server) serve(w http.ResponseWriter, r *http.Request) {
	req := Request{
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
	if ft != nil && ft.Times > 0 {
		ft.Times--
		if ft.Times == 0 {
			delete(f.faults, req.Path)
		}
	}
	f.mu.Unlock()
	if ft != nil {
		if ft.Hang {
			select {
			case <-r.Context().Done():
			case <-f.done:
				// The server goes away: the connection drops, as a Vault
				// that is killed mid-request drops it, rather than
				// answering an empty 200 the client would read as "no
				// secret".
				panic(http.ErrAbortHandler)
			}
			return
		}
		writeErrors(w, ft.Status, ft.Errs...)
		return
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	p := req.Path
	switch {
	case p == "auth/token/lookup-self":
		tok, ok := f.tokens[req.Token]
		if !ok {
			writeErrors(w, 403, "permission denied")
			return
		}
		writeJSON(w, 200, map[string]any{"data": map[string]any{"ttl": tok.TTL, "renewable": tok.Renewable, "policies": []string{"default"}}})
	case p == "auth/token/renew-self":
		if _, ok := f.tokens[req.Token]; !ok {
			writeErrors(w, 403, "permission denied")
			return
		}
		if f.RenewStatus == http.StatusForbidden {
			writeErrors(w, f.RenewStatus, "permission denied")
			return
		}
		if f.RenewStatus > 0 {
			writeErrors(w, f.RenewStatus, "internal error")
			return
		}
		f.tokens[req.Token] = Token{TTL: f.RenewTTL, Renewable: true}
		writeJSON(w, 200, map[string]any{"auth": map[string]any{"client_token": req.Token, "renewable": true, "lease_duration": f.RenewTTL}})
	case p == "sys/wrapping/unwrap":
		wt := req.Token
		if s, ok := req.Body["token"].(string); ok {
			wt = s
		}
		sid, ok := f.Wraps[wt]
		if !ok {
			writeErrors(w, 400, "wrapping token is not valid or does not exist")
			return
		}
		delete(f.Wraps, wt) // single use
		writeJSON(w, 200, map[string]any{"data": map[string]any{"secret_id": sid, "secret_id_accessor": "accessor-1"}})
	case p == "sys/capabilities-self":
		if _, ok := f.tokens[req.Token]; !ok {
			writeErrors(w, 403, "permission denied")
			return
		}
		f.capabilities(w, req)
	case strings.HasPrefix(p, "sys/internal/ui/mounts/"):
		if _, ok := f.tokens[req.Token]; !ok {
			writeErrors(w, 403, "permission denied")
			return
		}
		f.mount(w, strings.TrimPrefix(p, "sys/internal/ui/mounts/"))
	case strings.HasPrefix(p, "auth/") && strings.HasSuffix(p, "/login"):
		f.login(w, req)
	case strings.HasPrefix(p, "secret/data/"), strings.HasPrefix(p, "secret/metadata/"),
		strings.HasPrefix(p, "kv/"), p == "database/creds/app", strings.HasPrefix(p, "pki/issue/"), p == "pki/revoke":
		if _, ok := f.tokens[req.Token]; !ok {
			writeErrors(w, 403, "permission denied")
			return
		}
		f.read(w, req)
	default:
		writeErrors(w, 404, "no handler for route "+p)
	}
}

// capabilities answers POST (vault/api: PUT) sys/capabilities-self.
func (f *Server) capabilities(w http.ResponseWriter, req Request) {
	raw, _ := req.Body["paths"].([]any)
	data := map[string]any{}
	for _, x := range raw {
		p, _ := x.(string)
		caps, ok := f.caps[p]
		if !ok {
			caps = []string{"root"}
		}
		data[p] = caps
	}
	writeJSON(w, 200, map[string]any{"data": data})
}

// mount answers GET sys/internal/ui/mounts/<path> with the longest of
// Mounts that path is under.
func (f *Server) mount(w http.ResponseWriter, path string) {
	best := ""
	for m := range f.Mounts {
		if strings.HasPrefix(path+"/", m) && len(m) > len(best) {
			best = m
		}
	}
	if best == "" {
		writeErrors(w, 403, "preflight capability check returned 403, please ensure client's policies grant access to path \""+path+"/\"")
		return
	}
	m := f.Mounts[best]
	var options map[string]any
	if m.Version != "" {
		options = map[string]any{"version": m.Version}
	}
	writeJSON(w, 200, map[string]any{"data": map[string]any{
		"path": best, "type": m.Type, "options": options, "description": "", "local": false, "seal_wrap": false,
	}})
}

// login answers AppRole (role_id, secret_id) and Kubernetes (role, jwt)
// logins at any mount.
func (f *Server) login(w http.ResponseWriter, req Request) {
	var ok bool
	if _, isAppRole := req.Body["role_id"]; isAppRole {
		sid, _ := req.Body["secret_id"].(string)
		ok = req.Body["role_id"] == f.roleID && f.SecretIDs[sid]
	} else {
		jwt, _ := req.Body["jwt"].(string)
		ok = req.Body["role"] == f.k8sRole && f.JWTs[jwt]
	}
	if !ok {
		writeErrors(w, 400, "invalid role or secret ID")
		return
	}
	f.issued++
	tok := fmt.Sprintf("hvs.s3cr3t-login-%d", f.issued)
	f.tokens[tok] = Token{TTL: f.LoginTTL, Renewable: f.LoginRenewable}
	writeJSON(w, 200, map[string]any{"auth": map[string]any{
		"client_token": tok, "accessor": "accessor", "policies": []string{"default"},
		"renewable": f.LoginRenewable, "lease_duration": f.LoginTTL,
	}})
}

func (f *Server) read(w http.ResponseWriter, req Request) {
	p := req.Path
	switch {
	case strings.HasPrefix(p, "secret/data/"):
		s := f.KV2[strings.TrimPrefix(p, "secret/data/")]
		if s == nil {
			writeErrors(w, 404)
			return
		}
		v := len(s.Versions)
		if q := req.Query.Get("version"); q != "" {
			v, _ = strconv.Atoi(q)
		}
		if v < 1 || v > len(s.Versions) {
			writeErrors(w, 404)
			return
		}
		md := map[string]any{"version": v, "created_time": s.versionTime(v), "deletion_time": "", "destroyed": false}
		data := s.Versions[v-1]
		if data == nil {
			// Vault answers a deleted version with 404 and data null.
			md["deletion_time"] = s.Updated.Format(time.RFC3339Nano)
			writeJSON(w, 404, map[string]any{"data": map[string]any{"data": nil, "metadata": md}})
			return
		}
		writeJSON(w, 200, map[string]any{"data": map[string]any{"data": data, "metadata": md}})
	case strings.HasPrefix(p, "secret/metadata/"):
		s := f.KV2[strings.TrimPrefix(p, "secret/metadata/")]
		if s == nil || len(s.Versions) == 0 {
			writeErrors(w, 404)
			return
		}
		versions := map[string]any{}
		for i := range s.Versions {
			versions[strconv.Itoa(i+1)] = map[string]any{"created_time": s.versionTime(i + 1), "deletion_time": "", "destroyed": s.Versions[i] == nil}
		}
		writeJSON(w, 200, map[string]any{"data": map[string]any{
			"current_version": len(s.Versions), "updated_time": s.Updated.Format(time.RFC3339Nano),
			"versions": versions,
		}})
	case strings.HasPrefix(p, "pki/issue/"):
		maxTTL, ok := f.PKIRoles[strings.TrimPrefix(p, "pki/issue/")]
		if !ok {
			writeErrors(w, 400, "unknown role")
			return
		}
		f.issuePKI(w, req.Body, maxTTL)
	case p == "pki/revoke":
		f.revokePKI(w, req.Body)
	case p == "database/creds/app":
		writeJSON(w, 200, map[string]any{
			"lease_id": "database/creds/app/lease-1", "lease_duration": 3600, "renewable": true,
			"data": map[string]any{"username": "v-app-1", "password": "s3cr3t-db-pw"},
		})
	default:
		d := f.KV1[strings.TrimPrefix(p, "kv/")]
		if d == nil {
			writeErrors(w, 404)
			return
		}
		writeJSON(w, 200, map[string]any{"data": d})
	}
}

// FailWith makes every request to path (without /v1/) answer status, with
// Vault's message for it ("permission denied" for 403, "internal error"
// otherwise); status 0 makes them succeed again.
func (f *Server) FailWith(path string, status int) {
	if status == 0 {
		f.ClearFault(path)
		return
	}
	msg := "internal error"
	if status == http.StatusForbidden {
		msg = "permission denied"
	}
	f.Fault(path, Fault{Status: status, Errs: []string{msg}})
}
