package schema

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/streamkit/streamkit/internal/avrocodec"
)

// HeaderSize is the size of the Confluent wire format's header: the magic
// byte 0 and a 4-byte big-endian schema ID.
const HeaderSize = 5

// Serde encodes values of type T to the Confluent wire format and decodes
// them back. T is a struct with `avro` tags or a generic map[string]any.
//
// Encoding looks up the schema ID of a topic once, through the Registry and
// the registration policy, and caches it; decoding fetches the writer's
// schema by ID once and caches its resolution into the reader's schema.
// After the first record of a topic and of a schema ID, encoding and
// decoding make no registry call.
//
// A Serde is safe for concurrent use by multiple goroutines.
type Serde[T any] struct {
	reg    *Registry
	cfg    config
	reader *Schema // what values are written with; nil: the registry's
	// strict is the reader's schema when the caller supplied it: writers'
	// schemas are resolved into it by Avro's rules, defaults included.
	// Without it (a derived or generic reader) values are decoded with the
	// writer's schema and fields are matched by name, so the Avro names of
	// a team's .avsc need not match Go type names.
	strict *Schema

	mu       sync.Mutex // serialises misses; hits read the sync.Maps
	bindings sync.Map   // topic -> *binding
	plans    sync.Map   // schema id -> *plan
	// lastPlan is the plan of the schema ID decoded last: a topic's
	// records nearly all share one, and a sync.Map lookup by an int key
	// boxes it.
	lastPlan atomic.Pointer[idPlan]
}

// idPlan is a plan and its schema ID.
type idPlan struct {
	id int
	p  *plan
}

// binding is how values of one topic are written.
type binding struct {
	header [HeaderSize]byte
	schema *Schema
}

// plan is how values written with one schema ID are read.
type plan struct {
	schema avrocodec.Schema
	err    error // a writer schema that cannot resolve into the reader's
}

// NewSerde returns a Serde of T over reg. It takes WithSchema,
// WithSubjectStrategy, WithRegistration and ForKeys. It makes no registry
// call; Prepare does, and so does the first Encode for a topic.
func NewSerde[T any](reg *Registry, opts ...SerdeOpt) (*Serde[T], error) {
	cfg, err := newConfig("serde", opts, SerdeOpt.applySerde)
	if err != nil {
		return nil, err
	}
	return newSerde[T](reg, cfg)
}

func newSerde[T any](reg *Registry, cfg config) (*Serde[T], error) {
	if reg == nil {
		return nil, errors.New("new serde: nil registry")
	}
	s := &Serde[T]{reg: reg, cfg: cfg, reader: cfg.schema, strict: cfg.schema}
	if err := typeFits[T](cfg.schema); err != nil {
		return nil, fmt.Errorf("new serde: %w", err)
	}
	if s.reader == nil && isStruct(reflect.TypeFor[T]()) {
		derived, err := Derive[T]("")
		if err != nil {
			return nil, fmt.Errorf("new serde: %w", err)
		}
		s.reader = derived
	}
	if s.reader == nil && (cfg.registration.mode == autoRegister || cfg.registration.mode == lookupOnly) {
		return nil, fmt.Errorf("new serde: %s registration of %v needs WithSchema", cfg.registration, reflect.TypeFor[T]())
	}
	return s, nil
}

// typeFits checks a struct T against the schema it is written and read
// with (WithSchema), so that a type and an .avsc that drifted apart stop a
// program at start rather than fail or lose a field at each record. A T
// whose schema cannot be derived (a generic or anonymous struct) is not
// checked.
func typeFits[T any](s *Schema) error {
	if s == nil || !isStruct(reflect.TypeFor[T]()) {
		return nil
	}
	derived, err := Derive[T]("")
	if err != nil {
		return nil
	}
	if msgs := avrocodec.Mismatches(derived.parsed, s.parsed); len(msgs) > 0 {
		return &TypeMismatchError{Type: reflect.TypeFor[T]().String(), Schema: s.describe(), Messages: msgs}
	}
	return nil
}

func isStruct(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct
}

// Schema returns the schema values are written with and read into, or nil
// when that comes from the registry (UseLatest or PinnedID without
// WithSchema).
func (s *Serde[T]) Schema() *Schema { return s.reader }

