package schema

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckCompatibilityOffline(t *testing.T) {
	v1 := mustParse(t, orderV1Schema)
	v2 := mustParse(t, orderV2Schema) // adds a field with a default
	v3 := mustParse(t, orderV3Schema) // adds a field without one
	// Drops "quantity": old readers need it and it has no default.
	dropped := mustParse(t, `{"type":"record","name":"Order","namespace":"retail","fields":[
		{"name":"id","type":"string"}]}`)

	tests := []struct {
		name     string
		level    CompatibilityLevel
		next     *Schema
		previous []*Schema
		ok       bool
	}{
		{"backward: add field with default", Backward, v2, []*Schema{v1}, true},
		{"backward: add required field", Backward, v3, []*Schema{v2}, false},
		{"backward: drop a field", Backward, dropped, []*Schema{v1}, true},
		{"forward: drop a required field", Forward, dropped, []*Schema{v1}, false},
		{"forward: add required field", Forward, v3, []*Schema{v2}, true},
		{"full: add field with default", Full, v2, []*Schema{v1}, true},
		{"full: add required field", Full, v3, []*Schema{v2}, false},
		{"backward checks only the latest", Backward, v3, []*Schema{dropped, v3}, true},
		{"backward transitive checks all", BackwardTransitive, v2, []*Schema{dropped, v1}, false},
		{"none allows anything", None, v3, []*Schema{v1}, true},
		{"no previous schema", FullTransitive, v3, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckCompatibility(tt.level, tt.next, tt.previous...)
			if tt.ok != (err == nil) {
				t.Fatalf("got %v, want ok=%v", err, tt.ok)
			}
			if err == nil {
				return
			}
			var ie *IncompatibleError
			if !errors.As(err, &ie) || !errors.Is(err, ErrIncompatible) || len(ie.Messages) == 0 || ie.Level != tt.level {
				t.Fatalf("got %#v, want an *IncompatibleError with messages at level %s", err, tt.level)
			}
		})
	}

	err := CheckCompatibility(Backward, v3, v2)
	if !strings.Contains(err.Error(), "store") {
		t.Fatalf("message does not name the offending field: %v", err)
	}
	if err := CheckCompatibility("SIDEWAYS", v3, v2); err == nil || errors.Is(err, ErrIncompatible) {
		t.Fatalf("unknown level: got %v, want a plain error", err)
	}
}
