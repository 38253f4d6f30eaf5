package connect

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/streamkit/streamkit/internal/runloop"
)

var (
	// ErrNotFound is returned when the worker answers 404: no such
	// connector, task or plugin.
	ErrNotFound = errors.New("not found")
	// ErrConflict is returned when the worker answers 409 after retries: a
	// rebalance that did not settle, or a connector that already exists.
	ErrConflict = errors.New("conflict")
	// ErrBadRequest is returned when the worker refuses a request as
	// invalid (400 or 422).
	ErrBadRequest = errors.New("bad request")
	// ErrUnavailable is returned when no worker could be reached, or they
	// answered 502, 503 or 504, on every try: the Connect cluster is down
	// or restarting. It is transient: the same call may succeed later.
	ErrUnavailable = errors.New("connect worker unavailable")
	// ErrUnauthorized is returned when the worker answers 401 or 403: no
	// credentials, wrong ones (WithBasicAuth), or a user the worker's REST
	// extension does not allow. Retrying cannot help.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrCertificate is returned when the TLS handshake with a worker fails
	// on a certificate: the worker's is not of an authority the client
	// trusts (WithTLSConfig's RootCAs), has expired or names another host,
	// or the worker refused the client's. It is no ErrUnavailable:
	// retrying cannot help. The error wraps crypto/tls's and crypto/x509's,
	// which say which.
	ErrCertificate = errors.New("connect worker TLS certificate refused")
	// ErrMalformedResponse is returned when the worker's answer cannot be
	// decoded.
	ErrMalformedResponse = errors.New("malformed response")
	// ErrInvalidConfig is returned by Apply when the worker's validation
	// rejects a connector config; the error is a *ValidationError.
	ErrInvalidConfig = errors.New("invalid connector config")
	// ErrNotRunning is returned by Apply when a connector or one of its
	// tasks fails, or does not reach its desired state in time; the error
	// is a *StateError.
	ErrNotRunning = errors.New("connector not running")
	// ErrRunning is returned by Healer.Run when another call to Run on
	// the same Healer has not returned yet. It is the same value as the
	// other packages' ErrRunning.
	ErrRunning = runloop.ErrRunning
	// ErrOutsideNamespace is returned by Plan for a desired connector whose
	// name is outside the plan's namespace.
	ErrOutsideNamespace = errors.New("connector outside namespace")
)

// APIError is an error response of the Connect REST API. It matches
// ErrNotFound, ErrConflict, ErrBadRequest, ErrUnauthorized or
// ErrUnavailable with errors.Is by its status.
type APIError struct {
	Method     string
	Path       string
	StatusCode int
	// ErrorCode and Message are the worker's error_code and message.
	ErrorCode int
	Message   string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	return fmt.Sprintf("%s %s: %d: %s", e.Method, e.Path, e.StatusCode, msg)
}

// Unwrap returns the sentinel of the status code, if any.
func (e *APIError) Unwrap() error {
	switch e.StatusCode {
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusConflict:
		return ErrConflict
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return ErrBadRequest
	case http.StatusUnauthorized, http.StatusForbidden:
		return ErrUnauthorized
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return ErrUnavailable
	}
	return nil
}

// ValidationError is the worker's verdict on connector configs it rejects:
// for each connector, each key's errors. It matches ErrInvalidConfig.
type ValidationError struct {
	// Connectors maps a connector name to its keys' error messages; the
	// empty key holds errors not tied to a key.
	Connectors map[string]map[string][]string
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(ErrInvalidConfig.Error())
	for _, name := range slices.Sorted(maps.Keys(e.Connectors)) {
		keys := e.Connectors[name]
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			where := name
			if k != "" {
				where += " " + k
			}
			fmt.Fprintf(&b, "; %s: %s", where, strings.Join(keys[k], ", "))
		}
	}
	return b.String()
}

// Unwrap returns ErrInvalidConfig.
func (e *ValidationError) Unwrap() error { return ErrInvalidConfig }

// StateError says which connectors did not reach their desired state after
// Apply, and why. It matches ErrNotRunning.
type StateError struct {
	// Connectors maps a connector name to what went wrong, with the
	// worker's trace of a failed connector or task.
	Connectors map[string]string
}

func (e *StateError) Error() string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(e.Connectors)) {
		parts = append(parts, name+": "+firstLine(e.Connectors[name]))
	}
	return ErrNotRunning.Error() + ": " + strings.Join(parts, "; ")
}

// Unwrap returns ErrNotRunning.
func (e *StateError) Unwrap() error { return ErrNotRunning }

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
