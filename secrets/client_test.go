package secrets

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/streamkit/streamkit/internal/vaultfake"
)

func TestNewOptionErrors(t *testing.T) {
	f := vaultfake.NewServer(t)
	ac, err := api.NewClient(&api.Config{Address: f.Addr()})
	vaultfake.NoErr(t, err)
	root := WithToken(NewValue(vaultfake.RootToken))
	appRole := WithAuth(AppRoleAuth(vaultfake.RoleID, SecretIDValue(NewValue(vaultfake.SecretID)), ""))
	for _, tc := range []struct {
		name string
		opts []Opt
		want string
	}{
		{"no address", []Opt{root}, "no address"},
		{"token and auth", []Opt{WithAddress(f.Addr()), root, appRole}, "WithToken and WithAuth exclude each other"},
		{"api client and address", []Opt{WithAPIClient(ac), WithAddress(f.Addr()), root}, "WithAPIClient excludes WithAddress"},
		{"api client and ca cert", []Opt{WithAPIClient(ac), WithCACert("/nonexistent/ca.pem"), root}, "WithAPIClient excludes WithAddress and WithCACert"},
		{"nil logger", []Opt{WithAddress(f.Addr()), root, WithLogger(nil)}, "nil logger"},
		{"no token and no auth", []Opt{WithAddress(f.Addr())}, "no token and no auth method"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(context.Background(), tc.opts...)
			vaultfake.WantErr(t, err)
			if c != nil {
				t.Fatalf("got client %v with error, want nil", c)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %q, want it to contain %q", err, tc.want)
			}
		})
	}
	if n := len(f.Requests()); n != 0 {
		t.Fatalf("got %d requests, want none for invalid options", n)
	}

	t.Run("all errors at once", func(t *testing.T) {
		_, err := New(context.Background(), root, appRole, WithLogger(nil))
		vaultfake.WantErr(t, err)
		for _, want := range []string{"nil logger", "exclude each other", "no address"} {
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("got %q, want it to contain %q", err, want)
			}
		}
	})
}

func TestNewAPIClientToken(t *testing.T) {
	f := vaultfake.NewServer(t)
	ac, err := api.NewClient(&api.Config{Address: f.Addr()})
	vaultfake.NoErr(t, err)
	ac.SetToken(vaultfake.RootToken)
	l, _ := vaultfake.NewLogger()
	c, err := New(context.Background(), WithAPIClient(ac), WithLogger(l))
	vaultfake.NoErr(t, err)
	if c.API() != ac {
		t.Fatal("API() is not the client given with WithAPIClient")
	}
	if got := f.Last("auth/token/lookup-self").Token; got != vaultfake.RootToken {
		t.Fatal("lookup-self did not use the API client's token")
	}
}

func TestNewWithEnvironment(t *testing.T) {
	f := vaultfake.NewTLSServer(t)
	t.Setenv(EnvVaultAddr, f.Addr())
	t.Setenv(EnvVaultToken, vaultfake.RootToken)
	t.Setenv(EnvVaultNamespace, "team-env")
	t.Setenv(EnvVaultCACert, f.CAFile())
	// Read by vault/api's own DefaultConfig, never by WithEnvironment: a
	// client that used it would fail to connect.
	t.Setenv("VAULT_AGENT_ADDR", "http://127.0.0.1:1")

	l, _ := vaultfake.NewLogger()
	c, err := New(context.Background(), WithEnvironment(), WithLogger(l))
	vaultfake.NoErr(t, err)
	_, err = c.ReadKV2(context.Background(), "secret", "pricing/db", 0)
	vaultfake.NoErr(t, err)
	for _, r := range f.Requests() {
		if r.Token != vaultfake.RootToken {
			t.Fatalf("%s: VAULT_TOKEN not used", r.Path)
		}
		if r.Namespace != "team-env" {
			t.Fatalf("%s: got namespace %q, want %q from VAULT_NAMESPACE", r.Path, r.Namespace, "team-env")
		}
	}
}

