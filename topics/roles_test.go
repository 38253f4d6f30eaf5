package topics

import (
	"errors"
	"slices"
	"testing"
)

func TestTeamRoleBindings(t *testing.T) {
	has := func(bs []Binding, resource, op string) bool {
		return slices.ContainsFunc(bs, func(b Binding) bool { return b.Resource == resource && b.Operation == op })
	}
	for _, tc := range []struct {
		role     TeamRole
		want     [][2]string
		wantNone [][2]string
	}{
		{TeamOwner, [][2]string{{"TOPIC", "ALL"}, {"GROUP", "ALL"}, {"TRANSACTIONAL_ID", "ALL"}, {"CLUSTER", "DESCRIBE"}},
			[][2]string{{"CLUSTER", "ALTER"}, {"CLUSTER", "ALL"}}},
		{TeamDeployer, [][2]string{{"TOPIC", "CREATE"}, {"TOPIC", "DELETE"}, {"TOPIC", "ALTER_CONFIGS"}, {"GROUP", "DELETE"}, {"CLUSTER", "DESCRIBE"}},
			[][2]string{{"TOPIC", "READ"}, {"TOPIC", "WRITE"}, {"CLUSTER", "ALTER"}}},
		{TeamService, [][2]string{{"TOPIC", "READ"}, {"TOPIC", "WRITE"}, {"GROUP", "READ"}, {"TRANSACTIONAL_ID", "WRITE"}, {"CLUSTER", "IDEMPOTENT_WRITE"}},
			[][2]string{{"TOPIC", "CREATE"}, {"TOPIC", "DELETE"}, {"CLUSTER", "DESCRIBE"}}},
		{TeamReader, [][2]string{{"TOPIC", "READ"}, {"GROUP", "READ"}},
			[][2]string{{"TOPIC", "WRITE"}, {"TRANSACTIONAL_ID", "WRITE"}, {"CLUSTER", "IDEMPOTENT_WRITE"}}},
	} {
		bs, err := tc.role.Bindings("User:pricing.svc", "pricing.")
		if err != nil {
			t.Fatalf("%s: %v", tc.role, err)
		}
		for _, w := range tc.want {
			if !has(bs, w[0], w[1]) {
				t.Errorf("%s lacks %s %s: %v", tc.role, w[0], w[1], bs)
			}
		}
		for _, w := range tc.wantNone {
			if has(bs, w[0], w[1]) {
				t.Errorf("%s has %s %s", tc.role, w[0], w[1])
			}
		}
		for _, b := range bs {
			switch {
			case b.Resource == "CLUSTER" && (b.Name != "kafka-cluster" || b.Pattern != "LITERAL"):
				t.Errorf("%s: cluster binding %v", tc.role, b)
			case b.Resource != "CLUSTER" && (b.Name != "pricing." || b.Pattern != "PREFIXED"):
				t.Errorf("%s: binding %v is not the namespace's prefix", tc.role, b)
			}
			if b.Principal != "User:pricing.svc" || b.Permission != "ALLOW" {
				t.Errorf("%s: binding %v", tc.role, b)
			}
		}
	}
	if _, err := TeamRole("admin").Bindings("User:x", "pricing."); !errors.Is(err, ErrUnknownRole) {
		t.Errorf("an unknown role: %v", err)
	}
	if _, err := TeamReader.Bindings("x", "pricing."); err == nil {
		t.Error("a principal without a type: no error")
	}
	if _, err := TeamReader.Bindings("User:x", ""); err == nil {
		t.Error("an empty namespace: no error")
	}
}

func TestGrantCovers(t *testing.T) {
	g := Grant{Topics: []string{"pricing.orders.v1", "pricing.cards.*"}}
	for topic, want := range map[string]bool{
		"pricing.orders.v1": true, "pricing.cards.v1": true, "pricing.cards.": true,
		"pricing.orders.v2": false, "pricing.card": false, "billing.cards.v1": false,
	} {
		if got := g.Covers(topic); got != want {
			t.Errorf("Covers(%q) = %t, want %t", topic, got, want)
		}
	}
}

func TestBindingCovers(t *testing.T) {
	for _, tc := range []struct {
		b     Binding
		topic string
		want  bool
	}{
		{Binding{Principal: "User:a", Operation: "read", Resource: "TOPIC", Name: "pricing.cards.v1"}, "pricing.cards.v1", true},
		{Binding{Principal: "User:a", Operation: "read", Resource: "topic", Name: "pricing.cards.v1", Pattern: "literal"}, "pricing.cards.v2", false},
		{Binding{Principal: "User:a", Operation: "read", Resource: "Topic", Name: "*"}, "pricing.cards.v1", true},
		{Binding{Principal: "User:a", Operation: "read", Resource: "TOPIC", Name: "pricing.cards.", Pattern: "PREFIXED"}, "pricing.cards.v1", true},
		{Binding{Principal: "User:a", Operation: "read", Resource: "TOPIC", Name: "pricing.cards.", Pattern: "prefixed"}, "pricing.orders.v1", false},
		{Binding{Principal: "User:a", Operation: "read", Resource: "GROUP", Name: "pricing.cards.v1"}, "pricing.cards.v1", false},
		{Binding{Principal: "User:a", Operation: "read", Resource: "TOPIC", Name: "pricing.", Pattern: "MATCH"}, "pricing.cards.v1", false},
		{Binding{Principal: "User:a", Operation: "read", Resource: "to-pic", Name: "pricing.cards.v1"}, "pricing.cards.v1", true},
		{Binding{Principal: "User:a", Operation: "read", Resource: "TOPIC", Name: "pricing.", Pattern: "pre-fixed"}, "pricing.cards.v1", true},
		{Binding{Operation: "read", Resource: "TOPIC", Name: "pricing.cards.v1"}, "pricing.cards.v1", false},
	} {
		if got := tc.b.Covers(tc.topic); got != tc.want {
			t.Errorf("%v.Covers(%q) = %t, want %t", tc.b, tc.topic, got, tc.want)
		}
	}
}
