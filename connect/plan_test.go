package connect

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func live(name string, state string, cfg map[string]string) Connector {
	stored := map[string]string{"name": name}
	for k, v := range cfg {
		stored[k] = v
	}
	return Connector{
		Info:   ConnectorInfo{Name: name, Config: stored},
		Status: Status{Name: name, Connector: Instance{State: state}},
	}
}

func TestDiff(t *testing.T) {
	src := map[string]string{"connector.class": "FileStreamSource", "file": "/in.txt", "topic": "orders", "tasks.max": "1"}
	with := func(k, v string) map[string]string {
		out := map[string]string{}
		for kk, vv := range src {
			out[kk] = vv
		}
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
		return out
	}
	workers := map[string]Connector{
		"team-a-src":    live("team-a-src", StateRunning, src),
		"team-a-old":    live("team-a-old", StateRunning, src),
		"team-a-paused": live("team-a-paused", StatePaused, src),
		"team-a-broken": live("team-a-broken", StateFailed, src),
		"other-team-x":  live("other-team-x", StateRunning, src),
	}
	tests := []struct {
		name    string
		desired []Spec
		prune   bool
		want    map[string]Action
		keys    map[string]string // connector -> comma-separated changed keys
	}{
		{
			name:    "unchanged, name key ignored",
			desired: []Spec{{Name: "team-a-src", Config: src}},
			want:    map[string]Action{"team-a-src": Unchanged},
		},
		{
			name:    "explicit name key equal to the connector's is fine",
			desired: []Spec{{Name: "team-a-src", Config: with("name", "team-a-src")}},
			want:    map[string]Action{"team-a-src": Unchanged},
		},
		{
			name:    "one key changed",
			desired: []Spec{{Name: "team-a-src", Config: with("tasks.max", "2")}},
			want:    map[string]Action{"team-a-src": Update},
			keys:    map[string]string{"team-a-src": "tasks.max"},
		},
		{
			name:    "key removed and key added",
			desired: []Spec{{Name: "team-a-src", Config: with("file", "")}, {Name: "team-a-new", Config: src}},
			want:    map[string]Action{"team-a-src": Update, "team-a-new": Create},
			keys:    map[string]string{"team-a-src": "file", "team-a-new": "connector.class,file,tasks.max,topic"},
		},
		{
			name:    "no prune keeps absent connectors",
			desired: []Spec{{Name: "team-a-src", Config: src}},
			want:    map[string]Action{"team-a-src": Unchanged},
		},
		{
			name:    "prune deletes only inside the namespace",
			desired: []Spec{{Name: "team-a-src", Config: src}, {Name: "team-a-paused", Config: src, State: StatePaused}, {Name: "team-a-broken", Config: src}},
			prune:   true,
			want:    map[string]Action{"team-a-src": Unchanged, "team-a-paused": Unchanged, "team-a-broken": Unchanged, "team-a-old": Delete},
		},
		{
			name:    "state change",
			desired: []Spec{{Name: "team-a-paused", Config: src}, {Name: "team-a-src", Config: src, State: StateStopped}},
			want:    map[string]Action{"team-a-paused": Update, "team-a-src": Update},
		},
		{
			name:    "placeholders compare as written",
			desired: []Spec{{Name: "team-a-src", Config: with("file", "${dir:/secrets:file}")}},
			want:    map[string]Action{"team-a-src": Update},
			keys:    map[string]string{"team-a-src": "file"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := PlanOptions{Namespace: "team-a-", Prune: tt.prune}
			if err := validateSpecs(tt.desired, opts); err != nil {
				t.Fatal(err)
			}
			p := diff(tt.desired, workers, opts)
			got := map[string]Action{}
			for _, c := range p.Changes {
				got[c.Name] = c.Action
				var keys []string
				for _, k := range c.Keys {
					keys = append(keys, k.Key)
				}
				if want, ok := tt.keys[c.Name]; ok && strings.Join(keys, ",") != want {
					t.Errorf("%s: changed keys %v, want %s", c.Name, keys, want)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for n, a := range tt.want {
				if got[n] != a {
					t.Errorf("%s: got %s, want %s", n, got[n], a)
				}
			}
			if _, ok := got["other-team-x"]; ok {
				t.Fatal("a connector outside the namespace is in the plan")
			}
		})
	}
}

func TestValidateSpecs(t *testing.T) {
	ok := map[string]string{"connector.class": "X"}
	tests := []struct {
		name    string
		desired []Spec
		ns      string
		wantErr error
	}{
		{"empty namespace", []Spec{{Name: "a", Config: ok}}, "", nil},
		{"outside namespace", []Spec{{Name: "b-x", Config: ok}}, "a-", ErrOutsideNamespace},
		{"no class", []Spec{{Name: "a-x", Config: map[string]string{}}}, "a-", nil},
		{"twice", []Spec{{Name: "a-x", Config: ok}, {Name: "a-x", Config: ok}}, "a-", nil},
		{"bad state", []Spec{{Name: "a-x", Config: ok, State: "SLEEPING"}}, "a-", nil},
		{"name mismatch", []Spec{{Name: "a-x", Config: map[string]string{"connector.class": "X", "name": "a-y"}}}, "a-", nil},
		{"empty name", []Spec{{Config: ok}}, "a-", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validateSpecs(tt.desired, PlanOptions{Namespace: tt.ns})
			if err == nil {
				t.Fatal("accepted")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestPlanRedactsCredentials(t *testing.T) {
	cfg := map[string]string{
		"connector.class":   "io.debezium.connector.postgresql.PostgresConnector",
		"database.user":     "pricing",
		"database.password": "hunter2-inline-secret",
		"sasl.jaas.config":  `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="jaas-secret";`,
		"api.token":         "${dir:/secrets:token}",
	}
	old := map[string]Connector{"team-a-db": live("team-a-db", StateRunning, map[string]string{
		"connector.class": cfg["connector.class"], "database.user": "pricing", "database.password": "old-secret-value",
	})}
	p := diff([]Spec{{Name: "team-a-db", Config: cfg}, {Name: "team-a-new", Config: cfg}}, old, PlanOptions{Namespace: "team-a-"})
	text := p.String()
	js, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{text, string(js), p.GoString()} {
		for _, secret := range []string{"hunter2-inline-secret", "jaas-secret", "old-secret-value"} {
			if strings.Contains(out, secret) {
				t.Fatalf("plan output shows %q:\n%s", secret, out)
			}
		}
		if !strings.Contains(out, "${dir:/secrets:token}") {
			t.Fatalf("a placeholder should be shown as written:\n%s", out)
		}
	}
	for _, c := range p.Changes {
		for _, k := range c.Keys {
			for _, v := range []*string{k.Old, k.New} {
				if v != nil && strings.Contains(*v, "secret-value") {
					t.Fatalf("exported KeyChange holds a secret: %s", *v)
				}
			}
		}
	}
	want := `connect plan for namespace "team-a-" (prune off)
~ update team-a-db
    + api.token = "${dir:/secrets:token}"
    ~ database.password: "[redacted]" -> "[redacted]"
    + sasl.jaas.config = "[redacted]"
+ create team-a-new
    + api.token = "${dir:/secrets:token}"
    + connector.class = "io.debezium.connector.postgresql.PostgresConnector"
    + database.password = "[redacted]"
    + database.user = "pricing"
    + sasl.jaas.config = "[redacted]"
1 to create, 1 to update, 0 to delete, 0 unchanged
`
	if text != want {
		t.Fatalf("got:\n%s\nwant:\n%s", text, want)
	}
	var decoded struct {
		Changes []struct {
			Action string `json:"action"`
			Name   string `json:"name"`
		} `json:"changes"`
		Summary map[string]int `json:"summary"`
	}
	if err := json.Unmarshal(js, &decoded); err != nil {
		t.Fatal(err)
	}
	if len(decoded.Changes) != 2 || decoded.Summary["create"] != 1 || decoded.Summary["update"] != 1 {
		t.Fatalf("json: %s", js)
	}
}

func TestEmptyPlan(t *testing.T) {
	p := &Plan{Changes: []Change{{Action: Unchanged, Name: "a"}}}
	if !p.Empty() {
		t.Fatal("a plan of unchanged connectors is not empty")
	}
	p.Changes = append(p.Changes, Change{Action: Delete, Name: "b"})
	if p.Empty() {
		t.Fatal("a plan with a delete is empty")
	}
}
