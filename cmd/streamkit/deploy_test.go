package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/schema"
	"github.com/streamkit/streamkit/secrets"
	"github.com/streamkit/streamkit/topics"
	"github.com/streamkit/streamkit/validate"
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
	connectors := &connect.Plan{Namespace: "pricing.", Changes: []connect.Change{
		{Name: "pricing.quotes-source", Action: connect.Create},
		{Name: "pricing.old-sink", Action: connect.Delete},
	}}
	done, err := p.apply(ctx, &deployPlan{Subjects: sp, Connectors: connectors}, false)
	if err == nil || !strings.Contains(err.Error(), "apply subjects: ") || !strings.Contains(err.Error(), "(not attempted: connectors, connector deletes)") {
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

// TestSplitDeletesLast: apply writes in the one order and deletes in the
// reverse one, so the plan splits into its writes (unchanged resources
// kept) and its deletes, every part in its own order.
func TestSplitDeletesLast(t *testing.T) {
	dp := &deployPlan{
		Topics: &topics.Plan{Namespace: "pricing.", Prune: true, Changes: []topics.Change{
			{Topic: "pricing.a", Action: topics.Delete}, {Topic: "pricing.b", Action: topics.Create}, {Topic: "pricing.c", Action: topics.Unchanged},
		}},
		Subjects: &schema.SubjectPlan{Namespace: "pricing.", Changes: []schema.SubjectChange{
			{Subject: "pricing.a-value", Action: schema.SubjectDelete}, {Subject: "pricing.b-value", Action: schema.SubjectCreate},
		}},
		ACLs: &topics.ACLPlan{Namespace: "pricing.", Create: make([]topics.Binding, 2), Delete: make([]topics.Binding, 3), Unchanged: 4},
		Connectors: &connect.Plan{Namespace: "pricing.", Changes: []connect.Change{
			{Name: "pricing.a", Action: connect.Delete}, {Name: "pricing.b", Action: connect.Update},
		}},
	}
	w, d := dp.split()
	if len(w.Topics.Changes) != 2 || w.Topics.Changes[0].Topic != "pricing.b" || len(d.Topics.Changes) != 1 || d.Topics.Changes[0].Topic != "pricing.a" || !d.Topics.Prune {
		t.Errorf("topics: writes %+v, deletes %+v", w.Topics, d.Topics)
	}
	if len(w.Subjects.Changes) != 1 || len(d.Subjects.Changes) != 1 || d.Subjects.Changes[0].Subject != "pricing.a-value" {
		t.Errorf("subjects: writes %+v, deletes %+v", w.Subjects, d.Subjects)
	}
	if len(w.ACLs.Create) != 2 || len(w.ACLs.Delete) != 0 || len(d.ACLs.Create) != 0 || len(d.ACLs.Delete) != 3 {
		t.Errorf("acls: writes %+v, deletes %+v", w.ACLs, d.ACLs)
	}
	if len(w.Connectors.Changes) != 1 || w.Connectors.Changes[0].Name != "pricing.b" || len(d.Connectors.Changes) != 1 || d.Connectors.Changes[0].Name != "pricing.a" {
		t.Errorf("connectors: writes %+v, deletes %+v", w.Connectors, d.Connectors)
	}
	if len(dp.Topics.Changes) != 3 || len(dp.ACLs.Delete) != 3 {
		t.Error("split changed the plan it split")
	}
}

// TestRefusalsAreNotUnreachable: a certificate or a credential refused is
// the platform's answer (exit 1), though the errors that carry them are
// net.Errors; a platform that cannot be reached is exit 2.
func TestRefusalsAreNotUnreachable(t *testing.T) {
	refused := &url.Error{Op: "Get", URL: "https://connect:8083", Err: x509.UnknownAuthorityError{}}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("GET /connectors: %w: %w", connect.ErrCertificate, refused), false},
		{fmt.Errorf("vault: %w: %w", secrets.ErrCertificate, refused), false},
		{&connect.APIError{Method: "GET", Path: "/connectors", StatusCode: 401}, false},
		{fmt.Errorf("plan: %w", &topics.AuthError{Broker: "b:9096", Err: topics.ErrCertificateRefused}), false},
		{fmt.Errorf("GET /connectors: %w", connect.ErrUnavailable), true},
		{&url.Error{Op: "Get", URL: "http://connect:8083", Err: syscall.ECONNREFUSED}, true},
	} {
		if got := unreachable(tc.err); got != tc.want {
			t.Errorf("unreachable(%v) = %t, want %t", tc.err, got, tc.want)
		}
	}
}

// TestRouteBindings: a raw binding on topics goes to the clusters of the
// topics it covers, as a grant does; one on anything else, or on no
// declared topic, to the default cluster.
func TestRouteBindings(t *testing.T) {
	data := validate.DataPolicy{
		Levels: []string{"internal", "restricted"},
		Clusters: map[string]validate.ClusterPolicy{
			"standard": {Levels: []string{"internal"}},
			"secure":   {Levels: []string{"internal", "restricted"}, TLS: true},
		},
		DefaultCluster: "standard",
	}
	m := validate.Manifest{
		Topics: []topics.Spec{
			{Name: "pricing.prices.v1", Partitions: 1, ReplicationFactor: 1, Classification: "internal"},
			{Name: "pricing.cards.v1", Partitions: 1, ReplicationFactor: 1, Classification: "restricted"},
		},
		Bindings: []topics.Binding{
			{Principal: "User:a", Resource: "topic", Name: "pricing.cards.v1", Operation: "read", Permission: "allow"},
			{Principal: "User:b", Resource: "topic", Name: "pricing.", Pattern: "prefixed", Operation: "read", Permission: "allow"},
			{Principal: "User:c", Resource: "group", Name: "pricing.", Pattern: "prefixed", Operation: "read", Permission: "allow"},
			{Principal: "User:d", Resource: "topic", Name: "pricing.gone.v1", Operation: "read", Permission: "allow"},
		},
	}
	routes, err := route(data, m)
	if err != nil {
		t.Fatal(err)
	}
	principals := func(cluster string) []string {
		var out []string
		for _, b := range routes[cluster].bindings {
			out = append(out, b.Principal)
		}
		return out
	}
	if got := principals("secure"); !slices.Equal(got, []string{"User:a", "User:b"}) {
		t.Errorf("secure: %v", got)
	}
	if got := principals("standard"); !slices.Equal(got, []string{"User:b", "User:c", "User:d"}) {
		t.Errorf("standard: %v", got)
	}
}
