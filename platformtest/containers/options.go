package containers

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/streamkit/streamkit/platformtest"
)

// Default images: public images whose layout and entry points Start relies
// on. Any image with the same layout works; this project's CI builds such
// images locally (scripts/containers) and names them through the Env*Image
// variables.
const (
	// DefaultKafkaImage runs the broker, and the Connect worker unless
	// WithConnectImage says otherwise. Start uses its /opt/kafka/bin
	// scripts: kafka-storage.sh, kafka-server-start.sh and
	// connect-distributed.sh, and the FileStream connectors' jar in
	// /opt/kafka/libs.
	DefaultKafkaImage = "apache/kafka:4.3.1"
	// DefaultSchemaRegistryImage is Apicurio Registry, configured by
	// APICURIO_* variables, serving HTTP on port 8080.
	DefaultSchemaRegistryImage = "apicurio/apicurio-registry:3.0.9"
	// DefaultSchemaRegistryAPIPath is where Apicurio serves the
	// Confluent-compatible API.
	DefaultSchemaRegistryAPIPath = "/apis/ccompat/v7"
	// DefaultVaultImage is OpenBao, which serves Vault's HTTP API. Start
	// runs it as `server -dev` with BAO_DEV_* and VAULT_DEV_* variables,
	// so HashiCorp's vault image works too.
	DefaultVaultImage = "openbao/openbao:2.7.2"
)

// Variables that replace the default images; an option replaces them in
// turn. Start reads them, and no other variable unless PreferExternal is
// given.
const (
	EnvKafkaImage          = "STREAMKIT_KAFKA_IMAGE"
	EnvConnectImage        = "STREAMKIT_CONNECT_IMAGE"
	EnvSchemaRegistryImage = "STREAMKIT_SCHEMA_REGISTRY_IMAGE"
	EnvVaultImage          = "STREAMKIT_VAULT_IMAGE"
)

// Option configures Start.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	components     []platformtest.Component
	componentsSet  bool
	timeout        time.Duration
	logger         *slog.Logger
	labels         map[string]string
	preferExternal bool
	getenv         func(string) string

	kafkaImage, connectImage, registryImage, registryPath, vaultImage string
}

func defaultConfig() config {
	return config{
		components: []platformtest.Component{platformtest.Kafka, platformtest.SchemaRegistry, platformtest.Connect, platformtest.Vault},
		timeout:    4 * time.Minute,
		logger:     slog.New(slog.DiscardHandler),
		getenv:     os.Getenv,
	}
}

// WithComponents names what the test needs, overriding the default Kafka,
// SchemaRegistry, Connect and Vault: Start starts only these, and Kafka,
// which the others need. It fails with platformtest.ErrUnsupported on
// KafkaSASL and Postgres, which this backend does not have.
func WithComponents(components ...platformtest.Component) Option {
	components = slices.Clone(components)
	return optionFunc(func(c *config) { c.components, c.componentsSet = components, true })
}

// WithStartTimeout bounds how long Start waits for the platform to be
// ready, on top of ctx, overriding the default 4 minutes: a cold JVM in a
// container on a busy two-core machine takes most of a minute. It must be
// positive.
func WithStartTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.timeout = d })
}

// WithLogger makes Start log what it starts and stops, and testcontainers'
// own progress lines at debug level, overriding the default that
// discards. It must not be nil, and must be safe for concurrent use.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.logger = l })
}

// WithLabels adds labels to every container and network the platform
// creates, e.g. a CI job's id, to find them with `docker ps --filter`.
// Given more than once, the labels add up. Label itself cannot be set.
func WithLabels(labels map[string]string) Option {
	labels = maps.Clone(labels)
	return optionFunc(func(c *config) {
		if c.labels == nil {
			c.labels = make(map[string]string, len(labels))
		}
		maps.Copy(c.labels, labels)
	})
}

// WithKafkaImage sets the broker's image (and the Connect worker's, unless
// WithConnectImage sets that), overriding EnvKafkaImage and
// DefaultKafkaImage. An empty image leaves the default.
func WithKafkaImage(image string) Option {
	return optionFunc(func(c *config) { c.kafkaImage = image })
}

