package platformtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
	"github.com/twmb/franz-go/pkg/sr"
	"golang.org/x/sync/errgroup"
)

// Default images of the containers backend: public images whose layout and
// entry points Start relies on. Any image with the same layout works; our
// own CI builds such images locally (scripts/containers) and names them
// through the Env*Image variables.
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

// Variables that replace the default images; a ContainerOption replaces
// them in turn.
const (
	EnvKafkaImage          = "STREAMKIT_KAFKA_IMAGE"
	EnvConnectImage        = "STREAMKIT_CONNECT_IMAGE"
	EnvSchemaRegistryImage = "STREAMKIT_SCHEMA_REGISTRY_IMAGE"
	EnvVaultImage          = "STREAMKIT_VAULT_IMAGE"
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

// Label is set on every container and network that the containers backend
// creates, with the platform's id as its value: `docker ps --filter
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

// ContainerOption configures the containers backend.
type ContainerOption func(*containerConfig)

type containerConfig struct {
	kafkaImage, connectImage, registryImage, registryPath, vaultImage string
	labels                                                            map[string]string
}

// WithLabels adds labels to every container and network the platform
// creates, e.g. a CI job's id, to find them with `docker ps --filter`.
func WithLabels(labels map[string]string) ContainerOption {
	return func(c *containerConfig) {
		if c.labels == nil {
			c.labels = make(map[string]string, len(labels))
		}
		for k, v := range labels {
			c.labels[k] = v
		}
	}
}

// WithKafkaImage sets the broker's image (and the Connect worker's, unless
// WithConnectImage sets that).
func WithKafkaImage(image string) ContainerOption {
	return func(c *containerConfig) { c.kafkaImage = image }
}

// WithConnectImage sets the Connect worker's image: one laid out like
// apache/kafka, with connect-distributed.sh.
func WithConnectImage(image string) ContainerOption {
	return func(c *containerConfig) { c.connectImage = image }
}

// WithSchemaRegistryImage sets the registry's image and the path of its
// Confluent-compatible API ("" for DefaultSchemaRegistryAPIPath). Start
// configures Apicurio through APICURIO_* variables.
func WithSchemaRegistryImage(image, apiPath string) ContainerOption {
	return func(c *containerConfig) { c.registryImage, c.registryPath = image, apiPath }
}

// WithVaultImage sets the Vault server's image.
func WithVaultImage(image string) ContainerOption {
	return func(c *containerConfig) { c.vaultImage = image }
}

func (c *containerConfig) validate(getenv func(string) string) error {
	pick := func(opt, env, def string) string {
		if opt = strings.TrimSpace(opt); opt != "" {
			return opt
		}
		if v := strings.TrimSpace(getenv(env)); v != "" {
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
		return fmt.Errorf("platformtest: schema registry API path %q: must start with /", c.registryPath)
	}
	c.registryPath = strings.TrimRight(c.registryPath, "/")
	return nil
}

// ContainerError is a container that did not start or get ready. Logs
// holds the last lines it wrote.
type ContainerError struct {
	Component Component
	Image     string
	Err       error
	Logs      string
}

func (e *ContainerError) Error() string {
	msg := fmt.Sprintf("platformtest: %v container (%s): %v", e.Component, e.Image, e.Err)
	if e.Logs != "" {
		msg += "\nlast lines of its log:\n" + e.Logs
	}
	return msg
}

func (e *ContainerError) Unwrap() error { return e.Err }

// hideInLogs redacts secret in the log lines a *ContainerError quotes: a
// Vault dev server prints its root token as it starts. Call it before err
// is wrapped, since a wrapping error's text is made when it is.
func hideInLogs(err error, secret string) error {
	var ce *ContainerError
	if secret != "" && errors.As(err, &ce) {
		ce.Logs = strings.ReplaceAll(ce.Logs, secret, "[redacted]")
	}
	return err
}

// startContainers starts the components on one new network: Kafka and
// Vault first, then the registry (whose storage is Kafka) and Connect.
func startContainers(ctx context.Context, cfg *startConfig, p *Platform) error {
	if err := dockerHealth(ctx, cfg.logger); err != nil {
		return err
	}
	id := randomHex(6)
	cc := cfg.containers
	labels := map[string]string{Label: id}
	for k, v := range cc.labels {
		if k != Label {
			labels[k] = v
		}
	}
	p.ContainerLabels = labels
	log := cfg.logger.With("platform", id)

	nw, err := network.New(ctx, network.WithLabels(labels))
	if nw != nil {
		p.closer.add(func(ctx context.Context) error {
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
				ErrUnavailable, oneLine(err))
		}
		return fmt.Errorf("platformtest: create network: %w", err)
	}
	p.ContainerNetwork = nw.Name

	// run starts one container and has it removed on Close, whether or
	// not it started: the cleanup is registered before the error check.
	run := func(ctx context.Context, comp Component, image, alias string, opts ...testcontainers.ContainerCustomizer) (*testcontainers.DockerContainer, error) {
		log.Info("starting container", "component", comp.String(), "image", image)
		opts = append([]testcontainers.ContainerCustomizer{testcontainers.WithLogger(tcLogger{log})}, opts...)
		opts = append(opts, network.WithNetwork([]string{alias}, nw), testcontainers.WithLabels(labels),
			testcontainers.WithName("streamkit-"+id+"-"+alias))
		c, err := testcontainers.Run(ctx, image, opts...)
		if c != nil {
			p.closer.add(func(ctx context.Context) error {
				log.Info("removing container", "component", comp.String())
				return testcontainers.TerminateContainer(c, testcontainers.StopContext(ctx))
			})
		}
		if err != nil {
			return nil, &ContainerError{Component: comp, Image: image, Err: err, Logs: tailLogs(c, 40)}
		}
		return c, nil
	}

	first, fctx := errgroup.WithContext(ctx)
	first.Go(func() error {
		c, err := run(fctx, Kafka, cc.kafkaImage, KafkaAlias, kafkaRequest(newClusterID())...)
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
	if slices.Contains(cfg.components, Vault) {
		first.Go(func() error {
			token := "platformtest-" + randomHex(12)
			c, err := run(fctx, Vault, cc.vaultImage, VaultAlias, vaultRequest(token)...)
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
	if slices.Contains(cfg.components, SchemaRegistry) {
		second.Go(func() error {
			c, err := run(sctx, SchemaRegistry, cc.registryImage, SchemaRegistryAlias, registryRequest(cc.registryPath)...)
			if err != nil {
				return err
			}
			host, port, err := endpoint(sctx, c, registryPort)
			if err != nil {
				return err
			}
			p.SchemaRegistryURL = "http://" + net.JoinHostPort(host, port) + cc.registryPath
			if err := setBackward(sctx, p.SchemaRegistryURL); err != nil {
				return &ContainerError{Component: SchemaRegistry, Image: cc.registryImage, Err: err}
			}
			p.ContainerSchemaRegistryURL = "http://" + SchemaRegistryAlias + ":8080" + cc.registryPath
			return nil
		})
	}
	if slices.Contains(cfg.components, Connect) {
		shared, err := os.MkdirTemp("", "streamkit-connect-")
		if err != nil {
			return fmt.Errorf("platformtest: connect shared folder: %w", err)
		}
		p.closer.add(func(context.Context) error { return os.RemoveAll(shared) })
		secretsDir := filepath.Join(shared, "secrets")
		if err := os.Mkdir(secretsDir, 0o700); err != nil {
			return fmt.Errorf("platformtest: connect secrets folder: %w", err)
		}
		second.Go(func() error {
			c, err := run(sctx, Connect, cc.connectImage, ConnectAlias, connectRequest(shared, secretsDir)...)
			if err != nil {
				return err
			}
			host, port, err := endpoint(sctx, c, connectPort)
			if err != nil {
				return err
			}
			p.ConnectURL = "http://" + net.JoinHostPort(host, port)
			p.ConnectSharedDir, p.ConnectSecretsDir = shared, secretsDir
			return nil
		})
	}
	return second.Wait()
}

// dockerHealth reports ErrUnavailable when no Docker Engine answers.
func dockerHealth(ctx context.Context, logger *slog.Logger) error {
	provider, err := testcontainers.NewDockerProvider(testcontainers.WithLogger(tcLogger{logger}))
	if err != nil {
		return fmt.Errorf("%w: docker: %s", ErrUnavailable, oneLine(err))
	}
	defer provider.Close()
	if err := provider.Health(ctx); err != nil {
		return fmt.Errorf("%w: no Docker Engine answers: %s", ErrUnavailable, oneLine(err))
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

// kafkaRequest is a combined broker and controller with two client
// listeners: BROKER, advertised as kafka:9092 to the containers on the
// network, and HOST, advertised as the port Docker maps on this machine.
// That port is known only once the container runs, so the container waits
// for a start script that a post-start hook writes.
func kafkaRequest(clusterID string) []testcontainers.ContainerCustomizer {
	return []testcontainers.ContainerCustomizer{
		testcontainers.WithExposedPorts(kafkaHostPort),
		testcontainers.WithEnv(map[string]string{"KAFKA_HEAP_OPTS": "-Xms256m -Xmx512m"}),
		testcontainers.WithEntrypoint("sh", "-c"),
		testcontainers.WithCmd("while [ ! -f " + startScript + " ]; do sleep 0.1; done; exec sh " + startScript),
		testcontainers.WithLifecycleHooks(testcontainers.ContainerLifecycleHooks{
			PostStarts: []testcontainers.ContainerHook{func(ctx context.Context, c testcontainers.Container) error {
				host, port, err := endpoint(ctx, c, kafkaHostPort)
				if err != nil {
					return err
				}
				script := kafkaStartScript(clusterID, net.JoinHostPort(host, port))
				return c.CopyToContainer(ctx, []byte(script), startScript, 0o755)
			}},
		}),
		testcontainers.WithWaitStrategy(wait.ForLog("Kafka Server started")),
	}
}

// kafkaStartScript writes the broker's configuration, formats its storage
// and runs it.
func kafkaStartScript(clusterID, hostAddr string) string {
	props := strings.Join([]string{
		"process.roles=broker,controller",
		"node.id=1",
		"controller.quorum.voters=1@localhost:9093",
		"listeners=BROKER://0.0.0.0:" + kafkaInternalPort + ",CONTROLLER://localhost:9093,HOST://0.0.0.0:9094",
		"advertised.listeners=BROKER://" + KafkaAlias + ":" + kafkaInternalPort + ",HOST://" + hostAddr,
		"listener.security.protocol.map=BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT,HOST:PLAINTEXT",
		"controller.listener.names=CONTROLLER",
		"inter.broker.listener.name=BROKER",
		"log.dirs=/tmp/kraft-data",
		"num.partitions=1",
		"offsets.topic.replication.factor=1",
		"transaction.state.log.replication.factor=1",
		"transaction.state.log.min.isr=1",
		"share.coordinator.state.topic.replication.factor=1",
		"share.coordinator.state.topic.min.isr=1",
		"group.initial.rebalance.delay.ms=0",
		"auto.create.topics.enable=false",
	}, "\n")
	return "set -e\ncat > /tmp/server.properties <<'EOF'\n" + props + "\nEOF\n" +
		"/opt/kafka/bin/kafka-storage.sh format -t " + clusterID + " -c /tmp/server.properties --ignore-formatted\n" +
		"exec /opt/kafka/bin/kafka-server-start.sh /tmp/server.properties\n"
}

// registryRequest is Apicurio Registry storing its data in Kafka
// (kafkasql).
func registryRequest(apiPath string) []testcontainers.ContainerCustomizer {
	return []testcontainers.ContainerCustomizer{
		testcontainers.WithExposedPorts(registryPort),
		testcontainers.WithEnv(map[string]string{
			"APICURIO_STORAGE_KIND":                           "kafkasql",
			"APICURIO_KAFKASQL_BOOTSTRAP_SERVERS":             KafkaAlias + ":" + kafkaInternalPort,
			"APICURIO_RULES_GLOBAL_COMPATIBILITY":             "BACKWARD",
			"APICURIO_REST_DELETION_ARTIFACT_ENABLED":         "true",
			"APICURIO_REST_DELETION_ARTIFACT_VERSION_ENABLED": "true",
			"QUARKUS_LOG_CONSOLE_COLOR":                       "false",
			"JAVA_OPTS":                                       "-Xmx384m",
		}),
		testcontainers.WithWaitStrategy(wait.ForHTTP(apiPath + "/subjects").WithPort(registryPort)),
	}
}

// setBackward makes BACKWARD the registry's global compatibility, as
// Confluent's default is; Apicurio's is NONE.
func setBackward(ctx context.Context, url string) error {
	cl, err := sr.NewClient(sr.URLs(url))
	if err != nil {
		return err
	}
	for _, r := range cl.SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatBackward}) {
		if r.Err != nil {
			return fmt.Errorf("set global compatibility: %w", r.Err)
		}
	}
	return nil
}

// connectRequest is a distributed worker whose group and storage topics
// live in the Kafka container, with the FileStream connectors on its
// plugin.path and the dir and file config providers limited to secretsDir.
// shared is mounted at its own path, so files and secrets written there by
// the test are where the worker looks for them. The worker runs as root to
// read files that this process writes with mode 0600.
func connectRequest(shared, secretsDir string) []testcontainers.ContainerCustomizer {
	props := strings.Join([]string{
		"bootstrap.servers=" + KafkaAlias + ":" + kafkaInternalPort,
		"group.id=streamkit-connect",
		"listeners=http://0.0.0.0:8083",
		"rest.advertised.host.name=" + ConnectAlias,
		"rest.advertised.port=8083",
		"key.converter=org.apache.kafka.connect.json.JsonConverter",
		"value.converter=org.apache.kafka.connect.json.JsonConverter",
		"key.converter.schemas.enable=false",
		"value.converter.schemas.enable=false",
		"config.storage.topic=_connect-configs",
		"offset.storage.topic=_connect-offsets",
		"status.storage.topic=_connect-status",
		"config.storage.replication.factor=1",
		"offset.storage.replication.factor=1",
		"status.storage.replication.factor=1",
		"offset.flush.interval.ms=1000",
		"plugin.path=/tmp/connect-plugins",
		"config.providers=dir,file",
		"config.providers.dir.class=org.apache.kafka.common.config.provider.DirectoryConfigProvider",
		"config.providers.dir.param.allowed.paths=" + secretsDir,
		"config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider",
		"config.providers.file.param.allowed.paths=" + secretsDir,
	}, "\n") + "\n"
	return []testcontainers.ContainerCustomizer{
		testcontainers.WithExposedPorts(connectPort),
		testcontainers.WithEnv(map[string]string{"KAFKA_HEAP_OPTS": "-Xms256m -Xmx768m"}),
		testcontainers.WithFiles(testcontainers.ContainerFile{
			Reader: strings.NewReader(props), ContainerFilePath: "/tmp/worker.properties", FileMode: 0o644,
		}),
		testcontainers.WithConfigModifier(func(c *container.Config) { c.User = "0" }),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.Binds = append(hc.Binds, shared+":"+shared)
		}),
		testcontainers.WithEntrypoint("sh", "-c"),
		testcontainers.WithCmd("mkdir -p /tmp/connect-plugins/file && cp /opt/kafka/libs/connect-file-*.jar /tmp/connect-plugins/file/ && " +
			"exec /opt/kafka/bin/connect-distributed.sh /tmp/worker.properties"),
		// The worker answers / before it has joined its group; the
		// connector listing needs the group and the config topic.
		testcontainers.WithWaitStrategy(wait.ForHTTP("/connectors").WithPort(connectPort)),
	}
}

// vaultRequest is a dev server: in memory, unsealed, with token as its
// root token.
func vaultRequest(token string) []testcontainers.ContainerCustomizer {
	listen := "0.0.0.0:8200"
	return []testcontainers.ContainerCustomizer{
		testcontainers.WithExposedPorts(vaultPort),
		testcontainers.WithEnv(map[string]string{
			"BAO_DEV_ROOT_TOKEN_ID":    token,
			"BAO_DEV_LISTEN_ADDRESS":   listen,
			"VAULT_DEV_ROOT_TOKEN_ID":  token,
			"VAULT_DEV_LISTEN_ADDRESS": listen,
			"SKIP_SETCAP":              "true",
		}),
		testcontainers.WithCmd("server", "-dev"),
		testcontainers.WithWaitStrategy(wait.ForHTTP("/v1/sys/health").WithPort(vaultPort)),
	}
}

// endpoint is the host and port where this machine reaches a container's
// port.
func endpoint(ctx context.Context, c testcontainers.Container, port string) (string, string, error) {
	host, err := c.Host(ctx)
	if err != nil {
		return "", "", fmt.Errorf("platformtest: container host: %w", err)
	}
	mapped, err := c.MappedPort(ctx, port)
	if err != nil {
		return "", "", fmt.Errorf("platformtest: mapped port of %s: %w", port, err)
	}
	return host, mapped.Port(), nil
}

// tailLogs returns the last n lines a container wrote, or "" when there
// are none to read.
func tailLogs(c *testcontainers.DockerContainer, n int) string {
	if c == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc, err := c.Logs(ctx)
	if err != nil {
		return ""
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil && !errors.Is(err, io.EOF) {
		return ""
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// newClusterID is a KRaft cluster id: 16 random bytes, base64url without
// padding, as `kafka-storage.sh random-uuid` prints one; like Kafka's, it
// never starts with a dash, which a command line would take for a flag.
func newClusterID() string {
	for {
		var b [16]byte
		_, _ = rand.Read(b[:])
		if id := base64.RawURLEncoding.EncodeToString(b[:]); id[0] != '-' {
			return id
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
