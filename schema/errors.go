package schema

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/twmb/franz-go/pkg/sr"
)

var (
	// ErrBadMagic is returned when a record does not start with the
	// Confluent wire format's magic byte 0.
	ErrBadMagic = errors.New("bad magic byte: not confluent wire format")
	// ErrCorruptPayload is returned when a record's bytes cannot be decoded
	// with its writer's schema: cut short, trailing bytes, or invalid data.
	ErrCorruptPayload = errors.New("corrupt avro payload")
	// ErrUnknownSchemaID is returned when a record names a schema ID the
	// registry does not know.
	ErrUnknownSchemaID = errors.New("unknown schema id")
	// ErrSubjectNotFound is returned when the registry has no such subject.
	ErrSubjectNotFound = errors.New("subject not found")
	// ErrVersionNotFound is returned when a subject has no such version.
	ErrVersionNotFound = errors.New("version not found")
	// ErrSchemaNotFound is returned when the registry has no such schema.
	ErrSchemaNotFound = errors.New("schema not found")
	// ErrNotRegistered is returned in lookup-only mode when the schema is
	// not registered under the subject.
	ErrNotRegistered = errors.New("schema not registered under subject")
	// ErrIncompatible is returned when a schema breaks the compatibility
	// level of its subject, offline or in the registry, and when a
	// writer's schema cannot be resolved into the reader's type.
	ErrIncompatible = errors.New("incompatible schema")
	// ErrInvalidSchema is returned for a schema that does not parse or that
	// the registry refuses as invalid.
	ErrInvalidSchema = errors.New("invalid schema")
	// ErrClosed is returned by a Producer or Consumer after Close.
	ErrClosed = errors.New("closed")
)

// RegistryError is a schema registry's error response. It wraps the
// registry client's *sr.ResponseError and matches the sentinel of its code
// with errors.Is (ErrSubjectNotFound, ErrIncompatible, ...).
type RegistryError struct {
	// Op says what streamkit asked, e.g. `register schema under "orders-value"`.
	Op string
	// StatusCode is the HTTP status.
	StatusCode int
	// ErrorCode is the registry's error code, e.g. 40401 or 409.
	ErrorCode int
	// Message is the registry's message.
	Message string

	sentinel error
	resp     *sr.ResponseError
}

func (e *RegistryError) Error() string {
	return fmt.Sprintf("%s: registry error %d: %s", e.Op, e.ErrorCode, e.Message)
}

// Unwrap returns the sentinel for the error code, if any, and the registry
// client's *sr.ResponseError.
func (e *RegistryError) Unwrap() []error {
	if e.sentinel == nil {
		return []error{e.resp}
	}
	return []error{e.sentinel, e.resp}
}

// registryErr turns an error of the sr client into a *RegistryError when
// it is a registry response, and wraps it with op otherwise.
func registryErr(op string, err error) error {
	var re *sr.ResponseError
	if !errors.As(err, &re) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return &RegistryError{
		Op:         op,
		StatusCode: re.StatusCode,
		ErrorCode:  re.ErrorCode,
		Message:    strings.TrimSpace(re.Message),
		sentinel:   sentinelFor(re),
		resp:       re,
	}
}

func sentinelFor(re *sr.ResponseError) error {
	switch re.ErrorCode {
	case sr.ErrSubjectNotFound.Code:
		return ErrSubjectNotFound
	case sr.ErrVersionNotFound.Code:
		return ErrVersionNotFound
	case sr.ErrSchemaNotFound.Code:
		return ErrSchemaNotFound
	case sr.ErrInvalidSchema.Code, sr.ErrInvalidCompatibilityLevel.Code:
		return ErrInvalidSchema
	case 409:
		return ErrIncompatible
	}
	switch re.StatusCode {
	case http.StatusConflict:
		return ErrIncompatible
	case http.StatusUnprocessableEntity:
		return ErrInvalidSchema
	}
	return nil
}

// IncompatibleError says why a schema breaks a compatibility level. It
// matches ErrIncompatible with errors.Is.
type IncompatibleError struct {
	// Subject is the subject checked, or empty for an offline check.
	Subject string
	// Level is the compatibility level the schema was checked against.
	Level CompatibilityLevel
	// Messages are the reasons, from the registry or the offline checker.
	Messages []string
}

func (e *IncompatibleError) Error() string {
	where := "offline check"
	if e.Subject != "" {
		where = fmt.Sprintf("subject %q", e.Subject)
	}
	if e.Level != "" {
		where += " at " + string(e.Level)
	}
	return fmt.Sprintf("%s: %s: %s", ErrIncompatible, where, strings.Join(e.Messages, "; "))
}

// Unwrap returns ErrIncompatible.
func (e *IncompatibleError) Unwrap() error { return ErrIncompatible }

// DecodeError is a record a Consumer could not decode. Err matches one of
// ErrBadMagic, ErrCorruptPayload, ErrUnknownSchemaID or ErrIncompatible,
// or is the registry's error when the schema could not be fetched.
type DecodeError struct {
	Topic     string
	Partition int32
	Offset    int64
	// SchemaID is the ID the record names, or -1 when its header is bad.
	SchemaID int
	Err      error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("decode record %s[%d]@%d (schema id %d): %v", e.Topic, e.Partition, e.Offset, e.SchemaID, e.Err)
}

// Unwrap returns Err.
func (e *DecodeError) Unwrap() error { return e.Err }