// WithConnectImage sets the Connect worker's image, one laid out like
// apache/kafka with connect-distributed.sh, overriding EnvConnectImage and
// the Kafka image. An empty image leaves the default.
func WithConnectImage(image string) Option {
	return optionFunc(func(c *config) { c.connectImage = image })
}

// WithSchemaRegistryImage sets the registry's image, overriding
// EnvSchemaRegistryImage and DefaultSchemaRegistryImage, and the path of
// its Confluent-compatible API, which must start with a slash ("" for
// DefaultSchemaRegistryAPIPath). Start configures Apicurio through
// APICURIO_* variables.
func WithSchemaRegistryImage(image, apiPath string) Option {
	return optionFunc(func(c *config) { c.registryImage, c.registryPath = image, apiPath })
}

// WithVaultImage sets the Vault server's image, overriding EnvVaultImage
// and DefaultVaultImage. An empty image leaves the default.
func WithVaultImage(image string) Option {
	return optionFunc(func(c *config) { c.vaultImage = image })
}

// PreferExternal makes Start take the platform the environment names, as
// platformtest.Start does, when platformtest.EnvBrokers is set, and start
// containers only when it is not: one test body for a laptop with Docker
// and a CI job with a shared platform. The components asked for then
// default to what the environment has, and the other options of this
// package except WithComponents and WithStartTimeout have no effect.
// Without it, Start always starts containers.
func PreferExternal() Option {
	return optionFunc(func(c *config) { c.preferExternal = true })
}

// external reports whether Start takes the external platform.
func (c *config) external() bool {
	return c.preferExternal && strings.TrimSpace(c.getenv(platformtest.EnvBrokers)) != ""
}

// externalOptions are the options of platformtest.Start that stand for
// c's.
func (c *config) externalOptions() []platformtest.Option {
	opts := []platformtest.Option{platformtest.WithStartTimeout(c.timeout)}
	if c.componentsSet {
		opts = append(opts, platformtest.WithComponents(c.components...))
	}
	return opts
}

func (c *config) validate() error {
	var errs []error
	if c.timeout <= 0 {
		errs = append(errs, fmt.Errorf("start timeout %v: must be positive", c.timeout))
	}
	if c.logger == nil {
		errs = append(errs, errors.New("nil logger"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("platformtest: containers: %w", errors.Join(errs...))
	}
	if c.external() {
		return nil // platformtest.Start checks the components
	}
	for _, comp := range c.components {
		switch comp {
		case platformtest.Kafka, platformtest.SchemaRegistry, platformtest.Connect, platformtest.Vault:
		default:
			return fmt.Errorf("%w: the containers backend has no %v", platformtest.ErrUnsupported, comp)
		}
	}
	if !slices.Contains(c.components, platformtest.Kafka) {
		c.components = append(c.components, platformtest.Kafka)
	}
	return c.validateImages()
}

// validateImages picks each image from its option, its variable or its
// default, in that order.
func (c *config) validateImages() error {
	pick := func(opt, env, def string) string {
		if opt = strings.TrimSpace(opt); opt != "" {
			return opt
		}
		if v := strings.TrimSpace(c.getenv(env)); v != "" {
			return v
		}
		return def
	}
	c.kafkaImage = pick(c.kafkaImage, EnvKafkaImage, DefaultKafkaImage)
	c.connectImage = pick(c.connectImage, EnvConnectImage, c.kafkaImage)
	c.registryImage = pick(c.registryImage, EnvSchemaRegistryImage, DefaultSchemaRegistryImage)
	c.vaultImage = pick(c.vaultImage, EnvVaultImage, DefaultVaultImage)
	if c.registryPath == "" {
		c.registryPath = DefaultSchemaRegistryAPIPath
	}
	if !strings.HasPrefix(c.registryPath, "/") {
		return fmt.Errorf("platformtest: containers: schema registry API path %q: must start with /", c.registryPath)
	}
	c.registryPath = strings.TrimRight(c.registryPath, "/")
	return nil
}
