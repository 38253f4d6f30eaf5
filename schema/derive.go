package schema

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// deriveTagKey is the struct tag hamba/avro matches record fields by (its
// default TagKey, and the one internal/avrocodec configures).
const deriveTagKey = "avro"

// deriveDecimalTagKey is the struct tag that gives the precision and scale
// of a *big.Rat field: `avrodecimal:"<precision>,<scale>"`.
const deriveDecimalTagKey = "avrodecimal"

var (
	deriveTimeType            = reflect.TypeFor[time.Time]()
	deriveDurationType        = reflect.TypeFor[time.Duration]()
	deriveRatType             = reflect.TypeFor[big.Rat]()
	deriveTextMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	deriveTextUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// deriveSchema returns the Avro schema, as JSON text, that hamba/avro
// encodes values of typ with. typ is a struct type or a pointer to one.
// namespace is the Avro namespace of the top-level record and of the
// named types it defines ("" for none).
//
// The schema follows hamba/avro v2.31's reflection (describeStruct in
// codec_record.go and the codecs of codec_native.go, codec_union.go,
// codec_map.go and codec_fixed.go), so that a value of typ round-trips
// through it:
//
//   - Record fields are the struct's exported fields in Go declaration
//     order. A field's name is its `avro` tag up to the first comma, or the
//     Go field name when untagged; `avro:"-"` skips the field. An empty tag
//     name, a name that is not a valid Avro name and two fields with the
//     same name at the same embedding depth are errors.
//   - Embedded structs (T or *T) are inlined like hamba inlines them: their
//     fields join the outer record at the position of the embedded field,
//     and a field at a shallower depth hides one of the same name deeper
//     down. As in hamba, the tag of an embedded struct field is ignored
//     (even `avro:"-"`), the exported fields of an unexported embedded
//     struct type are inlined too, an embedded field whose type is not a
//     struct (or pointer to one) is skipped, and a struct type already
//     inlined once is not inlined again. hamba refuses to encode a value
//     whose embedded *T is nil.
//   - string, bool, float32 and float64 are "string", "boolean", "float"
//     and "double"; int8, int16 and int32 are "int"; int and int64 are
//     "long" (hamba decodes a long into an int only where int is 64 bits).
//     A named type maps as its underlying kind, as in hamba.
//   - Unsigned integers: hamba encodes uint8 and uint16 as "int" and uint32
//     as "long" without loss, so those are derived (deviating from a blanket
//     "unsigned is an error" rule). uint, uintptr and uint64 are errors:
//     hamba has no numeric type for them (it only maps uint64 to an 8-byte
//     fixed, through a codec that shares one buffer between all calls and
//     so is not safe for concurrent use, and that no other Avro reader
//     decodes as a number).
//   - []byte (any slice of a uint8 kind) is "bytes"; [N]byte is the named
//     fixed "fixed<N>" of size N, defined on first use in the namespace and
//     referred to by name afterwards. Other Go arrays are errors: hamba
//     encodes only slices as Avro arrays.
//   - time.Time (and types convertible to it, as hamba checks) is a long
//     with logicalType timestamp-millis; hamba truncates to the millisecond
//     and decodes in UTC. time.Duration is a long with logicalType
//     time-micros, which hamba encodes a Duration to (truncated to the
//     microsecond); other named int64 types are plain "long".
//   - *big.Rat (or a pointer to a type convertible to big.Rat) is bytes
//     with logicalType decimal, with precision and scale from the field's
//     `avrodecimal:"<precision>,<scale>"` tag, which also applies to a
//     *big.Rat inside the field's slices, maps and pointers. A big.Rat held
//     by value is an error: hamba's decoder for it stores a pointer into the
//     value's memory. hamba cannot encode a nil *big.Rat; use **big.Rat for
//     an optional decimal. An avrodecimal tag on a field holding no
//     *big.Rat is an error.
//   - Any other pointer *T is the union ["null", T], and a field of that
//     type has "default": null. A pointer to a pointer (other than to a
//     *big.Rat) is an error, as Avro unions cannot hold unions.
//   - []T is an array of T. map[K]T is a map of T when K is of a string
//     kind or, as hamba also accepts, when K itself implements both
//     encoding.TextMarshaler and encoding.TextUnmarshaler; other keys are
//     errors.
//   - A struct type T with MarshalText on T and UnmarshalText on *T (such
//     as netip.Addr) is "string": hamba encodes and decodes it through
//     those methods when the schema is "string", while as a record (the
//     rule below) its unexported state would be silently dropped.
//   - Any other struct is a record named after its Go type, defined on
//     first use and referred to by its full name afterwards, so types that
//     recur through a pointer, slice or map work. Anonymous struct types,
//     generic instantiations (whose names are not Avro names) and two Go
//     types with the same name are errors.
//   - Interfaces, channels, funcs, complex numbers and unsafe pointers are
//     errors.
//
// Errors name the field by its path of Avro field names, with "[]" for an
// array's items and "{}" for a map's values, e.g.
// `derive avro schema for Order: field "lines[].sku": unsupported type uint`.
//
// The output is compact JSON whose keys are always in the same order, so a
// type derives to the same text every time.
func deriveSchema(typ reflect.Type, namespace string) (string, error) {
	if typ == nil {
		return "", errors.New("derive avro schema: nil type")
	}
	top := typ
	if top.Kind() == reflect.Pointer {
		top = top.Elem()
	}
	if top.Kind() != reflect.Struct {
		return "", fmt.Errorf("derive avro schema for %s: want a struct type or a pointer to one", typ)
	}
	what := top.Name()
	if what == "" {
		what = top.String()
	}
	if err := deriveCheckNamespace(namespace); err != nil {
		return "", fmt.Errorf("derive avro schema for %s: %w", what, err)
	}

	d := &deriver{
		namespace: namespace,
		names:     map[string]string{},
		records:   map[reflect.Type]string{},
	}
	rec, err := d.record(top, "")
	if err != nil {
		return "", fmt.Errorf("derive avro schema for %s: %w", what, err)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return "", fmt.Errorf("derive avro schema for %s: %w", what, err)
	}
	return string(b), nil
}

// deriver holds the named types defined so far while deriving one schema.
type deriver struct {
	namespace string
	// names maps the full name of each named type defined so far to what
	// defined it, for error messages on a clash.
	names map[string]string
	// records maps each struct type defined as a record to its full name.
	records map[reflect.Type]string
}

// deriveField is what the schema of a record field, or of a part of its
// type, depends on besides the type: its path for errors and the field's
// avrodecimal tag.
type deriveField struct {
	path    string
	decimal *deriveDecimalTag // nil when the field has no avrodecimal tag
}

// deriveDecimalTag is a field's avrodecimal tag, shared by the parts of the
// field's type.
type deriveDecimalTag struct {
	text string
	used bool // a *big.Rat in the field took its precision and scale
}

func (f *deriveField) errorf(format string, args ...any) error {
	return fmt.Errorf("field %q: %s", f.path, fmt.Sprintf(format, args...))
}

// at returns the context of a part of f's type: its array items or map
// values, which share f's avrodecimal tag.
func (f *deriveField) at(suffix string) *deriveField {
	sub := *f
	sub.path += suffix
	return &sub
}

// fullName returns the full name of a named type called name.
func (d *deriver) fullName(name string) string {
	if d.namespace == "" {
		return name
	}
	return d.namespace + "." + name
}

// define registers a named type's full name, failing if another type
// already took it.
func (d *deriver) define(name, what string) error {
	full := d.fullName(name)
	if other, ok := d.names[full]; ok {
		if other == what {
			other = "another " + other
		}
		return fmt.Errorf("avro name %q of %s is already used by %s", full, what, other)
	}
	d.names[full] = what
	return nil
}

// record returns the schema of struct type t: its definition the first
// time, its full name afterwards. path is the field holding t, "" for the
// top-level record.
func (d *deriver) record(t reflect.Type, path string) (any, error) {
	if full, ok := d.records[t]; ok {
		return full, nil
	}
	name := t.Name()
	what := "go type " + t.String()
	errorf := func(format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		if path == "" {
			return errors.New(msg)
		}
		return fmt.Errorf("field %q: %s", path, msg)
	}
	if name == "" {
		return nil, errorf("unsupported anonymous struct type %s: declare a named struct type", t)
	}
	if !ValidName(name) || derivePrimitive(name) {
		return nil, errorf("%s: type name %q is not a valid avro name", what, name)
	}
	if err := d.define(name, what); err != nil {
		return nil, errorf("%v", err)
	}
	// Known before its fields, so that a field of type *T or []T within T
	// refers to it by name.
	d.records[t] = d.fullName(name)

	fields, err := deriveStructFields(t, path)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(fields))
	for _, f := range fields {
		ctx := &deriveField{path: f.name}
		if path != "" {
			ctx.path = path + "." + f.name
		}
		if tag, ok := f.field.Tag.Lookup(deriveDecimalTagKey); ok {
			ctx.decimal = &deriveDecimalTag{text: tag}
		}
		typ, err := d.typeSchema(f.field.Type, ctx)
		if err != nil {
			return nil, err
		}
		if ctx.decimal != nil && !ctx.decimal.used {
			return nil, ctx.errorf("avrodecimal tag on a field of type %s, which holds no *big.Rat", f.field.Type)
		}
		field := deriveObject{{"name", f.name}, {"type", typ}}
		if _, union := typ.([]any); union {
			field = append(field, deriveMember{"default", nil})
		}
		out = append(out, field)
	}

	rec := deriveObject{{"type", "record"}, {"name", name}}
	if path == "" && d.namespace != "" {
		// Nested named types inherit the namespace.
		rec = append(rec, deriveMember{"namespace", d.namespace})
	}
	return append(rec, deriveMember{"fields", out}), nil
}

