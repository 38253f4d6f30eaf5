package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/streamkit/streamkit/internal/vaultfake"
)

// newPreflightVault is a fake Vault holding secret/data/app/db with a user
// and a password.
func newPreflightVault(t *testing.T) (*vaultfake.Server, *Client) {
	t.Helper()
	v := vaultfake.NewServer(t)
	v.Put("app/db", map[string]any{"user": "user-s3cr3t", "password": "pw-v1-s3cr3t"})
	c, _ := fakeVaultNew(t, v, WithToken(NewValue(vaultfake.RootToken)))
	return v, c
}

func TestPreflight(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(v *vaultfake.Server)
		config  map[string]string
		wantOK  bool
		want    error  // the sentinel the error matches
		problem string // in the report's problem
		note    string
		noRead  bool // the secret's data must not be read
	}{
		{name: "ok", config: map[string]string{"p": "${vault:secret/data/app/db:password}", "u": "jdbc:x?u=${vault:secret/data/app/db:user}"}, wantOK: true},
		{name: "pinned version", config: map[string]string{"p": "${vault:secret/data/app/db?version=1:password}"}, wantOK: true},
		{
			name: "missing path", config: map[string]string{"p": "${vault:secret/data/app/gone:password}"},
			want: ErrNotFound, problem: "vault read metadata secret/metadata/app/gone: 404", noRead: true,
		},
		{
			name: "missing version", config: map[string]string{"p": "${vault:secret/data/app/db?version=7:password}"},
			want: ErrNotFound, problem: "vault read secret/data/app/db: 404",
		},
		{
			name: "missing key", config: map[string]string{"p": "${vault:secret/data/app/db:passwd}"},
			want: ErrNotFound, problem: `vault read secret/data/app/db: 404: no key "passwd"`,
		},
		{
			name: "no read capability", setup: func(v *vaultfake.Server) { v.SetCaps("secret/data/app/db", "list") },
			config: map[string]string{"p": "${vault:secret/data/app/db:password}"},
			want:   ErrPermissionDenied, problem: "vault capabilities secret/data/app/db: token may not read (capabilities: list)", noRead: true,
		},
		{
			name: "denied", setup: func(v *vaultfake.Server) { v.SetCaps("secret/data/app/db", "deny") },
			config: map[string]string{"p": "${vault:secret/data/app/db:password}"},
			want:   ErrPermissionDenied, problem: "capabilities: deny", noRead: true,
		},
		{
			name: "capability but the read is refused", setup: func(v *vaultfake.Server) { v.FailWith("secret/data/app/db", http.StatusForbidden) },
			config: map[string]string{"p": "${vault:secret/data/app/db:password}"},
			want:   ErrPermissionDenied, problem: "vault read secret/data/app/db: 403: permission denied",
		},
		{
			name: "metadata not readable, data is", setup: func(v *vaultfake.Server) { v.FailWith("secret/metadata/app/db", http.StatusForbidden) },
			config: map[string]string{"p": "${vault:secret/data/app/db:password}"}, wantOK: true,
		},
		{
			name: "not kv v2: capability only", config: map[string]string{"p": "${vault:database/creds/app:password}"},
			wantOK: true, note: "existence not checked", noRead: true,
		},
		{
			name: "not kv v2 without capability", setup: func(v *vaultfake.Server) { v.SetCaps("database/creds/app") },
			config: map[string]string{"p": "${vault:database/creds/app:password}"},
			want:   ErrPermissionDenied, problem: "capabilities: none",
		},
		{
			name: "invalid reference", config: map[string]string{"p": "${vault:secret/data/app/db}"},
			want: ErrInvalidRef, problem: "malformed", noRead: true,
		},
		{
			name: "kv v2 path without data", config: map[string]string{"p": "${vault:secret/app/db:password}"},
			want: ErrInvalidRef, noRead: true,
			problem: "vault check path secret/app/db: secret/ is a KV v2 mount: the path should be secret/data/app/db",
		},
		{
			name: "kv v2 path without data, pinned", config: map[string]string{"p": "${vault:secret/app/db?version=1:password}"},
			want: ErrInvalidRef, problem: "the path should be secret/data/app/db?version=1", noRead: true,
		},
		{
			name: "kv v2 path without data, not readable either", setup: func(v *vaultfake.Server) { v.SetCaps("secret/app/db", "deny") },
			config: map[string]string{"p": "${vault:secret/app/db:password}"},
			want:   ErrInvalidRef, problem: "the path should be secret/data/app/db", noRead: true,
		},
		{
			name: "kv v1 path", config: map[string]string{"p": "${vault:kv/legacy/app:api_key}"},
			wantOK: true, note: "existence not checked",
		},
		{
			name: "mount not known: capability only", setup: func(v *vaultfake.Server) {
				v.FailWith("sys/internal/ui/mounts/secret/app/db", http.StatusForbidden)
			},
			config: map[string]string{"p": "${vault:secret/app/db:password}"}, wantOK: true, note: "existence not checked", noRead: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, c := newPreflightVault(t)
			if tt.setup != nil {
				tt.setup(v)
			}
			rep, err := c.Preflight(context.Background(), map[string]map[string]string{"app-a": tt.config})
			if rep == nil {
				t.Fatalf("no report; error %v", err)
			}
			if len(rep.Checks) != len(tt.config) {
				t.Fatalf("got %d checks, want %d", len(rep.Checks), len(tt.config))
			}
			if tt.wantOK {
				if err != nil || !rep.OK() {
					t.Fatalf("got %v and report\n%s\nwant ok", err, rep)
				}
				for _, ch := range rep.Checks {
					if !strings.Contains(ch.Note, tt.note) {
						t.Errorf("got note %q, want one containing %q", ch.Note, tt.note)
					}
				}
			} else {
				if !errors.Is(err, tt.want) {
					t.Fatalf("got %v, want an error matching %v", err, tt.want)
				}
				ch := rep.Checks[0]
				if ch.OK || !strings.Contains(ch.Problem, tt.problem) || !errors.Is(ch.Err, tt.want) {
					t.Errorf("got check %+v, want a problem containing %q matching %v", ch, tt.problem, tt.want)
				}
				if !strings.Contains(err.Error(), `connector "app-a" p: `) {
					t.Errorf("error %q does not name the connector and key", err)
				}
			}
			if n := v.Count("secret/data/app/db") + v.Count("secret/data/app/gone"); tt.noRead && n != 0 {
				t.Errorf("the secret's data was read %d times, want none", n)
			}
		})
	}
}

