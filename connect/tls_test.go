package connect

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestRefusalsAreNotRetried: a worker whose certificate the client does
// not trust is ErrCertificate, and a 401 or 403 ErrUnauthorized, each
// after one request: retrying cannot help, and neither is ErrUnavailable.
func TestRefusalsAreNotRetried(t *testing.T) {
	var calls atomic.Int64
	status := http.StatusUnauthorized
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"error_code":401,"message":"User cannot access the resource."}`))
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	untrusting, err := New(WithURLs(srv.URL), WithRetries(5), WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	_, err = untrusting.Names(ctx)
	var ua x509.UnknownAuthorityError
	if !errors.Is(err, ErrCertificate) || !errors.As(err, &ua) || errors.Is(err, ErrUnavailable) {
		t.Errorf("untrusted certificate: %v", err)
	}

	trusting, err := New(WithURLs(srv.URL), WithHTTPClient(srv.Client()), WithRetries(5), WithBackoff(time.Millisecond, time.Millisecond),
		WithBasicAuth("app", "wrong"))
	if err != nil {
		t.Fatal(err)
	}
	for _, status = range []int{http.StatusUnauthorized, http.StatusForbidden} {
		calls.Store(0)
		_, err = trusting.Names(ctx)
		var ae *APIError
		if !errors.Is(err, ErrUnauthorized) || !errors.As(err, &ae) || ae.StatusCode != status || errors.Is(err, ErrUnavailable) {
			t.Errorf("%d: %v", status, err)
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("%d: %d requests, want 1", status, n)
		}
	}
}
