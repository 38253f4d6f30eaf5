package platformtest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestFromLookup(t *testing.T) {
	env := map[string]string{
		EnvBrokers:           " 127.0.0.1:9092, 127.0.0.1:9102 ,",
		EnvSchemaRegistryURL: "http://127.0.0.1:8081/apis/ccompat/v7/",
		EnvConnectURL:        "http://127.0.0.1:8083",
		EnvVaultAddr:         "http://127.0.0.1:8200",
		EnvVaultToken:        "s.secret-token",
	}
	p := fromLookup(func(k string) string { return env[k] })
	want := Platform{
		Brokers:           []string{"127.0.0.1:9092", "127.0.0.1:9102"},
		SchemaRegistryURL: "http://127.0.0.1:8081/apis/ccompat/v7",
		ConnectURL:        "http://127.0.0.1:8083",
		VaultAddr:         "http://127.0.0.1:8200",
		VaultToken:        "s.secret-token",
	}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("got %#v, want %#v", p, want)
	}
	if got := p.Missing(Kafka, SchemaRegistry, Connect, Vault); got != nil {
		t.Fatalf("Missing: got %v, want nil", got)
	}
}

func TestMissing(t *testing.T) {
	tests := []struct {
		name       string
		p          Platform
		components []Component
		want       []string
	}{
		{"empty kafka", Platform{}, []Component{Kafka}, []string{EnvBrokers}},
		{"empty all", Platform{}, []Component{Kafka, SchemaRegistry, Connect, Vault},
			[]string{EnvBrokers, EnvSchemaRegistryURL, EnvConnectURL, EnvVaultAddr, EnvVaultToken}},
		{"vault without token", Platform{VaultAddr: "http://x"}, []Component{Vault}, []string{EnvVaultToken}},
		{"kafka present, registry asked", Platform{Brokers: []string{"b:1"}}, []Component{Kafka, SchemaRegistry},
			[]string{EnvSchemaRegistryURL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Missing(tt.components...); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPlatformStringRedactsToken(t *testing.T) {
	p := Platform{Brokers: []string{"b:1"}, VaultAddr: "http://v", VaultToken: "hvs.very-secret"}
	for _, s := range []string{p.String(), fmt.Sprintf("%v", p), fmt.Sprintf("%+v", p), fmt.Sprintf("%#v", p)} {
		if strings.Contains(s, "very-secret") {
			t.Fatalf("token printed: %s", s)
		}
		if !strings.Contains(s, "[redacted]") {
			t.Fatalf("no redaction marker in %s", s)
		}
	}
}

// recordingTB records Skip and Fatal instead of stopping the goroutine.
type recordingTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recordingTB) Helper()                   {}
func (r *recordingTB) Skip(args ...any)          { r.skipped, r.msg = true, fmt.Sprint(args...) }
func (r *recordingTB) Fatalf(f string, a ...any) { r.failed, r.msg = true, fmt.Sprintf(f, a...) }

func TestRequire(t *testing.T) {
	full := Platform{Brokers: []string{"b:1"}, SchemaRegistryURL: "r", ConnectURL: "c", VaultAddr: "v", VaultToken: "t"}
	tests := []struct {
		name                  string
		p                     Platform
		required              bool
		components            []Component
		wantSkip, wantFail    bool
		wantMessageContaining string
	}{
		{"present", full, true, nil, false, false, ""},
		{"missing skips", Platform{}, false, []Component{Kafka}, true, false, EnvBrokers},
		{"missing fails when required", Platform{}, true, []Component{Kafka}, false, true, EnvRequirePlatform},
		{"no components means all", Platform{Brokers: []string{"b:1"}}, true, nil, false, true, EnvVaultToken},
		{"only what is asked", Platform{Brokers: []string{"b:1"}}, true, []Component{Kafka}, false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recordingTB{TB: t}
			require(rec, tt.p, tt.required, tt.components)
			if rec.skipped != tt.wantSkip || rec.failed != tt.wantFail {
				t.Fatalf("skipped=%v failed=%v, want skipped=%v failed=%v (%s)", rec.skipped, rec.failed, tt.wantSkip, tt.wantFail, rec.msg)
			}
			if !strings.Contains(rec.msg, tt.wantMessageContaining) {
				t.Fatalf("message %q does not mention %q", rec.msg, tt.wantMessageContaining)
			}
		})
	}
}

func TestIsTrue(t *testing.T) {
	for v, want := range map[string]bool{"1": true, "true": true, " TRUE ": true, "yes": true, "": false, "0": false, "false": false} {
		if got := isTrue(v); got != want {
			t.Errorf("isTrue(%q): got %v, want %v", v, got, want)
		}
	}
}

func TestUniqueName(t *testing.T) {
	a, b := UniqueName("smoke/orders test"), UniqueName("smoke/orders test")
	if a == b {
		t.Fatalf("two calls returned %q", a)
	}
	if !strings.HasPrefix(a, "smoke-orders-test-") || len(a) != len("smoke-orders-test-")+12 {
		t.Fatalf("got %q, want smoke-orders-test- and 12 hex digits", a)
	}
}
