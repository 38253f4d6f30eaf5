package containers

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
	"github.com/twmb/franz-go/pkg/sr"
)

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
// live in the Kafka container, with the FileStream connectors and the
// image's plugin folders on its plugin.path and the dir and file config providers limited to secretsDir.
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
		// /opt/kafka/plugins: the plugin folders of the image
		// scripts/containers builds (Apicurio's Avro converter).
		"plugin.path=/tmp/connect-plugins,/opt/kafka/plugins",
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
