package platformtest

import "github.com/streamkit/streamkit/internal/platformenv"

// UniqueName returns prefix followed by a dash and 12 random hex digits,
// for topics, subjects, connectors and secret paths that must not collide
// with an earlier run against the same long-lived platform. Characters that
// Kafka topic names do not allow are replaced by dashes.
func UniqueName(prefix string) string { return platformenv.UniqueName(prefix) }
