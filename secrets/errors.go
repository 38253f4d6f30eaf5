package secrets

import "errors"

var (
	// ErrInvalidRef is returned for a ${vault:...} reference that does not
	// parse.
	ErrInvalidRef = errors.New("invalid vault reference")
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
)
