package validate

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/topics"
)

func topic(name string, kv ...string) topics.Spec {
	s := topics.Spec{Name: name, Partitions: 6, ReplicationFactor: 3, Configs: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		s.Configs[kv[i]] = kv[i+1]
	}
	return s
}

func withTopics(ts ...topics.Spec) Manifest { return Manifest{Topics: ts} }

func withGrants(gs ...topics.Grant) Manifest { return Manifest{ACLs: gs} }

func TestRuleTopics(t *testing.T) {
	const res = "topic pricing.orders.v1"
	policy := Policy{Namespace: "pricing.", Topics: topics.Policy{
		NamePattern:     `[a-z]+\.[a-z-]+\.v[0-9]+`,
		MinPartitions:   3,
		MaxRetention:    30 * 24 * time.Hour,
		CleanupPolicies: []string{"delete", "compact"},
	}}
	few := topic("pricing.orders.v1")
	few.Partitions = 1
	runRuleCases(t, []ruleCase{
		{rule: "TOPIC001", name: "violations", policy: policy,
			m: withTopics(few,
				topic("pricing.Refunds", "min.insync.replicas", "4", "retention.ms", "-1", "cleanup.policy", "compact,delete")),
			want: []wantFinding{
				{res, ""},
				{"topic pricing.Refunds", ""},
				{"topic pricing.Refunds", "min.insync.replicas"},
				{"topic pricing.Refunds", "retention.ms"},
				{"topic pricing.Refunds", "cleanup.policy"},
			}},
		{rule: "TOPIC001", name: "within policy", policy: policy,
			m: withTopics(topic("pricing.orders.v1", "min.insync.replicas", "2", "retention.ms", "604800000", "cleanup.policy", "delete"))},

		{rule: "TOPIC002", name: "duplicate", m: withTopics(topic("pricing.orders.v1"), topic("pricing.orders.v1")),
			want: []wantFinding{{res, ""}}},
		{rule: "TOPIC002", name: "unique", m: withTopics(topic("pricing.orders.v1"), topic("pricing.refunds.v1"))},

		{rule: "TOPIC003", name: "outside", policy: policy, m: withTopics(topic("orders.v1")),
			want: []wantFinding{{"topic orders.v1", ""}}},
		{rule: "TOPIC003", name: "inside", policy: policy, m: withTopics(topic("pricing.orders.v1"))},
		{rule: "TOPIC003", name: "no namespace", m: withTopics(topic("orders.v1"))},

		{rule: "ACL001", name: "bare grant principal",
			m:    withGrants(topics.Grant{Principal: "pricing-svc", Role: topics.RoleProducer, Topics: []string{"pricing.orders.v1"}}),
			want: []wantFinding{{"acl pricing-svc", "principal"}}},
		{rule: "ACL001", name: "empty name in binding",
			m:    Manifest{Bindings: []topics.Binding{{Principal: "User:", Resource: "topic", Name: "pricing.orders.v1", Operation: "read"}}},
			want: []wantFinding{{"binding User:", "principal"}}},
		{rule: "ACL001", name: "well-formed",
			m: Manifest{
				ACLs:     []topics.Grant{{Principal: "User:CN=pricing,O=acme", Role: topics.RoleProducer, Topics: []string{"pricing.orders.v1"}}},
				Bindings: []topics.Binding{{Principal: "User:pricing-svc", Resource: "topic", Name: "pricing.orders.v1", Operation: "read"}},
			}},

		{rule: "ACL002", name: "unknown role",
			m:    withGrants(topics.Grant{Principal: "User:pricing-svc", Role: "writer", Topics: []string{"pricing.orders.v1"}}),
			want: []wantFinding{{"acl User:pricing-svc", "role"}}},
		{rule: "ACL002", name: "known roles",
			m: withGrants(
				topics.Grant{Principal: "User:a", Role: topics.RoleProducer, Topics: []string{"pricing.orders.v1"}},
				topics.Grant{Principal: "User:b", Role: topics.RoleConsumer, Topics: []string{"pricing.orders.v1"}, Groups: []string{"b"}},
				topics.Grant{Principal: "User:c", Role: topics.RoleAdmin, Topics: []string{"pricing.*"}})},

		{rule: "ACL003", name: "consumer without groups",
			m:    withGrants(topics.Grant{Principal: "User:pricing-svc", Role: topics.RoleConsumer, Topics: []string{"pricing.orders.v1"}}),
			want: []wantFinding{{"acl User:pricing-svc", ""}}},
		{rule: "ACL003", name: "producer without topics",
			m:    withGrants(topics.Grant{Principal: "User:pricing-svc", Role: topics.RoleProducer}),
			want: []wantFinding{{"acl User:pricing-svc", ""}}},
		{rule: "ACL003", name: "left to ACL001 and ACL002",
			m: withGrants(
				topics.Grant{Principal: "pricing-svc", Role: topics.RoleProducer},
				topics.Grant{Principal: "User:pricing-svc", Role: "writer"})},
		{rule: "ACL003", name: "expands",
			m: withGrants(topics.Grant{Principal: "User:pricing-svc", Role: topics.RoleConsumer,
				Topics: []string{"pricing.orders.v1"}, Groups: []string{"pricing-svc"}})},

		{rule: "ACL004", name: "beyond the namespace", policy: policy,
			m: Manifest{
				ACLs: []topics.Grant{
					{Principal: "User:a", Role: topics.RoleConsumer, Topics: []string{"*"}, Groups: []string{"pricing.a"}},
					{Principal: "User:b", Role: topics.RoleProducer, Topics: []string{"pricing.orders.v1", "billing.invoices.v1"}},
					{Principal: "User:c", Role: topics.RoleAdmin, Topics: []string{"pric*"}, Groups: []string{"billing*"}},
				},
				Bindings: []topics.Binding{
					{Principal: "User:d", Resource: "topic", Name: "billing.", Pattern: "prefixed", Operation: "read"},
					{Principal: "User:d", Resource: "cluster", Name: "kafka-cluster", Operation: "idempotent_write"},
				},
			},
			want: []wantFinding{
				{"acl User:a", "topics"}, {"acl User:b", "topics"}, {"acl User:c", "topics"}, {"acl User:c", "groups"},
				{"binding User:d", "name"},
			}},
		{rule: "ACL004", name: "inside", policy: policy,
			m: Manifest{
				ACLs: []topics.Grant{
					{Principal: "User:a", Role: topics.RoleConsumer, Topics: []string{"pricing.*"}, Groups: []string{"pricing.a"}},
					// A producer's groups expand to no binding.
					{Principal: "User:b", Role: topics.RoleProducer, Topics: []string{"pricing.orders.v1"}, Groups: []string{"billing"}},
				},
				Bindings: []topics.Binding{{Principal: "User:d", Resource: "transactional_id", Name: "pricing.tx", Operation: "write"}},
			}},
		{rule: "ACL004", name: "no namespace",
			m: withGrants(topics.Grant{Principal: "User:a", Role: topics.RoleConsumer, Topics: []string{"*"}, Groups: []string{"a"}})},
	})
}

