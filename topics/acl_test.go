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