// Prepare finds the schema ID that values for topic are written with,
// registering or looking it up as the registration policy says, so that a
// missing or incompatible schema is an error before any record is sent.
// It returns the ID.
func (s *Serde[T]) Prepare(ctx context.Context, topic string) (int, error) {
	b, err := s.binding(ctx, topic)
	if err != nil {
		return 0, err
	}
	return int(binary.BigEndian.Uint32(b.header[1:])), nil
}

func (s *Serde[T]) binding(ctx context.Context, topic string) (*binding, error) {
	if b, ok := s.bindings.Load(topic); ok {
		return b.(*binding), nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.bindings.Load(topic); ok {
		return b.(*binding), nil
	}
	b, err := s.bind(ctx, topic)
	if err != nil {
		return nil, err
	}
	s.bindings.Store(topic, b)
	return b, nil
}

func (s *Serde[T]) bind(ctx context.Context, topic string) (*binding, error) {
	var (
		id     int
		writer = s.reader
		err    error
	)
	subject := func() (string, error) {
		sub, err := s.cfg.strategy(topic, s.cfg.part, writer)
		if err != nil {
			return "", fmt.Errorf("subject for topic %q: %w", topic, err)
		}
		return sub, nil
	}
	switch s.cfg.registration.mode {
	case pinnedID:
		id = s.cfg.registration.id
		writer, err = s.reg.schemaByID(ctx, id, s.cfg.observer, time.Time{})
	case useLatest:
		var sub string
		if sub, err = subject(); err == nil {
			var v SubjectVersion
			v, err = s.reg.latest(ctx, sub, s.cfg.observer)
			id, writer = v.ID, v.Schema
		}
	case lookupOnly:
		var sub string
		if sub, err = subject(); err == nil {
			id, err = s.reg.lookup(ctx, sub, writer, s.cfg.observer)
		}
	default:
		var sub string
		if sub, err = subject(); err == nil {
			id, err = s.reg.register(ctx, sub, writer, s.cfg.observer)
		}
	}
	if err != nil {
		return nil, err
	}
	if id < 0 || int64(id) > int64(^uint32(0)) {
		return nil, fmt.Errorf("schema id %d does not fit the wire format", id)
	}
	b := &binding{schema: writer}
	binary.BigEndian.PutUint32(b.header[1:], uint32(id))
	return b, nil
}

// AppendEncode appends v, in the Confluent wire format, to dst and returns
// the extended slice. With enough capacity in dst it allocates nothing
// beyond what hamba/avro needs for v. The first call for a topic finds the
// schema ID (see Prepare); later calls make no registry call.
func (s *Serde[T]) AppendEncode(ctx context.Context, dst []byte, topic string, v T) ([]byte, error) {
	b, err := s.binding(ctx, topic)
	if err != nil {
		s.encodeError(topic, err)
		return dst, err
	}
	out, err := avrocodec.AppendEncode(dst, b.header[:], b.schema.parsed, &v)
	if err != nil {
		err = fmt.Errorf("encode %v for topic %q: %w", reflect.TypeFor[T](), topic, err)
		s.encodeError(topic, err)
		return dst, err
	}
	return out, nil
}

func (s *Serde[T]) encodeError(topic string, err error) {
	if s.cfg.observer != nil {
		s.cfg.observer.OnEncodeError(topic, err)
	}
}

// Encode returns v in the Confluent wire format.
func (s *Serde[T]) Encode(ctx context.Context, topic string, v T) ([]byte, error) {
	return s.AppendEncode(ctx, nil, topic, v)
}

// SchemaID returns the schema ID in the header of a Confluent-framed
// record, or an error matching ErrBadMagic or ErrCorruptPayload.
func SchemaID(data []byte) (int, error) {
	if len(data) < HeaderSize {
		if len(data) > 0 && data[0] != 0 {
			return -1, ErrBadMagic
		}
		return -1, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrCorruptPayload, len(data), HeaderSize)
	}
	if data[0] != 0 {
		return -1, fmt.Errorf("%w: 0x%02x", ErrBadMagic, data[0])
	}
	return int(binary.BigEndian.Uint32(data[1:HeaderSize])), nil
}

// Decode decodes a Confluent-framed record into v. The writer's schema
// comes from the ID in the header. With WithSchema it is resolved into that
// reader's schema once per ID, by Avro's rules: a reader of an older or
// newer compatible schema reads it, and fields the writer lacks take the
// reader's defaults. Without WithSchema, v is decoded with the writer's
// schema, fields matched by name: fields T lacks are skipped, and a field
// of T that the writer lacks is null when it has a default (a pointer
// field) and refused otherwise (ErrIncompatible), as CheckCompatibility
// refuses the same change, rather than read as a zero value.
// Errors match ErrBadMagic, ErrCorruptPayload, ErrUnknownSchemaID or
// ErrIncompatible, or are the registry's when it cannot be reached.
func (s *Serde[T]) Decode(ctx context.Context, data []byte, v *T) error {
	return s.decode(ctx, data, v, time.Time{})
}

