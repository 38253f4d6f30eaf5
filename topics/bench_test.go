package topics_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/topics"
)

// requestCounter counts the requests a client writes to brokers.
type requestCounter struct{ n atomic.Int64 }

func (r *requestCounter) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if err == nil && key != 18 { // ApiVersions is connection set-up, not a request of the plan
		r.n.Add(1)
	}
}

var _ kgo.HookBrokerWrite = (*requestCounter)(nil)

// BenchmarkPlan1000Topics creates 1,000 topics with configs on the real
// broker in one apply, then times a plan that finds nothing to change. It
// reports the admin requests per plan, which do not depend on the topic
// count.
func BenchmarkPlan1000Topics(b *testing.B) {
	p := platformtest.Require(b, platformtest.Kafka)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	rc := &requestCounter{}
	c, err := topics.NewFromOptions([]kgo.Opt{kgo.SeedBrokers(p.Brokers...), kgo.WithHooks(rc)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close) // after the clean-up below, which still needs it
	ns := platformtest.UniqueName("bench") + "."
	opts := topics.PlanOptions{Namespace: ns, Prune: true}
	const n = 1000
	specs := make([]topics.Spec, n)
	for i := range specs {
		specs[i] = topics.Spec{Name: fmt.Sprintf("%st%04d", ns, i), Partitions: 1, ReplicationFactor: 1,
			Configs: map[string]string{"retention.ms": "3600000", "cleanup.policy": "delete", "segment.bytes": "1048576"}}
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		plan, err := c.Plan(ctx, nil, opts)
		if err == nil {
			_, err = c.Apply(ctx, plan, topics.ApplyOptions{Force: true})
		}
		if err != nil {
			b.Errorf("clean up: %v", err)
		}
	})
	plan, err := c.Plan(ctx, specs, opts)
	if err != nil {
		b.Fatal(err)
	}
	before := rc.n.Load()
	applyStart := time.Now()
	if _, err := c.Apply(ctx, plan, topics.ApplyOptions{}); err != nil {
		b.Fatal(err)
	}
	applyTime := time.Since(applyStart)
	applyRequests := rc.n.Load() - before

	b.ReportAllocs()
	start := rc.n.Load()
	for b.Loop() {
		plan, err := c.Plan(ctx, specs, opts)
		if err != nil {
			b.Fatal(err)
		}
		if !plan.Empty() {
			b.Fatalf("plan after apply not empty:\n%s", plan)
		}
	}
	b.ReportMetric(float64(rc.n.Load()-start)/float64(b.N), "requests/plan")
	b.ReportMetric(float64(applyRequests), "apply-requests")
	b.ReportMetric(applyTime.Seconds(), "apply-s")
}
