package embedded_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/platformtest/embedded"
)

func TestStart(t *testing.T) {
	ctx := context.Background()
	p, err := embedded.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.Backend != platformtest.BackendEmbedded || len(p.Brokers) != 1 || p.SchemaRegistryURL == "" || p.ConnectURL != "" {
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

func TestStartKafkaOnly(t *testing.T) {
	p := embedded.StartT(t, embedded.WithComponents(platformtest.Kafka))
	if p.SchemaRegistryURL != "" || p.Clients.Registry != nil || p.Clients.Kafka == nil {
		t.Fatalf("asked for Kafka only, got %v, %+v", p, p.Clients)
	}
}

func TestStartBrokers(t *testing.T) {
	p := embedded.StartT(t, embedded.WithBrokers(3))
	if got := len(p.Brokers); got != 3 {
		t.Fatalf("got %d brokers, want 3", got)
	}
	if missing := p.Missing(platformtest.Kafka, platformtest.SchemaRegistry); missing != nil {
		t.Fatalf("embedded platform lacks %v", missing)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	cl, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...), kgo.ConsumeTopics("t"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 2, 1, nil, "t"); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	fs := cl.PollRecords(ctx, 1)
	if errs := fs.Errors(); len(errs) > 0 {
		t.Fatalf("fetch: %v", errs)
	}
	if recs := fs.Records(); len(recs) != 1 || string(recs[0].Value) != "v" {
		t.Fatalf("got %v, want one record with value v", recs)
	}

	rcl, err := sr.NewClient(sr.URLs(p.SchemaRegistryURL))
	if err != nil {
		t.Fatal(err)
	}
	ss, err := rcl.CreateSchema(ctx, "t-value", sr.Schema{Schema: `{"type":"string"}`})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	if ss.ID <= 0 {
		t.Fatalf("got schema id %d, want > 0", ss.ID)
	}
}

// TestStartWithClusterAndRegistry gives Start a cluster and a registry of
// the test's own: the platform uses them, and Close leaves them running.
func TestStartWithClusterAndRegistry(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(2))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	reg := srfake.New()
	defer reg.Close()

	p, err := embedded.Start(context.Background(), embedded.WithCluster(cluster), embedded.WithRegistry(reg))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.Brokers, ",") != strings.Join(cluster.ListenAddrs(), ",") || p.SchemaRegistryURL != reg.URL() {
		t.Fatalf("got %v, want the cluster at %v and the registry at %s", p, cluster.ListenAddrs(), reg.URL())
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Ping(context.Background()); err != nil {
		t.Fatalf("the caller's cluster stopped with the platform: %v", err)
	}
}

func TestStartOptionErrors(t *testing.T) {
	cluster, err := kfake.NewCluster()
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	tests := []struct {
		name string
		opts []embedded.Option
		want error
	}{
		{"no connect", []embedded.Option{embedded.WithComponents(platformtest.Kafka, platformtest.Connect)}, platformtest.ErrUnsupported},
		{"no vault", []embedded.Option{embedded.WithComponents(platformtest.Vault)}, platformtest.ErrUnsupported},
		{"unknown component", []embedded.Option{embedded.WithComponents(platformtest.Component(42))}, nil},
		{"timeout", []embedded.Option{embedded.WithStartTimeout(0)}, nil},
		{"no brokers", []embedded.Option{embedded.WithBrokers(0)}, nil},
		{"brokers and cluster", []embedded.Option{embedded.WithBrokers(1), embedded.WithCluster(cluster)}, nil},
		{"nil cluster", []embedded.Option{embedded.WithCluster(nil)}, nil},
		{"nil registry", []embedded.Option{embedded.WithRegistry(nil)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := embedded.Start(context.Background(), tt.opts...)
			if err == nil || p != nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("got %v, %v; want an error (%v)", p, err, tt.want)
			}
		})
	}
}
