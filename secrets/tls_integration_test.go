package secrets_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/secrets"
)

// TestIntegrationVaultTLS reads a secret from the platform's Vault on its
// TLS listener, with the CA given as an option and as VAULT_CACERT. Then
// each way the connection can be refused is a typed error at once, never
// ErrUnavailable (which callers retry): a CA file of another authority,
// no CA file at all (the system's roots), a certificate the client sees as
// expired (ErrCertificate, around crypto/x509's error), and a wrong token
// (ErrAuth and ErrPermissionDenied). Nothing logged or returned shows the
// token or the secret.
func TestIntegrationVaultTLS(t *testing.T) {
	p := platformtest.Require(t, platformtest.Vault, platformtest.HTTPS)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	token := secrets.NewValue(p.VaultToken)
	c, err := secrets.New(ctx, secrets.WithAddress(p.VaultTLSAddr), secrets.WithCACert(p.TLSCAFile), secrets.WithToken(token),
		secrets.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	path := platformtest.UniqueName("it-tls") + "/db"
	const password = "tls-secret-7f3a9c"
	if _, err := c.API().KVv2("secret").Put(ctx, path, map[string]any{"password": password}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.API().KVv2("secret").DeleteMetadata(context.Background(), path) })
	s, err := c.ReadKV2(ctx, "secret", path, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Data["password"].Reveal(); got != password {
		t.Fatalf("read %q over TLS", got)
	}

	// The way a service is configured: the environment.
	t.Setenv(secrets.EnvVaultAddr, p.VaultTLSAddr)
	t.Setenv(secrets.EnvVaultCACert, p.TLSCAFile)
	t.Setenv(secrets.EnvVaultToken, p.VaultToken)
	fromEnv, err := secrets.New(ctx, secrets.WithEnvironment(), secrets.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := secrets.ParseRef("${vault:secret/data/" + path + ":password}")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := fromEnv.Read(ctx, ref); err != nil || v.Reveal() != password {
		t.Fatalf("Read with VAULT_CACERT: %v", err)
	}

	_, foreignPEM, err := platformtest.ForeignCA()
	if err != nil {
		t.Fatal(err)
	}
	foreignFile := filepath.Join(t.TempDir(), "foreign-ca.pem")
	if err := os.WriteFile(foreignFile, foreignPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	trust, err := p.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	trust.Time = func() time.Time { return time.Now().AddDate(30, 0, 0) }
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = trust
	cfg := api.DefaultConfig()
	cfg.Address, cfg.HttpClient, cfg.MaxRetries = p.VaultTLSAddr, &http.Client{Transport: tr}, 0
	future, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	certificate := func(check func(error) bool) func(error) bool {
		return func(err error) bool {
			return errors.Is(err, secrets.ErrCertificate) && errors.Is(err, secrets.ErrAuth) && !errors.Is(err, secrets.ErrUnavailable) && check(err)
		}
	}
	unknownAuthority := func(err error) bool { var ua x509.UnknownAuthorityError; return errors.As(err, &ua) }
	for _, tc := range []struct {
		name  string
		opts  []secrets.Opt
		check func(error) bool
	}{
		{"wrong CA", []secrets.Opt{secrets.WithAddress(p.VaultTLSAddr), secrets.WithCACert(foreignFile), secrets.WithToken(token)},
			certificate(unknownAuthority)},
		{"no CA", []secrets.Opt{secrets.WithAddress(p.VaultTLSAddr), secrets.WithToken(token)}, certificate(unknownAuthority)},
		{"expired certificate", []secrets.Opt{secrets.WithAPIClient(future), secrets.WithToken(token)},
			certificate(func(err error) bool {
				var ci x509.CertificateInvalidError
				return errors.As(err, &ci) && ci.Reason == x509.Expired
			})},
		{"wrong token", []secrets.Opt{secrets.WithAddress(p.VaultTLSAddr), secrets.WithCACert(p.TLSCAFile),
			secrets.WithToken(secrets.NewValue("s.not-a-token-of-this-vault"))},
			func(err error) bool {
				return errors.Is(err, secrets.ErrAuth) && errors.Is(err, secrets.ErrPermissionDenied)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := secrets.New(ctx, append(tc.opts, secrets.WithLogger(logger))...)
			if err == nil || !tc.check(err) {
				t.Fatalf("New: %v", err)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("refused after %s: it should not retry", took)
			}
			if strings.Contains(err.Error(), p.VaultToken) {
				t.Errorf("the error shows the token: %v", err)
			}
			t.Logf("refused in %s: %v", time.Since(start).Round(time.Millisecond), err)
		})
	}
	if strings.Contains(logs.String(), p.VaultToken) || strings.Contains(logs.String(), password) {
		t.Errorf("the logs show the token or the secret:\n%s", logs.String())
	}

}
