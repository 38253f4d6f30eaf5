// Package containers starts a streamkit platform in Docker containers
// with testcontainers-go, for integration tests that need the real
// components and no platform of the machine's own: Kafka in KRaft mode,
// Apicurio Registry (storing its data in that Kafka), a Kafka Connect
// worker and an OpenBao (Vault API) dev server, on one new Docker network.
// Each listens both for this process, on mapped ports, and for the other
// containers, by network alias (kafka:9092). Start returns the same
// *platformtest.Platform and ready-made clients as the other backends.
//
//	func TestIntegrationOrders(t *testing.T) {
//		p := containers.StartT(t, containers.WithComponents(platformtest.Kafka, platformtest.SchemaRegistry))
//		prod, err := schema.NewProducer[Order](ctx, p.Clients.Registry, "orders",
//			schema.WithClientOpts(kgo.SeedBrokers(p.Brokers...)))
//		...
//	}
//
// It links testcontainers-go and the Docker (moby) client on top of what
// platformtest links; no other streamkit package does.
//
// StartT skips the test when no Docker Engine answers, or fails it when
// STREAMKIT_REQUIRE_PLATFORM=1, and removes the containers when the test
// ends, passed, failed or panicked. Start does not rely on testcontainers'
// Ryuk reaper: where its image cannot be pulled, set
// TESTCONTAINERS_RYUK_DISABLED=true. Where the machine running the tests
// looks like a container itself but runs the engine locally, set
// TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1. Images are options, with public
// defaults. The platform has no SASL listeners and no PostgreSQL.
package containers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"golang.org/x/sync/errgroup"

	"github.com/streamkit/streamkit/platformtest"
)

// Network aliases of the containers on their network, for containers of
// the test's own that join it (Platform.ContainerNetwork): Kafka answers at
// KafkaAlias:9092, the registry at SchemaRegistryAlias:8080, Connect at
// ConnectAlias:8083 and Vault at VaultAlias:8200.
const (
	KafkaAlias          = "kafka"
	SchemaRegistryAlias = "schema-registry"
	ConnectAlias        = "connect"
	VaultAlias          = "vault"
)

// Label is set on every container and network that Start creates, with
// the platform's id as its value: `docker ps --filter
// label=io.streamkit.platformtest` lists what a crashed test left.
const Label = "io.streamkit.platformtest"

// Ports inside the containers.
const (
	kafkaInternalPort = "9092"     // BROKER listener, advertised as kafka:9092
	kafkaHostPort     = "9094/tcp" // HOST listener, advertised as the mapped port
	registryPort      = "8080/tcp"
	connectPort       = "8083/tcp"
	vaultPort         = "8200/tcp"
	startScript       = "/tmp/streamkit-start.sh"
)

