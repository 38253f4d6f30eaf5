package secrets

import (
	"fmt"
	"log/slog"
)

// Redacted is what a Value prints as.
const Redacted = "[redacted]"

// Value is a secret. Printing it in any way (fmt verbs, slog, JSON) shows
// Redacted; only Reveal returns the secret itself.
//
// The secret sits behind a pointer: fmt does not call Format on a Value it
// reaches through an unexported field (a Client's token, a Credentials'
// password), and prints such a pointer as an address, not the secret.
type Value struct{ s *string }

// NewValue wraps s.
func NewValue(s string) Value { return Value{&s} }

// Reveal returns the secret. Call it only where the secret is used, never
// where it is logged.
func (v Value) Reveal() string {
	if v.s == nil {
		return ""
	}
	return *v.s
}

// IsZero reports whether v holds nothing.
func (v Value) IsZero() bool { return v.Reveal() == "" }

// String returns Redacted.
func (v Value) String() string { return Redacted }

// GoString returns Redacted, for %#v.
func (v Value) GoString() string { return Redacted }

// Format prints Redacted for every verb, including %x and %q.
func (v Value) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// LogValue makes slog print Redacted.
func (v Value) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON encodes Redacted.
func (v Value) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText encodes Redacted, for encoders that use it.
func (v Value) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

var (
	_ fmt.Formatter  = Value{}
	_ fmt.GoStringer = Value{}
	_ slog.LogValuer = Value{}
)
