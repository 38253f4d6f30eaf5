package secrets

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamkit/streamkit/internal/vaultfake"
)

// fakeVaultCredentials returns a client on a fresh fake with an injected
// clock, and credentials for secret/data/pricing/db.
func fakeVaultCredentials(t *testing.T, refresh, maxStale time.Duration) (*vaultfake.Server, *Credentials, *vaultfake.Clock, *vaultfake.Log) {
	t.Helper()
	f := vaultfake.NewServer(t)
	c, logs := fakeVaultNew(t, f, WithToken(NewValue(vaultfake.RootToken)))
	clk := vaultfake.NewClock()
	c.now = clk.Now
	return f, c.Credentials("secret/data/pricing/db", "username", "password", refresh, maxStale), clk, logs
}

// fakeVaultRotate stores a new version of pricing/db with password pw.
func fakeVaultRotate(f *vaultfake.Server, pw string) {
	f.Set(func(f *vaultfake.Server) {
		s := f.KV2["pricing/db"]
		s.Versions = append(s.Versions, map[string]any{"username": "pricing", "password": pw})
	})
}

func fakeVaultWantPair(t *testing.T, cr *Credentials, user, pass string) {
	t.Helper()
	u, p, err := cr.Get(context.Background())
	vaultfake.NoErr(t, err)
	if u.Reveal() != user || p.Reveal() != pass {
		t.Fatal("got another username or password than wanted")
	}
}

func TestCredentialsRefreshWindow(t *testing.T) {
	f, cr, clk, _ := fakeVaultCredentials(t, time.Minute, time.Hour)
	for range 3 {
		fakeVaultWantPair(t, cr, "pricing", "s3cr3t-pw-v2")
		clk.Add(10 * time.Second)
	}
	if n := f.Count("secret/data/pricing/db"); n != 1 {
		t.Fatalf("got %d reads within the refresh window, want 1", n)
	}

	fakeVaultRotate(f, "s3cr3t-pw-v3")
	fakeVaultWantPair(t, cr, "pricing", "s3cr3t-pw-v2") // 30s old: still cached
	clk.Add(31 * time.Second)
	fakeVaultWantPair(t, cr, "pricing", "s3cr3t-pw-v3")
	if n := f.Count("secret/data/pricing/db"); n != 2 {
		t.Fatalf("got %d reads, want 2", n)
	}
}

func TestCredentialsRefreshZeroReadsEveryTime(t *testing.T) {
	f, cr, _, _ := fakeVaultCredentials(t, 0, 0)
	for range 3 {
		fakeVaultWantPair(t, cr, "pricing", "s3cr3t-pw-v2")
	}
	if n := f.Count("secret/data/pricing/db"); n != 3 {
		t.Fatalf("got %d reads, want 3 with refresh 0", n)
	}
}

func TestCredentialsServeStale(t *testing.T) {
	for _, tc := range []struct {
		name string
		ft   vaultfake.Fault
		want error
	}{
		{"sealed", vaultfake.Fault{Status: http.StatusServiceUnavailable, Errs: []string{"Vault is sealed"}}, ErrSealed},
		{"server error", vaultfake.Fault{Status: http.StatusInternalServerError}, ErrUnavailable},
		{"forbidden", vaultfake.Fault{Status: http.StatusForbidden, Errs: []string{"permission denied"}}, ErrPermissionDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, cr, clk, logs := fakeVaultCredentials(t, time.Minute, 10*time.Minute)
			fakeVaultWantPair(t, cr, "pricing", "s3cr3t-pw-v2")
			f.Fault("secret/data/pricing/db", tc.ft)

			clk.Add(5 * time.Minute)
			fakeVaultWantPair(t, cr, "pricing", "s3cr3t-pw-v2")
			if !strings.Contains(logs.String(), "serving the last good credentials") {
				t.Fatalf("got logs %s, want a stale warning", logs)
			}
			if strings.Contains(logs.String(), vaultfake.Marker) || strings.Contains(logs.String(), `"pricing"`) {
				t.Fatalf("a credential reached the log: %s", logs)
			}

			clk.Add(5*time.Minute + time.Second)
			u, p, err := cr.Get(context.Background())
			vaultfake.WantErr(t, err, tc.want)
			if !u.IsZero() || !p.IsZero() {
				t.Fatal("got credentials with an error, want none")
			}
			if !strings.Contains(err.Error(), "secret/data/pricing/db") {
				t.Fatalf("got %v, want the path in the error", err)
			}

			// Vault back: fresh credentials again.
			f.ClearFaults()
			fakeVaultRotate(f, "s3cr3t-pw-v3")
			fakeVaultWantPair(t, cr, "pricing", "s3cr3t-pw-v3")
		})
	}
}

