package platformtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// withEnv makes Start read variables from env instead of the process.
func withEnv(env map[string]string) Option {
	return func(c *startConfig) { c.getenv = func(k string) string { return env[k] } }
}

func TestStartEmbedded(t *testing.T) {
	ctx := context.Background()
	p, err := Start(ctx, Embedded())
	if err != nil {
		t.Fatal(err)
	}
	if p.Backend != BackendEmbedded || len(p.Brokers) != 1 || p.SchemaRegistryURL == "" || p.ConnectURL != "" {
		t.Fatalf("got %v backend %v", p, p.Backend)
	}
	c := p.Clients
	if c.Kafka == nil || c.Admin == nil || c.Registry == nil || c.Connect != nil || c.Vault != nil {
		t.Fatalf("clients: %+v", c)
	}
	if _, err := c.Admin.CreateTopic(ctx, 1, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	if err := c.Kafka.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("o-1")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Registry.Client().Subjects(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	// Close closed the client and stopped the cluster.
	if err := c.Kafka.Ping(ctx); err == nil {
		t.Fatal("the Kafka client still answers after Close")
	}
}

func TestStartEmbeddedKafkaOnly(t *testing.T) {
	p := StartT(t, Embedded(), WithComponents(Kafka))
	if p.SchemaRegistryURL != "" || p.Clients.Registry != nil || p.Clients.Kafka == nil {
		t.Fatalf("asked for Kafka only, got %v, %+v", p, p.Clients)
	}
}

func TestStartExternal(t *testing.T) {
	e := StartEmbeddedT(t, 1)
	env := map[string]string{EnvBrokers: strings.Join(e.Brokers, ","), EnvSchemaRegistryURL: e.SchemaRegistryURL + "/"}
	// No backend option: STREAMKIT_BROKERS picks External.
	p, err := Start(context.Background(), withEnv(env))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Backend != BackendExternal || p.SchemaRegistryURL != e.SchemaRegistryURL {
		t.Fatalf("got %v backend %v", p, p.Backend)
	}
	if p.Clients.Kafka == nil || p.Clients.Registry == nil || p.Clients.Connect != nil || p.Clients.Vault != nil {
		t.Fatalf("clients for what the environment has: got %+v", p.Clients)
	}
	if err := p.Clients.Kafka.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Closing an external platform closes the clients, not the platform.
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Ping(context.Background()); err != nil {
		t.Fatalf("the external platform stopped answering: %v", err)
	}
}

func TestStartExternalMissing(t *testing.T) {
	_, err := Start(context.Background(), External(), WithComponents(Kafka, Connect), withEnv(map[string]string{EnvBrokers: "127.0.0.1:1"}))
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), EnvConnectURL) {
		t.Fatalf("got %v, want ErrUnavailable naming %s", err, EnvConnectURL)
	}
}

func TestStartOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		want error
	}{
		{"embedded has no connect", []Option{Embedded(), WithComponents(Kafka, Connect)}, ErrUnsupported},
		{"embedded has no vault", []Option{Embedded(), WithComponents(Vault)}, ErrUnsupported},
		{"containers have no sasl", []Option{Containers(), WithComponents(KafkaSASL)}, ErrUnsupported},
		{"containers have no postgres", []Option{Containers(), WithComponents(Kafka, Postgres)}, ErrUnsupported},
		{"timeout", []Option{Embedded(), WithStartTimeout(0)}, nil},
		{"unknown component", []Option{Embedded(), WithComponents(Component(42))}, nil},
		{"registry path", []Option{Containers(WithSchemaRegistryImage("r:1", "apis/ccompat/v7"))}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Start(context.Background(), tt.opts...)
			if err == nil || p != nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("got %v, %v; want an error (%v)", p, err, tt.want)
			}
		})
	}
}

func TestDefaultBackend(t *testing.T) {
	for env, want := range map[string]Backend{"": BackendContainers, "b:9092": BackendExternal} {
		cfg := startConfig{timeout: 1, getenv: func(k string) string {
			if k == EnvBrokers {
				return env
			}
			return ""
		}}
		if err := cfg.validate(); err != nil {
			t.Fatal(err)
		}
		if cfg.backend != want {
			t.Errorf("%s=%q: got %v, want %v", EnvBrokers, env, cfg.backend, want)
		}
	}
}