func TestNewWithEnvironmentOptionsOverride(t *testing.T) {
	f := vaultfake.NewServer(t)
	const envToken = "hvs.s3cr3t-env-token"
	f.AddToken(envToken, 0, false)
	t.Setenv(EnvVaultAddr, "http://127.0.0.1:1")
	t.Setenv(EnvVaultToken, envToken)
	t.Setenv(EnvVaultNamespace, "env-ns")
	auth := WithAuth(AppRoleAuth(vaultfake.RoleID, SecretIDValue(NewValue(vaultfake.SecretID)), ""))
	for name, opts := range map[string][]Opt{
		"options after":  {WithEnvironment(), WithAddress(f.Addr()), auth, WithNamespace("team-a")},
		"options before": {WithAddress(f.Addr()), auth, WithNamespace("team-a"), WithEnvironment()},
	} {
		t.Run(name, func(t *testing.T) {
			l, _ := vaultfake.NewLogger()
			c, err := New(context.Background(), append(opts, WithLogger(l))...)
			vaultfake.NoErr(t, err)
			_, err = c.ReadKV2(context.Background(), "secret", "pricing/db", 0)
			vaultfake.NoErr(t, err)
			for _, r := range f.Requests() {
				if r.Token == envToken {
					t.Fatalf("%s: VAULT_TOKEN sent though WithAuth was given", r.Path)
				}
				if r.Namespace != "team-a" {
					t.Fatalf("%s: got namespace %q, want %q", r.Path, r.Namespace, "team-a")
				}
			}
		})
	}
}

func TestNewIgnoresEnvironmentWithoutOption(t *testing.T) {
	f := vaultfake.NewServer(t)
	const envToken = "hvs.s3cr3t-env-token"
	f.AddToken(envToken, 0, false)
	t.Setenv(EnvVaultAddr, "http://127.0.0.1:1")
	t.Setenv(EnvVaultToken, envToken)
	t.Setenv(EnvVaultNamespace, "env-ns")

	for name, auth := range map[string]Opt{
		"token":      WithToken(NewValue(vaultfake.RootToken)),
		"approle":    WithAuth(AppRoleAuth(vaultfake.RoleID, SecretIDValue(NewValue(vaultfake.SecretID)), "")),
		"kubernetes": WithAuth(KubernetesAuth("pricing", vaultfake.WriteFile(t, "jwt", vaultfake.JWT), "")),
	} {
		t.Run(name, func(t *testing.T) {
			c, _ := fakeVaultNew(t, f, auth)
			_, err := c.ReadKV2(context.Background(), "secret", "pricing/db", 0)
			vaultfake.NoErr(t, err)
			vaultfake.NoErr(t, c.Login(context.Background()))
		})
	}
	t.Run("no token", func(t *testing.T) {
		_, err := New(context.Background(), WithAddress(f.Addr()))
		vaultfake.WantErr(t, err)
		if !strings.Contains(err.Error(), "no token and no auth") {
			t.Fatalf("got %v, want no token and no auth", err)
		}
	})
	if len(f.Requests()) == 0 {
		t.Fatal("no request reached the fake")
	}
	for _, r := range f.Requests() {
		if r.Token == envToken || r.Namespace != "" {
			t.Fatalf("%s: VAULT_TOKEN or VAULT_NAMESPACE used without WithEnvironment (namespace %q)", r.Path, r.Namespace)
		}
	}
}

func TestNewCACert(t *testing.T) {
	f := vaultfake.NewTLSServer(t)
	root := WithToken(NewValue(vaultfake.RootToken))
	c, _ := fakeVaultNew(t, f, root, WithCACert(f.CAFile()))
	_, err := c.ReadKV2(context.Background(), "secret", "pricing/db", 0)
	vaultfake.NoErr(t, err)

	_, err = New(context.Background(), WithAddress(f.Addr()), root)
	vaultfake.WantErr(t, err, ErrAuth)
	if !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("got %v, want a certificate error without the CA", err)
	}
	_, err = New(context.Background(), WithAddress(f.Addr()), root, WithCACert("/nonexistent/ca.pem"))
	vaultfake.WantErr(t, err)
}

func TestNewBadToken(t *testing.T) {
	f := vaultfake.NewServer(t)
	l, logs := vaultfake.NewLogger()
	c, err := New(context.Background(), WithAddress(f.Addr()), WithToken(NewValue("hvs.s3cr3t-bad")), WithLogger(l))
	vaultfake.WantErr(t, err, ErrAuth, ErrPermissionDenied)
	if c != nil {
		t.Fatal("got a client, want nil")
	}
	var ve *VaultError
	if !errors.As(err, &ve) || ve.StatusCode != http.StatusForbidden {
		t.Fatalf("got %#v, want a *VaultError with status 403", err)
	}
	if n := f.Count("auth/token/lookup-self"); n != 1 {
		t.Fatalf("got %d lookups, want 1", n)
	}
	if strings.Contains(logs.String(), vaultfake.Marker) {
		t.Fatal("token logged")
	}
}

func TestNamespaceOnEveryRequest(t *testing.T) {
	f := vaultfake.NewServer(t)
	f.Set(func(f *vaultfake.Server) { f.Wraps["hvs.s3cr3t-wrap-ns"] = vaultfake.SecretID })
	c, _ := fakeVaultNew(t, f, WithNamespace("team-a"), WithAuth(AppRoleAuth(vaultfake.RoleID, SecretIDWrapped(NewValue("hvs.s3cr3t-wrap-ns")), "")))
	_, err := c.ReadKV2(context.Background(), "secret", "pricing/db", 0)
	vaultfake.NoErr(t, err)
	for _, p := range []string{"sys/wrapping/unwrap", "auth/approle/login", "secret/data/pricing/db"} {
		if got := f.Last(p).Namespace; got != "team-a" {
			t.Fatalf("%s: got namespace %q, want %q", p, got, "team-a")
		}
	}
}

