// Package platformenv holds what every streamkit test that needs the real
// platform agrees on: the variable that makes a missing platform fail
// rather than skip, and unique names for what a test creates. platformtest
// builds on it; the schema package's own integration tests use it directly,
// because platformtest imports schema for its ready-made clients.
package platformenv

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// Required reports whether RequirePlatform is set to a true value.
func Required() bool { return IsTrue(os.Getenv(RequirePlatform)) }

// IsTrue reports whether v spells yes: "1", "true" or "yes", in any case,
// with surrounding spaces ignored.
func IsTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// Missing skips tb with msg, or fails it when Required reports true.
func Missing(tb testing.TB, msg string) {
	tb.Helper()
	if Required() {
		tb.Fatalf("%s; %s=1 makes this a failure", msg, RequirePlatform)
		return
	}
	tb.Skip(msg)
}

// UniqueName returns prefix followed by a dash and 12 random hex digits,
// for topics, subjects, connectors and secret paths that must not collide
// with an earlier run against the same long-lived platform. Characters that
// Kafka topic names do not allow are replaced by dashes.
func UniqueName(prefix string) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand.Read does not fail on supported platforms
	}
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '-'
	}, prefix)
	return clean + "-" + hex.EncodeToString(b[:])
}
