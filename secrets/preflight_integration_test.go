package secrets_test

// Integration test of Preflight on the platform's real Vault API (an
// OpenBao dev server). make test runs it with STREAMKIT_REQUIRE_PLATFORM=1.

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/secrets"
)

// preLog is a log buffer safe for concurrent use.
type preLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *preLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *preLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// preVaultClient logs in to the platform's Vault with token.
func preVaultClient(t *testing.T, ctx context.Context, addr, token string, logs *preLog) *secrets.Client {
	t.Helper()
	c, err := secrets.New(ctx, secrets.WithAddress(addr), secrets.WithToken(secrets.NewValue(token)),
		secrets.WithLogger(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// prePut writes a KV v2 secret at path of mount "secret" and deletes all
// its versions when the test ends.
func prePut(t *testing.T, ctx context.Context, c *secrets.Client, path string, data map[string]any) {
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

// TestIntegrationPreflight checks references with a token whose policy
// reads one folder of secrets: one reference passes, and a missing key, a
// missing secret, a path outside the policy and a KV v2 path without its
// data/ segment each fail with their sentinel.
func TestIntegrationPreflight(t *testing.T) {
	p := platformtest.Require(t, platformtest.Vault)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	logs := &preLog{}
	root := preVaultClient(t, ctx, p.VaultAddr, p.VaultToken, logs)
	unique := platformtest.UniqueName("it-pre")
	outside := platformtest.UniqueName("it-pre-outside")
	const password = "pw-s3cr3t-preflight"
	prePut(t, ctx, root, unique+"/db", map[string]any{"user": "pricing", "password": password})
	prePut(t, ctx, root, outside+"/db", map[string]any{"password": password})

	sys := root.API().Sys()
	policy := `path "secret/data/` + unique + `/*" { capabilities = ["read"] }
path "secret/metadata/` + unique + `/*" { capabilities = ["read"] }`
	if err := sys.PutPolicyWithContext(ctx, unique, policy); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.DeletePolicy(unique) })
	tok, err := root.API().Auth().Token().CreateWithContext(ctx, &api.TokenCreateRequest{Policies: []string{unique}, TTL: "5m"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = root.API().Auth().Token().RevokeOrphan(tok.Auth.ClientToken) })
	deployer := preVaultClient(t, ctx, p.VaultAddr, tok.Auth.ClientToken, logs)

	rep, err := deployer.Preflight(ctx, map[string]map[string]string{
		"pricing-db-source": {
			"database.password": "${vault:secret/data/" + unique + "/db:password}",
			"database.user":     "${vault:secret/data/" + unique + "/db:username}",
		},
		"pricing-sink": {
			"token":  "${vault:secret/data/" + unique + "/gone:token}",
			"secret": "${vault:secret/data/" + outside + "/db:password}",
			// The KV v2 path without data/: the token may look up the
			// mount (it may read paths under it) but not read this path.
			"nodata": "${vault:secret/" + unique + "/db:password}",
		},
	})
	if rep == nil {
		t.Fatalf("no report: %v", err)
	}
	if !errors.Is(err, secrets.ErrNotFound) || !errors.Is(err, secrets.ErrPermissionDenied) || !errors.Is(err, secrets.ErrInvalidRef) {
		t.Errorf("got %v, want an error matching ErrNotFound, ErrPermissionDenied and ErrInvalidRef", err)
	}
	want := map[string]struct {
		ok       bool
		sentinel error
		problem  string
	}{
		"database.password": {ok: true},
		"database.user":     {sentinel: secrets.ErrNotFound, problem: `no key "username"`},
		"token":             {sentinel: secrets.ErrNotFound, problem: "secret/metadata/" + unique + "/gone: 404"},
		"secret":            {sentinel: secrets.ErrPermissionDenied, problem: "token may not read (capabilities: deny)"},
		"nodata":            {sentinel: secrets.ErrInvalidRef, problem: "the path should be secret/data/" + unique + "/db"},
	}
	if len(rep.Checks) != len(want) {
		t.Fatalf("got %d checks, want %d:\n%s", len(rep.Checks), len(want), rep)
	}
	for _, ch := range rep.Checks {
		w := want[ch.ConfigKey]
		if ch.OK != w.ok || (!w.ok && (!errors.Is(ch.Err, w.sentinel) || !strings.Contains(ch.Problem, w.problem))) {
			t.Errorf("%s: got ok=%v problem %q, want ok=%v and a problem containing %q", ch.ConfigKey, ch.OK, ch.Problem, w.ok, w.problem)
		}
	}
	t.Logf("report:\n%s", rep)
	if strings.Contains(rep.String()+err.Error()+logs.String(), password) {
		t.Error("the report, error or log holds the secret")
	}
}