func TestAppRoleSecretIDValue(t *testing.T) {
	f := vaultfake.NewServer(t)
	f.Set(func(f *vaultfake.Server) { f.LoginTTL, f.LoginRenewable = 1800, true })
	c, logs := fakeVaultNew(t, f, WithAuth(AppRoleAuth(vaultfake.RoleID, SecretIDValue(NewValue(vaultfake.SecretID)), "approle-prod")))
	login := f.Last("auth/approle-prod/login")
	if login.Method != http.MethodPut && login.Method != http.MethodPost {
		t.Fatalf("got method %s, want PUT or POST", login.Method)
	}
	if login.Token != "" {
		t.Fatal("login request carried a token")
	}
	if login.Body["role_id"] != vaultfake.RoleID || login.Body["secret_id"] != vaultfake.SecretID {
		t.Fatal("login body does not hold the role ID and secret ID")
	}
	if got := c.API().Token(); got != "hvs.s3cr3t-login-1" {
		t.Fatal("client token is not the login answer's")
	}
	c.mu.Lock()
	s := c.login
	c.mu.Unlock()
	if s == nil || s.Auth == nil || s.Auth.LeaseDuration != 1800 || !s.Auth.Renewable {
		t.Fatalf("got login %+v, want the login answer kept for Run", s)
	}
	_, err := c.ReadKV2(context.Background(), "secret", "pricing/db", 0)
	vaultfake.NoErr(t, err)
	if got := f.Last("secret/data/pricing/db").Token; got != "hvs.s3cr3t-login-1" {
		t.Fatal("read did not use the login token")
	}
	if !strings.Contains(logs.String(), `"method":"approle"`) {
		t.Fatalf("got logs %s, want a login line with the method", logs)
	}
}

func TestAppRoleSecretIDFromFile(t *testing.T) {
	f := vaultfake.NewServer(t)
	path := vaultfake.WriteFile(t, "secret-id", vaultfake.SecretID+"\n")
	c, _ := fakeVaultNew(t, f, WithAuth(AppRoleAuth(vaultfake.RoleID, SecretIDFromFile(path), "")))
	if got := f.Last("auth/approle/login").Body["secret_id"]; got != vaultfake.SecretID {
		t.Fatal("first login did not send the file's secret ID")
	}

	const rotated = "s3cr3t-secret-id-2"
	f.Set(func(f *vaultfake.Server) { f.SecretIDs = map[string]bool{rotated: true} })
	fakeVaultWriteFileAt(t, path, rotated)
	vaultfake.NoErr(t, c.Login(context.Background()))
	if got := f.Last("auth/approle/login").Body["secret_id"]; got != rotated {
		t.Fatal("second login did not re-read the secret ID file")
	}
	if got := c.API().Token(); got != "hvs.s3cr3t-login-2" {
		t.Fatal("client token is not the second login's")
	}

	fakeVaultWriteFileAt(t, path, "s3cr3t-revoked")
	vaultfake.WantErr(t, c.Login(context.Background()), ErrAuth)
}

func fakeVaultWriteFileAt(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestAppRoleSecretIDMissingFile(t *testing.T) {
	f := vaultfake.NewServer(t)
	_, err := New(context.Background(), WithAddress(f.Addr()),
		WithAuth(AppRoleAuth(vaultfake.RoleID, SecretIDFromFile(t.TempDir()+"/missing"), "")))
	vaultfake.WantErr(t, err, ErrAuth)
	if !strings.Contains(err.Error(), "read secret id") {
		t.Fatalf("got %v, want read secret id", err)
	}
	_, err = New(context.Background(), WithAddress(f.Addr()), WithAuth(AppRoleAuth(vaultfake.RoleID, SecretID{}, "")))
	vaultfake.WantErr(t, err, ErrAuth)
}

func TestAppRoleSecretIDWrapped(t *testing.T) {
	f := vaultfake.NewServer(t)
	const wrap = "hvs.s3cr3t-wrap-1"
	f.Set(func(f *vaultfake.Server) { f.Wraps[wrap] = vaultfake.SecretID })
	c, _ := fakeVaultNew(t, f, WithAuth(AppRoleAuth(vaultfake.RoleID, SecretIDWrapped(NewValue(wrap)), "")))
	if got := f.Last("sys/wrapping/unwrap"); got.Token != wrap && got.Body["token"] != wrap {
		t.Fatal("unwrap did not send the wrapping token")
	}

	// The wrapping token is single use: later logins reuse the unwrapped
	// secret ID, also when they race.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() { errs <- c.Login(context.Background()) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		vaultfake.NoErr(t, err)
	}
	if n := f.Count("sys/wrapping/unwrap"); n != 1 {
		t.Fatalf("got %d unwraps, want 1", n)
	}
	if n := f.Count("auth/approle/login"); n != 5 {
		t.Fatalf("got %d logins, want 5", n)
	}
	for _, r := range f.Requests() {
		if r.Path == "auth/approle/login" && r.Body["secret_id"] != vaultfake.SecretID {
			t.Fatal("a login did not send the unwrapped secret ID")
		}
	}
}