func TestCredentialsNoStaleWithoutGoodPair(t *testing.T) {
	f, cr, _, _ := fakeVaultCredentials(t, time.Minute, time.Hour)
	f.Fault("secret/data/pricing/db", vaultfake.Fault{Status: http.StatusServiceUnavailable, Errs: []string{"Vault is sealed"}})
	_, _, err := cr.Get(context.Background())
	vaultfake.WantErr(t, err, ErrSealed)
}

func TestCredentialsMissingKeys(t *testing.T) {
	f := vaultfake.NewServer(t)
	c, _ := fakeVaultNew(t, f, WithToken(NewValue(vaultfake.RootToken)))
	for name, cr := range map[string]*Credentials{
		"missing user key": c.Credentials("secret/data/pricing/db", "user", "password", time.Minute, time.Hour),
		"missing pass key": c.Credentials("secret/data/pricing/db", "username", "pass", time.Minute, time.Hour),
		"missing secret":   c.Credentials("secret/data/pricing/none", "username", "password", time.Minute, time.Hour),
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := cr.Get(context.Background())
			vaultfake.WantErr(t, err, ErrNotFound)
		})
	}
}

func TestCredentialsConcurrentGet(t *testing.T) {
	f, cr, _, _ := fakeVaultCredentials(t, time.Minute, time.Hour)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, _, err := cr.Get(context.Background())
			if err != nil {
				vaultfake.Collect(err.Error())
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := f.Count("secret/data/pricing/db"); n != 1 {
		t.Fatalf("got %d reads, want 1 for concurrent Gets in one window", n)
	}
}

func TestCredentialsSCRAM(t *testing.T) {
	f, cr, clk, _ := fakeVaultCredentials(t, time.Minute, time.Hour)
	for _, tc := range []struct {
		name string
		mech func() (string, error)
	}{
		{"SCRAM-SHA-512", func() (string, error) {
			m := cr.SCRAMSHA512()
			if m.Name() != "SCRAM-SHA-512" {
				t.Fatalf("got mechanism %q, want SCRAM-SHA-512", m.Name())
			}
			_, msg, err := m.Authenticate(context.Background(), "broker-1:9092")
			return string(msg), err
		}},
		{"SCRAM-SHA-256", func() (string, error) {
			m := cr.SCRAMSHA256()
			if m.Name() != "SCRAM-SHA-256" {
				t.Fatalf("got mechanism %q, want SCRAM-SHA-256", m.Name())
			}
			_, msg, err := m.Authenticate(context.Background(), "broker-1:9092")
			return string(msg), err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := tc.mech()
			vaultfake.NoErr(t, err)
			if !strings.HasPrefix(msg, "n,,n=pricing,r=") {
				t.Fatalf("got client-first message %q, want it to name user pricing", msg)
			}
		})
	}

	// A rotated user name is used by the next connection after the window.
	f.Set(func(f *vaultfake.Server) {
		s := f.KV2["pricing/db"]
		s.Versions = append(s.Versions, map[string]any{"username": "pricing-2", "password": "s3cr3t-pw-v3"})
	})
	clk.Add(2 * time.Minute)
	_, msg, err := cr.SCRAMSHA512().Authenticate(context.Background(), "broker-1:9092")
	vaultfake.NoErr(t, err)
	if !strings.HasPrefix(string(msg), "n,,n=pricing-2,r=") {
		t.Fatalf("got client-first message %q, want the rotated user", msg)
	}

	f.Fault("secret/data/pricing/db", vaultfake.Fault{Status: http.StatusInternalServerError})
	clk.Add(2 * time.Hour)
	_, _, err = cr.SCRAMSHA512().Authenticate(context.Background(), "broker-1:9092")
	vaultfake.WantErr(t, err, ErrUnavailable)
}

func TestCredentialsPLAIN(t *testing.T) {
	f, cr, clk, _ := fakeVaultCredentials(t, time.Minute, time.Hour)
	m := cr.PLAIN()
	if m.Name() != "PLAIN" {
		t.Fatalf("got mechanism %q, want PLAIN", m.Name())
	}
	_, msg, err := m.Authenticate(context.Background(), "broker-1:9092")
	vaultfake.NoErr(t, err)
	if string(msg) != "\x00pricing\x00s3cr3t-pw-v2" {
		t.Fatal("PLAIN message does not hold the current credentials")
	}
	fakeVaultRotate(f, "s3cr3t-pw-v3")
	clk.Add(2 * time.Minute)
	_, msg, err = m.Authenticate(context.Background(), "broker-1:9092")
	vaultfake.NoErr(t, err)
	if string(msg) != "\x00pricing\x00s3cr3t-pw-v3" {
		t.Fatal("PLAIN message does not hold the rotated password")
	}
	f.Fault("secret/data/pricing/db", vaultfake.Fault{Status: http.StatusForbidden, Errs: []string{"permission denied"}})
	clk.Add(2 * time.Hour)
	_, _, err = m.Authenticate(context.Background(), "broker-1:9092")
	vaultfake.WantErr(t, err, ErrPermissionDenied)
}

// fakeVaultBody records whether it was closed.
type fakeVaultBody struct {
	io.Reader
	mu     sync.Mutex
	closed bool
}

func (b *fakeVaultBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}

func TestBasicAuthTransport(t *testing.T) {
	f, cr, clk, _ := fakeVaultCredentials(t, time.Minute, time.Hour)
	var mu sync.Mutex
	var seen []string
	registry := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		mu.Lock()
		seen = append(seen, u+":"+p)
		mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer registry.Close()
	hc := &http.Client{Transport: cr.BasicAuthTransport(nil)}

	get := func() {
		t.Helper()
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, registry.URL+"/subjects", nil)
		vaultfake.NoErr(t, err)
		resp, err := hc.Do(req)
		vaultfake.NoErr(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("got status %d, want 200", resp.StatusCode)
		}
	}
	get()
	get()
	fakeVaultRotate(f, "s3cr3t-pw-v3")
	clk.Add(2 * time.Minute)
	get()
	mu.Lock()
	got := strings.Join(seen, " ")
	mu.Unlock()
	if want := "pricing:s3cr3t-pw-v2 pricing:s3cr3t-pw-v2 pricing:s3cr3t-pw-v3"; got != want {
		t.Fatalf("registry saw other credentials than the current ones on each request (%d requests)", len(seen))
	}

	// The caller's request is not modified.
	req, _ := http.NewRequest(http.MethodGet, registry.URL, nil)
	resp, err := cr.BasicAuthTransport(http.DefaultTransport).RoundTrip(req)
	vaultfake.NoErr(t, err)
	resp.Body.Close()
	if req.Header.Get("Authorization") != "" {
		t.Fatal("RoundTrip set the header on the caller's request")
	}

	// Without credentials, RoundTrip fails with Vault's error and closes
	// the request body, as a RoundTripper must.
	f.Fault("secret/data/pricing/db", vaultfake.Fault{Status: http.StatusServiceUnavailable, Errs: []string{"Vault is sealed"}})
	clk.Add(2 * time.Hour)
	body := &fakeVaultBody{Reader: strings.NewReader("{}")}
	req, _ = http.NewRequest(http.MethodPost, registry.URL+"/subjects/x/versions", body)
	_, err = cr.BasicAuthTransport(nil).RoundTrip(req)
	vaultfake.WantErr(t, err, ErrSealed)
	body.mu.Lock()
	defer body.mu.Unlock()
	if !body.closed {
		t.Fatal("request body not closed on error")
	}
}

