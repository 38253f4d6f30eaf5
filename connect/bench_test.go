package connect_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/platformtest"
)

// BenchmarkPlan200 applies 200 connectors to the real worker, then times a
// plan that finds nothing to change. It reports the requests the apply
// made (writes: one per connector) and the requests per no-change plan
// (one listing). The connectors are created STOPPED, so the worker runs no
// tasks for them.
func BenchmarkPlan200(b *testing.B) {
	p := platformtest.Require(b, platformtest.Connect)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	wc := &writeCounter{next: http.DefaultTransport}
	c, err := connect.New(connect.WithURLs(p.ConnectURL), connect.WithHTTPClient(&http.Client{Transport: wc}))
	if err != nil {
		b.Fatal(err)
	}
	ns := platformtest.UniqueName("bench") + "-"
	const n = 200
	desired := make([]connect.Spec, n)
	for i := range desired {
		desired[i] = connect.Spec{
			Name:  fmt.Sprintf("%sconnector-%03d", ns, i),
			State: connect.StateStopped,
			Config: map[string]string{
				"connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
				"file":            "/dev/null",
				"topic":           "bench-unused",
				"tasks.max":       "1",
			},
		}
	}
	opts := connect.PlanOptions{Namespace: ns, Prune: true}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		plan, err := c.Plan(ctx, nil, opts)
		if err == nil {
			_, err = c.Apply(ctx, plan, connect.ApplyOptions{Wait: -1})
		}
		if err != nil {
			b.Errorf("clean up: %v", err)
		}
	})

	plan, err := c.Plan(ctx, desired, opts)
	if err != nil {
		b.Fatal(err)
	}
	before := wc.total.Load()
	wc.take()
	applyStart := time.Now()
	if _, err := c.Apply(ctx, plan, connect.ApplyOptions{Wait: 5 * time.Minute}); err != nil {
		b.Fatal(err)
	}
	applyTime := time.Since(applyStart)
	writes := wc.take()
	for _, w := range writes {
		if !strings.HasPrefix(w, "POST /connectors") {
			b.Fatalf("apply wrote %s; want only one POST per connector", w)
		}
	}
	if len(writes) != n {
		b.Fatalf("apply made %d writes, want %d", len(writes), n)
	}
	applyRequests := wc.total.Load() - before

	b.ReportAllocs()
	start := wc.total.Load()
	for b.Loop() {
		plan, err := c.Plan(ctx, desired, opts)
		if err != nil {
			b.Fatal(err)
		}
		if !plan.Empty() {
			b.Fatalf("plan after apply is not empty:\n%s", plan)
		}
	}
	b.ReportMetric(float64(wc.total.Load()-start)/float64(b.N), "requests/plan")
	b.ReportMetric(float64(len(writes)), "apply-writes")
	b.ReportMetric(float64(applyRequests), "apply-requests")
	b.ReportMetric(applyTime.Seconds(), "apply-s")
}
