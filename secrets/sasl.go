package secrets

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Credentials reads a username and password from one Vault secret, each
// time a client needs them (a new Kafka connection, a registry request),
// and keeps serving the last good pair while Vault is unavailable.
//
// It re-reads Vault when its copy is older than Refresh, so a credential
// rotated in Vault is picked up by the next new connection without a
// restart. One read runs at a time; callers that need a pair meanwhile
// wait for it. When a pair younger than MaxStale is at hand, a caller waits
// at most StaleWait (2s) for Vault and then gets that pair, so a Vault
// that hangs does not hold up new connections; when Vault fails, the pair
// is served until it is older than MaxStale, then Get fails with Vault's
// typed error (ErrUnavailable, ErrSealed, ...). Credentials is safe for
// concurrent use by multiple goroutines.
type Credentials struct {
	client  *Client
	path    string
	userKey string
	passKey string
	// Refresh is how old a pair may be before it is read again.
	refresh  time.Duration
	maxStale time.Duration

	mu       sync.Mutex
	user     Value
	pass     Value
	at       time.Time
	inflight *credRead // the read under way, if any
}

// StaleWait is how long Credentials.Get waits for Vault when it holds a
// pair it may still serve.
const StaleWait = 2 * time.Second

// credReadTimeout bounds one read of the secret, which runs on after the
// caller that started it has stopped waiting.
const credReadTimeout = 30 * time.Second

// credRead is one read of the secret; done closes when it ends.
type credRead struct {
	done chan struct{}
	err  error
}

// Credentials returns a source of the username and password stored under
// userKey and passKey of the secret at path (a reference path, e.g.
// "secret/data/pricing/kafka"). refresh 0 reads Vault on every use;
// maxStale 0 serves no stale pair.
func (c *Client) Credentials(path, userKey, passKey string, refresh, maxStale time.Duration) *Credentials {
	return &Credentials{client: c, path: path, userKey: userKey, passKey: passKey, refresh: refresh, maxStale: maxStale}
}

// Get returns the username and password.
func (cr *Credentials) Get(ctx context.Context) (user, pass Value, err error) {
	cr.mu.Lock()
	now := cr.client.now()
	if !cr.at.IsZero() && now.Sub(cr.at) < cr.refresh {
		defer cr.mu.Unlock()
		return cr.user, cr.pass, nil
	}
	stale := !cr.at.IsZero() && now.Sub(cr.at) < cr.maxStale
	rd := cr.inflight
	if rd == nil {
		rd = &credRead{done: make(chan struct{})}
		cr.inflight = rd
		// The read outlives this caller's wait: it is bounded on its own.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), credReadTimeout)
		go func() {
			defer cancel()
			cr.read(rctx, rd)
		}()
	}
	cr.mu.Unlock()

	var timeout <-chan time.Time
	if stale {
		t := time.NewTimer(StaleWait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-rd.done:
		err = rd.err
	case <-timeout:
		err = fmt.Errorf("vault did not answer within %s: %w", StaleWait, ErrUnavailable)
	case <-ctx.Done():
		err = ctx.Err()
	}

	cr.mu.Lock()
	defer cr.mu.Unlock()
	if err == nil {
		return cr.user, cr.pass, nil
	}
	if stale && !errors.Is(err, context.Canceled) {
		cr.client.log.Warn("vault unavailable; serving the last good credentials", "path", cr.path,
			"age", cr.client.now().Sub(cr.at).Round(time.Second), "error", err)
		return cr.user, cr.pass, nil
	}
	return Value{}, Value{}, fmt.Errorf("credentials %s: %w", cr.path, err)
}

// read reads the secret into cr and ends rd.
func (cr *Credentials) read(ctx context.Context, rd *credRead) {
	now := cr.client.now()
	s, err := cr.client.ReadPath(ctx, cr.path)
	var u, p Value
	if err == nil {
		err = s.Require(cr.userKey, cr.passKey)
		u, p = s.Data[cr.userKey], s.Data[cr.passKey]
	}
	cr.mu.Lock()
	if err == nil {
		cr.user, cr.pass, cr.at = u, p, now
	}
	cr.inflight = nil
	cr.mu.Unlock()
	rd.err = err
	close(rd.done)
}

// Format prints the secret's path, never the pair it holds.
func (cr *Credentials) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "secrets.Credentials{path: %s}", cr.path)
}

var _ fmt.Formatter = (*Credentials)(nil)

// SCRAMSHA512 returns a franz-go SASL mechanism that authenticates every
// new connection with the current credentials.
func (cr *Credentials) SCRAMSHA512() sasl.Mechanism { return scram.Sha512(cr.scram) }

// SCRAMSHA256 is SCRAMSHA512 with SHA-256.
func (cr *Credentials) SCRAMSHA256() sasl.Mechanism { return scram.Sha256(cr.scram) }

func (cr *Credentials) scram(ctx context.Context) (scram.Auth, error) {
	u, p, err := cr.Get(ctx)
	if err != nil {
		return scram.Auth{}, err
	}
	return scram.Auth{User: u.Reveal(), Pass: p.Reveal()}, nil
}

// PLAIN returns a franz-go SASL/PLAIN mechanism with the current
// credentials for every new connection.
func (cr *Credentials) PLAIN() sasl.Mechanism {
	return plain.Plain(func(ctx context.Context) (plain.Auth, error) {
		u, p, err := cr.Get(ctx)
		if err != nil {
			return plain.Auth{}, err
		}
		return plain.Auth{User: u.Reveal(), Pass: p.Reveal()}, nil
	})
}

// BasicAuthTransport returns an http.RoundTripper that sets basic auth from
// the current credentials on every request, for a schema registry client
// (sr.HTTPClient(&http.Client{Transport: cr.BasicAuthTransport(nil)})).
// next is http.DefaultTransport when nil.
func (cr *Credentials) BasicAuthTransport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return basicAuth{cr: cr, next: next}
}

type basicAuth struct {
	cr   *Credentials
	next http.RoundTripper
}

func (b basicAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	u, p, err := b.cr.Get(r.Context())
	if err != nil {
		if r.Body != nil {
			_ = r.Body.Close() // a RoundTripper closes the body, on errors too
		}
		return nil, err
	}
	r = r.Clone(r.Context())
	r.SetBasicAuth(u.Reveal(), p.Reveal())
	return b.next.RoundTrip(r)
}