func TestAppRoleWrappedConcurrentFirstLogin(t *testing.T) {
	f := vaultfake.NewServer(t)
	const wrap = "hvs.s3cr3t-wrap-2"
	f.Set(func(f *vaultfake.Server) { f.Wraps[wrap] = vaultfake.SecretID })
	a := AppRoleAuth(vaultfake.RoleID, SecretIDWrapped(NewValue(wrap)), "")
	ac, err := api.NewClient(&api.Config{Address: f.Addr()})
	vaultfake.NoErr(t, err)
	ac.ClearToken()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := a.login(context.Background(), ac)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		vaultfake.NoErr(t, err)
	}
	if n := f.Count("sys/wrapping/unwrap"); n != 1 {
		t.Fatalf("got %d unwraps, want 1", n)
	}
}

func TestAppRoleWrappedBadAnswers(t *testing.T) {
	for name, tc := range map[string]struct {
		ft   vaultfake.Fault
		want string
	}{
		"no secret id":  {vaultfake.Fault{Status: http.StatusOK}, "no secret_id in the wrapped answer"},
		"not found":     {vaultfake.Fault{Status: http.StatusNotFound}, "unwrap secret id"},
		"invalid token": {vaultfake.Fault{Status: http.StatusBadRequest, Errs: []string{"wrapping token is not valid or does not exist"}}, "wrapping token is not valid"},
	} {
		t.Run(name, func(t *testing.T) {
			f := vaultfake.NewServer(t)
			f.Fault("sys/wrapping/unwrap", tc.ft)
			_, err := New(context.Background(), WithAddress(f.Addr()),
				WithAuth(AppRoleAuth(vaultfake.RoleID, SecretIDWrapped(NewValue("hvs.s3cr3t-wrap-3")), "")))
			vaultfake.WantErr(t, err, ErrAuth)
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if n := f.Count("auth/approle/login"); n != 0 {
				t.Fatalf("got %d logins, want none without a secret ID", n)
			}
		})
	}
}

// TestLoginFailureKeepsToken checks that a failed login leaves the client
// with its previous token, which may still be valid, instead of none.
func TestLoginFailureKeepsToken(t *testing.T) {
	f := vaultfake.NewServer(t)
	c, _ := fakeVaultNew(t, f, WithAuth(AppRoleAuth(vaultfake.RoleID, SecretIDValue(NewValue(vaultfake.SecretID)), "")))
	f.Fault("auth/approle/login", vaultfake.Fault{Status: http.StatusInternalServerError})
	vaultfake.WantErr(t, c.Login(context.Background()), ErrAuth, ErrUnavailable)
	_, err := c.ReadKV2(context.Background(), "secret", "pricing/db", 0)
	vaultfake.NoErr(t, err)
	if got := f.Last("secret/data/pricing/db").Token; got != "hvs.s3cr3t-login-1" {
		t.Fatal("read after a failed login did not use the previous token")
	}
}

