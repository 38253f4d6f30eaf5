// Package embedded runs a streamkit platform in this process for fast
// tests: a franz-go kfake Kafka cluster and an srfake schema registry, both
// on loopback ports, behind the same *platformtest.Platform and ready-made
// clients as the other backends.
//
//	func TestOrders(t *testing.T) {
//		p := embedded.StartT(t)
//		platformtest.CreateTopicsT(t, p.Clients.Admin, 3, "orders")
//		prod, err := schema.NewProducer[Order](ctx, p.Clients.Registry, "orders",
//			schema.WithClientOpts(kgo.SeedBrokers(p.Brokers...)))
//		...
//	}
//
// It links kfake and srfake on top of what platformtest links, and no
// Docker client. A program that wants an in-process platform of its own,
// as examples/quickstart does, uses kfake and srfake directly: this
// package, like platformtest, links the testing package.
//
// The embedded platform is a fake: it has no Connect worker, no Vault and
// no SASL listeners, kfake has no replication and srfake answers every
// compatibility check with "compatible". It never stands in for the real
// platform in an integration test.
package embedded

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/streamkit/streamkit/platformtest"
)

// Start starts an in-process Kafka cluster and schema registry (or uses
// those WithCluster and WithRegistry give) and returns them as a platform
// with ready-made clients, once Kafka answers. kfake and srfake each run
// listener goroutines; the platform's Close stops them, unless they were
// given, and closes the clients. When Start fails, it has already stopped
// what it started.
//
// Start is safe to call from several goroutines; each call starts its own
// cluster and registry.
func Start(ctx context.Context, opts ...Option) (*platformtest.Platform, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()

	p := &platformtest.Platform{Backend: platformtest.BackendEmbedded}
	ok := false
	defer func() {
		if !ok {
			_ = p.Close()
		}
	}()
	cluster := cfg.cluster
	if cluster == nil {
		var err error
		cluster, err = kfake.NewCluster(kfake.NumBrokers(cfg.brokers), kfake.DefaultNumPartitions(1))
		if err != nil {
			return nil, fmt.Errorf("platformtest: start embedded kafka: %w", err)
		}
		p.OnClose(func(context.Context) error { cluster.Close(); return nil })
	}
	p.Brokers = cluster.ListenAddrs()
	if slices.Contains(cfg.components, platformtest.SchemaRegistry) {
		reg := cfg.registry
		if reg == nil {
			reg = srfake.New()
			p.OnClose(func(context.Context) error { reg.Close(); return nil })
		}
		p.SchemaRegistryURL = reg.URL()
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

// StartT is Start for tests: it fails tb on error and closes the platform
// when tb ends.
func StartT(tb testing.TB, opts ...Option) *platformtest.Platform {
	tb.Helper()
	p, err := Start(context.Background(), opts...)
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
