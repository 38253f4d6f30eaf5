package topics

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheckPolicy(t *testing.T) {
	policy := Policy{
		NamePattern:          `[a-z]+\.[a-z-]+\.v[0-9]+`,
		MinPartitions:        3,
		MaxPartitions:        48,
		MinReplicationFactor: 3,
		MaxReplicationFactor: 3,
		MinRetention:         time.Hour,
		MaxRetention:         30 * 24 * time.Hour,
		CleanupPolicies:      []string{"delete", "compact", "compact,delete"},
	}
	ok := Spec{Name: "pricing.orders.v1", Partitions: 6, ReplicationFactor: 3,
		Configs: map[string]string{"min.insync.replicas": "2", "retention.ms": "604800000", "cleanup.policy": "delete, compact"}}
	tests := []struct {
		name string
		spec Spec
		want string // "" for no violation
	}{
		{"ok", ok, ""},
		{"name", with(ok, func(s *Spec) { s.Name = "Pricing_Orders" }), "name does not match"},
		{"name needs full match", with(ok, func(s *Spec) { s.Name = "pricing.orders.v1.extra" }), "name does not match"},
		{"few partitions", with(ok, func(s *Spec) { s.Partitions = 1 }), "below the minimum 3"},
		{"many partitions", with(ok, func(s *Spec) { s.Partitions = 100 }), "above the maximum 48"},
		{"low replication", with(ok, func(s *Spec) { s.ReplicationFactor = 1 }), "replication factor 1, below the minimum 3"},
		{"min isr above rf", with(ok, func(s *Spec) { s.Configs = map[string]string{"min.insync.replicas": "4"} }), "exceeds the replication factor 3"},
		{"min isr not a number", with(ok, func(s *Spec) { s.Configs = map[string]string{"min.insync.replicas": "two"} }), "not a number"},
		{"retention too long", with(ok, func(s *Spec) { s.Configs = map[string]string{"retention.ms": "9999999999"} }), "above the maximum"},
		{"retention infinite", with(ok, func(s *Spec) { s.Configs = map[string]string{"retention.ms": "-1"} }), "infinite retention"},
		{"retention too short", with(ok, func(s *Spec) { s.Configs = map[string]string{"retention.ms": "1000"} }), "below the minimum 1h0m0s"},
		{"cleanup policy", with(ok, func(s *Spec) { s.Configs = map[string]string{"cleanup.policy": "none"} }), `cleanup.policy "none" is not one of`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPolicy(policy, tt.spec)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			var pe *PolicyError
			if !errors.As(err, &pe) || !errors.Is(err, ErrPolicy) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want a *PolicyError containing %q", err, tt.want)
			}
		})
	}
	// Every violation of every spec is reported at once.
	err := CheckPolicy(policy, with(ok, func(s *Spec) { s.Partitions = 1; s.ReplicationFactor = 1 }), with(ok, func(s *Spec) { s.Name = "X" }))
	var pe *PolicyError
	if !errors.As(err, &pe) || len(pe.Violations["pricing.orders.v1"]) != 3 || len(pe.Violations["X"]) != 1 {
		t.Fatalf("got %v", err)
	}
	if err := CheckPolicy(Policy{NamePattern: "("}, ok); err == nil || errors.Is(err, ErrPolicy) {
		t.Fatalf("bad pattern: got %v, want a plain error", err)
	}
}

func with(s Spec, f func(*Spec)) Spec {
	cfg := map[string]string{}
	for k, v := range s.Configs {
		cfg[k] = v
	}
	s.Configs = cfg
	f(&s)
	return s
}
