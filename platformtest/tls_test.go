package platformtest

import (
	"crypto/tls"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestTLSConfig: a config from TLSCAFile trusts the server that the file's
// authority signed, one from ForeignCA does not, and a platform without
// the file says which variable is missing.
func TestTLSConfig(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pemOf(srv.Certificate().Raw), 0o600); err != nil {
		t.Fatal(err)
	}
	get := func(cfg *tls.Config) error {
		resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}).Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	cfg, err := Platform{TLSCAFile: caFile}.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	if err := get(cfg); err != nil {
		t.Errorf("TLSConfig does not trust its own authority's server: %v", err)
	}
	foreign, foreignPEM, err := ForeignCA()
	if err != nil || len(foreignPEM) == 0 {
		t.Fatalf("ForeignCA: %v", err)
	}
	if err := get(&tls.Config{RootCAs: foreign, MinVersion: tls.VersionTLS12}); err == nil {
		t.Error("a client that trusts ForeignCA's authority accepted the server")
	}
	if _, err := (Platform{}).TLSConfig(); !errors.Is(err, ErrUnavailable) {
		t.Errorf("TLSConfig without a CA file: %v", err)
	}
	if _, err := (Platform{TLSCAFile: caFile}).ClientTLSConfig(); !errors.Is(err, ErrUnavailable) {
		t.Errorf("ClientTLSConfig without a client certificate: %v", err)
	}
	missing := Platform{TLSCAFile: caFile, VaultTLSAddr: "https://vault:8210"}.Missing(HTTPS)
	for _, want := range []string{EnvSchemaRegistryTLSURL, EnvSchemaRegistryPassword, EnvConnectTLSURL, EnvConnectPassword} {
		if !slices.Contains(missing, want) {
			t.Errorf("Missing(HTTPS) = %v, want %s among them", missing, want)
		}
	}
	if slices.Contains(missing, EnvVaultTLSAddr) || slices.Contains(missing, EnvTLSCAFile) {
		t.Errorf("Missing(HTTPS) = %v lists what is set", missing)
	}
}

func pemOf(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