// TestRuleACLNamespaceAsPlanACLs checks that ACL004 refuses exactly what
// topics.PlanACLs refuses as outside the namespace, so that validate finds
// it first, with a position. PlanACLs checks the namespace before it asks
// the cluster, so a client of no broker and an ended context do.
func TestRuleACLNamespaceAsPlanACLs(t *testing.T) {
	tc, err := topics.NewFromOptions([]kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	const ns = "pricing."
	grant := func(role topics.Role, ts, gs []string) Manifest {
		return withGrants(topics.Grant{Principal: "User:x", Role: role, Topics: ts, Groups: gs})
	}
	binding := func(resource, name, pattern string) Manifest {
		return Manifest{Bindings: []topics.Binding{{Principal: "User:x", Resource: resource, Name: name, Pattern: pattern, Operation: "all"}}}
	}
	for name, m := range map[string]Manifest{
		"every topic":             grant(topics.RoleConsumer, []string{"*"}, []string{"pricing.g"}),
		"another team's topic":    grant(topics.RoleProducer, []string{"billing.invoices.v1"}, nil),
		"another team's prefix":   grant(topics.RoleAdmin, []string{"billing.*"}, nil),
		"shorter prefix":          grant(topics.RoleAdmin, []string{"pricing*"}, nil),
		"namespace prefix":        grant(topics.RoleAdmin, []string{"pricing.*"}, []string{"pricing.*"}),
		"another team's group":    grant(topics.RoleConsumer, []string{"pricing.t"}, []string{"billing"}),
		"a producer's groups":     grant(topics.RoleProducer, []string{"pricing.t"}, []string{"billing"}),
		"inside":                  grant(topics.RoleConsumer, []string{"pricing.t"}, []string{"pricing.g"}),
		"literal star binding":    binding("topic", "*", "literal"),
		"prefixed binding":        binding("group", "billing", "prefixed"),
		"transactional id inside": binding("transactional_id", "pricing.tx", "literal"),
		"cluster binding":         binding("cluster", "kafka-cluster", ""),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tc.PlanACLs(ctx, m.ACLs, m.Bindings, topics.PlanOptions{Namespace: ns})
			planRefuses := errors.Is(err, topics.ErrOutsideNamespace)
			fs := Check(&Context{Manifest: &m, Policy: Policy{Namespace: ns}}, []Rule{builtinRule(t, "ACL004")}, nil)
			if got := len(fs) > 0; got != planRefuses {
				t.Errorf("ACL004 reports %v, PlanACLs refuses %v (%v)", fs, planRefuses, err)
			}
		})
	}
}

func TestRuleTopicPolicyInvalid(t *testing.T) {
	m := withTopics(topic("pricing.orders.v1"))
	ctx := &Context{Manifest: &m, Policy: Policy{Topics: topics.Policy{NamePattern: "("}}}
	got := Check(ctx, []Rule{builtinRule(t, "TOPIC001")}, nil)
	if len(got) != 1 || got[0].Resource != "" || !strings.Contains(got[0].Message, "topic policy") {
		t.Errorf("got %+v, want one finding about the policy", got)
	}
}