// Start starts the components the options ask for in containers (or, with
// PreferExternal, takes the external platform when the environment names
// one) and returns the platform with ready-made clients, once every
// container is ready and Kafka answers. The containers run until Close
// removes them with their network.
//
// The caller must Close the platform. When Start fails, it has already
// removed whatever it started, and it does so even when it panics. It
// fails with platformtest.ErrUnavailable when no Docker Engine answers,
// and with an *Error for a container that did not start or get ready.
//
// Start is safe to call from several goroutines; each call makes its own
// platform.
func Start(ctx context.Context, opts ...Option) (*platformtest.Platform, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.external() {
		return platformtest.Start(ctx, cfg.externalOptions()...)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()

	p := &platformtest.Platform{Backend: platformtest.BackendContainers}
	// Runs on error and on panic alike, so nothing started leaks.
	ok := false
	defer func() {
		if !ok {
			_ = p.Close()
		}
	}()
	if err := startContainers(ctx, &cfg, p); err != nil {
		return nil, err
	}
	clients, err := platformtest.NewClients(ctx, *p, cfg.components...)
	if err != nil {
		return nil, err
	}
	p.Clients = clients
	p.OnClose(func(context.Context) error { clients.Close(); return nil })
	ok = true
	return p, nil
}

// StartT is Start for tests: it removes the platform when tb ends, skips
// tb when the platform is unavailable (no Docker Engine), or fails it when
// STREAMKIT_REQUIRE_PLATFORM=1, and fails it on any other error.
func StartT(tb testing.TB, opts ...Option) *platformtest.Platform {
	tb.Helper()
	p, err := Start(context.Background(), opts...)
	if errors.Is(err, platformtest.ErrUnavailable) {
		platformtest.SkipOrFail(tb, err.Error())
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

// startContainers starts the components on one new network: Kafka and
// Vault first, then the registry (whose storage is Kafka) and Connect.
func startContainers(ctx context.Context, cfg *config, p *platformtest.Platform) error {
	if err := dockerHealth(ctx, cfg.logger); err != nil {
		return err
	}
	id := randomHex(6)
	labels := map[string]string{Label: id}
	for k, v := range cfg.labels {
		if k != Label {
			labels[k] = v
		}
	}
	p.ContainerLabels = labels
	log := cfg.logger.With("platform", id)
	// onClose registers a cleanup and logs its failure: Close returns only
	// the first.
	onClose := func(fn func(context.Context) error) {
		p.OnClose(func(ctx context.Context) error {
			err := fn(ctx)
			if err != nil {
				log.Warn("cleanup failed", "err", err)
			}
			return err
		})
	}

	nw, err := network.New(ctx, network.WithLabels(labels))
	if nw != nil {
		onClose(func(ctx context.Context) error {
			log.Info("removing network", "network", nw.Name)
			return nw.Remove(ctx)
		})
	}
	if err != nil {
		if strings.Contains(err.Error(), "reaper") {
			// testcontainers starts its Ryuk reaper with the first network
			// or container; where its image cannot be pulled, nothing can
			// run until the reaper is turned off.
			return fmt.Errorf("%w: testcontainers' Ryuk reaper did not start (set TESTCONTAINERS_RYUK_DISABLED=true where its image cannot be pulled; platformtest removes what it starts without it): %s",
				platformtest.ErrUnavailable, oneLine(err))
		}
		return fmt.Errorf("platformtest: create network: %w", err)
	}
	p.ContainerNetwork = nw.Name

	// run starts one container and has it removed on Close, whether or
	// not it started: the cleanup is registered before the error check.
	run := func(ctx context.Context, comp platformtest.Component, image, alias string, opts ...testcontainers.ContainerCustomizer) (*testcontainers.DockerContainer, error) {
		log.Info("starting container", "component", comp.String(), "image", image)
		opts = append([]testcontainers.ContainerCustomizer{testcontainers.WithLogger(tcLogger{log})}, opts...)
		opts = append(opts, network.WithNetwork([]string{alias}, nw), testcontainers.WithLabels(labels),
			testcontainers.WithName("streamkit-"+id+"-"+alias))
		c, err := testcontainers.Run(ctx, image, opts...)
		if c != nil {
			onClose(func(ctx context.Context) error {
				log.Info("removing container", "component", comp.String())
				return testcontainers.TerminateContainer(c, testcontainers.StopContext(ctx))
			})
		}
		if err != nil {
			return nil, &Error{Component: comp, Image: image, Err: err, Logs: tailLogs(c, 40)}
		}
		return c, nil
	}

	first, fctx := errgroup.WithContext(ctx)
	first.Go(func() error {
		c, err := run(fctx, platformtest.Kafka, cfg.kafkaImage, KafkaAlias, kafkaRequest(newClusterID())...)
		if err != nil {
			return err
		}
		host, port, err := endpoint(fctx, c, kafkaHostPort)
		if err != nil {
			return err
		}
		p.Brokers = []string{net.JoinHostPort(host, port)}
		p.ContainerBrokers = []string{KafkaAlias + ":" + kafkaInternalPort}
		return nil
	})
	if slices.Contains(cfg.components, platformtest.Vault) {
		first.Go(func() error {
			token := "platformtest-" + randomHex(12)
			c, err := run(fctx, platformtest.Vault, cfg.vaultImage, VaultAlias, vaultRequest(token)...)
			if err != nil {
				return hideInLogs(err, token)
			}
			host, port, err := endpoint(fctx, c, vaultPort)
			if err != nil {
				return err
			}
			p.VaultAddr, p.VaultToken = "http://"+net.JoinHostPort(host, port), token
			p.ContainerVaultAddr = "http://" + VaultAlias + ":8200"
			return nil
		})
	}
	if err := first.Wait(); err != nil {
		return err
	}

	second, sctx := errgroup.WithContext(ctx)
	if slices.Contains(cfg.components, platformtest.SchemaRegistry) {
		second.Go(func() error {
			c, err := run(sctx, platformtest.SchemaRegistry, cfg.registryImage, SchemaRegistryAlias, registryRequest(cfg.registryPath)...)
			if err != nil {
				return err
			}
			host, port, err := endpoint(sctx, c, registryPort)
			if err != nil {
				return err
			}
			p.SchemaRegistryURL = "http://" + net.JoinHostPort(host, port) + cfg.registryPath
			if err := setBackward(sctx, p.SchemaRegistryURL); err != nil {
				return &Error{Component: platformtest.SchemaRegistry, Image: cfg.registryImage, Err: err}
			}
			p.ContainerSchemaRegistryURL = "http://" + SchemaRegistryAlias + ":8080" + cfg.registryPath
			return nil
		})
	}
	if slices.Contains(cfg.components, platformtest.Connect) {
		shared, err := os.MkdirTemp("", "streamkit-connect-")
		if err != nil {
			return fmt.Errorf("platformtest: connect shared folder: %w", err)
		}
		onClose(func(context.Context) error { return os.RemoveAll(shared) })
		secretsDir := filepath.Join(shared, "secrets")
		if err := os.Mkdir(secretsDir, 0o700); err != nil {
			return fmt.Errorf("platformtest: connect secrets folder: %w", err)
		}
		second.Go(func() error {
			c, err := run(sctx, platformtest.Connect, cfg.connectImage, ConnectAlias, connectRequest(shared, secretsDir)...)
			if err != nil {
				return err
			}
			host, port, err := endpoint(sctx, c, connectPort)
			if err != nil {
				return err
			}
			p.ConnectURL = "http://" + net.JoinHostPort(host, port)
			p.ConnectURLs = []string{p.ConnectURL}
			p.ConnectSharedDir, p.ConnectSecretsDir = shared, secretsDir
			return nil
		})
	}
	return second.Wait()
}

// dockerHealth reports platformtest.ErrUnavailable when no Docker Engine
// answers.
func dockerHealth(ctx context.Context, logger *slog.Logger) error {
	provider, err := testcontainers.NewDockerProvider(testcontainers.WithLogger(tcLogger{logger}))
	if err != nil {
		return fmt.Errorf("%w: docker: %s", platformtest.ErrUnavailable, oneLine(err))
	}
	defer provider.Close()
	if err := provider.Health(ctx); err != nil {
		return fmt.Errorf("%w: no Docker Engine answers: %s", platformtest.ErrUnavailable, oneLine(err))
	}
	return nil
}

// tcLogger passes testcontainers' own progress lines to the platform's
// logger at debug level, instead of the process's standard error.
type tcLogger struct{ l *slog.Logger }

func (t tcLogger) Printf(format string, args ...any) {
	t.l.Debug(fmt.Sprintf(format, args...), "from", "testcontainers")
}

// oneLine is err's message on one line: testcontainers' own messages may
// span several.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