// typeSchema returns the schema of a value of type t held by field f.
func (d *deriver) typeSchema(t reflect.Type, f *deriveField) (any, error) {
	if t == deriveDurationType {
		return deriveObject{{"type", "long"}, {"logicalType", "time-micros"}}, nil
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean", nil
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint8, reflect.Uint16:
		return "int", nil
	case reflect.Int, reflect.Int64, reflect.Uint32:
		return "long", nil
	case reflect.Float32:
		return "float", nil
	case reflect.Float64:
		return "double", nil
	case reflect.String:
		return "string", nil

	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "bytes", nil
		}
		items, err := d.typeSchema(t.Elem(), f.at("[]"))
		if err != nil {
			return nil, err
		}
		return deriveObject{{"type", "array"}, {"items", items}}, nil

	case reflect.Array:
		if t.Elem().Kind() != reflect.Uint8 {
			return nil, f.errorf("unsupported type %s: use a slice, hamba encodes only slices as avro arrays", t)
		}
		return d.fixed(t.Len(), f)

	case reflect.Map:
		k := t.Key()
		if k.Kind() != reflect.String && !(k.Implements(deriveTextMarshalerType) && k.Implements(deriveTextUnmarshalerType)) {
			return nil, f.errorf("unsupported map key type %s: want a string key", k)
		}
		values, err := d.typeSchema(t.Elem(), f.at("{}"))
		if err != nil {
			return nil, err
		}
		return deriveObject{{"type", "map"}, {"values", values}}, nil

	case reflect.Pointer:
		elem := t.Elem()
		if elem.Kind() == reflect.Struct && elem.ConvertibleTo(deriveRatType) {
			return d.decimal(f)
		}
		if elem.Kind() == reflect.Pointer && !(elem.Elem().Kind() == reflect.Struct && elem.Elem().ConvertibleTo(deriveRatType)) {
			return nil, f.errorf("unsupported type %s: a pointer to a pointer would be a union in a union", t)
		}
		inner, err := d.typeSchema(elem, f)
		if err != nil {
			return nil, err
		}
		return []any{"null", inner}, nil

	case reflect.Struct:
		switch {
		case t.ConvertibleTo(deriveTimeType):
			return deriveObject{{"type", "long"}, {"logicalType", "timestamp-millis"}}, nil
		case t.ConvertibleTo(deriveRatType):
			return nil, f.errorf("unsupported type %s: use *big.Rat, hamba decodes only a pointer", t)
		case t.Implements(deriveTextMarshalerType) && reflect.PointerTo(t).Implements(deriveTextUnmarshalerType):
			// hamba writes and reads it through its text methods when the
			// schema is "string"; as a record its state would be lost.
			return "string", nil
		}
		return d.record(t, f.path)
	}
	// Interfaces, channels, funcs, complex numbers, unsafe pointers, and
	// uint, uint64 and uintptr.
	return nil, f.errorf("unsupported type %s", t)
}

