package validate

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/streamkit/streamkit/connect"
)

func TestManifestPrintsNoCredential(t *testing.T) {
	const secret = "hunter2-literal"
	m := Manifest{Connectors: []connect.Spec{sink("pricing-sink", "connection.password", secret)}}
	rc := &Context{Manifest: &m, Policy: Policy{Namespace: "pricing"}}
	for _, v := range []any{m, &m, rc, Result{Manifest: m}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			if got := fmt.Sprintf(verb, v); strings.Contains(got, secret) {
				t.Errorf("%T with %s: got %s, want the password redacted", v, verb, got)
			}
		}
		if b, _ := json.Marshal(v); strings.Contains(string(b), secret) {
			t.Errorf("%T as JSON: got %s, want the password redacted", v, b)
		}
	}
	if got := fmt.Sprintf("%#v", m); !strings.HasPrefix(got, "validate.Manifest{Topics:[]topics.Spec(nil), ") {
		t.Errorf("%%#v: got %s, want it to name validate.Manifest and its fields", got)
	}
}