func TestKubernetesAuth(t *testing.T) {
	f := vaultfake.NewServer(t)
	path := vaultfake.WriteFile(t, "token", vaultfake.JWT+"\n")
	c, _ := fakeVaultNew(t, f, WithAuth(KubernetesAuth("pricing", path, "k8s-prod")))
	login := f.Last("auth/k8s-prod/login")
	if login.Body["role"] != "pricing" || login.Body["jwt"] != vaultfake.JWT {
		t.Fatalf("got role %v, want pricing and the file's jwt", login.Body["role"])
	}
	if c.API().Token() != "hvs.s3cr3t-login-1" {
		t.Fatal("client token is not the login answer's")
	}

	const rotated = "eyJ.s3cr3t-jwt-2"
	f.Set(func(f *vaultfake.Server) { f.JWTs = map[string]bool{rotated: true} })
	fakeVaultWriteFileAt(t, path, rotated)
	vaultfake.NoErr(t, c.Login(context.Background()))
	if f.Last("auth/k8s-prod/login").Body["jwt"] != rotated {
		t.Fatal("second login did not re-read the service account token")
	}
	if c.API().Token() != "hvs.s3cr3t-login-2" {
		t.Fatal("client token is not the second login's")
	}

	t.Run("defaults", func(t *testing.T) {
		a := KubernetesAuth("pricing", "", "").(kubernetesAuth)
		if a.mount != "kubernetes" || a.jwtPath != DefaultServiceAccountToken {
			t.Fatalf("got mount %q path %q, want kubernetes and %q", a.mount, a.jwtPath, DefaultServiceAccountToken)
		}
		fakeVaultNew(t, f, WithAuth(KubernetesAuth("pricing", path, "")))
		if f.Count("auth/kubernetes/login") != 1 {
			t.Fatal("default mount not used")
		}
	})
	t.Run("bad role", func(t *testing.T) {
		_, err := New(context.Background(), WithAddress(f.Addr()), WithAuth(KubernetesAuth("other", path, "")))
		vaultfake.WantErr(t, err, ErrAuth)
	})
	t.Run("missing token file", func(t *testing.T) {
		_, err := New(context.Background(), WithAddress(f.Addr()), WithAuth(KubernetesAuth("pricing", path+".missing", "")))
		vaultfake.WantErr(t, err, ErrAuth)
	})
}

func TestReadKV2(t *testing.T) {
	f := vaultfake.NewServer(t)
	c, _ := fakeVaultNew(t, f, WithToken(NewValue(vaultfake.RootToken)))
	ctx := context.Background()

	s, err := c.ReadKV2(ctx, "secret", "pricing/db", 0)
	vaultfake.NoErr(t, err)
	if s.Version != 2 || s.Data["password"].Reveal() != "s3cr3t-pw-v2" || s.Data["port"].Reveal() != "5432" {
		t.Fatalf("got version %d, want 2 with the latest data", s.Version)
	}
	if s.Path != "secret/data/pricing/db" {
		t.Fatalf("got path %q, want secret/data/pricing/db", s.Path)
	}
	if q := f.Last("secret/data/pricing/db").Query; q.Has("version") {
		t.Fatalf("got query %v, want none for the latest version", q)
	}

	s, err = c.ReadKV2(ctx, "/secret/", "/pricing/db/", 1)
	vaultfake.NoErr(t, err)
	if s.Version != 1 || s.Data["password"].Reveal() != "s3cr3t-pw-v1" {
		t.Fatalf("got version %d, want 1", s.Version)
	}
	if got := f.Last("secret/data/pricing/db").Query.Get("version"); got != "1" {
		t.Fatalf("got version query %q, want 1", got)
	}

	f.Set(func(f *vaultfake.Server) { f.KV2["pricing/db"].Versions[0] = nil })
	_, err = c.ReadKV2(ctx, "secret", "pricing/db", 1)
	vaultfake.WantErr(t, err, ErrNotFound)
	if !strings.Contains(err.Error(), "version deleted") {
		t.Fatalf("got %v, want version deleted", err)
	}
	_, err = c.ReadKV2(ctx, "secret", "pricing/db", 7)
	vaultfake.WantErr(t, err, ErrNotFound)
	_, err = c.ReadKV2(ctx, "secret", "pricing/missing", 0)
	vaultfake.WantErr(t, err, ErrNotFound)
	var ve *VaultError
	if !errors.As(err, &ve) || ve.StatusCode != http.StatusNotFound || ve.Path != "secret/data/pricing/missing" {
		t.Fatalf("got %#v, want a *VaultError 404 naming the path", err)
	}
}

func TestReadKV1AndLeased(t *testing.T) {
	f := vaultfake.NewServer(t)
	c, _ := fakeVaultNew(t, f, WithToken(NewValue(vaultfake.RootToken)))
	ctx := context.Background()
	s, err := c.ReadKV1(ctx, "kv", "legacy/app")
	vaultfake.NoErr(t, err)
	if s.Data["api_key"].Reveal() != "s3cr3t-api-key" || s.Version != 0 {
		t.Fatalf("got version %d, want the KV v1 data", s.Version)
	}
	_, err = c.ReadKV1(ctx, "kv", "legacy/missing")
	vaultfake.WantErr(t, err, ErrNotFound)

	s, err = c.ReadPath(ctx, "database/creds/app")
	vaultfake.NoErr(t, err)
	if s.LeaseID != "database/creds/app/lease-1" || s.LeaseDuration != time.Hour || !s.Renewable {
		t.Fatalf("got lease %q %v %v, want the lease", s.LeaseID, s.LeaseDuration, s.Renewable)
	}
}

