package schema

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// The registry client's options are franz-go's: authentication, TLS and
// several URLs all reach the registry through them.
func TestRegistryClientOptions(t *testing.T) {
	ctx := context.Background()
	v1 := mustParse(t, orderV1Schema)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("team:s3cret"))

	register := func(t *testing.T, opts ...sr.ClientOpt) error {
		t.Helper()
		reg, err := NewRegistryFromOptions(opts...)
		if err != nil {
			t.Fatal(err)
		}
		_, err = reg.Register(ctx, "auth-value", v1)
		return err
	}

	t.Run("basic auth", func(t *testing.T) {
		fake := srfake.New(srfake.WithAuth(basic))
		defer fake.Close()
		if err := register(t, sr.URLs(fake.URL()), sr.BasicAuth("team", "s3cret")); err != nil {
			t.Fatal(err)
		}
		err := register(t, sr.URLs(fake.URL()), sr.BasicAuth("team", "wrong"))
		var re *RegistryError
		if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden {
			t.Fatalf("wrong password: got %v, want a 403 *RegistryError", err)
		}
	})
	t.Run("bearer token", func(t *testing.T) {
		fake := srfake.New(srfake.WithAuth("Bearer tok-123"))
		defer fake.Close()
		if err := register(t, sr.URLs(fake.URL()), sr.BearerToken("tok-123")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("tls", func(t *testing.T) {
		fake := srfake.New()
		defer fake.Close()
		srv := httptest.NewUnstartedServer(fake.Handler())
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
		srv.StartTLS()
		defer srv.Close()
		pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
		if err := register(t, sr.URLs(srv.URL), sr.DialTLSConfig(&tls.Config{RootCAs: pool})); err != nil {
			t.Fatal(err)
		}
		if err := register(t, sr.URLs(srv.URL), sr.DialTLSConfig(&tls.Config{})); err == nil {
			t.Fatal("an untrusted certificate was accepted")
		}
	})
	t.Run("several urls, the first down", func(t *testing.T) {
		fake := srfake.New()
		defer fake.Close()
		down := httptest.NewServer(http.NotFoundHandler())
		downURL := down.URL
		down.Close()
		if err := register(t, sr.URLs(downURL, fake.URL())); err != nil {
			t.Fatal(err)
		}
	})
}

func TestNewRegistryRefusesNothing(t *testing.T) {
	if _, err := NewRegistry(nil); err == nil {
		t.Fatal("NewRegistry(nil) accepted")
	}
	t.Setenv(EnvSchemaRegistryURL, "")
	if _, err := NewRegistryFromEnvironment(); err == nil || !strings.Contains(err.Error(), EnvSchemaRegistryURL) {
		t.Fatalf("got %v, want an error naming %s", err, EnvSchemaRegistryURL)
	}
	// The first URL refuses connections; the client moves on to the
	// second, the fake registry.
	fake := srfake.New()
	defer fake.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	t.Setenv(EnvSchemaRegistryURL, down.URL+", "+fake.URL())
	reg, err := NewRegistryFromEnvironment()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Register(context.Background(), "env-value", mustParse(t, orderV1Schema)); err != nil {
		t.Fatalf("register through the environment's URLs: %v", err)
	}
}
