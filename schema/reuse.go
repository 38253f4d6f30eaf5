package schema

import "reflect"

// ReuseValues makes a consumer's Records loop decode each record into a
// value of a record handed out before, as a raw loop decoding into one
// struct does: slices are overwritten in place and maps are cleared and
// filled again, which saves their allocations (see the README's consume
// benchmark). The price is the one bufio.Scanner's Bytes asks: a record,
// and every slice and map its value holds, belongs to the loop only until
// the next iteration; a value kept longer must be copied deeply first.
// Poll and Process never reuse values.
func ReuseValues() ConsumerOpt {
	return consumerOpt{opt{optReuseValues, func(c *config) { c.reuseValues = true }}}
}

// resetter returns a function that readies a value of T that was decoded
// before for another decode into it: it empties every map the value holds
// (hamba/avro adds a record's entries to a map already there, so an
// earlier record's keys would stay) and cuts every slice to length 0 (an
// empty array leaves a slice as it was), keeping their storage.
// Everything else the decoder overwrites: every field of the reader's
// schema is written, a null union sets its pointer to nil. It returns nil
// when T holds no map and no slice, so there is nothing to do.
func resetter[T any]() func(*T) {
	f := resetOf(reflect.TypeFor[T](), map[reflect.Type]bool{})
	if f == nil {
		return nil
	}
	return func(v *T) { f(reflect.ValueOf(v).Elem()) }
}

// resetOf returns the reset of a value of type t, or nil when t holds no
// map and no slice; seen guards against recursive types.
func resetOf(t reflect.Type, seen map[reflect.Type]bool) func(reflect.Value) {
	if seen[t] {
		// A recursive type: reset it with a walk that looks the type up
		// on each call.
		return func(v reflect.Value) {
			if r := resetOf(v.Type(), map[reflect.Type]bool{}); r != nil {
				r(v)
			}
		}
	}
	seen[t] = true
	defer delete(seen, t)
	switch t.Kind() {
	case reflect.Map:
		return func(v reflect.Value) {
			if !v.IsNil() {
				v.Clear()
			}
		}
	case reflect.Pointer:
		inner := resetOf(t.Elem(), seen)
		if inner == nil {
			return nil
		}
		return func(v reflect.Value) {
			if !v.IsNil() {
				inner(v.Elem())
			}
		}
	case reflect.Slice:
		// The decoder fills a slice from its start and sets its length,
		// except for an empty array, which leaves the slice as it was: cut
		// it to nothing first. Elements it grows back into keep what they
		// held, maps included: reset the whole capacity.
		inner := resetOf(t.Elem(), seen)
		return func(v reflect.Value) {
			if inner != nil {
				all := v.Slice(0, v.Cap())
				for i := range all.Len() {
					inner(all.Index(i))
				}
			}
			v.SetLen(0)
		}
	case reflect.Array:
		inner := resetOf(t.Elem(), seen)
		if inner == nil {
			return nil
		}
		return func(v reflect.Value) {
			for i := range v.Len() {
				inner(v.Index(i))
			}
		}
	case reflect.Struct:
		var fields []int
		var resets []func(reflect.Value)
		for i := range t.NumField() {
			if !t.Field(i).IsExported() {
				continue // the decoder writes exported fields only
			}
			if r := resetOf(t.Field(i).Type, seen); r != nil {
				fields, resets = append(fields, i), append(resets, r)
			}
		}
		if len(fields) == 0 {
			return nil
		}
		return func(v reflect.Value) {
			for i, f := range fields {
				resets[i](v.Field(f))
			}
		}
	case reflect.Interface:
		// The decoder puts a new value in an interface each time.
		return nil
	}
	return nil
}
