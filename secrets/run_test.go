package secrets

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamkit/streamkit/internal/backoff"
	"github.com/streamkit/streamkit/internal/runloop"
	"github.com/streamkit/streamkit/internal/vaultfake"
)

// fakeVaultRun starts c.Run and returns a function that cancels it and
// returns Run's result, failing if Run does not return within 2s.
func fakeVaultRun(t *testing.T, c *Client) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	stopped := false
	stop = func() error {
		t.Helper()
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(2 * time.Second):
			t.Fatal("Run did not return after ctx was cancelled")
			return nil
		}
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func fakeVaultAppRole() Opt {
	return WithAuth(AppRoleAuth(vaultfake.RoleID, SecretIDValue(NewValue(vaultfake.SecretID)), ""))
}

func TestRunRenewsToken(t *testing.T) {
	f := vaultfake.NewServer(t)
	f.Set(func(f *vaultfake.Server) { f.LoginTTL, f.LoginRenewable, f.RenewTTL = 2, true, 2 })
	c, logs := fakeVaultNew(t, f, fakeVaultAppRole())
	stop := fakeVaultRun(t, c)
	vaultfake.Eventually(t, "a renewal", func() bool { return f.Count("auth/token/renew-self") > 0 })
	if err := stop(); err != nil {
		t.Fatalf("got %v, want nil when ctx is cancelled", err)
	}
	if got := f.Last("auth/token/renew-self").Token; got != "hvs.s3cr3t-login-1" {
		t.Fatal("renewal did not use the login token")
	}
	if n := f.Count("auth/approle/login"); n != 1 {
		t.Fatalf("got %d logins, want 1 while renewal works", n)
	}
	if !strings.Contains(logs.String(), "vault token renewed") {
		t.Fatalf("got logs %s, want a renewal line", logs)
	}
}

func TestRunTokenAuthRenewable(t *testing.T) {
	f := vaultfake.NewServer(t)
	const tok = "hvs.s3cr3t-renewable"
	f.AddToken(tok, 2, true)
	f.Set(func(f *vaultfake.Server) { f.RenewTTL = 2 })
	c, _ := fakeVaultNew(t, f, WithToken(NewValue(tok)))
	stop := fakeVaultRun(t, c)
	vaultfake.Eventually(t, "a renewal", func() bool { return f.Count("auth/token/renew-self") > 0 })
	vaultfake.NoErr(t, stop())
	if got := f.Last("auth/token/renew-self").Token; got != tok {
		t.Fatal("renewal did not use the static token")
	}
}

func TestRunLogsInAgainWhenRenewalEnds(t *testing.T) {
	for _, tc := range []struct {
		name        string
		loginTTL    int
		renewTTL    int
		renewStatus int
		log         string
	}{
		{"max ttl reached", 2, 0, 0, "reached its max ttl"},
		{"renewal forbidden", 1, 0, http.StatusForbidden, "reached its max ttl"},
		{"renewal fails", 2, 0, http.StatusInternalServerError, "vault token renewal ended"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := vaultfake.NewServer(t)
			f.Set(func(f *vaultfake.Server) {
				f.LoginTTL, f.LoginRenewable, f.RenewTTL, f.RenewStatus = tc.loginTTL, true, tc.renewTTL, tc.renewStatus
			})
			c, logs := fakeVaultNew(t, f, fakeVaultAppRole())
			c.retry = backoff.Policy{Min: time.Millisecond, Max: 4 * time.Millisecond}
			// The next login's token has no TTL, so Run then just waits.
			f.Set(func(f *vaultfake.Server) { f.LoginTTL = 0 })
			stop := fakeVaultRun(t, c)
			vaultfake.Eventually(t, "a second login", func() bool { return f.Count("auth/approle/login") >= 2 })
			time.Sleep(50 * time.Millisecond)
			vaultfake.NoErr(t, stop())
			if n := f.Count("auth/approle/login"); n != 2 {
				t.Fatalf("got %d logins, want 2", n)
			}
			if n := f.Count("auth/token/renew-self"); n < 1 {
				t.Fatal("no renewal was tried")
			}
			if got := c.API().Token(); got != "hvs.s3cr3t-login-2" {
				t.Fatal("client token is not the new login's")
			}
			if !strings.Contains(logs.String(), tc.log) {
				t.Fatalf("got logs %s, want %q", logs, tc.log)
			}
		})
	}
}

// TestRunDoesNotHammerVault checks that renewals failing while logins
// work do not make Run renew or log in in a tight loop.
func TestRunDoesNotHammerVault(t *testing.T) {
	f := vaultfake.NewServer(t)
	f.Set(func(f *vaultfake.Server) {
		f.LoginTTL, f.LoginRenewable, f.RenewStatus = 2, true, http.StatusInternalServerError
	})
	c, logs := fakeVaultNew(t, f, fakeVaultAppRole())
	c.retry = backoff.Policy{Min: 100 * time.Millisecond, Max: 100 * time.Millisecond}
	stop := fakeVaultRun(t, c)
	time.Sleep(300 * time.Millisecond)
	vaultfake.NoErr(t, stop())
	logins, renewals := f.Count("auth/approle/login"), f.Count("auth/token/renew-self")
	if logins < 2 || logins > 6 || renewals > 6 {
		t.Fatalf("got %d logins and %d renewals in 300ms, want 2 to 6 of each with a 100ms backoff", logins, renewals)
	}
	if !strings.Contains(logs.String(), "vault token renewal ended") || !strings.Contains(logs.String(), "internal error") {
		t.Fatalf("got logs %s, want the renewal error", logs)
	}
}

