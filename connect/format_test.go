package connect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const literalPass = "hunter2-literal"

// printed returns v as every fmt verb and both slog handlers print it.
func printed(v any) map[string]string {
	out := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		out["fmt "+verb] = fmt.Sprintf(verb, v)
	}
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("m", "v", v)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("m", "v", v)
	out["slog text"], out["slog JSON"] = text.String(), js.String()
	return out
}

func wantNoSecret(t *testing.T, v any, secret string) {
	t.Helper()
	for how, s := range printed(v) {
		if strings.Contains(s, secret) {
			t.Errorf("%s: got %s, want %q redacted", how, s, secret)
		}
	}
}

func TestClientFormatHidesCredentials(t *testing.T) {
	for name, opts := range authClients("http://connect.internal:8083") {
		t.Run(name, func(t *testing.T) {
			c, err := New(opts...)
			if err != nil {
				t.Fatal(err)
			}
			wantNoSecret(t, c, authPass)
			if got, want := fmt.Sprint(c), "connect.Client{urls: [http://connect.internal:8083], auth: basic}"; got != want {
				t.Errorf("got %s, want %s", got, want)
			}
			// fmt calls no method of a *Client in an unexported field, and
			// with %s prints its fields, so the password must not be among
			// them as a string.
			h, err := NewHealer(c)
			if err != nil {
				t.Fatal(err)
			}
			wantNoSecret(t, h, authPass)
		})
	}
	c, err := New(WithURLs("http://connect.internal:8083"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprintf("%+v", c), "connect.Client{urls: [http://connect.internal:8083], auth: none}"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func secretConfig() map[string]string {
	return map[string]string{
		"connector.class":   "io.debezium.connector.postgresql.PostgresConnector",
		"database.user":     "app",
		"database.password": literalPass,
		"sasl.jaas.config":  `org.apache.kafka.common.security.plain.PlainLoginModule required username="app" password="` + literalPass + `";`,
		"ssl.key.password":  "${vault:secret/data/pricing/tls:key}",
	}
}

func TestConfigHoldersRedact(t *testing.T) {
	cfg := secretConfig()
	for name, v := range map[string]any{
		"Spec":          Spec{Name: "pricing-db", Config: cfg},
		"ConnectorInfo": ConnectorInfo{Name: "pricing-db", Config: cfg, Tasks: []TaskID{{"pricing-db", 0}}},
		"Connector":     Connector{Info: ConnectorInfo{Name: "pricing-db", Config: cfg}},
		"Task":          Task{ID: TaskID{"pricing-db", 0}, Config: cfg},
	} {
		t.Run(name, func(t *testing.T) {
			wantNoSecret(t, v, literalPass)
			for how, s := range printed(v) {
				// A placeholder names a secret without holding it.
				if !strings.Contains(s, "${vault:secret/data/pricing/tls:key}") || !strings.Contains(s, "app") {
					t.Errorf("%s: got %s, want the placeholder and the user shown", how, s)
				}
			}
		})
	}
}

func TestSpecFormatKeepsTheShape(t *testing.T) {
	s := Spec{Name: "pricing-db", Config: map[string]string{"database.password": literalPass}, State: StatePaused, Cluster: "secure"}
	if got, want := fmt.Sprintf("%#v", s), `connect.Spec{Name:"pricing-db", Config:map[string]string{"database.password":"[redacted]"}, State:"PAUSED", Cluster:"secure"}`; got != want {
		t.Errorf("%%#v: got %s, want %s", got, want)
	}
	if got, want := fmt.Sprintf("%+v", Spec{Name: "x"}), "{Name:x Config:map[] State: Cluster:}"; got != want {
		t.Errorf("%%+v: got %s, want %s", got, want)
	}
	if got, want := fmt.Sprintf("%#v", Spec{Name: "x"}), `connect.Spec{Name:"x", Config:map[string]string(nil), State:"", Cluster:""}`; got != want {
		t.Errorf("%%#v of a nil config: got %s, want %s", got, want)
	}
	if s.Config["database.password"] != literalPass {
		t.Error("printing changed the spec's config")
	}
}

func TestJSON(t *testing.T) {
	cfg := secretConfig()
	t.Run("Spec redacts", func(t *testing.T) {
		b, err := json.Marshal(Spec{Name: "pricing-db", Config: cfg, State: StatePaused})
		if err != nil {
			t.Fatal(err)
		}
		want := `{"name":"pricing-db","config":{"connector.class":"io.debezium.connector.postgresql.PostgresConnector",` +
			`"database.password":"[redacted]","database.user":"app","sasl.jaas.config":"[redacted]",` +
			`"ssl.key.password":"${vault:secret/data/pricing/tls:key}"},"state":"PAUSED"}`
		if string(b) != want {
			t.Errorf("got %s, want %s", b, want)
		}
		var back Spec
		if err := json.Unmarshal([]byte(`{"name":"x","config":{"database.password":"`+literalPass+`"}}`), &back); err != nil || back.Config["database.password"] != literalPass {
			t.Errorf("decoding: got %v, %v, want the password as written", back.Config, err)
		}
	})
	// The REST documents encode as the worker sends them: a fake worker
	// or a proxy encodes them.
	for name, v := range map[string]any{
		"ConnectorInfo": ConnectorInfo{Name: "pricing-db", Config: cfg},
		"Task":          Task{Config: cfg},
		"Connector":     Connector{Info: ConnectorInfo{Config: cfg}},
	} {
		t.Run(name+" whole", func(t *testing.T) {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), `"database.password":"`+literalPass+`"`) {
				t.Errorf("got %s, want the config whole", b)
			}
		})
	}
}

func TestValidationLogValueRedacts(t *testing.T) {
	check := func(name, value string) ConfigCheck {
		var c ConfigCheck
		c.Definition.Name, c.Definition.DefaultValue = name, &value
		c.Value.Name, c.Value.Value = name, &value
		return c
	}
	v := Validation{Name: "x", Configs: []ConfigCheck{check("sasl.jaas.config", literalPass), check("database.user", "app")}}
	wantNoSecret(t, v, literalPass)
	wantNoSecret(t, v.Configs[0], literalPass)
	var js bytes.Buffer
	slog.New(slog.NewJSONHandler(&js, nil)).Info("m", "v", v)
	if !strings.Contains(js.String(), `"value":"app"`) || !strings.Contains(js.String(), `"value":"[redacted]"`) {
		t.Errorf("got %s, want the user shown and the JAAS config redacted", js.String())
	}
	if *v.Configs[0].Value.Value != literalPass {
		t.Error("logging changed the validation")
	}
	b, _ := json.Marshal(v)
	if !strings.Contains(string(b), literalPass) {
		t.Errorf("JSON: got %s, want the worker's answer whole", b)
	}
}

func TestChangeFormatHidesItsSpec(t *testing.T) {
	spec := Spec{Name: "pricing-db", Config: secretConfig()}
	p := diff([]Spec{spec}, nil, PlanOptions{Namespace: "pricing-"})
	wantNoSecret(t, p.Changes[0], literalPass)
	wantNoSecret(t, *p, literalPass)
	if got, want := fmt.Sprintf("%#v", Change{Action: Delete, Name: "pricing-old"}),
		`connect.Change{Action:"delete", Name:"pricing-old", Keys:[]connect.KeyChange(nil), FromState:"", ToState:""}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
