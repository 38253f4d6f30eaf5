package schema

import (
	"context"
	"errors"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the wire-format decoder: it must
// never panic, and every failure must be one of the typed errors.
func FuzzDecode(f *testing.F) {
	reg, _, _ := newFakeRegistry(f)
	s, err := NewSerde[retailOrder](reg, WithSchema(mustOrderSchema(f)))
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 4; i++ {
		b, err := s.Encode(ctx, "orders", makeOrder(i))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add([]byte{0, 0, 0, 0, 1})
	f.Add([]byte{1, 0, 0, 0, 1, 2})
	f.Add([]byte{0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{0, 0x7f, 0xff, 0xff, 0xff})

	generic, err := NewSerde[map[string]any](reg, WithRegistration(UseLatest()))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var o retailOrder
		checkTyped(t, s.Decode(ctx, data, &o))
		var m map[string]any
		checkTyped(t, generic.Decode(ctx, data, &m))
	})
}

func checkTyped(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, want := range []error{ErrBadMagic, ErrCorruptPayload, ErrUnknownSchemaID, ErrIncompatible} {
		if errors.Is(err, want) {
			return
		}
	}
	t.Fatalf("untyped decode error: %v", err)
}
