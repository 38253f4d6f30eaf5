package schema

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/internal/kafkaauth"
	"github.com/streamkit/streamkit/internal/tlserr"
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
	// ErrTypeMismatch is returned by NewSerde, NewProducer and
	// NewConsumer when the Go type does not fit the schema given with
	// WithSchema (see TypeMismatchError).
	ErrTypeMismatch = errors.New("go type does not fit the schema")
	// ErrRunning is returned by Consumer.Process while another Process
	// of the same Consumer runs.
	ErrRunning = errors.New("already running")
	// ErrTopicNotFound is returned by NewConsumer when the dead-letter
	// topic of its policy does not exist.
	ErrTopicNotFound = errors.New("topic not found")
	// ErrUnavailable is returned when the schema registry cannot be
	// reached, does not answer in time, or answers with a server error
	// (5xx). It is transient: the same call may succeed later, and a
	// Consumer retries the record rather than dead-lettering it.
	ErrUnavailable = errors.New("schema registry unavailable")
	// ErrMalformedResponse is returned when the registry answers with
	// something its API does not allow: a body that is not JSON (an HTML
	// page from a proxy, a truncated body), a schema ID of 0 or none, an
	// empty schema.
	ErrMalformedResponse = errors.New("malformed registry response")
	// ErrRefused is returned when the registry refuses a request with a
	// 4xx answer other than "not found": wrong or missing credentials
	// (401, 403), a schema it calls invalid (422, also ErrInvalidSchema)
	// or incompatible (409, also ErrIncompatible).
	ErrRefused = errors.New("refused by the schema registry")
	// ErrAuthentication is returned, as an *AuthError, when a broker
	// refuses the client's credentials (SASL authentication failed, a
	// client certificate refused) or the client refuses the broker's
	// certificate. It is the same value as topics.ErrAuthentication.
	ErrAuthentication = kafkaauth.ErrAuthentication
	// ErrCertificateRefused is returned, in an *AuthError, when a broker
	// ends the TLS handshake with an alert: it refused the client's
	// certificate (none, expired, or of an authority it does not trust).
	ErrCertificateRefused = kafkaauth.ErrCertificateRefused
)

// RegistryError is a schema registry's answer to a request it did not
// fulfil: an HTTP status of 300 or more. It matches, with errors.Is, the
// sentinel of the registry's error code (ErrSubjectNotFound,
// ErrIncompatible, ...), ErrRefused for every other 4xx, ErrUnavailable for
// a 5xx, and ErrMalformedResponse when the body is not the registry's JSON
// error. It also wraps the registry client's *sr.ResponseError.
type RegistryError struct {
	// Op says what streamkit asked, e.g. `register schema under "orders-value"`.
	Op string
	// StatusCode is the HTTP status.
	StatusCode int
	// ErrorCode is the registry's error code, e.g. 40401 or 409, or 0 when
	// the body held none.
	ErrorCode int
	// Message is the registry's message, or the start of a body that was
	// not the registry's JSON error, on one line.
	Message string

	sentinels []error
	resp      *sr.ResponseError
}