// fixed returns the schema of [size]byte.
func (d *deriver) fixed(size int, f *deriveField) (any, error) {
	name := "fixed" + strconv.Itoa(size)
	what := fmt.Sprintf("[%d]byte", size)
	if d.names[d.fullName(name)] == what {
		return d.fullName(name), nil
	}
	if err := d.define(name, what); err != nil {
		return nil, f.errorf("%v", err)
	}
	return deriveObject{{"type", "fixed"}, {"name", name}, {"size", size}}, nil
}

// decimal returns the schema of a *big.Rat held by field f.
func (d *deriver) decimal(f *deriveField) (any, error) {
	const want = `want avrodecimal:"<precision>,<scale>" with precision >= 1 and 0 <= scale <= precision, e.g. avrodecimal:"10,2"`
	if f.decimal == nil {
		return nil, f.errorf(`*big.Rat needs a struct tag avrodecimal:"<precision>,<scale>", e.g. avrodecimal:"10,2"`)
	}
	f.decimal.used = true
	p, s, ok := strings.Cut(f.decimal.text, ",")
	precision, err1 := strconv.Atoi(strings.TrimSpace(p))
	scale, err2 := strconv.Atoi(strings.TrimSpace(s))
	if !ok || err1 != nil || err2 != nil || precision < 1 || scale < 0 || scale > precision {
		return nil, f.errorf("invalid avrodecimal tag %q: %s", f.decimal.text, want)
	}
	return deriveObject{
		{"type", "bytes"},
		{"logicalType", "decimal"},
		{"precision", precision},
		{"scale", scale},
	}, nil
}

