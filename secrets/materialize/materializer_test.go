package materialize

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/internal/vaultfake"
	"github.com/streamkit/streamkit/secrets"
)

func TestNew(t *testing.T) {
	v := vaultfake.NewServer(t)
	vc := newMatVaultClient(t, v)
	cc := matNoConnect(t)
	tests := []struct {
		name    string
		vault   *secrets.Client
		connect *connect.Client
		dir     string
		opts    []Opt
		wantErr string
		wantDir string
	}{
		{name: "defaults", vault: vc, connect: cc, dir: "/etc/kafka/secrets", wantDir: "/etc/kafka/secrets"},
		{name: "cleaned", vault: vc, connect: cc, dir: "/etc/kafka/secrets/", wantDir: "/etc/kafka/secrets"},
		{name: "nil vault", connect: cc, dir: "/etc/kafka/secrets", wantErr: "nil vault client"},
		{name: "nil connect", vault: vc, dir: "/etc/kafka/secrets", wantErr: "nil connect client"},
		{name: "empty dir", vault: vc, connect: cc, wantErr: "empty secrets folder"},
		{name: "relative dir", vault: vc, connect: cc, dir: "secrets", wantErr: "want an absolute path"},
		{name: "root dir", vault: vc, connect: cc, dir: "/", wantErr: "a folder of its own"},
		{name: "colon in dir", vault: vc, connect: cc, dir: "/etc/kafka:x", wantErr: "may not hold ':'"},
		{name: "brace in dir", vault: vc, connect: cc, dir: "/etc/kafka}", wantErr: "may not hold ':'"},
		{name: "zero interval", vault: vc, connect: cc, dir: "/s", opts: []Opt{WithInterval(0)}, wantErr: "interval 0s"},
		{name: "nil logger", vault: vc, connect: cc, dir: "/s", opts: []Opt{WithLogger(nil)}, wantErr: "nil logger"},
		{name: "errors together", dir: "x", opts: []Opt{WithInterval(-1)}, wantErr: "nil vault client\nnil connect client\nsecrets folder \"x\": want an absolute path\ninterval -1ns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.vault, tt.connect, tt.dir, tt.opts...)
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
	vc := newMatVaultClient(t, v, secrets.WithLogger(logger))
	var out []string // everything printed that is not the log
	events := &matEvents{}
	m, err := New(vc, cc, t.TempDir(), WithInterval(2*time.Millisecond),
		WithLogger(logger), WithEvents(events.add))
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
	rep, err := vc.Preflight(ctx, map[string]map[string]string{
		"app-a": {"user": "${vault:secret/data/app/db:user}", "x": "${vault:secret/data/app/db:nope}"},
		"app-c": {"token": "${vault:secret/data/app/other:token}", "bad": "${vault:oops}"},
		"app-e": {"gone": "${vault:secret/data/app/gone:k}"},
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