func (e *RegistryError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: registry answered %d %s", e.Op, e.StatusCode, http.StatusText(e.StatusCode))
	if e.ErrorCode != 0 && e.ErrorCode != e.StatusCode {
		fmt.Fprintf(&b, " (error code %d)", e.ErrorCode)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Unwrap returns the sentinels that apply and the registry client's
// *sr.ResponseError.
func (e *RegistryError) Unwrap() []error {
	out := append([]error(nil), e.sentinels...)
	return append(out, e.resp)
}

// NotFound reports whether the registry answered that the subject, version
// or schema does not exist (ErrSubjectNotFound, ErrVersionNotFound or
// ErrSchemaNotFound). Packages that must not import schema, such as
// metrics, ask an error for it with errors.As.
func (e *RegistryError) NotFound() bool {
	for _, s := range e.sentinels {
		if s == ErrSubjectNotFound || s == ErrVersionNotFound || s == ErrSchemaNotFound {
			return true
		}
	}
	return false
}

// maxBodyInError is how much of a body that is not the registry's JSON
// error an error message quotes.
const maxBodyInError = 120

// registryErr classifies an error of the sr client, made for op under ctx:
// an HTTP answer becomes a *RegistryError; a request that never got an
// answer matches ErrUnavailable, unless ctx ended, which is the caller's
// doing and is returned as ctx's error; an answer that did not decode
// matches ErrMalformedResponse.
func registryErr(ctx context.Context, op string, err error) error {
	var re *sr.ResponseError
	if errors.As(err, &re) {
		return newRegistryError(op, re)
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%s: %w", op, cerr)
	}
	var (
		ue  *url.Error
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
		ne  net.Error
		ope *net.OpError
	)
	switch {
	case errors.As(err, &se), errors.As(err, &te), errors.Is(err, io.ErrUnexpectedEOF) && !errors.As(err, &ue):
		// The body of a 2xx answer that is not the JSON the API promises.
		return fmt.Errorf("%s: %w: %w", op, ErrMalformedResponse, err)
	case errors.As(err, &ue):
		// net/http has already taken any password out of the URL in a
		// *url.Error; the sr client's own wrapping has not, so only the
		// *url.Error is kept.
		if tlserr.IsCertificate(ue) {
			return fmt.Errorf("%s: %w: %w", op, ErrRefused, ue)
		}
		return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, ue)
	case errors.As(err, &ope), errors.As(err, &ne), errors.Is(err, io.EOF):
		return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func newRegistryError(op string, re *sr.ResponseError) *RegistryError {
	e := &RegistryError{
		Op:         op,
		StatusCode: re.StatusCode,
		ErrorCode:  re.ErrorCode,
		Message:    oneLine(re.Message, maxBodyInError),
		resp:       re,
	}
	// An empty body is no error document at all (sr's Message then says
	// "no response"); a body that is not a JSON object is not the
	// registry's.
	wellFormed := len(re.Raw) == 0 || json.Valid(re.Raw) && bytes.HasPrefix(bytes.TrimSpace(re.Raw), []byte("{"))
	if !wellFormed {
		e.Message = "body is not the registry's JSON error: " + oneLine(string(re.Raw), maxBodyInError)
		e.ErrorCode = 0
	}
	switch {
	case re.StatusCode >= 500:
		e.sentinels = append(e.sentinels, ErrUnavailable)
	case !wellFormed:
		// A 4xx that is not the registry's own answer: a proxy's page, or
		// a URL that does not lead to the registry's API. Its "not found"
		// says nothing about subjects or schemas.
		e.sentinels = append(e.sentinels, ErrMalformedResponse)
		if re.StatusCode != http.StatusNotFound {
			e.sentinels = append(e.sentinels, ErrRefused)
		}
	default:
		if s := sentinelFor(re); s != nil {
			e.sentinels = append(e.sentinels, s)
		}
		if re.StatusCode != http.StatusNotFound {
			e.sentinels = append(e.sentinels, ErrRefused)
		}
	}
	return e
}

// oneLine returns s on one line, cut to at most n bytes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
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

// Permanent reports whether a record that failed to decode with err can
// never be decoded, however often it is tried: its header has no magic
// byte (ErrBadMagic), its bytes do not decode (ErrCorruptPayload), the
// registry says its schema ID does not exist (ErrUnknownSchemaID), its
// writer's schema is not Avro or does not parse (ErrInvalidSchema), it
// cannot be read as the reader's type (ErrIncompatible), or a KeyCodec
// was given no key (ErrNullKey). An error made with Reject is permanent
// too.
//
// Every other failure is transient, a fault of the surroundings rather
// than of the record: the registry unreachable, timing out or answering
// 5xx (ErrUnavailable), a malformed or refused registry answer, a context
// that ended. This is the one place streamkit decides it. A Consumer
// dead-letters, skips or stops only for a permanent failure; for a
// transient one it holds the record's partition at the record, retries it
// with backoff and reports a *HoldError, and never loses, skips or
// dead-letters the record for it.
func Permanent(err error) bool {
	if err == nil {
		return false
	}
	var re *rejectedError
	if errors.As(err, &re) {
		return true
	}
	var ae *AuthError
	if errors.Is(err, ErrUnavailable) || errors.Is(err, ErrMalformedResponse) || errors.Is(err, ErrRefused) ||
		errors.As(err, &ae) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return errors.Is(err, ErrBadMagic) || errors.Is(err, ErrCorruptPayload) || errors.Is(err, ErrUnknownSchemaID) ||
		errors.Is(err, ErrInvalidSchema) || errors.Is(err, ErrIncompatible) || errors.Is(err, ErrNullKey)
}

// TypeMismatchError says where a Go type and the schema it is written and
// read with (WithSchema, an .avsc of the team's repository) do not fit: a
// field of the type the schema lacks (never written or never read), a
// field of the schema without a default the type lacks (a record that
// cannot be written), a field whose types differ. Record names are not
// compared. It matches ErrTypeMismatch with errors.Is.
type TypeMismatchError struct {
	Type     string
	Schema   string
	Messages []string
}

func (e *TypeMismatchError) Error() string {
	return fmt.Sprintf("%v: %s and %s: %s", ErrTypeMismatch, e.Type, e.Schema, strings.Join(e.Messages, "; "))
}

func (e *TypeMismatchError) Is(target error) bool { return target == ErrTypeMismatch }

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

// HoldError says a Consumer holds back a partition's records from Offset
// on, because the record at Offset failed for a transient reason (see
// Permanent) or could not be written to the dead-letter topic. Poll
// returns no record of the partition from Offset on until the record is
// handled; the Consumer tries it again after Retry, and every record Poll
// returned beside this error is safe to process and mark. It matches Err
// with errors.Is, e.g. ErrUnavailable.
type HoldError struct {
	Topic     string
	Partition int32
	// Offset is the first record held back; none before it is.
	Offset int64
	// Attempt counts the failures in a row at Offset, from 1.
	Attempt int
	// Retry is how long the Consumer waits before trying again.
	Retry time.Duration
	Err   error
}

func (e *HoldError) Error() string {
	return fmt.Sprintf("holding %s[%d] at offset %d (attempt %d, retry in %s): %v",
		e.Topic, e.Partition, e.Offset, e.Attempt, e.Retry.Round(time.Millisecond), e.Err)
}

// Unwrap returns Err.
func (e *HoldError) Unwrap() error { return e.Err }

// AuthError says a broker refused the client's credentials, or that the
// TLS handshake failed on a certificate. It matches ErrAuthentication and
// the cause with errors.Is and errors.As, which says which: the broker's
// error for SASL (kerr.SaslAuthenticationFailed: a wrong password); an
// x509.UnknownAuthorityError or x509.CertificateInvalidError (wrapped in
// a *tls.CertificateVerificationError) for a broker certificate the
// client does not trust (a wrong CA, expired); ErrCertificateRefused for
// a client certificate the broker refused (none given, expired, of
// another CA: the broker's TLS alert, in the message, is all it says).
//
// Its fields are Broker, the address of the broker that refused, and Err.
// It is the same type as topics.AuthError.
type AuthError = kafkaauth.Error
