package platformtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/schema"
	"github.com/streamkit/streamkit/secrets"
)

// Clients are streamkit clients for a platform, ready to use. A client is
// nil when its component was not asked for. Close them with Close, or let
// Platform.Close do it for a platform that a backend's Start made.
type Clients struct {
	// Kafka is a franz-go client seeded with Platform.Brokers.
	Kafka *kgo.Client
	// Admin wraps Kafka.
	Admin *kadm.Client
	// Registry is the schema registry's caching client.
	Registry *schema.Registry
	// Connect is the Kafka Connect REST client.
	Connect *connect.Client
	// Vault is a Vault client logged in with Platform.VaultToken.
	Vault *secrets.Client
}

// NewClients makes clients for those of the given components that have
// one (Kafka, SchemaRegistry, Connect and Vault; KafkaSASL and Postgres
// have none), and waits until Kafka answers a metadata request or ctx
// ends. It fails with ErrUnavailable when p lacks one of the components.
// Every backend's Start calls it; a test that takes its platform from
// Require may call it too. The caller must Close the clients.
func NewClients(ctx context.Context, p Platform, components ...Component) (_ *Clients, err error) {
	if missing := p.Missing(components...); len(missing) > 0 {
		return nil, fmt.Errorf("%w: %s unset", ErrUnavailable, strings.Join(missing, ", "))
	}
	c := &Clients{}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if slices.Contains(components, Kafka) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...))
		if err != nil {
			return nil, fmt.Errorf("platformtest: kafka client: %w", err)
		}
		c.Kafka, c.Admin = cl, kadm.NewClient(cl)
		if err := ping(ctx, cl); err != nil {
			return nil, err
		}
	}
	if slices.Contains(components, SchemaRegistry) {
		reg, err := schema.NewRegistryFromOptions(sr.URLs(p.SchemaRegistryURL))
		if err != nil {
			return nil, fmt.Errorf("platformtest: registry client: %w", err)
		}
		c.Registry = reg
	}
	if slices.Contains(components, Connect) {
		cc, err := connect.New(connect.WithURLs(p.connectURLs()...))
		if err != nil {
			return nil, fmt.Errorf("platformtest: connect client: %w", err)
		}
		c.Connect = cc
	}
	if slices.Contains(components, Vault) {
		v, err := secrets.New(ctx, secrets.WithAddress(p.VaultAddr), secrets.WithToken(secrets.NewValue(p.VaultToken)))
		if err != nil {
			return nil, fmt.Errorf("platformtest: vault client: %w", err)
		}
		c.Vault = v
	}
	return c, nil
}

// Close closes the Kafka client, the only one that holds connections and
// goroutines; the others need no closing. Call it once.
func (c *Clients) Close() {
	if c != nil && c.Kafka != nil {
		c.Kafka.Close()
	}
}

// ping waits until a broker answers a metadata request.
func ping(ctx context.Context, cl *kgo.Client) error {
	for {
		err := cl.Ping(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("platformtest: kafka does not answer: %w", errors.Join(err, ctx.Err()))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Format prints which clients are set, for every verb: the Kafka client's
// state changes under its goroutines while fmt would read it, and the
// others print their own redacted forms.
func (c *Clients) Format(f fmt.State, _ rune) {
	if c == nil {
		_, _ = io.WriteString(f, "platformtest.Clients(nil)")
		return
	}
	_, _ = fmt.Fprintf(f, "platformtest.Clients{kafka: %t, registry: %v, connect: %v, vault: %v}",
		c.Kafka != nil, c.Registry, c.Connect, c.Vault)
}

var _ fmt.Formatter = (*Clients)(nil)
