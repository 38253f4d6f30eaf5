package schema

import (
	"fmt"
	"io/fs"
	"os"
	"reflect"

	"github.com/streamkit/streamkit/internal/avrocodec"
)

// Schema is a parsed Avro schema. It is immutable and safe for concurrent
// use by multiple goroutines.
type Schema struct {
	text   string
	parsed avrocodec.Schema
}

// Parse parses an Avro schema from its JSON text (the content of an .avsc
// file). A schema that does not parse is an error matching ErrInvalidSchema.
func Parse(text string) (*Schema, error) {
	parsed, err := avrocodec.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSchema, err)
	}
	return &Schema{text: text, parsed: parsed}, nil
}

// ParseFile parses the Avro schema in an .avsc file.
func ParseFile(path string) (*Schema, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	s, err := Parse(string(b))
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return s, nil
}

// ParseFS parses the Avro schema in file name of fsys: the way a service
// takes its schemas from the team repository's .avsc files, embedded at
// build time,
//
//	//go:embed schemas/order.avsc
//	var schemas embed.FS
//	order, err := schema.ParseFS(schemas, "schemas/order.avsc")
//
// so that what it writes and reads is what the repository reviewed and
// registered, not what its Go type derives. Give it with WithSchema:
// NewProducer and NewConsumer then check that the Go type fits it
// (ErrTypeMismatch), and LookupOnly finds the registered ID.
func ParseFS(fsys fs.FS, name string) (*Schema, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	s, err := Parse(string(b))
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	return s, nil
}

// Derive returns the Avro schema of struct type T as hamba/avro encodes it:
// field names from `avro` tags, pointers as optional fields with a null
// default, time.Time as timestamp-millis, *big.Rat as a decimal whose
// precision and scale come from an `avrodecimal:"p,s"` tag, nested structs
// as named records in namespace. Supply a schema instead (Parse) for what a
// Go type cannot say: enums, defaults other than null, aliases, docs.
func Derive[T any](namespace string) (*Schema, error) {
	typ := reflect.TypeFor[T]()
	text, err := deriveSchema(typ, namespace)
	if err != nil {
		return nil, err
	}
	return Parse(text)
}

// String returns the schema's text as given to Parse, or as derived.
func (s *Schema) String() string { return s.text }

// Canonical returns the schema's Parsing Canonical Form, which two schemas
// share exactly when they describe the same data.
func (s *Schema) Canonical() string { return s.parsed.String() }

// Fingerprint returns the SHA-256 of the canonical form, computed once.
func (s *Schema) Fingerprint() [32]byte { return s.parsed.Fingerprint() }

// FullName returns the namespace-qualified name of a record, enum or fixed
// schema, and "" for other schemas.
func (s *Schema) FullName() string {
	if n, ok := s.parsed.(avrocodec.NamedSchema); ok {
		return n.FullName()
	}
	return ""
}
