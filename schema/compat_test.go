package schema

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"
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

// decimalOrder is an order whose amounts are decimals of the given
// precision and scale, in every place a decimal can be: a field, a nested
// record, a union with null, an array, a map, a fixed, and a recursive
// record.
func decimalOrder(t *testing.T, precision, scale int) *Schema {
	t.Helper()
	dec := fmt.Sprintf(`{"type":"bytes","logicalType":"decimal","precision":%d,"scale":%d}`, precision, scale)
	return mustParse(t, fmt.Sprintf(`{"type":"record","name":"Order","namespace":"retail","fields":[
		{"name":"id","type":"string"},
		{"name":"amount","type":%[1]s},
		{"name":"line","type":{"type":"record","name":"Line","fields":[{"name":"price","type":%[1]s}]}},
		{"name":"discount","type":["null",%[1]s],"default":null},
		{"name":"taxes","type":{"type":"array","items":%[1]s}},
		{"name":"fx","type":{"type":"map","values":%[1]s}},
		{"name":"total","type":{"type":"fixed","name":"Money","size":16,"logicalType":"decimal","precision":%[2]d,"scale":%[3]d}},
		{"name":"parts","type":{"type":"record","name":"Part","fields":[
			{"name":"cost","type":%[1]s},
			{"name":"next","type":["null","Part"],"default":null}]}}
	]}`, dec, precision, scale))
}

func TestCheckCompatibilityDecimals(t *testing.T) {
	v1 := decimalOrder(t, 10, 2)
	allPaths := []string{"amount", "line.price", "discount", "taxes[]", "fx{}", "total", "parts.cost"}
	tests := []struct {
		name     string
		level    CompatibilityLevel
		next     *Schema
		previous []*Schema
		paths    []string // the fields refused; none when the schema may follow
	}{
		{"scale", Backward, decimalOrder(t, 10, 4), []*Schema{v1}, allPaths},
		{"precision", Forward, decimalOrder(t, 12, 2), []*Schema{v1}, allPaths},
		{"full", Full, decimalOrder(t, 10, 3), []*Schema{v1}, allPaths},
		{"unchanged", FullTransitive, decimalOrder(t, 10, 2), []*Schema{v1}, nil},
		{"none allows it", None, decimalOrder(t, 10, 4), []*Schema{v1}, nil},
		{"backward checks only the latest", Backward, decimalOrder(t, 10, 4), []*Schema{v1, decimalOrder(t, 10, 4)}, nil},
		{"transitive checks all", BackwardTransitive, decimalOrder(t, 10, 4), []*Schema{v1, decimalOrder(t, 10, 4)}, allPaths},
		{"made nullable", Backward, mustParse(t, `{"type":"record","name":"R","fields":[
			{"name":"amount","type":["null",{"type":"bytes","logicalType":"decimal","precision":10,"scale":3}],"default":null}]}`),
			[]*Schema{mustParse(t, `{"type":"record","name":"R","fields":[
			{"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}}]}`)}, []string{"amount"}},
		{"renamed with an alias", Backward, mustParse(t, `{"type":"record","name":"R","fields":[
			{"name":"total","aliases":["amount"],"type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":3}}]}`),
			[]*Schema{mustParse(t, `{"type":"record","name":"R","fields":[
			{"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}}]}`)}, []string{"total"}},
		{"a top-level decimal", Backward, mustParse(t, `{"type":"bytes","logicalType":"decimal","precision":10,"scale":3}`),
			[]*Schema{mustParse(t, `{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}`)}, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckCompatibility(tt.level, tt.next, tt.previous...)
			if len(tt.paths) == 0 {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			var ie *IncompatibleError
			if !errors.As(err, &ie) || !errors.Is(err, ErrIncompatible) {
				t.Fatalf("got %v, want an *IncompatibleError", err)
			}
			if len(ie.Messages) != len(tt.paths) {
				t.Fatalf("got %d messages, want %d:\n%s", len(ie.Messages), len(tt.paths), strings.Join(ie.Messages, "\n"))
			}
			for i, path := range tt.paths {
				what := "the decimal:"
				if path != "" {
					what = "field " + path + ":"
				}
				if !strings.HasPrefix(ie.Messages[i], what) {
					t.Errorf("message %d: got %q, want it to name %s", i, ie.Messages[i], what)
				}
			}
		})
	}

	err := CheckCompatibility(Backward, decimalOrder(t, 12, 4), v1)
	if msg := err.Error(); !strings.Contains(msg, "field amount: decimal precision 10, scale 2 in schema retail.Order") ||
		!strings.Contains(msg, "becomes precision 12, scale 4") {
		t.Errorf("got %q, want the field, the old and the new precision and scale named", msg)
	}
}

