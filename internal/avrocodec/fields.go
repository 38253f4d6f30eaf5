package avrocodec

import (
	"slices"
	"strings"

	"github.com/hamba/avro/v2"
)

// MissingDefaults returns the path of each field of reader's records that
// writer's matching record lacks and that has no default: the fields
// whose value a reader of writer's data would have to invent. Records are
// matched by their place in the two schemas, not by name (a Go type's
// derived schema and a team's .avsc name the same record differently);
// a field by its name or one of its aliases. None means every field can
// be read or defaulted.
func MissingDefaults(reader, writer Schema) []string {
	w := fieldWalk{seen: map[[2]Schema]bool{}}
	w.walk(reader, writer, "")
	return w.out
}

type fieldWalk struct {
	out  []string
	seen map[[2]Schema]bool // record pairs walked: a recursive record once
}

func (w *fieldWalk) walk(reader, writer Schema, path string) {
	reader, writer = deref(reader), deref(writer)
	ru, readerUnion := reader.(*avro.UnionSchema)
	wu, writerUnion := writer.(*avro.UnionSchema)
	if readerUnion || writerUnion {
		readers, writers := []Schema{reader}, []Schema{writer}
		if readerUnion {
			readers = ru.Types()
		}
		if writerUnion {
			writers = wu.Types()
		}
		for _, r := range readers {
			if m := matchBranch(deref(r), writers); m != nil {
				w.walk(r, m, path)
			}
		}
		return
	}
	switch r := reader.(type) {
	case *avro.RecordSchema:
		wr, ok := writer.(*avro.RecordSchema)
		if !ok {
			return
		}
		key := [2]Schema{r, wr}
		if w.seen[key] {
			return
		}
		w.seen[key] = true
		for _, rf := range r.Fields() {
			i := slices.IndexFunc(wr.Fields(), func(wf *avro.Field) bool {
				return wf.Name() == rf.Name() || slices.Contains(rf.Aliases(), wf.Name())
			})
			switch {
			case i >= 0:
				w.walk(rf.Type(), wr.Fields()[i].Type(), join(path, rf.Name()))
			case !rf.HasDefault():
				w.out = append(w.out, join(path, rf.Name()))
			}
		}
	case *avro.ArraySchema:
		if wa, ok := writer.(*avro.ArraySchema); ok {
			w.walk(r.Items(), wa.Items(), path+"[]")
		}
	case *avro.MapSchema:
		if wm, ok := writer.(*avro.MapSchema); ok {
			w.walk(r.Values(), wm.Values(), path+"{}")
		}
	}
}

// matchBranch returns the writer's union branch a reader's branch reads:
// the one of the same type, and for a record the one of the same short
// name, or the only record.
func matchBranch(r Schema, writers []Schema) Schema {
	var same []Schema
	for _, w := range writers {
		if deref(w).Type() == r.Type() {
			same = append(same, deref(w))
		}
	}
	if len(same) == 1 {
		return same[0]
	}
	rn, ok := r.(NamedSchema)
	if !ok {
		return nil
	}
	for _, w := range same {
		if short(w.(NamedSchema).FullName()) == short(rn.FullName()) {
			return w
		}
	}
	return nil
}

func short(name string) string { return name[strings.LastIndex(name, ".")+1:] }
