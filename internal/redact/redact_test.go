package redact

import "testing"

func TestSensitiveKey(t *testing.T) {
	for key, want := range map[string]bool{
		"database.password":            true,
		"connection.password":          true,
		"ssl.keystore.password":        true,
		"ssl.key.password":             true,
		"sasl.jaas.config":             true,
		"aws.secret.access.key":        true,
		"aws.access.key":               true,
		"api.token":                    true,
		"db_credentials":               true,
		"basic.auth.user.info":         true,
		"schema.registry.apikey":       true,
		"ssl.key":                      true,
		"DATABASE.PASSWORD":            true,
		"key.converter":                false,
		"key.converter.schemas.enable": false,
		"key.ignore":                   false,
		"topic":                        false,
		"tasks.max":                    false,
		"database.user":                false,
		"connector.class":              false,
		"token.endpoint.url.enabled":   true,
	} {
		if got := SensitiveKey(key); got != want {
			t.Errorf("SensitiveKey(%q): got %v, want %v", key, got, want)
		}
	}
}

func TestValue(t *testing.T) {
	tests := []struct{ key, value, want string }{
		{"database.password", "hunter2", Marker},
		{"database.password", "${dir:/etc/secrets:db-password}", "${dir:/etc/secrets:db-password}"},
		{"database.password", "${vault:secret/data/pricing/db:password}", "${vault:secret/data/pricing/db:password}"},
		{"database.password", "prefix-${dir:/x:y}", Marker},
		{"database.password", "${notaplaceholder}", Marker},
		{"topic", "orders", "orders"},
	}
	for _, tt := range tests {
		if got := Value(tt.key, tt.value); got != tt.want {
			t.Errorf("Value(%q, %q): got %q, want %q", tt.key, tt.value, got, tt.want)
		}
	}
	in := map[string]string{"a.password": "x", "b": "y"}
	out := Config(in)
	if out["a.password"] != Marker || out["b"] != "y" || in["a.password"] != "x" {
		t.Fatalf("Config: got %v (input now %v)", out, in)
	}
}
