package platformtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/streamkit/streamkit/platformtest"
)

// TestIntegrationStartExternal takes the platform scripts/platform runs
// through Start, the external backend, and uses every ready-made client
// once.
func TestIntegrationStartExternal(t *testing.T) {
	p := platformtest.StartT(t,
		platformtest.WithComponents(platformtest.Kafka, platformtest.SchemaRegistry, platformtest.Connect, platformtest.Vault))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if p.Backend != platformtest.BackendExternal || p.ContainerNetwork != "" {
		t.Fatalf("backend %v, network %q", p.Backend, p.ContainerNetwork)
	}
	if _, err := p.Clients.Admin.ListBrokers(ctx); err != nil {
		t.Errorf("kafka: %v", err)
	}
	if _, err := p.Clients.Registry.Client().Subjects(ctx); err != nil {
		t.Errorf("registry: %v", err)
	}
	if _, err := p.Clients.Connect.List(ctx); err != nil {
		t.Errorf("connect: %v", err)
	}
	if _, err := p.Clients.Vault.API().Sys().Health(); err != nil {
		t.Errorf("vault: %v", err)
	}
}
