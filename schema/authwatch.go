package schema

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// authWatch is a kgo hook that sees every connection a client opens and
// notices when a broker refuses the client's credentials (SASL, or a
// client certificate) or the client refuses the broker's certificate. kgo retries such
// a connection for as long as the caller waits and tells only its logger,
// so without it a consumer with a wrong password polls until its context
// ends and a producer's records wait forever. A later connection that
// authenticates clears the failure.
//
// Each failure ends the current generation's context, with the
// *AuthError as its cause, and starts a new one: a Producer gives each
// record the generation's context, so that kgo fails the records it has
// not sent yet; a Consumer's Poll wakes up on it.
type authWatch struct {
	mu     sync.Mutex
	err    *AuthError // the failure that stands, if any
	seq    uint64     // counts failures
	gen    context.Context
	cancel context.CancelCauseFunc

	// current is gen, for the producer's hot path, which takes no lock.
	current atomic.Pointer[context.Context]
}

var _ kgo.HookBrokerConnect = (*authWatch)(nil)

func newAuthWatch() *authWatch {
	w := &authWatch{}
	w.gen, w.cancel = context.WithCancelCause(context.Background())
	// A copy: w.gen itself is rewritten under mu at each failure, while
	// context reads the pointer without it.
	gen := w.gen
	w.current.Store(&gen)
	return w
}

// OnBrokerConnect implements kgo.HookBrokerConnect. kgo reports an attempt
// after initializing the connection, so err includes the SASL handshake.
func (w *authWatch) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case err == nil:
		w.err = nil
	case isAuthFailure(err):
		if isRemoteTLSAlert(err) {
			err = fmt.Errorf("%w: %w", ErrCertificateRefused, err)
		}
		w.err = &AuthError{Broker: net.JoinHostPort(meta.Host, strconv.Itoa(int(meta.Port))), Err: err}
		w.seq++
		w.cancel(w.err)
		w.gen, w.cancel = context.WithCancelCause(context.Background())
		gen := w.gen
		w.current.Store(&gen)
	}
}

// context returns the current generation's context, which ends at the
// next authentication failure.
func (w *authWatch) context() context.Context { return *w.current.Load() }

// translate returns the *AuthError behind a record that kgo failed
// because its generation's context ended, and err otherwise.
func translateAuth(r *kgo.Record, err error) error {
	if err == nil || r == nil || !errors.Is(err, context.Canceled) {
		return err
	}
	if ae := authCause(r.Context); ae != nil {
		return ae
	}
	return err
}

// isAuthFailure reports whether a connection failed because the broker
// refused the credentials, rather than because it could not be reached.
func isAuthFailure(err error) bool {
	return errors.Is(err, kerr.SaslAuthenticationFailed) || errors.Is(err, kerr.UnsupportedSaslMechanism) ||
		errors.Is(err, kerr.IllegalSaslState) ||
		// The broker's certificate is not trusted (a wrong CA, expired,
		// another host's), or the broker refused the client's (none,
		// expired, of another CA): retrying the connection cannot help.
		isCertificateError(err) || isRemoteTLSAlert(err)
}

// isRemoteTLSAlert reports whether the peer ended the TLS handshake with
// an alert, as a broker does when it refuses the client's certificate.
// crypto/tls reports it as a *net.OpError whose Op is "remote error"
// around an alert of its own, unexported type (tls.AlertError is QUIC's
// only).
func isRemoteTLSAlert(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error" && strings.HasPrefix(op.Err.Error(), "tls: ")
}

// state returns the current generation's context, the failure that
// stands (nil if none) and the number of failures so far.
func (w *authWatch) state() (context.Context, *AuthError, uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gen, w.err, w.seq
}

// authCause returns the *AuthError that ended ctx, if that is what ended
// it.
func authCause(ctx context.Context) *AuthError {
	if ctx == nil || ctx.Err() == nil {
		return nil
	}
	var ae *AuthError
	if errors.As(context.Cause(ctx), &ae) {
		return ae
	}
	return nil
}
