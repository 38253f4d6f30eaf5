package secrets

import (
	"errors"

	"github.com/streamkit/streamkit/internal/runloop"
	"github.com/streamkit/streamkit/internal/vaultref"
)

var (
	// ErrInvalidRef is returned for a ${vault:...} reference that does not
	// parse.
	ErrInvalidRef = vaultref.ErrInvalid
	// ErrNotFound is returned when a secret, version or key does not exist.
	ErrNotFound = errors.New("secret not found")
	// ErrPermissionDenied is returned when Vault answers 403: the token may
	// not read the path, or the token is no longer valid.
	ErrPermissionDenied = errors.New("permission denied")
	// ErrSealed is returned when Vault is sealed (503).
	ErrSealed = errors.New("vault sealed")
	// ErrUnavailable is returned when Vault cannot be reached or answers
	// with a server error.
	ErrUnavailable = errors.New("vault unavailable")
	// ErrAuth is returned when logging in fails.
	ErrAuth = errors.New("vault login failed")
	// ErrRunning is returned by Client.Run when another Run of the same
	// client has not returned yet. It is the value every streamkit Run
	// returns for this, so errors.Is matches it across packages.
	ErrRunning = runloop.ErrRunning
)
