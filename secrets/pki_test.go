package secrets

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamkit/streamkit/internal/vaultfake"
)

func pkiClient(t *testing.T, maxTTL time.Duration) (*vaultfake.Server, *Client) {
	f, c, _ := pkiClientLog(t, maxTTL)
	return f, c
}

func pkiClientLog(t *testing.T, maxTTL time.Duration) (*vaultfake.Server, *Client, *vaultfake.Log) {
	t.Helper()
	f := vaultfake.NewServer(t)
	f.Set(func(f *vaultfake.Server) { f.PKIRoles = map[string]time.Duration{"kafka-client": maxTTL} })
	logger, log := vaultfake.NewLogger()
	c, err := New(context.Background(), WithAddress(f.Addr()), WithToken(NewValue(vaultfake.RootToken)), WithLogger(logger))
	vaultfake.NoErr(t, err)
	return f, c, log
}

// noKeyIn fails when text holds a private key: its PEM armor, or the
// base64 of any of the keys.
func noKeyIn(t *testing.T, what, text string, certs ...*IssuedCertificate) {
	t.Helper()
	if strings.Contains(text, "PRIVATE KEY") {
		t.Errorf("%s holds a PEM private key", what)
	}
	for _, ic := range certs {
		der, err := x509.MarshalPKCS8PrivateKey(ic.TLS.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		if b64 := base64.StdEncoding.EncodeToString(der); strings.Contains(text, b64[:40]) {
			t.Errorf("%s holds the private key of %s", what, ic.SerialNumber)
		}
	}
}

func TestIssueCertificate(t *testing.T) {
	f, c := pkiClient(t, time.Hour)
	ctx := context.Background()
	ic, err := c.IssueCertificate(ctx, CertificateRequest{Mount: "pki", Role: "kafka-client", CommonName: "pricing-app", TTL: 90 * time.Second})
	vaultfake.NoErr(t, err)
	if ic.TLS.Leaf == nil || ic.TLS.Leaf.Subject.CommonName != "pricing-app" || len(ic.TLS.Certificate) != 2 {
		t.Fatalf("issued %v with a chain of %d", ic, len(ic.TLS.Certificate))
	}
	if life := time.Until(ic.NotAfter); life < 85*time.Second || life > 95*time.Second {
		t.Errorf("the certificate lives %s more, want about 90s", life)
	}
	if body := f.Last("pki/issue/kafka-client").Body; body["ttl"] != "90s" || body["common_name"] != "pricing-app" {
		t.Errorf("the request was %v", body)
	}
	roots := x509.NewCertPool()
	roots.AddCert(f.PKICA())
	if _, err := ic.TLS.Leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("the certificate does not chain to the engine's authority: %v", err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(verb, ic)
		noKeyIn(t, verb, out, ic)
		if strings.Contains(out, "D:") || !strings.Contains(out, ic.SerialNumber) {
			t.Errorf("%s prints %s", verb, out)
		}
	}
	js, err := json.Marshal(ic)
	vaultfake.NoErr(t, err)
	noKeyIn(t, "the JSON encoding", string(js), ic)
	if !strings.Contains(string(js), `"common_name":"pricing-app"`) {
		t.Errorf("JSON: %s", js)
	}

	_, err = c.IssueCertificate(ctx, CertificateRequest{Mount: "pki", Role: "no-such-role", CommonName: "x"})
	var ve *VaultError
	if !errors.As(err, &ve) || ve.StatusCode != 400 {
		t.Errorf("an unknown role: %v", err)
	}
	for _, bad := range []CertificateRequest{
		{Role: "r", CommonName: "x"},
		{Mount: "pki", CommonName: "x"},
		{Mount: "pki", Role: "a/b", CommonName: "x"},
		{Mount: "pki", Role: "r"},
		{Mount: "pki", Role: "r", CommonName: "x", IPSANs: []string{"not-an-ip"}},
		{Mount: "pki", Role: "r", CommonName: "x", TTL: -time.Second},
	} {
		if _, err := c.IssueCertificate(ctx, bad); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

func TestCertificateSourceOptions(t *testing.T) {
	_, c := pkiClient(t, time.Hour)
	req := CertificateRequest{Mount: "pki", Role: "kafka-client", CommonName: "app"}
	for _, opts := range []CertificateSourceOptions{{RenewAt: 1}, {RenewAt: -0.1}, {RetryMin: time.Minute, RetryMax: time.Second}} {
		if _, err := NewCertificateSource(context.Background(), c, req, opts); err == nil {
			t.Errorf("%+v: no error", opts)
		}
	}
	if _, err := NewCertificateSource(context.Background(), nil, req, CertificateSourceOptions{}); err == nil {
		t.Error("a nil client: no error")
	}
}

// TestCertificateSourceRenews: a source replaces its certificate before it
// expires, and each new TLS connection presents the current one to a
// server that requires the engine's client certificates.
func TestCertificateSourceRenews(t *testing.T) {
	f, c, log := pkiClientLog(t, time.Hour)
	var mu sync.Mutex
	var issued []*IssuedCertificate
	src, err := NewCertificateSource(context.Background(), c,
		CertificateRequest{Mount: "pki", Role: "kafka-client", CommonName: "app", TTL: 3 * time.Second},
		CertificateSourceOptions{RenewAt: 0.5, RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond,
			OnIssue: func(ic *IssuedCertificate) { mu.Lock(); issued = append(issued, ic); mu.Unlock() }})
	vaultfake.NoErr(t, err)

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.TLS.PeerCertificates[0].SerialNumber.String())
	}))
	pool := x509.NewCertPool()
	pool.AddCert(f.PKICA())
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.StartTLS()
	defer srv.Close()
	base := srv.Client().Transport.(*http.Transport).TLSClientConfig
	presented := func() string {
		tr := &http.Transport{TLSClientConfig: src.TLSConfig(base), DisableKeepAlives: true}
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
		if err != nil {
			t.Fatalf("request with the source's certificate: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	first := presented()
	if first != src.Current().TLS.Leaf.SerialNumber.String() {
		t.Fatalf("the server saw serial %s, the source serves %s", first, src.Current().TLS.Leaf.SerialNumber)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(issued)
		mu.Unlock()
		if n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d certificates issued in 10s, want 3 with a life of 3s renewed at half", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Run has renewed, so it has entered: a second one is refused.
	if err := src.Run(ctx); !errors.Is(err, ErrRunning) {
		t.Errorf("a second Run: %v", err)
	}
	if later := presented(); later == first {
		t.Errorf("a connection after two renewals presented the first certificate %s", first)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	noKeyIn(t, "the log", log.String(), issued...)
	if !strings.Contains(log.String(), issued[len(issued)-1].SerialNumber) {
		t.Errorf("the log does not name the certificates it issued:\n%s", log.String())
	}
	seen := map[string]bool{}
	for _, ic := range issued {
		if seen[ic.SerialNumber] {
			t.Errorf("serial %s issued twice", ic.SerialNumber)
		}
		seen[ic.SerialNumber] = true
	}
}

// TestCertificateSourceOutage: while Vault fails, the source serves its
// certificate until it expires, then refuses with ErrUnavailable and the
// last failure, never the expired one; once Vault answers, Run issues the
// next and new connections get it.
func TestCertificateSourceOutage(t *testing.T) {
	f, c := pkiClient(t, time.Hour)
	src, err := NewCertificateSource(context.Background(), c,
		CertificateRequest{Mount: "pki", Role: "kafka-client", CommonName: "app", TTL: 2 * time.Second},
		CertificateSourceOptions{RenewAt: 0.25, RetryMin: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond})
	vaultfake.NoErr(t, err)
	first := src.Current()
	f.FailWith("pki/issue/kafka-client", http.StatusServiceUnavailable)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = src.Run(ctx) }()

	time.Sleep(time.Second) // past the renewal point, before the end
	if got, err := src.GetClientCertificate(nil); err != nil || got != &first.TLS {
		t.Fatalf("during the outage, before expiry: %v", err)
	}
	if f.Count("pki/issue/kafka-client") < 3 {
		t.Errorf("%d requests in the outage: Run should retry", f.Count("pki/issue/kafka-client"))
	}
	time.Sleep(time.Until(first.NotAfter) + 100*time.Millisecond)
	_, err = src.GetClientCertificate(nil)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("after expiry in the outage: %v", err)
	}
	var ve *VaultError
	if !errors.As(err, &ve) || ve.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("the error does not carry Vault's last answer: %v", err)
	}
	noKeyIn(t, "the error", err.Error(), first)
	f.FailWith("pki/issue/kafka-client", 0)
	deadline := time.Now().Add(5 * time.Second)
	for src.Current() == first {
		if time.Now().After(deadline) {
			t.Fatal("no certificate issued 5s after Vault came back")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := src.GetClientCertificate(nil); err != nil {
		t.Errorf("after Vault came back: %v", err)
	}
}

// RevokeCertificate sends Vault the serial number an issue gave; a serial
// the mount never issued is its 400, and missing arguments are refused
// before Vault is asked.
func TestRevokeCertificate(t *testing.T) {
	f, c := pkiClient(t, time.Hour)
	ctx := context.Background()
	ic, err := c.IssueCertificate(ctx, CertificateRequest{Mount: "pki", Role: "kafka-client", CommonName: "pricing-app"})
	vaultfake.NoErr(t, err)
	vaultfake.NoErr(t, c.RevokeCertificate(ctx, "/pki/", ic.SerialNumber))
	var revoked []string
	f.Set(func(f *vaultfake.Server) { revoked = slices.Clone(f.Revoked) })
	if len(revoked) != 1 || revoked[0] != ic.SerialNumber {
		t.Fatalf("Vault revoked %v, want [%s]", revoked, ic.SerialNumber)
	}
	var ve *VaultError
	if err := c.RevokeCertificate(ctx, "pki", "00:ff"); !errors.As(err, &ve) || ve.StatusCode != 400 {
		t.Errorf("a serial never issued: %v", err)
	}
	for _, args := range [][2]string{{"", ic.SerialNumber}, {"pki", ""}, {"/", "01"}} {
		if err := c.RevokeCertificate(ctx, args[0], args[1]); err == nil {
			t.Errorf("RevokeCertificate(%q, %q): no error", args[0], args[1])
		}
	}
}