func TestPreflightAsksOnceAndReadsEachPathOnce(t *testing.T) {
	v, c := newPreflightVault(t)
	v.Put("app/other", map[string]any{"token": "tok-v1-s3cr3t"})
	connectors := map[string]map[string]string{
		"app-a": {"u": "${vault:secret/data/app/db:user}", "p": "${vault:secret/data/app/db:password}"},
		"app-b": {"p": "x${vault:secret/data/app/db:password}${vault:secret/data/app/other:token}"},
	}
	rep, err := c.Preflight(context.Background(), connectors)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Checks) != 4 {
		t.Errorf("got %d checks, want 4", len(rep.Checks))
	}
	for key, want := range map[string]int{
		"sys/capabilities-self": 1, "secret/metadata/app/db": 1, "secret/data/app/db": 1,
		"secret/metadata/app/other": 1, "secret/data/app/other": 1,
	} {
		if got := v.Count(key); got != want {
			t.Errorf("%s: got %d requests, want %d", key, got, want)
		}
	}
}

func TestPreflightLooksUpEachMountOnce(t *testing.T) {
	v, c := newPreflightVault(t)
	rep, err := c.Preflight(context.Background(), map[string]map[string]string{
		"app-a": {"p": "${vault:secret/app/db:password}", "u": "${vault:secret/app/db:user}"},
		"app-b": {"p": "${vault:secret/app/other:password}", "k": "${vault:kv/legacy/app:api_key}", "d": "${vault:secret/data/app/db:password}"},
	})
	if !errors.Is(err, ErrInvalidRef) || rep.Problems() != 3 {
		t.Fatalf("got %v and report\n%s\nwant the three references without data/ refused", err, rep)
	}
	lookups := map[string]int{}
	for _, r := range v.Requests() {
		if m, ok := strings.CutPrefix(r.Path, "sys/internal/ui/mounts/"); ok {
			lookups[m]++
		}
	}
	// One lookup for "secret/" and one for "kv/"; a path with data/ needs none.
	if len(lookups) != 2 || lookups["kv/legacy/app"] != 1 {
		t.Errorf("got mount lookups %v, want one for secret/ and one for kv/", lookups)
	}
}