// deriveStructFieldInfo is a field of a record: a field of the struct or of
// a struct embedded in it.
type deriveStructFieldInfo struct {
	name   string // Avro name
	goPath string // Go selector from the struct, e.g. "Base.ID"
	index  []int  // as reflect.Type.FieldByIndex, for Go declaration order
	depth  int    // embedding depth
	field  reflect.StructField
}

// deriveStructFields returns the fields hamba matches a record's fields
// with for struct type t, in Go declaration order, embedded structs
// inlined. It walks t breadth first like hamba's describeStruct, which
// keeps the first field of each name, so the shallower of two fields with
// the same name wins; two at the same depth are an error here, while hamba
// would silently use the first one.
func deriveStructFields(t reflect.Type, path string) ([]deriveStructFieldInfo, error) {
	type embedded struct {
		typ    reflect.Type
		goPath string // selector prefix, e.g. "Base."
		index  []int
	}
	fieldPath := func(name string) string {
		if path == "" {
			return name
		}
		return path + "." + name
	}

	var fields []deriveStructFieldInfo
	byName := map[string]int{}
	visited := map[reflect.Type]bool{}
	next := []embedded{{typ: t}}
	for depth := 0; len(next) > 0; depth++ {
		curr := next
		next = nil
		for _, e := range curr {
			if visited[e.typ] {
				continue
			}
			visited[e.typ] = true
			for i := range e.typ.NumField() {
				sf := e.typ.Field(i)
				index := append(slices.Clone(e.index), i)
				if sf.Anonymous {
					ft := sf.Type
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if ft.Kind() == reflect.Struct {
						next = append(next, embedded{typ: ft, goPath: e.goPath + sf.Name + ".", index: index})
					}
					continue
				}
				if !sf.IsExported() {
					continue
				}
				name := sf.Name
				if tag, ok := sf.Tag.Lookup(deriveTagKey); ok {
					name, _, _ = strings.Cut(tag, ",")
				}
				switch {
				case name == "-":
					continue
				case name == "":
					return nil, fmt.Errorf("field %q: avro tag %q gives an empty name", fieldPath(sf.Name), sf.Tag.Get(deriveTagKey))
				case !ValidName(name):
					return nil, fmt.Errorf("field %q: invalid avro field name: want letters, digits and underscores, not starting with a digit", fieldPath(name))
				}
				if j, ok := byName[name]; ok {
					if fields[j].depth == depth {
						return nil, fmt.Errorf("field %q: go fields %s and %s have the same avro name", fieldPath(name), fields[j].goPath, e.goPath+sf.Name)
					}
					continue
				}
				byName[name] = len(fields)
				fields = append(fields, deriveStructFieldInfo{name: name, goPath: e.goPath + sf.Name, index: index, depth: depth, field: sf})
			}
		}
	}
	slices.SortFunc(fields, func(a, b deriveStructFieldInfo) int { return slices.Compare(a.index, b.index) })
	return fields, nil
}

// ValidName reports whether s is a valid Avro name (one segment of a full
// name): [A-Za-z_][A-Za-z0-9_]*.
func ValidName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		letter := r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '_'
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// derivePrimitive reports whether name is an Avro primitive type name,
// which a named type cannot take.
func derivePrimitive(name string) bool {
	switch name {
	case "null", "boolean", "int", "long", "float", "double", "bytes", "string":
		return true
	}
	return false
}

// deriveCheckNamespace checks that namespace is "" or dot-separated Avro
// names.
func deriveCheckNamespace(namespace string) error {
	if namespace == "" {
		return nil
	}
	for part := range strings.SplitSeq(namespace, ".") {
		if !ValidName(part) {
			return fmt.Errorf("invalid namespace %q: want dot-separated avro names", namespace)
		}
	}
	return nil
}

// deriveObject is a JSON object that keeps its keys in order.
type deriveObject []deriveMember

type deriveMember struct {
	key   string
	value any
}

// MarshalJSON writes the members in order.
func (o deriveObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(m.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(m.value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
