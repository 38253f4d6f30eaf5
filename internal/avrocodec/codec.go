// Package avrocodec is streamkit's one seam to its Avro implementation,
// github.com/hamba/avro/v2. Nothing else in streamkit imports hamba, so a
// maintained fork with the same API replaces it by changing the import in
// this package alone.
//
// The seam also makes decoding strict where hamba is lenient: hamba's
// Unmarshal reports a payload cut short as success and ignores trailing
// bytes; a Confluent-framed record holds exactly one datum, so both are
// errors here.
package avrocodec

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/hamba/avro/v2"
)

// Schema is a parsed Avro schema.
type Schema = avro.Schema

// NamedSchema is a schema with a full name: a record, an enum or a fixed.
type NamedSchema = avro.NamedSchema

// Limits on what one decode may allocate, so a corrupt length prefix cannot
// make the process allocate gigabytes. They bound single values, not
// records: a 64 MiB string or a 16M-element array is far beyond a Kafka
// record's default 1 MiB maximum.
const (
	maxByteSliceSize  = 64 << 20
	maxSliceAllocSize = 16 << 20
)

var api = avro.Config{
	TagKey:            "avro",
	MaxByteSliceSize:  maxByteSliceSize,
	MaxSliceAllocSize: maxSliceAllocSize,
}.Freeze()

// Parse parses an Avro schema from its JSON text.
func Parse(text string) (Schema, error) {
	// A fresh cache per call: hamba's global cache would let two unrelated
	// subjects that reuse a record name see each other's definitions.
	return avro.ParseWithCache(text, "", &avro.SchemaCache{})
}

// Compatible reports whether data written with writer can be read with
// reader, returning the reason when it cannot.
func Compatible(reader, writer Schema) error {
	return avro.NewSchemaCompatibility().Compatible(reader, writer)
}

// Resolve returns a schema that decodes data written with writer into
// values shaped by reader. It fails when the two are not compatible.
func Resolve(reader, writer Schema) (Schema, error) {
	return avro.NewSchemaCompatibility().Resolve(reader, writer)
}

var writers = sync.Pool{New: func() any { return avro.NewWriter(nil, 512, avro.WithWriterConfig(api)) }}

var readers = sync.Pool{New: func() any { return avro.NewReader(nil, 0, avro.WithReaderConfig(api)) }}

// AppendEncode appends prefix and then the Avro binary encoding of v under
// s to dst, and returns the extended slice. v may be a value or a pointer
// to one. dst grows at most once, to the exact size needed.
func AppendEncode(dst, prefix []byte, s Schema, v any) (out []byte, err error) {
	w := writers.Get().(*avro.Writer)
	w.Reset(nil)
	defer func() {
		if p := recover(); p != nil {
			out, err = dst, fmt.Errorf("avro encode: %v", p)
		}
		w.Error = nil
		writers.Put(w)
	}()
	w.WriteVal(s, v)
	if w.Error != nil {
		return dst, w.Error
	}
	body := w.Buffer()
	if need := len(prefix) + len(body); cap(dst)-len(dst) < need {
		grown := make([]byte, len(dst), len(dst)+need)
		copy(grown, dst)
		dst = grown
	}
	dst = append(dst, prefix...)
	return append(dst, body...), nil
}

// ErrTrailingBytes is returned by Decode when data holds more than one
// datum.
var ErrTrailingBytes = errors.New("trailing bytes after the avro datum")

// Decode decodes exactly one datum of schema s from data into v, which must
// be a non-nil pointer. A payload cut short is io.ErrUnexpectedEOF; bytes
// left over are ErrTrailingBytes.
func Decode(s Schema, data []byte, v any) (err error) {
	r := readers.Get().(*avro.Reader)
	r.Reset(data)
	defer func() {
		// hamba panics on some corrupt inputs (e.g. a union index that
		// names no branch of a resolved schema); input from the network is
		// never a reason to crash a consumer.
		if p := recover(); p != nil {
			err = fmt.Errorf("avro decode: %v", p)
		}
		r.Error = nil
		r.Reset(nil)
		readers.Put(r)
	}()
	r.ReadVal(s, v)
	if r.Error != nil {
		if errors.Is(r.Error, io.EOF) {
			return io.ErrUnexpectedEOF
		}
		return r.Error
	}
	// Peek sets io.EOF when nothing is left, which is what a well-formed
	// payload looks like.
	r.Peek()
	if r.Error == nil {
		return ErrTrailingBytes
	}
	return nil
}
