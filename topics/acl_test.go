package topics

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestGrantBindings(t *testing.T) {
	tests := []struct {
		grant Grant
		want  []string
	}{
		{Grant{Principal: "User:orders-svc", Role: RoleProducer, Topics: []string{"pricing.orders.v1"}}, []string{
			"ALLOW User:orders-svc WRITE on LITERAL TOPIC:pricing.orders.v1 from *",
			"ALLOW User:orders-svc DESCRIBE on LITERAL TOPIC:pricing.orders.v1 from *",
			"ALLOW User:orders-svc IDEMPOTENT_WRITE on LITERAL CLUSTER:kafka-cluster from *",
		}},
		{Grant{Principal: "User:billing", Role: RoleConsumer, Topics: []string{"pricing.*"}, Groups: []string{"billing-*"}}, []string{
			"ALLOW User:billing READ on PREFIXED TOPIC:pricing. from *",
			"ALLOW User:billing DESCRIBE on PREFIXED TOPIC:pricing. from *",
			"ALLOW User:billing READ on PREFIXED GROUP:billing- from *",
		}},
		{Grant{Principal: "User:pricing-admin", Role: RoleAdmin, Topics: []string{"pricing.*"}, Groups: []string{"pricing-*"}, Host: "10.0.0.1"}, []string{
			"ALLOW User:pricing-admin ALL on PREFIXED TOPIC:pricing. from 10.0.0.1",
			"ALLOW User:pricing-admin ALL on PREFIXED GROUP:pricing- from 10.0.0.1",
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.grant.Role), func(t *testing.T) {
			bs, err := tt.grant.Bindings()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, b := range bs {
				got = append(got, b.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
	for name, g := range map[string]Grant{
		"unknown role":      {Principal: "User:x", Role: "reader", Topics: []string{"t"}},
		"consumer no group": {Principal: "User:x", Role: RoleConsumer, Topics: []string{"t"}},
		"producer no topic": {Principal: "User:x", Role: RoleProducer},
		"principal no type": {Principal: "x", Role: RoleProducer, Topics: []string{"t"}},
	} {
		if _, err := g.Bindings(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := (Binding{Principal: "User:x", Resource: "broker", Name: "t", Operation: "read"}).normalize(); err == nil {
		t.Error("unknown resource accepted")
	}
}

func TestACLPlanApply(t *testing.T) {
	c, _ := newFake(t, 1)
	ctx := ctxT(t)
	grants := []Grant{
		{Principal: "User:orders-svc", Role: RoleProducer, Topics: []string{"pricing.orders.v1"}},
		{Principal: "User:billing", Role: RoleConsumer, Topics: []string{"pricing.*"}, Groups: []string{"pricing-billing"}},
	}
	raw := []Binding{{Principal: "User:auditor", Resource: "topic", Name: "pricing.audit", Operation: "describe"}}
	opts := PlanOptions{Namespace: "pricing", Prune: true}

	p, err := c.PlanACLs(ctx, grants, raw, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Create) != 7 || len(p.Delete) != 0 {
		t.Fatalf("first plan:\n%s", p)
	}
	if err := c.ApplyACLs(ctx, p); err != nil {
		t.Fatal(err)
	}
	if again, err := c.PlanACLs(ctx, grants, raw, opts); err != nil || !again.Empty() || again.Unchanged != 7 {
		t.Fatalf("second plan (%v):\n%s", err, again)
	}

	// Someone else's binding outside the namespace is never touched; a
	// binding of the namespace no longer desired is pruned.
	other := &ACLPlan{Create: []Binding{mustNormalize(t, Binding{Principal: "User:other", Resource: "topic", Name: "other.t", Operation: "read"})}}
	if err := c.ApplyACLs(ctx, other); err != nil {
		t.Fatal(err)
	}
	p, err = c.PlanACLs(ctx, grants, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Delete) != 1 || p.Delete[0].Principal != "User:auditor" || len(p.Create) != 0 {
		t.Fatalf("prune plan:\n%s", p)
	}
	if err := c.ApplyACLs(ctx, p); err != nil {
		t.Fatal(err)
	}
	live, err := c.describeACLs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 7 {
		t.Fatalf("after prune: %v", live)
	}
	b, _ := json.Marshal(p)
	if !strings.Contains(string(b), `"delete":[{`) {
		t.Fatalf("json: %s", b)
	}

	if _, err := c.PlanACLs(ctx, []Grant{{Principal: "User:x", Role: RoleProducer, Topics: []string{"elsewhere.t"}}}, nil, opts); !errors.Is(err, ErrOutsideNamespace) {
		t.Fatalf("outside namespace: got %v", err)
	}
}

// TestACLPruneClusterBindings: a prune with no grants removes every
// binding the namespace's grants created, the producer's IDEMPOTENT_WRITE
// on the cluster included, and no cluster binding of another namespace's
// principal, not even of one this namespace grants a role.
func TestACLPruneClusterBindings(t *testing.T) {
	c, _ := newFake(t, 1)
	ctx := ctxT(t)
	planApply := func(grants []Grant, ns string) *ACLPlan {
		t.Helper()
		p, err := c.PlanACLs(ctx, grants, nil, PlanOptions{Namespace: ns, Prune: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.ApplyACLs(ctx, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	idempotent := func(principal string) Binding {
		return mustNormalize(t, Binding{Principal: principal, Resource: "cluster", Operation: "idempotent_write"})
	}

	// The billing team's producer, applied by billing's plan.
	billing := []Grant{{Principal: "User:billing.invoicer", Role: RoleProducer, Topics: []string{"billing.invoices.v1"}}}
	planApply(billing, "billing.")

	// Pricing's producer, billing's producer reading pricing's topics,
	// and a producer whose principal is outside the namespace.
	pricing := []Grant{
		{Principal: "User:pricing.publisher", Role: RoleProducer, Topics: []string{"pricing.orders.v1"}},
		{Principal: "User:billing.invoicer", Role: RoleConsumer, Topics: []string{"pricing.*"}, Groups: []string{"pricing.billing"}},
		{Principal: "User:legacy-svc", Role: RoleProducer, Topics: []string{"pricing.legacy"}},
	}
	p := planApply(pricing, "pricing.")
	if len(p.Create) != 9 || len(p.Delete) != 0 {
		t.Fatalf("first pricing plan: want 9 creations and no deletion\n%s", p)
	}

	p, err := c.PlanACLs(ctx, nil, nil, PlanOptions{Namespace: "pricing.", Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[Binding]bool{}
	for _, b := range p.Delete {
		got[b] = true
	}
	if !got[idempotent("User:pricing.publisher")] {
		t.Fatalf("prune plan does not delete the publisher's IDEMPOTENT_WRITE:\n%s", p)
	}
	if got[idempotent("User:billing.invoicer")] || got[idempotent("User:legacy-svc")] {
		t.Fatalf("prune plan deletes a cluster binding of a principal outside the namespace:\n%s", p)
	}
	// The publisher's three bindings, the consumer's three and the
	// legacy producer's two on the namespace's topic.
	if len(p.Delete) != 8 || len(p.Create) != 0 {
		t.Fatalf("prune plan: want 8 deletions\n%s", p)
	}
	if err := c.ApplyACLs(ctx, p); err != nil {
		t.Fatal(err)
	}
	if again, err := c.PlanACLs(ctx, nil, nil, PlanOptions{Namespace: "pricing.", Prune: true}); err != nil || !again.Empty() {
		t.Fatalf("plan after the prune (%v):\n%s", err, again)
	}

	live, err := c.describeACLs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	left := map[Binding]bool{}
	for _, b := range live {
		left[b] = true
	}
	if len(live) != 4 || !left[idempotent("User:billing.invoicer")] || !left[idempotent("User:legacy-svc")] {
		t.Fatalf("after the prune: %v, want billing's three bindings and legacy-svc's IDEMPOTENT_WRITE", live)
	}
	if p, err := c.PlanACLs(ctx, billing, nil, PlanOptions{Namespace: "billing.", Prune: true}); err != nil || !p.Empty() {
		t.Fatalf("billing's plan after pricing's prune (%v):\n%s", err, p)
	}
}

func mustNormalize(t *testing.T, b Binding) Binding {
	t.Helper()
	n, err := b.normalize()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestIsAuthorizationError(t *testing.T) {
	if !IsAuthorizationError(kerr.TopicAuthorizationFailed) || !IsAuthorizationError(kerr.GroupAuthorizationFailed) {
		t.Fatal("authorization errors not recognised")
	}
	if IsAuthorizationError(kerr.UnknownTopicOrPartition) || IsAuthorizationError(nil) {
		t.Fatal("other errors recognised")
	}
}
