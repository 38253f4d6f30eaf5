package avrocodec

import (
	"fmt"
	"slices"

	"github.com/hamba/avro/v2"
)

// Mismatches compares a Go type's derived schema with the schema a
// program writes and reads that type with, and returns, one per line,
// where they do not fit: a field of the type that the schema lacks (it
// would never be written, or never read), a field of the schema without a
// default that the type lacks (hamba cannot write the record), and a
// field whose types differ. Records are matched by their place, not their
// names, which a Go type and an .avsc spell differently; fields by name or
// an alias of the schema's field. A Go string reads and writes an enum.
func Mismatches(goType, schema Schema) []string {
	m := matchWalk{seen: map[[2]Schema]bool{}}
	m.walk(goType, schema, "")
	return m.out
}

type matchWalk struct {
	out  []string
	seen map[[2]Schema]bool
}

func (m *matchWalk) add(path, format string, args ...any) {
	if path == "" {
		path = "the value"
	}
	m.out = append(m.out, path+": "+fmt.Sprintf(format, args...))
}

func (m *matchWalk) walk(g, s Schema, path string) {
	g, s = deref(g), deref(s)
	gu, gUnion := g.(*avro.UnionSchema)
	su, sUnion := s.(*avro.UnionSchema)
	switch {
	case gUnion && sUnion:
		for _, b := range gu.Types() {
			if b.Type() == avro.Null {
				continue
			}
			if w := matchBranch(deref(b), su.Types()); w != nil {
				m.walk(b, w, path)
			} else {
				m.add(path, "the Go type's %s is not a branch of the schema's union", b.Type())
			}
		}
		return
	case gUnion:
		m.add(path, "optional in the Go type (a pointer), required (%s) in the schema", s.Type())
		return
	case sUnion:
		if slices.ContainsFunc(su.Types(), func(b Schema) bool { return b.Type() == avro.Null }) {
			m.add(path, "optional in the schema (a union with null), required in the Go type: make it a pointer")
			return
		}
		if w := matchBranch(g, su.Types()); w != nil {
			m.walk(g, w, path)
			return
		}
		m.add(path, "%s in the Go type, a union without it in the schema", g.Type())
		return
	}
	if g.Type() != s.Type() {
		if !(g.Type() == avro.String && s.Type() == avro.Enum) {
			m.add(path, "%s in the Go type, %s in the schema", g.Type(), s.Type())
		}
		return
	}
	_, gDec := decimalOf(g)
	_, sDec := decimalOf(s)
	if gDec != sDec {
		m.add(path, "a decimal in one and not the other")
		return
	}
	switch gs := g.(type) {
	case *avro.RecordSchema:
		ss := s.(*avro.RecordSchema)
		key := [2]Schema{gs, ss}
		if m.seen[key] {
			return
		}
		m.seen[key] = true
		for _, sf := range ss.Fields() {
			i := slices.IndexFunc(gs.Fields(), func(gf *avro.Field) bool {
				return gf.Name() == sf.Name() || slices.Contains(sf.Aliases(), gf.Name())
			})
			switch {
			case i >= 0:
				m.walk(gs.Fields()[i].Type(), sf.Type(), join(path, sf.Name()))
			case !sf.HasDefault():
				m.add(join(path, sf.Name()), "in the schema, without a default, and not in the Go type")
			}
		}
		for _, gf := range gs.Fields() {
			if !slices.ContainsFunc(ss.Fields(), func(sf *avro.Field) bool {
				return sf.Name() == gf.Name() || slices.Contains(sf.Aliases(), gf.Name())
			}) {
				m.add(join(path, gf.Name()), "in the Go type and not in the schema")
			}
		}
	case *avro.ArraySchema:
		m.walk(gs.Items(), s.(*avro.ArraySchema).Items(), path+"[]")
	case *avro.MapSchema:
		m.walk(gs.Values(), s.(*avro.MapSchema).Values(), path+"{}")
	}
}
