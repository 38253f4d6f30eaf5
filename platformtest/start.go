package platformtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/internal/platformenv"
	"github.com/streamkit/streamkit/schema"
	"github.com/streamkit/streamkit/secrets"
)

// Backend is where Start gets a platform from.
type Backend int

// The backends. The zero Backend is a Platform that Start did not make
// (FromEnvironment, Require).
const (
	// BackendExternal is a platform that runs already and is named by the
	// environment: STREAMKIT_* and VAULT_* variables, as
	// scripts/platform env prints them.
	BackendExternal Backend = iota + 1
	// BackendContainers is a platform that Start runs in Docker containers
	// with testcontainers-go and removes on Close.
	BackendContainers
	// BackendEmbedded is kfake and srfake in this process: no Connect, no
	// Vault.
	BackendEmbedded
)

// String returns the backend's name.
func (b Backend) String() string {
	switch b {
	case BackendExternal:
		return "external"
	case BackendContainers:
		return "containers"
	case BackendEmbedded:
		return "embedded"
	default:
		return fmt.Sprintf("backend(%d)", int(b))
	}
}

// ErrUnavailable means the chosen backend cannot provide a platform here:
// the environment names no platform, or no Docker Engine answers. StartT
// skips a test on it, or fails it when STREAMKIT_REQUIRE_PLATFORM=1.
var ErrUnavailable = errors.New("platformtest: platform unavailable")

// ErrUnsupported means a component was asked of a backend that never has
// it, such as Connect of the embedded backend.
var ErrUnsupported = errors.New("platformtest: component not supported by backend")

// Clients are streamkit clients for a platform that Start made, ready to
// use. A client is nil when its component was not asked for. Platform.Close
// closes them; do not close them yourself.
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

// Option configures Start.
type Option func(*startConfig)

type startConfig struct {
	backend    Backend
	containers containerConfig
	components []Component
	timeout    time.Duration
	logger     *slog.Logger
	getenv     func(string) string
}

// External makes Start use the platform the environment names
// (FromEnvironment): what scripts/platform starts, or a shared one.
func External() Option { return func(c *startConfig) { c.backend = BackendExternal } }

// Embedded makes Start run kfake and srfake in this process. It offers
// Kafka and SchemaRegistry only.
func Embedded() Option { return func(c *startConfig) { c.backend = BackendEmbedded } }

// Containers makes Start run the platform in Docker containers, configured
// by opts. See ContainerOption.
func Containers(opts ...ContainerOption) Option {
	return func(c *startConfig) {
		c.backend = BackendContainers
		for _, o := range opts {
			o(&c.containers)
		}
	}
}

// WithComponents names what the test needs. External fails with
// ErrUnavailable when the environment lacks one, Containers starts only
// these (and Kafka, which the others need), Embedded fails with
// ErrUnsupported on Connect, Vault, KafkaSASL and Postgres.
//
// Without it, External takes what the environment has, Containers starts
// Kafka, SchemaRegistry, Connect and Vault, and Embedded Kafka and
// SchemaRegistry.
func WithComponents(components ...Component) Option {
	return func(c *startConfig) { c.components = append([]Component(nil), components...) }
}

// WithStartTimeout bounds how long Start waits for the platform to be
// ready, on top of ctx. The default is 4 minutes: a cold JVM in a container
// on a busy two-core machine takes most of a minute.
func WithStartTimeout(d time.Duration) Option { return func(c *startConfig) { c.timeout = d } }

// WithLogger makes Start log what it starts and stops. The default
// discards.
func WithLogger(l *slog.Logger) Option { return func(c *startConfig) { c.logger = l } }

// Start gives a platform with the components the options ask for, and
// clients for it. Without a backend option it takes External when
// STREAMKIT_BROKERS is set, and Containers otherwise.
//
// The caller must Close the platform. When Start fails, it has already
// removed whatever it started, and it does so even when it panics.
//
// Start is safe to call from several goroutines; each call makes its own
// platform (External ones share what the environment names).
func Start(ctx context.Context, opts ...Option) (*Platform, error) {
	cfg := startConfig{timeout: 4 * time.Minute, getenv: os.Getenv}
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()

	p := &Platform{Backend: cfg.backend, Clients: &Clients{}, closer: &closer{logger: cfg.logger}}
	// Runs on error and on panic alike, so nothing started leaks.
	ok := false
	defer func() {
		if !ok {
			_ = p.Close()
		}
	}()

	var err error
	switch cfg.backend {
	case BackendExternal:
		err = startExternal(&cfg, p)
	case BackendEmbedded:
		err = startEmbedded(&cfg, p)
	case BackendContainers:
		err = startContainers(ctx, &cfg, p)
	}
	if err == nil {
		err = p.connectClients(ctx, cfg.components)
	}
	if err != nil {
		return nil, err
	}
	ok = true
	return p, nil
}

// StartT is Start for tests: it closes the platform when tb ends, skips tb
// when the platform is unavailable (ErrUnavailable), or fails it when
// STREAMKIT_REQUIRE_PLATFORM=1, and fails it on any other error.
func StartT(tb testing.TB, opts ...Option) *Platform {
	tb.Helper()
	p, err := Start(context.Background(), opts...)
	if errors.Is(err, ErrUnavailable) {
		platformenv.Missing(tb, err.Error())
		return nil
	}
	if err != nil {
		tb.Fatal(err)
		return nil
	}
	tb.Cleanup(func() {
		if err := p.Close(); err != nil {
			tb.Errorf("platformtest: close: %v", err)
		}
	})
	return p
}

