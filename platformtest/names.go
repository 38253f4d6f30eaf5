package platformtest

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

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
