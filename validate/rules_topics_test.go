package validate

import (
	"strings"
	"testing"
	"time"

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
	})
}

func TestRuleTopicPolicyInvalid(t *testing.T) {
	m := withTopics(topic("pricing.orders.v1"))
	ctx := &Context{Manifest: &m, Policy: Policy{Topics: topics.Policy{NamePattern: "("}}}
	got := Check(ctx, []Rule{builtinRule(t, "TOPIC001")}, nil)
	if len(got) != 1 || got[0].Resource != "" || !strings.Contains(got[0].Message, "topic policy") {
		t.Errorf("got %+v, want one finding about the policy", got)
	}
}
