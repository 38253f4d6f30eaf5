package secrets

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestCertificateRefusal: a Vault whose certificate the client does not
// trust is ErrCertificate, not ErrUnavailable, which callers retry.
func TestCertificateRefusal(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"data":{}}`))
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := New(ctx, WithAddress(srv.URL), WithToken(NewValue("s.token")))
	var ua x509.UnknownAuthorityError
	if !errors.Is(err, ErrCertificate) || !errors.Is(err, ErrAuth) || !errors.As(err, &ua) || errors.Is(err, ErrUnavailable) {
		t.Errorf("New against an untrusted certificate: %v", err)
	}
}
