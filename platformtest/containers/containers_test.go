package containers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/streamkit/streamkit/platformtest"
)

// withEnv makes Start read variables from env instead of the process.
func withEnv(env map[string]string) Option {
	return optionFunc(func(c *config) { c.getenv = func(k string) string { return env[k] } })
}

func TestStartOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		want error
	}{
		{"no sasl", []Option{WithComponents(platformtest.KafkaSASL)}, platformtest.ErrUnsupported},
		{"no postgres", []Option{WithComponents(platformtest.Kafka, platformtest.Postgres)}, platformtest.ErrUnsupported},
		{"unknown component", []Option{WithComponents(platformtest.Component(42))}, platformtest.ErrUnsupported},
		{"registry path", []Option{WithSchemaRegistryImage("r:1", "apis/ccompat/v7")}, nil},
		{"timeout", []Option{WithStartTimeout(0)}, nil},
		{"nil logger", []Option{WithLogger(nil)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Start(context.Background(), append(tt.opts, withEnv(nil))...)
			if err == nil || p != nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("got %v, %v; want an error (%v)", p, err, tt.want)
			}
		})
	}
}

func TestPreferExternal(t *testing.T) {
	for _, tt := range []struct {
		prefer   bool
		brokers  string
		external bool
	}{
		{false, "", false},
		{false, "b:9092", false},
		{true, "", false},
		{true, " ", false},
		{true, "b:9092", true},
	} {
		cfg := defaultConfig()
		cfg.preferExternal = tt.prefer
		cfg.getenv = func(k string) string {
			if k == platformtest.EnvBrokers {
				return tt.brokers
			}
			return ""
		}
		if err := cfg.validate(); err != nil {
			t.Fatal(err)
		}
		if got := cfg.external(); got != tt.external {
			t.Errorf("PreferExternal %v, %s=%q: external %v, want %v", tt.prefer, platformtest.EnvBrokers, tt.brokers, got, tt.external)
		}
	}
}

// TestPreferExternalStart takes the external platform, which lacks the
// component asked for: the error is platformtest.Start's, about the
// environment, not about Docker.
func TestPreferExternalStart(t *testing.T) {
	t.Setenv(platformtest.EnvBrokers, "127.0.0.1:1")
	t.Setenv(platformtest.EnvVaultAddr, "")
	_, err := Start(context.Background(), PreferExternal(), WithComponents(platformtest.Kafka, platformtest.Vault))
	if !errors.Is(err, platformtest.ErrUnavailable) || !strings.Contains(err.Error(), platformtest.EnvVaultAddr) {
		t.Fatalf("got %v, want ErrUnavailable naming %s", err, platformtest.EnvVaultAddr)
	}
}

func TestImages(t *testing.T) {
	env := map[string]string{EnvKafkaImage: "local/kafka:1", EnvVaultImage: " local/bao:2 "}
	getenv := func(k string) string { return env[k] }
	images := func(c config) string {
		return fmt.Sprint(c.kafkaImage, c.connectImage, c.registryImage, c.registryPath, c.vaultImage)
	}

	c := config{getenv: getenv}
	if err := c.validateImages(); err != nil {
		t.Fatal(err)
	}
	want := config{kafkaImage: "local/kafka:1", connectImage: "local/kafka:1", registryImage: DefaultSchemaRegistryImage,
		registryPath: DefaultSchemaRegistryAPIPath, vaultImage: "local/bao:2"}
	if images(c) != images(want) {
		t.Errorf("from the environment: got %s, want %s", images(c), images(want))
	}

	// Options beat the environment.
	c = config{getenv: getenv}
	for _, o := range []Option{WithKafkaImage("k:9"), WithConnectImage("c:9"), WithSchemaRegistryImage("r:9", "/api/"), WithVaultImage("v:9")} {
		o.apply(&c)
	}
	if err := c.validateImages(); err != nil {
		t.Fatal(err)
	}
	want = config{kafkaImage: "k:9", connectImage: "c:9", registryImage: "r:9", registryPath: "/api", vaultImage: "v:9"}
	if images(c) != images(want) {
		t.Errorf("from options: got %s, want %s", images(c), images(want))
	}
}

func TestWithLabelsAddUp(t *testing.T) {
	in := map[string]string{"job": "1"}
	c := defaultConfig()
	for _, o := range []Option{WithLabels(in), WithLabels(map[string]string{"team": "pricing"})} {
		o.apply(&c)
	}
	in["job"] = "changed"
	if fmt.Sprint(c.labels) != "map[job:1 team:pricing]" {
		t.Errorf("got %v, want both labels as given", c.labels)
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

func TestError(t *testing.T) {
	cause := errors.New("wait until ready: deadline exceeded")
	err := error(&Error{Component: platformtest.Connect, Image: "img:1", Err: cause, Logs: "line 1\nline 2"})
	if !errors.Is(err, cause) {
		t.Error("does not unwrap to its cause")
	}
	for _, want := range []string{"kafka connect", "img:1", "deadline exceeded", "line 2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}

func TestErrorHidesVaultRootToken(t *testing.T) {
	const token = "platformtest-0123456789ab"
	err := hideInLogs(&Error{Component: platformtest.Vault, Err: errors.New("not ready"),
		Logs: "Unseal Key: abc\nRoot Token: " + token + "\n"}, token)
	if strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "Root Token: [redacted]") {
		t.Errorf("got %q, want the root token redacted", err)
	}
}
