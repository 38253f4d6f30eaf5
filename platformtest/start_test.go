package platformtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestStartExternal(t *testing.T) {
	e := fakePlatform(t)
	env := map[string]string{EnvBrokers: strings.Join(e.Brokers, ","), EnvSchemaRegistryURL: e.SchemaRegistryURL + "/"}
	// No components named: Start takes what the environment has.
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
	_, err := Start(context.Background(), WithComponents(Kafka, Connect), withEnv(map[string]string{EnvBrokers: "127.0.0.1:1"}))
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), EnvConnectURL) {
		t.Fatalf("got %v, want ErrUnavailable naming %s", err, EnvConnectURL)
	}
}

func TestStartOptionErrors(t *testing.T) {
	env := withEnv(map[string]string{EnvBrokers: "127.0.0.1:1"})
	tests := []struct {
		name string
		opts []Option
	}{
		{"timeout", []Option{env, WithStartTimeout(0)}},
		{"unknown component", []Option{env, WithComponents(Component(42))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Start(context.Background(), tt.opts...)
			if err == nil || p != nil {
				t.Fatalf("got %v, %v; want an error", p, err)
			}
		})
	}
}

func TestNewClients(t *testing.T) {
	e := fakePlatform(t)
	ctx := context.Background()
	if c, err := NewClients(ctx, e, Kafka, SchemaRegistry, KafkaSASL); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), EnvSASLBrokers) {
		t.Fatalf("with KafkaSASL missing: got %v, %v; want ErrUnavailable naming %s", c, err, EnvSASLBrokers)
	}
	c, err := NewClients(ctx, e, Kafka)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Kafka == nil || c.Admin == nil || c.Registry != nil || c.Connect != nil || c.Vault != nil {
		t.Fatalf("asked for Kafka only, got %+v", c)
	}
	if err := c.Kafka.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestCloserOrderOnceFirstError(t *testing.T) {
	var order []int
	var p Platform
	first, second := errors.New("first"), errors.New("second")
	p.OnClose(func(context.Context) error { order = append(order, 1); return second })
	p.OnClose(func(context.Context) error { order = append(order, 2); return first })
	p.OnClose(func(context.Context) error { order = append(order, 3); return nil })
	if err := p.Close(); err != first {
		t.Fatalf("got %v, want the first error met", err)
	}
	if err := p.Close(); err != first {
		t.Fatalf("second close: got %v", err)
	}
	if fmt.Sprint(order) != "[3 2 1]" {
		t.Fatalf("ran %v, want newest first, once", order)
	}
	if err := (&Platform{}).Close(); err != nil {
		t.Fatalf("a platform without cleanups: got %v", err)
	}
}

func TestStartTSkipsOrFailsWhenUnavailable(t *testing.T) {
	opts := []Option{WithComponents(Kafka), withEnv(map[string]string{})}
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

func TestCreateTopics(t *testing.T) {
	ctx := context.Background()
	c, err := NewClients(ctx, fakePlatform(t), Kafka)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close) // after CreateTopicsT's cleanup deletes the topics
	CreateTopicsT(t, c.Admin, 2, "a", "b")
	ends, err := c.Admin.ListEndOffsets(ctx, "a", "b")
	if err != nil || len(ends["a"]) != 2 || len(ends["b"]) != 2 {
		t.Fatalf("got %v, %v; want two topics of two partitions", ends, err)
	}
	if err := CreateTopics(ctx, c.Admin, 1, "a"); err == nil || !strings.Contains(err.Error(), "create topics [a]") {
		t.Fatalf("creating an existing topic: got %v", err)
	}
}
