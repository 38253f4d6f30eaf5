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
		// Settings about a credential, not credentials.
		"value.converter.basic.auth.credentials.source":  false,
		"key.converter.basic.auth.credentials.source":    false,
		"value.converter.bearer.auth.credentials.source": false,
		"sasl.mechanism":                            false,
		"producer.override.sasl.mechanism":          false,
		"security.protocol":                         false,
		"password.encoder.cipher.algorithm":         false,
		"sasl.oauthbearer.token.endpoint.url":       false,
		"value.converter.basic.auth.user.info":      true,
		"value.converter.bearer.auth.token":         true,
		"value.converter.bearer.auth.client.secret": true,
		"password.encoder.secret":                   true,
	} {
		if got := SensitiveKey(key); got != want {
			t.Errorf("SensitiveKey(%q): got %v, want %v", key, got, want)
		}
	}
}

func TestURLPassword(t *testing.T) {
	for v, want := range map[string]bool{
		"jdbc:postgresql://db:5432/x?user=app&password=hunter2":                                  true,
		"jdbc:postgresql://db:5432/x?password=hunter2&user=app":                                  true,
		"jdbc:mysql://app:hunter2@db/x":                                                          true,
		"jdbc:sqlserver://db;user=app;password=hunter2":                                          true,
		"jdbc:sqlserver://db:1433;databaseName=x;user=app;Password=hunter2":                      true,
		"jdbc:mysql://db/x?user=app&pwd=hunter2":                                                 true,
		"mongodb://app:hunter2@mongo-1:27017,mongo-2:27017/orders":                               true,
		"jdbc:postgresql://db:5432/x?user=app&password=${vault:secret/data/pricing/db:password}": false,
		"jdbc:mysql://app:${env:DB_PASSWORD}@db/x":                                               false,
		"jdbc:mysql://app:${file:/etc/kafka/db.properties:password}@db/x":                        false,
		"jdbc:sqlserver://db;user=app;password=${dir:/etc/secrets:db-password}":                  false,
		"jdbc:postgresql://db:5432/x?user=app":                                                   false,
		"jdbc:postgresql://db:5432/x?user=app&password=":                                         false,
		"jdbc:mysql://app@db/x":                                                                  false,
		"http://registry:8081":                                                                   false,
		"user:$1@topic":                                                                          false,
	} {
		if got := URLPassword(v); got != want {
			t.Errorf("URLPassword(%q): got %v, want %v", v, got, want)
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
		{"connection.uri", "mongodb://app:hunter2@mongo-1:27017,mongo-2:27017/orders", "mongodb://app:[redacted]@mongo-1:27017,mongo-2:27017/orders"},
		{"connection.uri", "mongodb://app:hun@ter2@mongo:27017", "mongodb://app:[redacted]@mongo:27017"},
		{"connection.uri", "mongodb://app:a@mongo:27017", "mongodb://app:[redacted]@mongo:27017"},
		{"connection.uri", "mongodb://app:@mongo:27017", "mongodb://app:@mongo:27017"},
		{"connection.uri", "mongodb://app:${vault:secret/data/x:pw}@mongo:27017", "mongodb://app:${vault:secret/data/x:pw}@mongo:27017"},
		{"connection.url", "jdbc:postgresql://db:5432/orders", "jdbc:postgresql://db:5432/orders"},
		{"connection.url", "jdbc:mysql://app@db:3306/orders", "jdbc:mysql://app@db:3306/orders"},
		{"schema.registry.url", "http://a:x@r1:8081 https://b:y@r2:8081", "http://a:[redacted]@r1:8081 https://b:[redacted]@r2:8081"},
		{"transforms.route.replacement", "user:$1@topic", "user:$1@topic"},
		{"connection.uri", "a://u:p@h1,b://v:q@h2/db", "a://u:[redacted]@h1,b://v:[redacted]@h2/db"},
		{"url", "http://host:8080/path@x", "http://host:8080/path@x"},
		{"connection.url", "jdbc:postgresql://db:5432/orders?user=app&password=hunter2&ssl=true", "jdbc:postgresql://db:5432/orders?user=app&password=[redacted]&ssl=true"},
		{"connection.url", "jdbc:sqlserver://db:1433;databaseName=orders;user=app;Password=hunter2", "jdbc:sqlserver://db:1433;databaseName=orders;user=app;Password=[redacted]"},
		{"connection.url", "jdbc:postgresql://db/orders?password=${vault:secret/data/x:pw}", "jdbc:postgresql://db/orders?password=${vault:secret/data/x:pw}"},
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
	if out := Config(nil); out != nil {
		t.Fatalf("Config(nil): got %#v, want nil", out)
	}
}