func TestReadRef(t *testing.T) {
	f := vaultfake.NewServer(t)
	c, _ := fakeVaultNew(t, f, WithToken(NewValue(vaultfake.RootToken)))
	ctx := context.Background()
	for _, tc := range []struct {
		ref  string
		want string
	}{
		{"${vault:secret/data/pricing/db:password}", "s3cr3t-pw-v2"},
		{"${vault:secret/data/pricing/db?version=1:password}", "s3cr3t-pw-v1"},
		{"${vault:kv/legacy/app:api_key}", "s3cr3t-api-key"},
		{"${vault:database/creds/app:password}", "s3cr3t-db-pw"},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			r, err := ParseRef(tc.ref)
			vaultfake.NoErr(t, err)
			v, err := c.Read(ctx, r)
			vaultfake.NoErr(t, err)
			if v.Reveal() != tc.want {
				t.Fatal("got another value than the secret's")
			}
		})
	}
	if got := f.Last("secret/data/pricing/db").Query.Get("version"); got != "1" {
		t.Fatalf("got version query %q, want 1", got)
	}

	r, _ := ParseRef("${vault:secret/data/pricing/db:nokey}")
	_, err := c.Read(ctx, r)
	vaultfake.WantErr(t, err, ErrNotFound)
	if !strings.Contains(err.Error(), `no key "nokey"`) {
		t.Fatalf("got %v, want no key", err)
	}
	r, _ = ParseRef("${vault:secret/data/nothing:password}")
	_, err = c.Read(ctx, r)
	vaultfake.WantErr(t, err, ErrNotFound)
}

func TestResolve(t *testing.T) {
	f := vaultfake.NewServer(t)
	f.Set(func(f *vaultfake.Server) {
		// A value that looks like a reference is data, not a reference.
		f.KV1["tricky"] = map[string]any{"a": "${vault:kv/legacy/app:api_key}"}
	})
	c, _ := fakeVaultNew(t, f, WithToken(NewValue(vaultfake.RootToken)))
	config := map[string]string{
		"sasl.jaas.config": `ScramLoginModule required username="${vault:secret/data/pricing/db:username}" password="${vault:secret/data/pricing/db:password}";`,
		"old.password":     "${vault:/secret/data/pricing/db?version=1:password}",
		"api.key":          "${vault:kv/legacy/app:api_key}",
		"tricky":           "${vault:kv/tricky:a}-${vault:kv/legacy/app:api_key}",
		"plain":            "bootstrap:9092",
	}
	out, err := c.Resolve(context.Background(), config)
	vaultfake.NoErr(t, err)
	want := map[string]string{
		"sasl.jaas.config": `ScramLoginModule required username="pricing" password="s3cr3t-pw-v2";`,
		"old.password":     "s3cr3t-pw-v1",
		"api.key":          "s3cr3t-api-key",
		"tricky":           "${vault:kv/legacy/app:api_key}-s3cr3t-api-key",
		"plain":            "bootstrap:9092",
	}
	for k, w := range want {
		if out[k] != w {
			t.Errorf("%s: resolved value differs from the wanted one (unresolved reference: %v)", k, strings.Contains(out[k], "${vault:"))
		}
	}
	if len(out) != len(want) {
		t.Fatalf("got %d keys, want %d", len(out), len(want))
	}
	if config["api.key"] != "${vault:kv/legacy/app:api_key}" {
		t.Fatal("Resolve changed its input")
	}
	// One read per path: the latest and version 1 of pricing/db are two
	// paths.
	for p, n := range map[string]int{"secret/data/pricing/db": 2, "kv/legacy/app": 1, "kv/tricky": 1} {
		if got := f.Count(p); got != n {
			t.Errorf("%s: got %d reads, want %d", p, got, n)
		}
	}

	_, err = c.Resolve(context.Background(), map[string]string{"a": "${vault:secret/data/pricing/db:nokey}"})
	vaultfake.WantErr(t, err, ErrNotFound)
	_, err = c.Resolve(context.Background(), map[string]string{"a": "${vault:secret/data/gone:password}"})
	vaultfake.WantErr(t, err, ErrNotFound)
	_, err = c.Resolve(context.Background(), map[string]string{"a": "${vault:broken}"})
	vaultfake.WantErr(t, err, ErrInvalidRef)
}

func TestKV2Metadata(t *testing.T) {
	f := vaultfake.NewServer(t)
	c, _ := fakeVaultNew(t, f, WithToken(NewValue(vaultfake.RootToken)))
	md, err := c.KV2Metadata(context.Background(), "secret", "pricing/db")
	vaultfake.NoErr(t, err)
	if md.CurrentVersion != 2 {
		t.Fatalf("got current version %d, want 2", md.CurrentVersion)
	}
	if want := time.Date(2025, 3, 1, 10, 0, 0, 123456000, time.UTC); !md.UpdatedTime.Equal(want) {
		t.Fatalf("got updated time %v, want %v", md.UpdatedTime, want)
	}
	if want := time.Date(2025, 3, 1, 10, 0, 0, 123456000, time.UTC); !md.CurrentVersionTime.Equal(want) {
		t.Fatalf("got the current version's time %v, want %v", md.CurrentVersionTime, want)
	}
	_, err = c.KV2Metadata(context.Background(), "secret", "pricing/missing")
	vaultfake.WantErr(t, err, ErrNotFound)
}

