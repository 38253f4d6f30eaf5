package kafkaauth

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// alert is what crypto/tls returns when the peer ends a handshake with an
// alert: a *net.OpError "remote error" around the alert.
type alert string

func (a alert) Error() string { return string(a) }

func TestIsFailure(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"wrong password", fmt.Errorf("sasl: %w", kerr.SaslAuthenticationFailed), true},
		{"unsupported mechanism", kerr.UnsupportedSaslMechanism, true},
		{"unknown authority", fmt.Errorf("dial: %w", x509.UnknownAuthorityError{}), true},
		{"expired", x509.CertificateInvalidError{Reason: x509.Expired}, true},
		{"client certificate refused", &net.OpError{Op: "remote error", Err: alert("tls: bad certificate")}, true},
		{"connection refused", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, false},
		{"other remote error", &net.OpError{Op: "remote error", Err: alert("something else")}, false},
		{"eof", io.EOF, false},
		{"nil", nil, false},
	} {
		if got := IsFailure(tc.err); got != tc.want {
			t.Errorf("%s: IsFailure(%v) = %t, want %t", tc.name, tc.err, got, tc.want)
		}
	}
}

func TestWatch(t *testing.T) {
	w := NewWatch()
	meta := kgo.BrokerMetadata{Host: "127.0.0.1", Port: 9096}
	guarded, release := w.Guard(context.Background())
	defer release()
	first := w.Context()

	// A connection that cannot be made is no authentication failure.
	w.OnBrokerConnect(meta, 0, nil, &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED})
	if _, err, seq := w.State(); err != nil || seq != 0 || first.Err() != nil {
		t.Fatalf("after a refused dial: %v, %d failures", err, seq)
	}

	w.OnBrokerConnect(meta, 0, nil, &net.OpError{Op: "remote error", Err: alert("tls: bad certificate")})
	_, standing, seq := w.State()
	if standing == nil || seq != 1 {
		t.Fatalf("after a refused certificate: %v, %d failures", standing, seq)
	}
	if !errors.Is(standing, ErrAuthentication) || !errors.Is(standing, ErrCertificateRefused) || standing.Broker != "127.0.0.1:9096" {
		t.Errorf("the failure is %v (broker %q)", standing, standing.Broker)
	}
	if Cause(first) != standing {
		t.Errorf("the first generation ended with %v, want the failure", context.Cause(first))
	}
	if w.Context().Err() != nil {
		t.Error("the new generation has already ended")
	}
	select {
	case <-guarded.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the guarded context did not end at the failure")
	}
	if Cause(guarded) != standing {
		t.Errorf("the guarded context ended with %v", context.Cause(guarded))
	}

	// A connection that authenticates clears the failure.
	w.OnBrokerConnect(meta, 0, nil, nil)
	if _, err, _ := w.State(); err != nil {
		t.Errorf("after a good connection the failure stands: %v", err)
	}

	// Released, a guarded context ends without an authentication cause.
	g2, release2 := w.Guard(context.Background())
	release2()
	if g2.Err() == nil || Cause(g2) != nil {
		t.Errorf("a released guard: %v, cause %v", g2.Err(), Cause(g2))
	}
}

func TestTranslateRecord(t *testing.T) {
	w := NewWatch()
	r := &kgo.Record{Context: w.Context()}
	w.OnBrokerConnect(kgo.BrokerMetadata{Host: "b", Port: 1}, 0, nil, kerr.SaslAuthenticationFailed)
	err := TranslateRecord(r, context.Canceled)
	var ae *Error
	if !errors.As(err, &ae) || !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Errorf("TranslateRecord = %v", err)
	}
	other := errors.New("record too large")
	if got := TranslateRecord(r, other); got != other {
		t.Errorf("TranslateRecord changed an unrelated error: %v", got)
	}
	if got := TranslateRecord(&kgo.Record{Context: context.Background()}, context.Canceled); !errors.Is(got, context.Canceled) || errors.As(got, &ae) {
		t.Errorf("TranslateRecord of a plain cancel = %v", got)
	}
}
