package validate

import (
	"testing"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/topics"
)

func TestRuleNamespace(t *testing.T) {
	policy := Policy{Namespace: "pricing."}
	runRuleCases(t, []ruleCase{
		{rule: "NAMESPACE001", name: "prefixed twice", policy: policy,
			m: Manifest{
				Topics:     []topics.Spec{topic("pricing.pricing.prices.v1"), topic("pricing.prices.v1")},
				Connectors: []connect.Spec{{Name: "pricing.pricing-sink"}},
				Schemas:    []SchemaSpec{{Subject: "pricing.pricing.prices.v1-value"}},
				ACLs: []topics.Grant{{Principal: "User:pricing-svc", Role: topics.RoleConsumer,
					Topics: []string{"pricing.pricing.*"}, Groups: []string{"pricing.pricing"}}},
			},
			want: []wantFinding{
				{"topic pricing.pricing.prices.v1", ""}, {"connector pricing.pricing-sink", ""},
				{"schema pricing.pricing.prices.v1-value", ""},
				{"acl User:pricing-svc", "topics"}, {"acl User:pricing-svc", "groups"},
			}},
		{rule: "NAMESPACE001", name: "once", policy: policy,
			m: Manifest{
				Topics:     []topics.Spec{topic("pricing.prices.v1"), topic("pricing.pricingengine.v1")},
				Connectors: []connect.Spec{{Name: "pricing.sink"}},
			}},
		{rule: "NAMESPACE001", name: "no namespace", m: withTopics(topic("pricing.pricing.prices.v1"))},
	})
}

func TestDoubledNamespace(t *testing.T) {
	for _, tt := range []struct {
		ns, name string
		want     bool
	}{
		{"pricing.", "pricing.pricing.prices.v1", true},
		{"pricing", "pricing.pricing.prices.v1", true},
		{"pricing", "pricing-pricing-sink", true},
		{"pricing-", "pricing-pricing", true},
		{"pricing.", "pricing.prices.v1", false},
		{"pricing.", "pricing.pricingengine.v1", false},
		{"pricing", "pricingpricing", true},
		{"pricing", "pricing", false},
		{"pricing.", "billing.pricing.v1", false},
		{".", "..x", false},
	} {
		if got := (Policy{Namespace: tt.ns}).doubledNamespace(tt.name); got != tt.want {
			t.Errorf("namespace %q, name %q: got %v, want %v", tt.ns, tt.name, got, tt.want)
		}
	}
}