// TestRegistryCheckCompatibilityDecimals checks that a decimal whose scale
// or precision changes is refused as the next version even though the
// registry accepts it (srfake, like the registries, ignores logical
// types), against the versions the subject's level compares.
func TestRegistryCheckCompatibilityDecimals(t *testing.T) {
	ctx := context.Background()
	const subject = "pricing.orders.v1-value"
	setLevel := func(t *testing.T, reg *Registry, level sr.CompatibilityLevel) {
		t.Helper()
		if res := reg.Client().SetCompatibility(ctx, sr.SetCompatibility{Level: level}, subject); len(res) != 1 || res[0].Err != nil {
			t.Fatalf("set compatibility: %+v", res)
		}
	}
	register := func(t *testing.T, reg *Registry, s *Schema) {
		t.Helper()
		if _, err := reg.Register(ctx, subject, s); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("against the latest", func(t *testing.T) {
		reg, _, _ := newFakeRegistry(t)
		register(t, reg, decimalOrder(t, 10, 2))
		err := reg.CheckCompatibility(ctx, subject, decimalOrder(t, 10, 4))
		var ie *IncompatibleError
		if !errors.As(err, &ie) || ie.Subject != subject || ie.Level != Backward {
			t.Fatalf("got %v, want an *IncompatibleError of %s at BACKWARD", err, subject)
		}
		if msg := err.Error(); !strings.Contains(msg, "field amount: decimal precision 10, scale 2") || !strings.Contains(msg, "precision 10, scale 4") {
			t.Errorf("got %q, want the field and both scales named", msg)
		}
		if err := reg.CheckCompatibility(ctx, subject, decimalOrder(t, 10, 2)); err != nil {
			t.Errorf("unchanged decimals: got %v, want nil", err)
		}
	})
	t.Run("none", func(t *testing.T) {
		reg, _, _ := newFakeRegistry(t)
		register(t, reg, decimalOrder(t, 10, 2))
		setLevel(t, reg, sr.CompatNone)
		if err := reg.CheckCompatibility(ctx, subject, decimalOrder(t, 10, 4)); err != nil {
			t.Errorf("got %v, want nil at NONE", err)
		}
	})
	t.Run("transitive", func(t *testing.T) {
		reg, _, _ := newFakeRegistry(t)
		register(t, reg, decimalOrder(t, 10, 2))
		register(t, reg, decimalOrder(t, 10, 4)) // srfake accepts anything
		// The next version: the latest's decimals, with a doc added.
		next := mustParse(t, strings.Replace(decimalOrder(t, 10, 4).String(), `"name":"Order",`, `"name":"Order","doc":"an order",`, 1))
		if err := reg.CheckCompatibility(ctx, subject, next); err != nil {
			t.Errorf("BACKWARD, the latest's decimals: got %v, want nil", err)
		}
		setLevel(t, reg, sr.CompatBackwardTransitive)
		if err := reg.CheckCompatibility(ctx, subject, next); !errors.Is(err, ErrIncompatible) {
			t.Errorf("BACKWARD_TRANSITIVE, changed from version 1: got %v, want ErrIncompatible", err)
		}
		// The latest version itself adds no version: nothing to refuse.
		if err := reg.CheckCompatibility(ctx, subject, decimalOrder(t, 10, 4)); err != nil {
			t.Errorf("BACKWARD_TRANSITIVE, the latest itself: got %v, want nil", err)
		}
	})
	t.Run("new subject", func(t *testing.T) {
		reg, _, _ := newFakeRegistry(t)
		if err := reg.CheckCompatibility(ctx, "pricing.new.v1-value", decimalOrder(t, 10, 4)); err != nil {
			t.Errorf("got %v, want nil for a subject without versions", err)
		}
	})
}

// TestRegistryCheckCompatibilityRequests: a schema that is the subject's
// latest version already costs one request, whatever its level; a new
// one costs the latest, the registry's check and the level.
func TestRegistryCheckCompatibilityRequests(t *testing.T) {
	ctx := context.Background()
	const subject = "retail.orders.v1-value"
	reg, _, ct := newFakeRegistry(t)
	if _, err := reg.Register(ctx, subject, decimalOrder(t, 10, 2)); err != nil {
		t.Fatal(err)
	}
	before := ct.total.Load()
	if err := reg.CheckCompatibility(ctx, subject, decimalOrder(t, 10, 2)); err != nil {
		t.Fatal(err)
	}
	if n := ct.total.Load() - before; n != 1 {
		t.Errorf("the latest version itself: %d requests, want 1", n)
	}
	next := mustParse(t, strings.Replace(decimalOrder(t, 10, 2).String(), `"name":"Order",`, `"name":"Order","doc":"an order",`, 1))
	before = ct.total.Load()
	if err := reg.CheckCompatibility(ctx, subject, next); err != nil {
		t.Fatal(err)
	}
	if n := ct.total.Load() - before; n != 3 {
		t.Errorf("a new version: %d requests, want 3", n)
	}
}