func TestContainerImages(t *testing.T) {
	env := map[string]string{EnvKafkaImage: "local/kafka:1", EnvVaultImage: " local/bao:2 "}
	getenv := func(k string) string { return env[k] }

	var c containerConfig
	if err := c.validate(getenv); err != nil {
		t.Fatal(err)
	}
	want := containerConfig{kafkaImage: "local/kafka:1", connectImage: "local/kafka:1", registryImage: DefaultSchemaRegistryImage,
		registryPath: DefaultSchemaRegistryAPIPath, vaultImage: "local/bao:2"}
	if fmt.Sprint(c) != fmt.Sprint(want) {
		t.Errorf("from the environment: got %+v, want %+v", c, want)
	}

	// Options beat the environment.
	c = containerConfig{}
	for _, o := range []ContainerOption{WithKafkaImage("k:9"), WithConnectImage("c:9"), WithSchemaRegistryImage("r:9", "/api/"), WithVaultImage("v:9")} {
		o(&c)
	}
	if err := c.validate(getenv); err != nil {
		t.Fatal(err)
	}
	want = containerConfig{kafkaImage: "k:9", connectImage: "c:9", registryImage: "r:9", registryPath: "/api", vaultImage: "v:9"}
	if fmt.Sprint(c) != fmt.Sprint(want) {
		t.Errorf("from options: got %+v, want %+v", c, want)
	}
}

func TestKafkaStartScript(t *testing.T) {
	s := kafkaStartScript("abc", "127.0.0.1:32768")
	for _, want := range []string{
		"advertised.listeners=BROKER://kafka:9092,HOST://127.0.0.1:32768",
		"inter.broker.listener.name=BROKER",
		"kafka-storage.sh format -t abc -c /tmp/server.properties",
		"exec /opt/kafka/bin/kafka-server-start.sh /tmp/server.properties",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("start script lacks %q:\n%s", want, s)
		}
	}
	for range 100 {
		if id := newClusterID(); len(id) != 22 || id[0] == '-' {
			t.Fatalf("cluster id %q: want 22 characters, not starting with a dash", id)
		}
	}
}

func TestContainerError(t *testing.T) {
	cause := errors.New("wait until ready: deadline exceeded")
	err := error(&ContainerError{Component: Connect, Image: "img:1", Err: cause, Logs: "line 1\nline 2"})
	if !errors.Is(err, cause) {
		t.Error("does not unwrap to its cause")
	}
	for _, want := range []string{"kafka connect", "img:1", "deadline exceeded", "line 2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}

func TestContainerErrorHidesVaultRootToken(t *testing.T) {
	const token = "platformtest-0123456789ab"
	err := hideInLogs(&ContainerError{Component: Vault, Err: errors.New("not ready"),
		Logs: "Unseal Key: abc\nRoot Token: " + token + "\n"}, token)
	if strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "Root Token: [redacted]") {
		t.Errorf("got %q, want the root token redacted", err)
	}
}

func TestCloserOrderOnceFirstError(t *testing.T) {
	var order []int
	c := &closer{logger: discard()}
	first, second := errors.New("first"), errors.New("second")
	c.add(func(context.Context) error { order = append(order, 1); return second })
	c.add(func(context.Context) error { order = append(order, 2); return first })
	c.add(func(context.Context) error { order = append(order, 3); return nil })
	if err := c.close(); err != first {
		t.Fatalf("got %v, want the first error met", err)
	}
	if err := c.close(); err != first {
		t.Fatalf("second close: got %v", err)
	}
	if fmt.Sprint(order) != "[3 2 1]" {
		t.Fatalf("ran %v, want newest first, once", order)
	}
}

func TestStartTSkipsOrFailsWhenUnavailable(t *testing.T) {
	opts := []Option{External(), WithComponents(Kafka), withEnv(map[string]string{})}
	for _, required := range []string{"", "1"} {
		t.Setenv(EnvRequirePlatform, required)
		rec := &recordingTB{TB: t}
		if p := StartT(rec, opts...); p != nil {
			t.Fatalf("got a platform: %v", p)
		}
		if required == "1" && (!rec.failed || rec.skipped) || required == "" && (!rec.skipped || rec.failed) {
			t.Errorf("%s=%q: skipped=%v failed=%v (%s)", EnvRequirePlatform, required, rec.skipped, rec.failed, rec.msg)
		}
		if !strings.Contains(rec.msg, EnvBrokers) {
			t.Errorf("message %q does not name %s", rec.msg, EnvBrokers)
		}
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestCreateTopics(t *testing.T) {
	p := StartT(t, Embedded(), WithComponents(Kafka))
	CreateTopicsT(t, p.Clients.Admin, 2, "a", "b")
	ctx := context.Background()
	ends, err := p.Clients.Admin.ListEndOffsets(ctx, "a", "b")
	if err != nil || len(ends["a"]) != 2 || len(ends["b"]) != 2 {
		t.Fatalf("got %v, %v; want two topics of two partitions", ends, err)
	}
	if err := CreateTopics(ctx, p.Clients.Admin, 1, "a"); err == nil || !strings.Contains(err.Error(), "create topics [a]") {
		t.Fatalf("creating an existing topic: got %v", err)
	}
}