// TestCredentialsHungVault: with Vault accepting requests and never
// answering, callers holding a pair they may still serve get it after
// StaleWait, all of them at once from one read, and none waits for
// another's read; without such a pair, Get waits for the caller's context.
func TestCredentialsHungVault(t *testing.T) {
	f, cr, clk, logs := fakeVaultCredentials(t, time.Minute, time.Hour)
	fakeVaultWantPair(t, cr, "pricing", "s3cr3t-pw-v2")
	f.Fault("secret/data/pricing/db", vaultfake.Fault{Hang: true})
	clk.Add(2 * time.Minute)

	start := time.Now()
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fakeVaultWantPair(t, cr, "pricing", "s3cr3t-pw-v2")
		}()
	}
	wg.Wait()
	if took := time.Since(start); took > StaleWait+time.Second {
		t.Fatalf("20 callers took %s with Vault hung, want about %s", took, StaleWait)
	}
	if n := f.Count("secret/data/pricing/db"); n != 2 {
		t.Fatalf("got %d reads, want 2: the first, and one for all 20 callers", n)
	}
	if !strings.Contains(logs.String(), "serving the last good credentials") {
		t.Fatalf("got logs %s, want a stale warning", logs)
	}

	strict := cr.client.Credentials("secret/data/pricing/db", "username", "password", 0, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, _, err := strict.Get(ctx); err == nil {
		t.Fatal("got credentials from a hung Vault with no pair to serve")
	}
}