func TestPreflightWithoutReferences(t *testing.T) {
	v, c := newPreflightVault(t)
	rep, err := c.Preflight(context.Background(), map[string]map[string]string{"x": {"a": "b"}})
	if err != nil || !rep.OK() || len(rep.Checks) != 0 {
		t.Errorf("got %v, %v, want an empty ok report", rep, err)
	}
	if n := v.Count("sys/capabilities-self"); n != 0 {
		t.Errorf("asked Vault %d times, want none", n)
	}
}

func TestPreflightVaultUnavailable(t *testing.T) {
	v, c := newPreflightVault(t)
	v.FailWith("sys/capabilities-self", http.StatusInternalServerError)
	rep, err := c.Preflight(context.Background(), map[string]map[string]string{"x": {"a": "${vault:secret/data/app/db:user}"}})
	if rep != nil || !errors.Is(err, ErrUnavailable) {
		t.Errorf("got %v, %v, want no report and ErrUnavailable", rep, err)
	}
}

func TestPreflightReportFormats(t *testing.T) {
	v, c := newPreflightVault(t)
	v.SetCaps("secret/data/app/secret", "deny")
	rep, err := c.Preflight(context.Background(), map[string]map[string]string{
		"app-b": {
			"token": "${vault:secret/data/app/secret:token}", "creds": "${vault:database/creds/app:password}", "bad": "${vault:x}",
		},
		"app-a": {
			"password": "${vault:secret/data/app/db:password}", "user": "${vault:secret/data/app/db:login}",
		},
	})
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, ErrPermissionDenied) || !errors.Is(err, ErrInvalidRef) {
		t.Fatalf("got %v, want an error matching ErrNotFound, ErrPermissionDenied and ErrInvalidRef", err)
	}
	wantText := `vault preflight: 5 references, 3 problems
ok   app-a password ${vault:secret/data/app/db:password}
FAIL app-a user ${vault:secret/data/app/db:login}: vault read secret/data/app/db: 404: no key "login"
FAIL app-b bad (invalid reference): invalid vault reference: bad: malformed ${vault:...} reference
ok   app-b creds ${vault:database/creds/app:password} (read capability checked; existence not checked for a path that is not KV v2)
FAIL app-b token ${vault:secret/data/app/secret:token}: vault capabilities secret/data/app/secret: token may not read (capabilities: deny)
`
	if got := rep.String(); got != wantText {
		t.Errorf("got\n%s\nwant\n%s", got, wantText)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		OK         bool `json:"ok"`
		References int  `json:"references"`
		Problems   int  `json:"problems"`
		Checks     []struct {
			Connector string `json:"connector"`
			ConfigKey string `json:"config_key"`
			Ref       string `json:"ref"`
			OK        bool   `json:"ok"`
			Problem   string `json:"problem"`
			Note      string `json:"note"`
		} `json:"checks"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.OK || got.References != 5 || got.Problems != 3 || len(got.Checks) != 5 {
		t.Fatalf("got %s, want 5 references, 3 problems", b)
	}
	if c := got.Checks[1]; c.Connector != "app-a" || c.ConfigKey != "user" || c.Ref != "${vault:secret/data/app/db:login}" || c.OK ||
		c.Problem != `vault read secret/data/app/db: 404: no key "login"` {
		t.Errorf("got check %+v", c)
	}
	if strings.Contains(string(b), "pw-v1-s3cr3t") || strings.Contains(rep.String(), "pw-v1-s3cr3t") {
		t.Error("the report holds a secret")
	}
}
