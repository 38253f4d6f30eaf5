package schema

import (
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"
)

func TestRegistryFormatHidesCredentials(t *testing.T) {
	const secret = "registry-s3cret"
	tests := []struct {
		name string
		opts []sr.ClientOpt
		want string
	}{
		{"password in the URL", []sr.ClientOpt{sr.URLs("http://app:" + secret + "@registry.internal:8081")},
			"schema.Registry{urls: [http://app:xxxxx@registry.internal:8081]}"},
		{"basic auth", []sr.ClientOpt{sr.URLs("http://registry.internal:8081"), sr.BasicAuth("app", secret)},
			"schema.Registry{urls: [http://registry.internal:8081]}"},
		{"bearer token", []sr.ClientOpt{sr.URLs("http://registry.internal:8081", "http://registry-2.internal:8081"), sr.BearerToken(secret)},
			"schema.Registry{urls: [http://registry.internal:8081 http://registry-2.internal:8081]}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRegistryFromOptions(tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d"} {
				got := fmt.Sprintf(verb, r)
				if strings.Contains(got, secret) {
					t.Errorf("%s: got %s, want the secret redacted", verb, got)
				}
				if got != tt.want {
					t.Errorf("%s: got %s, want %s", verb, got, tt.want)
				}
			}
		})
	}
	var nilRegistry *Registry
	if got, want := fmt.Sprint(nilRegistry), "schema.Registry(nil)"; got != want {
		t.Errorf("nil: got %s, want %s", got, want)
	}
}