func (c *startConfig) validate() error {
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.timeout <= 0 {
		return fmt.Errorf("platformtest: start timeout %v: must be positive", c.timeout)
	}
	if c.backend == 0 {
		c.backend = BackendContainers
		if strings.TrimSpace(c.getenv(EnvBrokers)) != "" {
			c.backend = BackendExternal
		}
	}
	for _, comp := range c.components {
		if comp < Kafka || comp > Postgres {
			return fmt.Errorf("platformtest: unknown %v", comp)
		}
	}
	switch c.backend {
	case BackendEmbedded:
		if c.components == nil {
			c.components = []Component{Kafka, SchemaRegistry}
		}
		for _, comp := range c.components {
			if comp != Kafka && comp != SchemaRegistry {
				return fmt.Errorf("%w: the embedded backend has no %v", ErrUnsupported, comp)
			}
		}
	case BackendContainers:
		if c.components == nil {
			c.components = []Component{Kafka, SchemaRegistry, Connect, Vault}
		}
		for _, comp := range c.components {
			if comp == KafkaSASL || comp == Postgres {
				return fmt.Errorf("%w: the containers backend has no %v", ErrUnsupported, comp)
			}
		}
		if !slices.Contains(c.components, Kafka) {
			c.components = append(c.components, Kafka)
		}
		return c.containers.validate(c.getenv)
	case BackendExternal:
	default:
		return fmt.Errorf("platformtest: unknown %v", c.backend)
	}
	return nil
}

func startExternal(cfg *startConfig, p *Platform) error {
	env := fromLookup(cfg.getenv)
	if cfg.components == nil {
		cfg.components = env.present()
	}
	if missing := env.Missing(cfg.components...); len(missing) > 0 {
		return fmt.Errorf("%w: %s unset (start one with scripts/platform up; eval \"$(scripts/platform env)\")",
			ErrUnavailable, strings.Join(missing, ", "))
	}
	env.Backend, env.Clients, env.closer = p.Backend, p.Clients, p.closer
	*p = env
	return nil
}

// present lists the components p has.
func (p Platform) present() []Component {
	var out []Component
	for _, c := range allComponents {
		if len(p.Missing(c)) == 0 {
			out = append(out, c)
		}
	}
	return out
}

func startEmbedded(cfg *startConfig, p *Platform) error {
	e, err := StartEmbedded(1)
	if err != nil {
		return err
	}
	p.closer.add(func(context.Context) error { e.Close(); return nil })
	p.Brokers = e.Brokers
	if slices.Contains(cfg.components, SchemaRegistry) {
		p.SchemaRegistryURL = e.SchemaRegistryURL
	}
	return nil
}

// connectClients makes the ready-made clients for the components asked
// for, and waits until Kafka answers.
func (p *Platform) connectClients(ctx context.Context, components []Component) error {
	has := func(c Component) bool { return slices.Contains(components, c) && len(p.Missing(c)) == 0 }
	if has(Kafka) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...))
		if err != nil {
			return fmt.Errorf("platformtest: kafka client: %w", err)
		}
		p.closer.add(func(context.Context) error { cl.Close(); return nil })
		p.Clients.Kafka, p.Clients.Admin = cl, kadm.NewClient(cl)
		if err := ping(ctx, cl); err != nil {
			return err
		}
	}
	if has(SchemaRegistry) {
		reg, err := schema.NewRegistryFromOptions(sr.URLs(p.SchemaRegistryURL))
		if err != nil {
			return fmt.Errorf("platformtest: registry client: %w", err)
		}
		p.Clients.Registry = reg
	}
	if has(Connect) {
		c, err := connect.New(connect.WithURLs(p.ConnectURL))
		if err != nil {
			return fmt.Errorf("platformtest: connect client: %w", err)
		}
		p.Clients.Connect = c
	}
	if has(Vault) {
		v, err := secrets.New(ctx, secrets.WithAddress(p.VaultAddr), secrets.WithToken(secrets.NewValue(p.VaultToken)))
		if err != nil {
			return fmt.Errorf("platformtest: vault client: %w", err)
		}
		p.Clients.Vault = v
	}
	return nil
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
			return fmt.Errorf("platformtest: kafka does not answer: %w", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Close closes the clients and stops what Start started: containers and
// their network, or the embedded cluster. It is a no-op for a Platform that
// Start did not make, safe to call more than once and from several
// goroutines, and returns the first error met.
func (p *Platform) Close() error {
	if p == nil || p.closer == nil {
		return nil
	}
	return p.closer.close()
}

// closer runs cleanups once, newest first.
type closer struct {
	logger *slog.Logger
	mu     sync.Mutex
	fns    []func(context.Context) error
	done   bool
	first  error
}

func (c *closer) add(fn func(context.Context) error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fns = append(c.fns, fn)
}

func (c *closer) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return c.first
	}
	c.done = true
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i := len(c.fns) - 1; i >= 0; i-- {
		if err := c.fns[i](ctx); err != nil {
			c.logger.Warn("platformtest: cleanup failed", "err", err)
			if c.first == nil {
				c.first = err
			}
		}
	}
	c.fns = nil
	return c.first
}
