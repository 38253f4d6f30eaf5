package materialize_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/secrets"
	"github.com/streamkit/streamkit/secrets/materialize"
)

func Example() {
	ctx := context.Background()
	vaultURL, stop := exampleVault() // a stand-in for https://vault:8200
	defer stop()
	vault, err := secrets.New(ctx, secrets.WithAddress(vaultURL), secrets.WithToken(secrets.NewValue("example-token")))
	if err != nil {
		panic(err)
	}
	cc, err := connect.New(connect.WithURLs("http://connect:8083")) // Run restarts connectors with it
	if err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "secrets") // the workers' secrets folder, e.g. /etc/kafka/secrets
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	m, err := materialize.New(vault, cc, dir)
	if err != nil {
		panic(err)
	}
	specs := []connect.Spec{{Name: "pricing-db", Config: map[string]string{
		"connector.class":   "io.debezium.connector.postgresql.PostgresConnector",
		"database.password": "${vault:secret/data/pricing/db:password}",
	}}}
	// The specs to plan and apply hold a placeholder, never the secret.
	deployed, err := m.TranslateSpecs(specs)
	if err != nil {
		panic(err)
	}
	placeholder := deployed[0].Config["database.password"]
	fmt.Println(filepath.Base(placeholder))
	// Sync writes the file the placeholder names.
	changed, err := m.Sync(ctx, specs)
	if err != nil {
		panic(err)
	}
	fmt.Println(changed["pricing-db"])
	b, err := os.ReadFile(filepath.Join(dir, "secret_data_pricing_db", "password"))
	fmt.Println(len(b), err)
	// Output:
	// secret_data_pricing_db:password}
	// [${vault:secret/data/pricing/db:password}]
	// 16 <nil>
}

// exampleVault serves the two requests Example makes of Vault: the
// token lookup of secrets.New and the read of secret/data/pricing/db.
func exampleVault() (url string, stop func()) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body any
		switch r.URL.Path {
		case "/v1/auth/token/lookup-self":
			body = map[string]any{"data": map[string]any{"ttl": 0}}
		case "/v1/secret/data/pricing/db":
			body = map[string]any{"data": map[string]any{
				"data":     map[string]any{"password": "example-password"},
				"metadata": map[string]any{"version": 1},
			}}
		default:
			w.WriteHeader(http.StatusNotFound)
			body = map[string]any{"errors": []string{}}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}))
	return srv.URL, srv.Close
}
