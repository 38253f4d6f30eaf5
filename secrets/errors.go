package secrets

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/streamkit/streamkit/internal/runloop"
	"github.com/streamkit/streamkit/internal/tlserr"
	"github.com/streamkit/streamkit/internal/vaultref"
)

var (
	// ErrInvalidRef is returned for a ${vault:...} reference that does not
	// parse, and by Preflight for one whose path is on a KV v2 mount
	// without its data/ segment (secret/pricing/db for
	// secret/data/pricing/db).
	ErrInvalidRef = vaultref.ErrInvalid
	// ErrNotFound is returned when a secret, version or key does not exist.
	ErrNotFound = errors.New("secret not found")
	// ErrLeaseEnded is returned by KeepLease when a leased secret can no
	// longer be renewed: it reached its max TTL, or Vault refused a
	// renewal. The secret must be read again (a dynamic engine issues a
	// new one).
	ErrLeaseEnded = errors.New("lease ended")
	// ErrPermissionDenied is returned when Vault answers 403: the token may
	// not read the path, or the token is no longer valid.
	ErrPermissionDenied = errors.New("permission denied")
	// ErrSealed is returned when Vault is sealed (503).
	ErrSealed = errors.New("vault sealed")
	// ErrUnavailable is returned when Vault cannot be reached or answers
	// with a server error.
	ErrUnavailable = errors.New("vault unavailable")
	// ErrCertificate is returned when the TLS handshake with Vault fails
	// on a certificate: Vault's is not of an authority the client trusts
	// (a wrong CA, WithCACert missing), has expired or names another
	// host, or Vault refused the client's. Retrying cannot help, so it is
	// no ErrUnavailable; the *VaultError wraps crypto/tls's and
	// crypto/x509's errors, which say which.
	ErrCertificate = errors.New("vault TLS certificate refused")
	// ErrAuth is returned when logging in fails.
	ErrAuth = errors.New("vault login failed")
	// ErrRunning is returned by Client.Run when another Run of the same
	// client has not returned yet. It is the value every streamkit Run
	// returns for this, so errors.Is matches it across packages.
	ErrRunning = runloop.ErrRunning
)

// VaultError is an error answer of Vault, or a failure to reach it. It
// matches one of ErrNotFound, ErrPermissionDenied, ErrSealed,
// ErrCertificate or ErrUnavailable with errors.Is when one applies. It never holds a secret:
// Vault's error messages do not carry secret data.
type VaultError struct {
	Op         string
	Path       string
	StatusCode int // 0 when Vault was not reached
	Errors     []string
	sentinel   error
	err        error
}

func (e *VaultError) Error() string {
	msg := strings.Join(e.Errors, "; ")
	switch {
	case msg != "":
	case e.StatusCode != 0:
		// vault/api's own text is several lines with the raw body.
		msg = strings.ToLower(http.StatusText(e.StatusCode))
	case e.err != nil:
		msg = e.err.Error()
	}
	where := e.Op
	if e.Path != "" {
		where += " " + e.Path
	}
	if e.StatusCode != 0 {
		return fmt.Sprintf("vault %s: %d: %s", where, e.StatusCode, msg)
	}
	return fmt.Sprintf("vault %s: %s", where, msg)
}

// Unwrap returns the sentinel and the underlying error.
func (e *VaultError) Unwrap() []error {
	out := []error{}
	if e.sentinel != nil {
		out = append(out, e.sentinel)
	}
	if e.err != nil {
		out = append(out, e.err)
	}
	return out
}

// classify turns a vault/api error into a *VaultError with its sentinel.
func classify(op, path string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	ve := &VaultError{Op: op, Path: path, err: err}
	var re *api.ResponseError
	var ne net.Error
	switch {
	case errors.As(err, &re):
		ve.StatusCode, ve.Errors = re.StatusCode, re.Errors
		switch {
		case re.StatusCode == http.StatusNotFound:
			ve.sentinel = ErrNotFound
		case re.StatusCode == http.StatusForbidden:
			ve.sentinel = ErrPermissionDenied
		case re.StatusCode == http.StatusServiceUnavailable && strings.Contains(strings.ToLower(strings.Join(re.Errors, " ")), "sealed"):
			ve.sentinel = ErrSealed
		case re.StatusCode >= 500:
			ve.sentinel = ErrUnavailable
		}
	case tlserr.IsRefusal(err):
		ve.sentinel = ErrCertificate
	case errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded), strings.Contains(err.Error(), "connection refused"):
		ve.sentinel = ErrUnavailable
	}
	return ve
}
