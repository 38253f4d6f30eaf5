package topics_test

// Integration tests on the platform's real Kafka. make test runs them with
// STREAMKIT_REQUIRE_PLATFORM=1 against a three-node cluster.

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/topics"
)

func setup(t *testing.T) (context.Context, *topics.Client, platformtest.Platform, string) {
	t.Helper()
	p := platformtest.Require(t, platformtest.Kafka)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	c, err := topics.NewFromOptions([]kgo.Opt{kgo.SeedBrokers(p.Brokers...)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ns := platformtest.UniqueName("it") + "."
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		plan, err := c.Plan(ctx, nil, topics.PlanOptions{Namespace: ns, Prune: true})
		if err == nil {
			_, err = c.Apply(ctx, plan, topics.ApplyOptions{Force: true})
		}
		if err != nil {
			t.Logf("clean up %s: %v", ns, err)
		}
	})
	return ctx, c, p, ns
}

func mustPlan(t *testing.T, ctx context.Context, c *topics.Client, specs []topics.Spec, opts topics.PlanOptions) *topics.Plan {
	t.Helper()
	p, err := c.Plan(ctx, specs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestIntegrationTopicsAsCode(t *testing.T) {
	ctx, c, p, ns := setup(t)
	opts := topics.PlanOptions{Namespace: ns, Prune: true}
	specs := []topics.Spec{
		{Name: ns + "orders.v1", Partitions: 3, ReplicationFactor: 1,
			Configs: map[string]string{"retention.ms": "86400000", "cleanup.policy": "delete", "min.insync.replicas": "1"}},
		{Name: ns + "prices.v1", Partitions: 1, ReplicationFactor: 1, Configs: map[string]string{"cleanup.policy": "compact"}},
		{Name: ns + "old.v1", Partitions: 1, ReplicationFactor: 1},
	}
	if _, err := c.Apply(ctx, mustPlan(t, ctx, c, specs, opts), topics.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if again := mustPlan(t, ctx, c, specs, opts); !again.Empty() {
		t.Fatalf("second plan:\n%s", again)
	}

	// Drift: a config changed out of band shows as exactly that change;
	// a key set out of band that the spec does not list is left alone.
	retention, bytes := "3600000", "2097152"
	if _, err := c.Admin().AlterTopicConfigs(ctx, []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: "retention.ms", Value: &retention},
		{Op: kadm.SetConfig, Name: "max.message.bytes", Value: &bytes},
	}, ns+"orders.v1"); err != nil {
		t.Fatal(err)
	}
	// The brokers learn of the change a moment apart; the plan shows it
	// once the broker it asks has.
	var drift *topics.Plan
	for deadline := time.Now().Add(30 * time.Second); ; {
		if drift = mustPlan(t, ctx, c, specs, opts); !drift.Empty() || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, up, _, _, _ := drift.Count(); up != 1 || !strings.Contains(drift.String(), `~ retention.ms: "3600000" -> "86400000"`) ||
		strings.Contains(drift.String(), "max.message.bytes") {
		t.Fatalf("drift plan:\n%s", drift)
	}
	if _, err := c.Apply(ctx, drift, topics.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if again := mustPlan(t, ctx, c, specs, opts); !again.Empty() {
		t.Fatalf("after fixing drift:\n%s", again)
	}
	specs[0].ResetUnlisted = true
	reset := mustPlan(t, ctx, c, specs, opts)
	if !strings.Contains(reset.String(), `- max.message.bytes = "2097152" (back to the default)`) {
		t.Fatalf("reset plan:\n%s", reset)
	}
	if _, err := c.Apply(ctx, reset, topics.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}

	// Partitions grow; they never shrink.
	specs[0].Partitions = 6
	if _, err := c.Apply(ctx, mustPlan(t, ctx, c, specs, opts), topics.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	specs[0].Partitions = 2
	shrink := mustPlan(t, ctx, c, specs, opts)
	if r := shrink.Refusals(); len(r) != 1 || !strings.Contains(r[0].Reason, "partitions 6 -> 2") {
		t.Fatalf("shrink plan:\n%s", shrink)
	}
	if _, err := c.Apply(ctx, shrink, topics.ApplyOptions{}); !errors.Is(err, topics.ErrRefused) {
		t.Fatalf("apply shrink: got %v, want ErrRefused", err)
	}
	specs[0].Partitions = 6

	// Prune: a topic with a fresh write is dangerous and needs Force.
	cl, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: ns + "old.v1", Value: []byte("recent")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	prune := mustPlan(t, ctx, c, specs[:2], opts)
	if !strings.Contains(prune.String(), "- delete "+ns+"old.v1") || !strings.Contains(prune.String(), "last write") {
		t.Fatalf("prune plan:\n%s", prune)
	}
	if _, err := c.Apply(ctx, prune, topics.ApplyOptions{}); !errors.Is(err, topics.ErrDangerousDelete) {
		t.Fatalf("apply without force: got %v", err)
	}
	if _, err := c.Apply(ctx, prune, topics.ApplyOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if again := mustPlan(t, ctx, c, specs[:2], opts); !again.Empty() {
		t.Fatalf("after prune:\n%s", again)
	}
}

func TestIntegrationReplicationIncrease(t *testing.T) {
	ctx, c, _, ns := setup(t)
	brokers, err := c.Admin().ListBrokers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(brokers) < 3 {
		platformtest.SkipOrFail(t, "needs a three-broker cluster (STREAMKIT_KAFKA_NODES=3 scripts/platform up)")
	}
	opts := topics.PlanOptions{Namespace: ns}
	specs := []topics.Spec{{Name: ns + "replicated.v1", Partitions: 4, ReplicationFactor: 1}}
	if _, err := c.Apply(ctx, mustPlan(t, ctx, c, specs, opts), topics.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	specs[0].ReplicationFactor = 3
	p := mustPlan(t, ctx, c, specs, opts)
	if !strings.Contains(p.String(), "replication factor: 1 -> 3 (reassignment)") {
		t.Fatalf("plan:\n%s", p)
	}
	if _, err := c.Apply(ctx, p, topics.ApplyOptions{Wait: 2 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	md, err := c.Admin().Metadata(ctx, ns+"replicated.v1")
	if err != nil {
		t.Fatal(err)
	}
	for _, pd := range md.Topics[ns+"replicated.v1"].Partitions {
		if len(pd.Replicas) != 3 || len(pd.ISR) != 3 {
			t.Fatalf("partition %d: replicas %v, isr %v", pd.Partition, pd.Replicas, pd.ISR)
		}
	}
	if again := mustPlan(t, ctx, c, specs, opts); !again.Empty() {
		t.Fatalf("after reassignment:\n%s", again)
	}
	specs[0].ReplicationFactor = 2
	if r := mustPlan(t, ctx, c, specs, opts).Refusals(); len(r) != 1 || !strings.Contains(r[0].Reason, "replication factor 3 -> 2") {
		t.Fatalf("decrease: %+v", r)
	}
}
