package topics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/internal/kafkaauth"
)

// Client manages topics, ACLs and housekeeping of one Kafka cluster
// through franz-go's admin client. It starts no goroutines of its own and
// is safe for concurrent use by multiple goroutines.
type Client struct {
	cl    *kgo.Client
	adm   *kadm.Client
	owned bool
	auth  *kafkaauth.Watch // nil when the caller built the kgo client
	log   *slog.Logger
	now   func() time.Time
}

// Opt configures a Client.
type Opt interface{ apply(*config) }

type config struct {
	logger *slog.Logger
}

type optFunc func(*config)

func (f optFunc) apply(c *config) { f(c) }

// WithLogger sets the logger for audit lines and progress, overriding the
// default that discards. It must be safe for concurrent use.
func WithLogger(l *slog.Logger) Opt { return optFunc(func(c *config) { c.logger = l }) }

// NewClient wraps an existing client; Close does not close it.
func NewClient(cl *kgo.Client, opts ...Opt) (*Client, error) {
	if cl == nil {
		return nil, errors.New("new topics client: nil kgo client")
	}
	cfg := config{logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if cfg.logger == nil {
		return nil, errors.New("new topics client: nil logger")
	}
	return &Client{cl: cl, adm: kadm.NewClient(cl), log: cfg.logger, now: time.Now}, nil
}

// NewFromOptions builds the kgo client from its options (kgo.SeedBrokers,
// SASL, TLS, ...); Close closes it. A client built here fails a request
// with an *AuthError as soon as a broker refuses its credentials or the
// TLS handshake fails on a certificate, where kgo alone would retry the
// connection for about half a minute; one that NewClient wraps cannot
// watch its connections and returns what kgo returns.
func NewFromOptions(kopts []kgo.Opt, opts ...Opt) (*Client, error) {
	auth := kafkaauth.NewWatch()
	cl, err := kgo.NewClient(append(slices.Clip(kopts), kgo.WithHooks(auth))...)
	if err != nil {
		return nil, fmt.Errorf("new topics client: %w", err)
	}
	c, err := NewClient(cl, opts...)
	if err != nil {
		cl.Close()
		return nil, err
	}
	c.owned, c.auth = true, auth
	return c, nil
}

// Admin returns the underlying admin client, for what this package does
// not wrap; use the kmsg package for requests kadm does not offer.
func (c *Client) Admin() *kadm.Client { return c.adm }

// Close closes the kgo client when NewFromOptions built it. It is
// idempotent.
func (c *Client) Close() {
	if c.owned {
		c.cl.Close()
	}
}

// guard gives a request the client's watch on its connections: the
// returned context ends at the next authentication failure, and done
// turns what the request returned into the *AuthError behind it. Use it
// as
//
//	ctx, done := c.guard(ctx)
//	defer done(&err)
func (c *Client) guard(ctx context.Context) (context.Context, func(*error)) {
	if c.auth == nil {
		return ctx, func(*error) {}
	}
	guarded, release := c.auth.Guard(ctx)
	return guarded, func(err *error) {
		release()
		if *err == nil || errors.Is(*err, ErrAuthentication) {
			return
		}
		ae := kafkaauth.Cause(guarded)
		if ae == nil && kafkaauth.IsFailure(*err) {
			// kgo returned the failure itself, before the watch's news
			// reached the guarded context.
			if _, ae, _ = c.auth.State(); ae == nil {
				ae = &AuthError{Err: *err}
			}
		}
		if ae != nil {
			*err = fmt.Errorf("%w (the request ended with: %v)", ae, *err)
		}
	}
}
