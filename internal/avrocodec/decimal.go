package avrocodec

import (
	"slices"

	"github.com/hamba/avro/v2"
)

// DecimalChange is a decimal of the same data whose precision or scale
// differs between two schemas. Avro stores a decimal as the bytes of its
// unscaled integer and leaves the scale to the schema, and schema
// resolution ignores logical types: a reader of another scale reads every
// stored value as another number, and resolution says nothing.
type DecimalChange struct {
	// Path is where the decimal is: the field names from the top-level
	// record, dot-separated, with "[]" for an array's items and "{}" for a
	// map's values ("lines[].price"); "" for a top-level decimal.
	Path string
	// Old and New are the decimal in the old and the new schema.
	Old, New Decimal
}

// Decimal is a decimal logical type's precision and scale.
type Decimal struct {
	Precision, Scale int
}

// DecimalChanges returns the decimals of next whose precision or scale
// differ from those of the same data in old, in field order. It pairs what
// schema resolution pairs: record fields by name or by the new field's
// aliases, array items, map values, and the union branches of one type
// (named ones by name or alias), so a decimal made nullable
// (["null", decimal]) is still compared. Bytes and fixed decimals are
// both compared; a decimal that became another type is resolution's to
// judge.
func DecimalChanges(old, next Schema) []DecimalChange {
	w := decimalWalk{seen: map[[2]string]bool{}}
	w.walk(old, next, "")
	return w.out
}

type decimalWalk struct {
	out []DecimalChange
	// seen holds the record pairs walked, by full name, so that a
	// recursive record is walked once.
	seen map[[2]string]bool
}

func (w *decimalWalk) walk(old, next Schema, path string) {
	old, next = deref(old), deref(next)
	ou, oldUnion := old.(*avro.UnionSchema)
	nu, nextUnion := next.(*avro.UnionSchema)
	if oldUnion || nextUnion {
		olds, nexts := []Schema{old}, []Schema{next}
		if oldUnion {
			olds = ou.Types()
		}
		if nextUnion {
			nexts = nu.Types()
		}
		for _, n := range nexts {
			for _, o := range olds {
				if sameBranch(deref(o), deref(n)) {
					w.walk(o, n, path)
				}
			}
		}
		return
	}
	switch n := next.(type) {
	case *avro.RecordSchema:
		o, ok := old.(*avro.RecordSchema)
		if !ok {
			return
		}
		key := [2]string{o.FullName(), n.FullName()}
		if w.seen[key] {
			return
		}
		w.seen[key] = true
		for _, nf := range n.Fields() {
			for _, of := range o.Fields() {
				if of.Name() == nf.Name() || slices.Contains(nf.Aliases(), of.Name()) {
					w.walk(of.Type(), nf.Type(), join(path, nf.Name()))
					break
				}
			}
		}
	case *avro.ArraySchema:
		if o, ok := old.(*avro.ArraySchema); ok {
			w.walk(o.Items(), n.Items(), path+"[]")
		}
	case *avro.MapSchema:
		if o, ok := old.(*avro.MapSchema); ok {
			w.walk(o.Values(), n.Values(), path+"{}")
		}
	default:
		od, oldOK := decimalOf(old)
		nd, nextOK := decimalOf(next)
		if oldOK && nextOK && old.Type() == next.Type() && od != nd {
			w.out = append(w.out, DecimalChange{Path: path, Old: od, New: nd})
		}
	}
}

// deref returns the schema a reference to a named type names.
func deref(s Schema) Schema {
	if r, ok := s.(*avro.RefSchema); ok {
		return r.Schema()
	}
	return s
}

// sameBranch reports whether two union branches hold the same data: the
// same type and, for a named type, the same name or the new one's alias
// of the old one.
func sameBranch(old, next Schema) bool {
	if old.Type() != next.Type() {
		return false
	}
	n, named := next.(NamedSchema)
	if !named {
		return true
	}
	o := old.(NamedSchema)
	return o.FullName() == n.FullName() || slices.Contains(n.Aliases(), o.FullName())
}

// decimalOf returns the decimal logical type of a bytes or fixed schema.
func decimalOf(s Schema) (Decimal, bool) {
	lt, ok := s.(avro.LogicalTypeSchema)
	if !ok {
		return Decimal{}, false
	}
	d, ok := lt.Logical().(*avro.DecimalLogicalSchema)
	if !ok || d == nil {
		return Decimal{}, false
	}
	return Decimal{Precision: d.Precision(), Scale: d.Scale()}, true
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}
