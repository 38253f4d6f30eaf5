package schema

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
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

// Registering asks the registry once, however many subjects already use
// the same schema. (CI once failed here: franz-go's CreateSchema fetched
// every subject using the schema at once, 300 on the platform's registry,
// and the TLS proxy in front of it ran out of connections.)
func TestRegisterIsOneRequest(t *testing.T) {
	ctx := context.Background()
	reg, _, ct := newFakeRegistry(t)
	s := mustParse(t, orderV1Schema)
	const shared = 300
	var first int
	for i := range shared {
		id, err := reg.Register(ctx, fmt.Sprintf("shared-%d-value", i), s)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = id
		} else if id != first {
			t.Fatalf("subject %d: id %d, want the shared schema's %d", i, id, first)
		}
	}
	before := ct.total.Load()
	id, err := reg.Register(ctx, "one-more-value", s)
	if err != nil {
		t.Fatal(err)
	}
	if id != first {
		t.Fatalf("id %d, want %d", id, first)
	}
	if n := ct.total.Load() - before; n != 1 {
		t.Fatalf("registering under one more subject took %d requests, want 1: %v", n, ct.paths)
	}
}
