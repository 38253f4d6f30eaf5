package embedded

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/streamkit/streamkit/platformtest"
)

// Option configures Start.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	components []platformtest.Component
	timeout    time.Duration
	brokers    int
	brokersSet bool
	cluster    *kfake.Cluster
	registry   *srfake.Registry
	errs       []error
}

func defaultConfig() config {
	return config{
		components: []platformtest.Component{platformtest.Kafka, platformtest.SchemaRegistry},
		timeout:    30 * time.Second,
		brokers:    1,
	}
}

// WithComponents names what the test needs, overriding the default Kafka
// and SchemaRegistry, the only two this backend has: Start fails with
// platformtest.ErrUnsupported on any other. Kafka is always started;
// without SchemaRegistry no registry is.
func WithComponents(components ...platformtest.Component) Option {
	components = slices.Clone(components)
	return optionFunc(func(c *config) { c.components = components })
}

// WithStartTimeout bounds how long Start waits for Kafka to answer, on top
// of ctx, overriding the default 30 seconds. It must be positive.
func WithStartTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.timeout = d })
}

// WithBrokers sets the number of brokers of the kfake cluster, overriding
// the default 1. It must be at least 1, and excludes WithCluster.
func WithBrokers(n int) Option {
	return optionFunc(func(c *config) { c.brokers, c.brokersSet = n, true })
}

// WithCluster makes the platform use a kfake cluster the caller made, for
// instance to inject faults with its ControlKey. The caller closes it,
// after the platform. It excludes WithBrokers.
func WithCluster(cluster *kfake.Cluster) Option {
	return optionFunc(func(c *config) {
		if cluster == nil {
			c.errs = append(c.errs, errors.New("nil kfake cluster"))
		}
		c.cluster = cluster
	})
}

// WithRegistry makes the platform use an srfake registry the caller made,
// for instance with srfake's interceptors. The caller closes it, after the
// platform.
func WithRegistry(registry *srfake.Registry) Option {
	return optionFunc(func(c *config) {
		if registry == nil {
			c.errs = append(c.errs, errors.New("nil srfake registry"))
		}
		c.registry = registry
	})
}

func (c *config) validate() error {
	errs := c.errs
	if c.timeout <= 0 {
		errs = append(errs, fmt.Errorf("start timeout %v: must be positive", c.timeout))
	}
	if c.cluster != nil && c.brokersSet {
		errs = append(errs, errors.New("WithBrokers and WithCluster exclude each other"))
	}
	if c.brokers < 1 {
		errs = append(errs, fmt.Errorf("brokers %d: must be at least 1", c.brokers))
	}
	if len(errs) > 0 {
		return fmt.Errorf("platformtest: embedded: %w", errors.Join(errs...))
	}
	for _, comp := range c.components {
		if comp != platformtest.Kafka && comp != platformtest.SchemaRegistry {
			return fmt.Errorf("%w: the embedded backend has no %v", platformtest.ErrUnsupported, comp)
		}
	}
	if !slices.Contains(c.components, platformtest.Kafka) {
		c.components = append(c.components, platformtest.Kafka)
	}
	return nil
}
