package topics

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Client manages topics, ACLs and housekeeping of one Kafka cluster
// through franz-go's admin client. It starts no goroutines of its own and
// is safe for concurrent use by multiple goroutines.
type Client struct {
	cl    *kgo.Client
	adm   *kadm.Client
	owned bool
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
// SASL, TLS, ...); Close closes it.
func NewFromOptions(kopts []kgo.Opt, opts ...Opt) (*Client, error) {
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		return nil, fmt.Errorf("new topics client: %w", err)
	}
	c, err := NewClient(cl, opts...)
	if err != nil {
		cl.Close()
		return nil, err
	}
	c.owned = true
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
