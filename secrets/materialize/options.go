package materialize

import (
	"log/slog"
	"time"
)

type config struct {
	interval time.Duration
	logger   *slog.Logger
	events   func(Event)
	prefixes []string
}

func defaultConfig() config {
	return config{interval: 30 * time.Second, logger: slog.New(slog.DiscardHandler)}
}

// Opt configures a Materializer.
type Opt interface{ apply(*config) }

type optFunc func(*config)

func (f optFunc) apply(c *config) { f(c) }

// WithInterval sets how often Run reads the metadata of every referenced
// secret, overriding the default 30s. It must be positive.
func WithInterval(d time.Duration) Opt {
	return optFunc(func(c *config) { c.interval = d })
}

// WithLogger sets the logger, overriding the default that discards. It
// must be safe for concurrent use. It gets paths, keys, versions and
// connector names, never a secret.
func WithLogger(l *slog.Logger) Opt {
	return optFunc(func(c *config) { c.logger = l })
}

// WithEvents sets a function called with every file write, restart and
// failure, for metrics or tests, overriding the default of none. It is
// called synchronously from Sync and Run, so it must be safe for
// concurrent use and fast, and it must not call the Materializer. A panic
// in it is recovered and logged.
func WithEvents(fn func(Event)) Opt {
	return optFunc(func(c *config) { c.events = fn })
}

// WithNamespaces limits Discover, and so Watch, to the connectors whose
// names start with one of prefixes; the default is every connector of
// the workers.
func WithNamespaces(prefixes ...string) Opt {
	return optFunc(func(c *config) { c.prefixes = append([]string(nil), prefixes...) })
}
