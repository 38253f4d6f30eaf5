package platformtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// Backend is what made a Platform.
type Backend int

// The backends. The zero Backend is a Platform that no backend made
// (FromEnvironment, Require).
const (
	// BackendExternal is a platform that runs already and is named by the
	// environment: STREAMKIT_* and VAULT_* variables, as
	// scripts/platform env prints them. This package's Start makes it.
	BackendExternal Backend = iota + 1
	// BackendContainers is a platform in Docker containers that
	// platformtest/containers starts with testcontainers-go and removes on
	// Close.
	BackendContainers
	// BackendEmbedded is kfake and srfake in this process, started by
	// platformtest/embedded: no Connect, no Vault.
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

// Option configures Start. The backends platformtest/containers and
// platformtest/embedded have options of their own, with the same names
// for the same settings.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	components []Component
	timeout    time.Duration
	getenv     func(string) string
}

func defaultConfig() config {
	return config{timeout: 4 * time.Minute, getenv: os.Getenv}
}

// WithComponents names what the test needs: Start fails with
// ErrUnavailable when the environment lacks one of them, and makes clients
// for those among Kafka, SchemaRegistry, Connect and Vault. The default is
// every component the environment has.
func WithComponents(components ...Component) Option {
	components = slices.Clone(components)
	return optionFunc(func(c *config) { c.components = components })
}

// WithStartTimeout bounds how long Start waits for Kafka to answer, on top
// of ctx, overriding the default 4 minutes. It must be positive.
func WithStartTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.timeout = d })
}

func (c *config) validate() error {
	if c.timeout <= 0 {
		return fmt.Errorf("platformtest: start timeout %v: must be positive", c.timeout)
	}
	for _, comp := range c.components {
		if !slices.Contains(knownComponents, comp) {
			return fmt.Errorf("platformtest: unknown %v", comp)
		}
	}
	return nil
}

// Start connects to the platform the environment names (FromEnvironment):
// what scripts/platform starts, or a platform a CI job shares. It fails
// with ErrUnavailable when a component asked for is missing, and otherwise
// returns the platform with ready-made Clients, once Kafka answers. It
// starts nothing; platformtest/containers and platformtest/embedded do.
//
// The caller must Close the platform, which closes the clients and leaves
// the platform running. Start is safe to call from several goroutines.
func Start(ctx context.Context, opts ...Option) (*Platform, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()

	env := fromLookup(cfg.getenv)
	components := cfg.components
	if components == nil {
		components = env.present()
	}
	if missing := env.Missing(components...); len(missing) > 0 {
		return nil, fmt.Errorf("%w: %s unset (start one with scripts/platform up; eval \"$(scripts/platform env)\")",
			ErrUnavailable, strings.Join(missing, ", "))
	}
	p := &env
	p.Backend = BackendExternal
	clients, err := NewClients(ctx, *p, components...)
	if err != nil {
		return nil, err
	}
	p.Clients = clients
	p.OnClose(func(context.Context) error { clients.Close(); return nil })
	return p, nil
}

// StartT is Start for tests: it closes the platform when tb ends, skips tb
// when the platform is unavailable (ErrUnavailable), or fails it when
// STREAMKIT_REQUIRE_PLATFORM=1, and fails it on any other error.
func StartT(tb testing.TB, opts ...Option) *Platform {
	tb.Helper()
	p, err := Start(context.Background(), opts...)
	if errors.Is(err, ErrUnavailable) {
		SkipOrFail(tb, err.Error())
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

// present lists the components p has.
func (p Platform) present() []Component {
	var out []Component
	for _, c := range knownComponents {
		if len(p.Missing(c)) == 0 {
			out = append(out, c)
		}
	}
	return out
}