func TestRunLogsInAgainBeforeNonRenewableTokenExpires(t *testing.T) {
	f := vaultfake.NewServer(t)
	f.Set(func(f *vaultfake.Server) { f.LoginTTL, f.LoginRenewable = 1, false })
	c, _ := fakeVaultNew(t, f, fakeVaultAppRole())
	f.Set(func(f *vaultfake.Server) { f.LoginTTL = 0 })
	start := time.Now()
	stop := fakeVaultRun(t, c)
	vaultfake.Eventually(t, "a second login", func() bool { return f.Count("auth/approle/login") >= 2 })
	if d := time.Since(start); d < 700*time.Millisecond {
		t.Fatalf("logged in again after %v, want at 80%% of the 1s TTL", d)
	}
	vaultfake.NoErr(t, stop())
	if n := f.Count("auth/token/renew-self"); n != 0 {
		t.Fatalf("got %d renewals of a non-renewable token, want 0", n)
	}
}

func TestRunRetriesLoginWithBackoff(t *testing.T) {
	f := vaultfake.NewServer(t)
	f.Set(func(f *vaultfake.Server) { f.LoginTTL, f.LoginRenewable, f.RenewTTL = 2, true, 0 })
	c, logs := fakeVaultNew(t, f, fakeVaultAppRole())
	if want := (backoff.Policy{Min: time.Second, Max: time.Minute}); c.retry != want {
		t.Fatalf("got retry policy %+v, want %+v", c.retry, want)
	}
	c.retry = backoff.Policy{Min: time.Millisecond, Max: 4 * time.Millisecond}
	f.Fault("auth/approle/login", vaultfake.Fault{Status: http.StatusInternalServerError, Times: 3})
	f.Set(func(f *vaultfake.Server) { f.LoginTTL = 0 })

	stop := fakeVaultRun(t, c)
	vaultfake.Eventually(t, "a login after 3 failures", func() bool { return f.Count("auth/approle/login") >= 5 })
	time.Sleep(50 * time.Millisecond)
	vaultfake.NoErr(t, stop())
	if n := f.Count("auth/approle/login"); n != 5 {
		t.Fatalf("got %d login requests, want 5 (1, 3 failed, 1)", n)
	}
	if got := c.API().Token(); got != "hvs.s3cr3t-login-2" {
		t.Fatal("client token is not the new login's")
	}
	if n := strings.Count(logs.String(), "vault login failed; retrying"); n != 3 {
		t.Fatalf("got %d retry warnings, want 3:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), `"attempt":3`) {
		t.Fatalf("got logs %s, want attempt 3", logs)
	}
}

func TestRunStopsWhileRetrying(t *testing.T) {
	f := vaultfake.NewServer(t)
	f.Set(func(f *vaultfake.Server) { f.LoginTTL, f.LoginRenewable, f.RenewTTL = 2, true, 0 })
	c, _ := fakeVaultNew(t, f, fakeVaultAppRole())
	// Delays double from 1ms: after 6 failed logins Run sleeps 32ms or
	// more, up to an hour.
	c.retry = backoff.Policy{Min: time.Millisecond, Max: time.Hour}
	f.Fault("auth/approle/login", vaultfake.Fault{Status: http.StatusServiceUnavailable, Errs: []string{"Vault is sealed"}})
	stop := fakeVaultRun(t, c)
	vaultfake.Eventually(t, "failed logins", func() bool { return f.Count("auth/approle/login") >= 7 })
	if err := stop(); err != nil {
		t.Fatalf("got %v, want nil when ctx is cancelled during backoff", err)
	}
}

func TestRunTwice(t *testing.T) {
	f := vaultfake.NewServer(t)
	c, _ := fakeVaultNew(t, f, WithToken(NewValue(vaultfake.RootToken)))
	// Run asks for ctx.Done only once it holds its guard: with a root
	// token it waits on it at once.
	ctx, cancel := context.WithCancel(context.Background())
	waiting := &doneProbe{Context: ctx, asked: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- c.Run(waiting) }()
	select {
	case <-waiting.asked:
	case <-time.After(5 * time.Second):
		t.Fatal("timed out waiting for Run to start")
	}
	if err := c.Run(context.Background()); !errors.Is(err, ErrRunning) {
		t.Fatalf("got %v, want ErrRunning", err)
	}
	if !errors.Is(ErrRunning, runloop.ErrRunning) {
		t.Fatal("ErrRunning is not runloop.ErrRunning: errors.Is would not match across packages")
	}
	cancel()
	vaultfake.NoErr(t, <-done)

	// Once the first Run returned, Run may be called again.
	stop := fakeVaultRun(t, c)
	vaultfake.NoErr(t, stop())
}

// doneProbe is a context that closes asked when Done is first called.
type doneProbe struct {
	context.Context
	once  sync.Once
	asked chan struct{}
}

func (p *doneProbe) Done() <-chan struct{} {
	p.once.Do(func() { close(p.asked) })
	return p.Context.Done()
}

func TestRunRootTokenWaits(t *testing.T) {
	f := vaultfake.NewServer(t)
	c, _ := fakeVaultNew(t, f, WithToken(NewValue(vaultfake.RootToken)))
	stop := fakeVaultRun(t, c)
	time.Sleep(100 * time.Millisecond)
	vaultfake.NoErr(t, stop())
	if n := len(f.Requests()); n != 1 {
		t.Fatalf("got %d requests, want only New's lookup-self for a token without TTL", n)
	}
}