func TestErrorClassification(t *testing.T) {
	f := vaultfake.NewServer(t)
	c, _ := fakeVaultNew(t, f, WithToken(NewValue(vaultfake.RootToken)))
	all := []error{ErrNotFound, ErrPermissionDenied, ErrSealed, ErrUnavailable}
	for _, tc := range []struct {
		name   string
		status int
		errs   []string
		want   error
	}{
		{"forbidden", 403, []string{"permission denied"}, ErrPermissionDenied},
		{"sealed", 503, []string{"Vault is sealed"}, ErrSealed},
		{"standby", 503, []string{"node is not active"}, ErrUnavailable},
		{"server error", 500, nil, ErrUnavailable},
		{"bad gateway", 502, []string{"upstream failed"}, ErrUnavailable},
		{"not found", 404, nil, ErrNotFound},
		{"bad request", 400, []string{"invalid path"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.Fault("secret/data/pricing/db", vaultfake.Fault{Status: tc.status, Errs: tc.errs})
			defer f.ClearFaults()
			_, err := c.ReadKV2(context.Background(), "secret", "pricing/db", 0)
			vaultfake.WantErr(t, err)
			for _, s := range all {
				if got := errors.Is(err, s); got != (s == tc.want) {
					t.Fatalf("errors.Is(%v, %v) = %v, want %v", err, s, got, s == tc.want)
				}
			}
			var ve *VaultError
			if !errors.As(err, &ve) {
				t.Fatalf("got %T, want *VaultError", err)
			}
			if ve.StatusCode != tc.status || ve.Op != "read" || ve.Path != "secret/data/pricing/db" {
				t.Fatalf("got status %d op %q path %q, want %d read secret/data/pricing/db", ve.StatusCode, ve.Op, ve.Path, tc.status)
			}
			if tc.status != 404 && fmt.Sprint(ve.Errors) != fmt.Sprint(tc.errs) && len(tc.errs) > 0 {
				t.Fatalf("got errors %v, want %v", ve.Errors, tc.errs)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("got a multi-line error %q, want one line", err)
			}
			var re *api.ResponseError
			if !errors.As(err, &re) && tc.status != 404 {
				t.Fatal("vault/api's error is not kept")
			}
		})
	}
}

func TestErrorUnreachable(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		f := vaultfake.NewServer(t)
		c, _ := fakeVaultNew(t, f, WithToken(NewValue(vaultfake.RootToken)))
		f.Close()
		_, err := c.ReadKV2(context.Background(), "secret", "pricing/db", 0)
		vaultfake.WantErr(t, err, ErrUnavailable)
		var ve *VaultError
		if !errors.As(err, &ve) || ve.StatusCode != 0 {
			t.Fatalf("got %#v, want a *VaultError without status", err)
		}
		_, err = New(context.Background(), WithAddress(f.Addr()), WithToken(NewValue(vaultfake.RootToken)))
		vaultfake.WantErr(t, err, ErrAuth, ErrUnavailable)
	})
	t.Run("timeout", func(t *testing.T) {
		f := vaultfake.NewServer(t)
		c, _ := fakeVaultNew(t, f, WithToken(NewValue(vaultfake.RootToken)))
		f.Fault("secret/data/pricing/db", vaultfake.Fault{Hang: true})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := c.ReadKV2(ctx, "secret", "pricing/db", 0)
		vaultfake.WantErr(t, err, ErrUnavailable, context.DeadlineExceeded)
	})
	t.Run("canceled", func(t *testing.T) {
		f := vaultfake.NewServer(t)
		c, _ := fakeVaultNew(t, f, WithToken(NewValue(vaultfake.RootToken)))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.ReadKV2(ctx, "secret", "pricing/db", 0)
		vaultfake.WantErr(t, err, context.Canceled)
		if errors.Is(err, ErrUnavailable) {
			t.Fatalf("got %v, want a cancellation, not unavailable", err)
		}
	})
}

