// Package configdiff compares two flat configurations, the shared core of
// the connect and topics plans.
package configdiff

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/streamkit/streamkit/internal/redact"
)

// Entry is one key whose value differs. Old or New is nil when the key is
// absent on that side.
type Entry struct {
	Key string
	Old *string
	New *string
}

// MarshalJSON encodes e with a credential's values redacted: an Entry
// holds the values it compares as they are. fmt prints them as addresses
// already: they are pointers.
func (e Entry) MarshalJSON() ([]byte, error) {
	type entry Entry // Entry without its methods
	r := entry(e)
	if e.Old != nil {
		v := redact.Value(e.Key, *e.Old)
		r.Old = &v
	}
	if e.New != nil {
		v := redact.Value(e.Key, *e.New)
		r.New = &v
	}
	return json.Marshal(r)
}

// Diff returns the keys of desired whose values differ from current, and,
// when removeUnlisted is set, the keys of current that desired lacks, sorted
// by key.
func Diff(current, desired map[string]string, removeUnlisted bool) []Entry {
	var out []Entry
	for _, k := range slices.Sorted(maps.Keys(desired)) {
		v := desired[k]
		if o, ok := current[k]; !ok || o != v {
			e := Entry{Key: k, New: &v}
			if ok {
				e.Old = &o
			}
			out = append(out, e)
		}
	}
	if removeUnlisted {
		for k, o := range current {
			if _, ok := desired[k]; !ok {
				out = append(out, Entry{Key: k, Old: &o})
			}
		}
		slices.SortFunc(out, func(a, b Entry) int {
			switch {
			case a.Key < b.Key:
				return -1
			case a.Key > b.Key:
				return 1
			}
			return 0
		})
	}
	return out
}