// decode is Decode, asking the registry again about an unknown schema ID
// when the answer it remembers is older than notBefore.
func (s *Serde[T]) decode(ctx context.Context, data []byte, v *T, notBefore time.Time) error {
	id, err := SchemaID(data)
	if err != nil {
		return err
	}
	p, err := s.plan(ctx, id, notBefore)
	if err != nil {
		return err
	}
	if err := avrocodec.Decode(p.schema, data[HeaderSize:], v); err != nil {
		return fmt.Errorf("%w: schema id %d: %w", ErrCorruptPayload, id, err)
	}
	return nil
}

func (s *Serde[T]) plan(ctx context.Context, id int, notBefore time.Time) (*plan, error) {
	if last := s.lastPlan.Load(); last != nil && last.id == id {
		return last.p, last.p.err
	}
	if p, ok := s.plans.Load(id); ok {
		p := p.(*plan)
		s.lastPlan.Store(&idPlan{id: id, p: p})
		return p, p.err
	}
	writer, err := s.reg.schemaByID(ctx, id, s.cfg.observer, notBefore)
	if err != nil {
		return nil, err // not cached: the registry may answer next time
	}
	p := &plan{schema: writer.parsed}
	if s.strict == nil && s.reader != nil && !s.cfg.anyRecordName {
		if err := sameRecordName(s.reader, writer); err != nil {
			p.err = &IncompatibleError{
				Messages: []string{fmt.Sprintf("schema id %d cannot be read as %v: %v", id, reflect.TypeFor[T](), err)},
			}
		}
	}
	if s.strict == nil && s.reader != nil && p.err == nil {
		// Decoded with the writer's schema, a field the writer lacks would
		// stay zero; Avro's resolution, and CheckCompatibility, refuse a
		// reader field without a default that the writer lacks.
		if missing := avrocodec.MissingDefaults(s.reader.parsed, writer.parsed); len(missing) > 0 {
			p.err = &IncompatibleError{
				Messages: []string{fmt.Sprintf("schema id %d cannot be read as %v: the writer has no field %s and %v gives it no default "+
					"(make the field a pointer, whose default is null, or read with WithSchema and a default)",
					id, reflect.TypeFor[T](), strings.Join(missing, ", "), reflect.TypeFor[T]())},
			}
		}
	}
	if s.strict != nil && writer.Fingerprint() != s.strict.Fingerprint() {
		resolved, err := avrocodec.Resolve(s.strict.parsed, writer.parsed)
		if err != nil {
			p.err = &IncompatibleError{
				Messages: []string{fmt.Sprintf("schema id %d cannot be read as %v: %v", id, reflect.TypeFor[T](), err)},
			}
		} else {
			p.schema = resolved
		}
	}
	actual, _ := s.plans.LoadOrStore(id, p)
	p = actual.(*plan)
	return p, p.err
}

// sameRecordName refuses a writer's record whose name is not the derived
// reader's, so that records of another type (a billing.Payment on an
// orders topic) are not read as a T with every field zero. Names are
// compared without their namespace, because a derived schema has the Go
// type's name and no namespace while a team's .avsc has both; an alias of
// either side counts as its name, as in Avro's own resolution.
func sameRecordName(reader, writer *Schema) error {
	r, rok := reader.parsed.(avrocodec.NamedSchema)
	w, wok := writer.parsed.(avrocodec.NamedSchema)
	if !rok || !wok || r.Type() != w.Type() {
		return nil // a non-record T, or a type mismatch hamba reports itself
	}
	names := func(n avrocodec.NamedSchema) []string {
		out := []string{shortName(n.FullName())}
		for _, a := range n.Aliases() {
			out = append(out, shortName(a))
		}
		return out
	}
	rn, wn := names(r), names(w)
	for _, a := range rn {
		if slices.Contains(wn, a) {
			return nil
		}
	}
	return fmt.Errorf("the writer's record %s is not the reader's %s (give one an alias of the other, or build the reader with AnyRecordName)",
		w.FullName(), r.FullName())
}

func shortName(full string) string {
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		return full[i+1:]
	}
	return full
}
