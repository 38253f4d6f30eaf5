package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/schema"
)

// A registry that goes away between plan and apply: apply stops at the
// subjects, says which parts it did not attempt, and exits 2 (an outage,
// not a finding); the topics before it stay applied.
func TestApplyRegistryGoneMidway(t *testing.T) {
	ctx := context.Background()
	fake := srfake.New()
	reg, err := schema.NewRegistryFromOptions(sr.URLs(fake.URL()))
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.Parse(`{"type":"record","name":"Price","fields":[{"name":"sku","type":"string"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := reg.PlanSubjects(ctx, []schema.SubjectSpec{{Subject: "pricing.prices.v1-value", Schema: s}}, schema.SubjectPlanOptions{Namespace: "pricing."})
	if err != nil {
		t.Fatal(err)
	}
	fake.Close()

	p := &clients{registry: reg}
	done, err := p.apply(ctx, &deployPlan{Subjects: sp, Connectors: &connect.Plan{Namespace: "pricing."}}, false)
	if err == nil || !strings.Contains(err.Error(), "apply subjects: ") || !strings.Contains(err.Error(), "(not attempted: acls, connectors)") {
		t.Fatalf("apply with the registry gone: %v", err)
	}
	if !errors.Is(err, schema.ErrUnavailable) || applyCode(err) != exitError {
		t.Errorf("error %v: want ErrUnavailable and exit 2, got exit %d", err, applyCode(err))
	}
	if done == nil || done.Subjects == nil || len(done.Subjects.Registered) != 0 {
		t.Errorf("applied: %+v", done)
	}
}

// TestStatsKinds: -stats counts requests by kind, with the names in
// their paths replaced, so that counts add up across resources.
func TestStatsKinds(t *testing.T) {
	s := newStats("pricing.")
	for path, want := range map[string]string{
		"/connectors":                          "/connectors",
		"/connectors/pricing.db-source/status": "/connectors/{name}/status",
		"/connector-plugins/org.apache.kafka.connect.file.FileStreamSinkConnector/config/validate": "/connector-plugins/{class}/config/validate",
		"/apis/ccompat/v7/subjects/pricing.prices.v1-value/versions/12":                            "/apis/ccompat/v7/subjects/{name}/versions/{n}",
		"/apis/ccompat/v7/config/pricing.prices.v1-value":                                          "/apis/ccompat/v7/config/{name}",
	} {
		if got := s.kind(path); got != want {
			t.Errorf("kind(%q) = %q, want %q", path, got, want)
		}
	}
	s.add("connect", "GET /connectors")
	s.add("connect", "GET /connectors")
	s.add("kafka", "Metadata")
	var b strings.Builder
	s.write(&b)
	if !strings.Contains(b.String(), "stats: connect 2 requests: GET /connectors=2\n") || !strings.Contains(b.String(), "stats: kafka 1 requests: Metadata=1\n") {
		t.Errorf("stats:\n%s", b.String())
	}
}
