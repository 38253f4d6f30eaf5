// Package kafkaauth notices when a franz-go client's connections fail
// because of credentials, so that the SDK's packages can fail at once with
// a typed error instead of waiting out kgo's retries. kgo retries such a
// connection for as long as its caller waits and tells only its logger: a
// consumer with a wrong password would poll until its context ended, a
// producer's records would wait forever, an admin request would give up
// after its retries with the last error, about half a minute later.
//
// schema and topics expose Error as their AuthError; it is one type, so
// errors.As with either package's name matches both.
package kafkaauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/internal/tlserr"
)

var (
	// ErrAuthentication is matched by every *Error.
	ErrAuthentication = errors.New("kafka authentication failed")
	// ErrCertificateRefused is returned, in an *Error, when a broker ends
	// the TLS handshake with an alert: it refused the client's certificate
	// (none, expired, or of an authority it does not trust).
	ErrCertificateRefused = errors.New("the broker refused the client's TLS certificate")
)

// Error says a broker refused the client's credentials, or that the TLS
// handshake failed on a certificate. It matches ErrAuthentication and the
// cause with errors.Is and errors.As, which says which: the broker's
// error for SASL (kerr.SaslAuthenticationFailed: a wrong password); an
// x509.UnknownAuthorityError or x509.CertificateInvalidError (wrapped in a
// *tls.CertificateVerificationError) for a broker certificate the client
// does not trust (a wrong CA, expired); ErrCertificateRefused for a client
// certificate the broker refused (none given, expired, of another CA: the
// broker's TLS alert, in the message, is all it says).
type Error struct {
	// Broker is the address of the broker that refused.
	Broker string
	Err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%v: broker %s: %v", ErrAuthentication, e.Broker, e.Err)
}

// Unwrap returns ErrAuthentication and Err.
func (e *Error) Unwrap() []error { return []error{ErrAuthentication, e.Err} }

// Watch is a kgo hook that sees every connection a client opens and
// notices when a broker refuses the client's credentials (SASL, or a client
// certificate) or the client refuses the broker's certificate. A later
// connection that authenticates clears the failure.
//
// Each failure ends the current generation's context, with the *Error as
// its cause, and starts a new one: a producer gives each record the
// generation's context, so that kgo fails the records it has not sent yet;
// a poll or an admin request (Guard) wakes up on it. A Watch is safe for
// concurrent use.
type Watch struct {
	mu     sync.Mutex
	err    *Error // the failure that stands, if any
	seq    uint64 // counts failures
	gen    context.Context
	cancel context.CancelCauseFunc

	// current is gen, for a producer's hot path, which takes no lock.
	current atomic.Pointer[context.Context]
}

var _ kgo.HookBrokerConnect = (*Watch)(nil)

// NewWatch returns a Watch with no failure; give it to kgo.WithHooks.
func NewWatch() *Watch {
	w := &Watch{}
	w.gen, w.cancel = context.WithCancelCause(context.Background())
	// A copy: w.gen itself is rewritten under mu at each failure, while
	// Context reads the pointer without it.
	gen := w.gen
	w.current.Store(&gen)
	return w
}

// OnBrokerConnect implements kgo.HookBrokerConnect. kgo reports an attempt
// after initializing the connection, so err includes the SASL handshake.
func (w *Watch) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case err == nil:
		w.err = nil
	case IsFailure(err):
		if tlserr.IsRemoteAlert(err) {
			err = fmt.Errorf("%w: %w", ErrCertificateRefused, err)
		}
		w.err = &Error{Broker: net.JoinHostPort(meta.Host, strconv.Itoa(int(meta.Port))), Err: err}
		w.seq++
		w.cancel(w.err)
		w.gen, w.cancel = context.WithCancelCause(context.Background())
		gen := w.gen
		w.current.Store(&gen)
	}
}

// Context returns the current generation's context, which ends at the
// next authentication failure.
func (w *Watch) Context() context.Context { return *w.current.Load() }

// State returns the current generation's context, the failure that stands
// (nil if none) and the number of failures so far.
func (w *Watch) State() (context.Context, *Error, uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gen, w.err, w.seq
}

// Guard returns a context that ends with ctx, or at the next
// authentication failure with the *Error as its cause, and the function
// that releases it. Give the context to a request; when it fails,
// Cause says whether an authentication failure ended it.
func (w *Watch) Guard(ctx context.Context) (context.Context, context.CancelFunc) {
	gen := w.Context()
	guarded, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(gen, func() { cancel(context.Cause(gen)) })
	return guarded, func() { stop(); cancel(nil) }
}

// TranslateRecord returns the *Error behind a record that kgo failed
// because its generation's context ended, and err otherwise.
func TranslateRecord(r *kgo.Record, err error) error {
	if err == nil || r == nil || !errors.Is(err, context.Canceled) {
		return err
	}
	if ae := Cause(r.Context); ae != nil {
		return ae
	}
	return err
}

// Cause returns the *Error that ended ctx, if that is what ended it.
func Cause(ctx context.Context) *Error {
	if ctx == nil || ctx.Err() == nil {
		return nil
	}
	var ae *Error
	if errors.As(context.Cause(ctx), &ae) {
		return ae
	}
	return nil
}

// IsFailure reports whether a connection failed because of credentials,
// rather than because the broker could not be reached.
func IsFailure(err error) bool {
	return errors.Is(err, kerr.SaslAuthenticationFailed) || errors.Is(err, kerr.UnsupportedSaslMechanism) ||
		errors.Is(err, kerr.IllegalSaslState) ||
		// The broker's certificate is not trusted (a wrong CA, expired,
		// another host's), or the broker refused the client's (none,
		// expired, of another CA): retrying the connection cannot help.
		tlserr.IsRefusal(err)
}