func TestPrintingHidesSecrets(t *testing.T) {
	f := vaultfake.NewServer(t)
	f.Set(func(f *vaultfake.Server) { f.Wraps["hvs.s3cr3t-wrap-print"] = vaultfake.SecretID })
	ctx := context.Background()
	var printed []any
	for _, auth := range []Opt{
		WithToken(NewValue(vaultfake.RootToken)),
		WithAuth(AppRoleAuth(vaultfake.RoleID, SecretIDValue(NewValue(vaultfake.SecretID)), "")),
		WithAuth(AppRoleAuth(vaultfake.RoleID, SecretIDWrapped(NewValue("hvs.s3cr3t-wrap-print")), "")),
	} {
		c, _ := fakeVaultNew(t, f, auth)
		cr := c.Credentials("secret/data/pricing/db", "username", "password", time.Minute, time.Hour)
		_, _, err := cr.Get(ctx)
		vaultfake.NoErr(t, err)
		s, err := c.ReadKV2(ctx, "secret", "pricing/db", 0)
		vaultfake.NoErr(t, err)
		printed = append(printed, c, c.auth, cr, s, *s)
	}
	printed = append(printed, TokenAuth(NewValue(vaultfake.RootToken)), SecretIDValue(NewValue(vaultfake.SecretID)),
		SecretIDWrapped(NewValue("hvs.s3cr3t-wrap-x")), SecretIDFromFile("/run/secret-id"), (*Client)(nil))
	for _, v := range printed {
		out := fmt.Sprintf("%v|%+v|%#v|%s|%q|%x|%d", v, v, v, v, v, v, v)
		vaultfake.Collect(out)
		if strings.Contains(out, vaultfake.Marker) {
			t.Fatalf("printing a %T shows a secret: %s", v, out)
		}
	}
	if got := fmt.Sprint(printed[0]); got != "secrets.Client{auth: token}" {
		t.Fatalf("got %q, want secrets.Client{auth: token}", got)
	}
}

// TestNoSecretLeaks drives the failure paths with a logger capturing
// everything, then checks that no token or secret value reached a log
// line or an error, here and in every test that ran before it (TestMain
// checks all tests once more at the end).
func TestNoSecretLeaks(t *testing.T) {
	f := vaultfake.NewServer(t)
	l, logs := vaultfake.NewLogger()
	ctx := context.Background()
	c, err := New(ctx, WithAddress(f.Addr()), WithLogger(l),
		WithAuth(AppRoleAuth(vaultfake.RoleID, SecretIDValue(NewValue(vaultfake.SecretID)), "")))
	vaultfake.NoErr(t, err)
	var errs []error
	for _, ft := range []vaultfake.Fault{
		{Status: 403, Errs: []string{"permission denied"}},
		{Status: 503, Errs: []string{"Vault is sealed"}},
		{Status: 500},
		{Status: 400, Errs: []string{"invalid request"}},
	} {
		f.Fault("secret/data/pricing/db", ft)
		f.Fault("auth/approle/login", ft)
		_, err := c.ReadKV2(ctx, "secret", "pricing/db", 0)
		errs = append(errs, err, c.Login(ctx))
		r, _ := ParseRef("${vault:secret/data/pricing/db:password}")
		_, err = c.Read(ctx, r)
		errs = append(errs, err)
		_, err = c.Resolve(ctx, map[string]string{"k": "${vault:secret/data/pricing/db:password}"})
		errs = append(errs, err)
		cr := c.Credentials("secret/data/pricing/db", "username", "password", 0, 0)
		_, _, err = cr.Get(ctx)
		errs = append(errs, err)
	}
	f.ClearFaults()
	cr := c.Credentials("secret/data/pricing/db", "username", "password", 0, time.Hour)
	u, p, err := cr.Get(ctx)
	vaultfake.NoErr(t, err)
	l.Info("credentials", "user", u, "password", p) // Values redact themselves
	f.Fault("secret/data/pricing/db", vaultfake.Fault{Status: 503, Errs: []string{"Vault is sealed"}})
	_, _, err = cr.Get(ctx) // stale: logs a warning
	vaultfake.NoErr(t, err)
	f.Close()
	_, err = c.ReadKV2(ctx, "secret", "pricing/db", 0)
	errs = append(errs, err, c.Login(ctx))
	_, err = New(ctx, WithAddress(f.Addr()), WithToken(NewValue("hvs.s3cr3t-unused")), WithLogger(l))
	errs = append(errs, err)

	for _, err := range errs {
		vaultfake.WantErr(t, err)
	}
	if !strings.Contains(logs.String(), "serving the last good credentials") {
		t.Fatalf("got logs %s, want the stale warning", logs)
	}
	if strings.Contains(logs.String(), vaultfake.Marker) {
		t.Fatalf("a secret reached the log: %s", logs)
	}
	if leaked := vaultfake.Leaked(); len(leaked) > 0 {
		t.Fatalf("a secret reached a log or an error:\n%s", strings.Join(leaked, "\n"))
	}
}
