package platformtest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// EmbeddedPlatform is a platform that runs in this process: a franz-go kfake Kafka
// cluster and an srfake schema registry, both on loopback ports. It has no
// Connect worker, no Vault and no SASL listeners.
//
// EmbeddedPlatform is safe for concurrent use; Close is idempotent.
type EmbeddedPlatform struct {
	Platform

	cluster  *kfake.Cluster
	registry *srfake.Registry
	once     sync.Once
}

// StartEmbedded starts an in-process Kafka cluster with the given number of
// brokers (1 when brokers < 1) and an in-process schema registry. It starts
// their listener goroutines; Close stops them.
func StartEmbedded(brokers int) (*EmbeddedPlatform, error) {
	if brokers < 1 {
		brokers = 1
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(brokers), kfake.DefaultNumPartitions(1))
	if err != nil {
		return nil, fmt.Errorf("start embedded kafka: %w", err)
	}
	registry := srfake.New()
	return &EmbeddedPlatform{
		Platform: Platform{
			Brokers:           cluster.ListenAddrs(),
			SchemaRegistryURL: registry.URL(),
		},
		cluster:  cluster,
		registry: registry,
	}, nil
}

// StartEmbeddedT is StartEmbedded for tests: it fails tb on error and closes
// the platform when the test ends.
func StartEmbeddedT(tb testing.TB, brokers int) *EmbeddedPlatform {
	tb.Helper()
	e, err := StartEmbedded(brokers)
	if err != nil {
		tb.Fatalf("%v", err)
	}
	tb.Cleanup(e.Close)
	return e
}

// Cluster is the escape hatch to the kfake cluster, e.g. to inject faults
// with ControlKey.
func (e *EmbeddedPlatform) Cluster() *kfake.Cluster { return e.cluster }

// Registry is the escape hatch to the srfake registry.
func (e *EmbeddedPlatform) Registry() *srfake.Registry { return e.registry }

// Close stops the cluster and the registry. It blocks until both are shut
// down and may be called more than once.
func (e *EmbeddedPlatform) Close() {
	e.once.Do(func() {
		e.cluster.Close()
		e.registry.Close()
	})
}
