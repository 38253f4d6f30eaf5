package topics

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Policy is what a platform team allows in topic specs, checked before
// anything is applied (CheckPolicy). A zero field is not checked.
type Policy struct {
	// NamePattern is a regular expression every topic name must match in
	// full, e.g. `^[a-z]+\.[a-z-]+\.v[0-9]+$` for <domain>.<dataset>.v<N>.
	NamePattern string
	// MinPartitions and MaxPartitions bound the partition count.
	MinPartitions, MaxPartitions int32
	// MinReplicationFactor and MaxReplicationFactor bound replication.
	MinReplicationFactor, MaxReplicationFactor int16
	// MinRetention and MaxRetention bound retention.ms; MaxRetention also
	// refuses infinite retention (-1).
	MinRetention, MaxRetention time.Duration
	// CleanupPolicies lists the allowed cleanup.policy values, e.g.
	// "delete", "compact", "compact,delete".
	CleanupPolicies []string
}

// CheckPolicy checks every spec against policy and returns a *PolicyError
// listing every violation, or nil. It also checks what Kafka itself would
// refuse later: min.insync.replicas above the replication factor, and
// numbers that do not parse.
func CheckPolicy(policy Policy, specs ...Spec) error {
	var re *regexp.Regexp
	if policy.NamePattern != "" {
		var err error
		if re, err = regexp.Compile(`^(?:` + policy.NamePattern + `)$`); err != nil {
			return fmt.Errorf("check policy: name pattern: %w", err)
		}
	}
	violations := map[string][]string{}
	add := func(topic, format string, args ...any) {
		violations[topic] = append(violations[topic], fmt.Sprintf(format, args...))
	}
	for _, s := range specs {
		if re != nil && !re.MatchString(s.Name) {
			add(s.Name, "name does not match %s", policy.NamePattern)
		}
		if policy.MinPartitions > 0 && s.Partitions < policy.MinPartitions {
			add(s.Name, "%d partitions, below the minimum %d", s.Partitions, policy.MinPartitions)
		}
		if policy.MaxPartitions > 0 && s.Partitions > policy.MaxPartitions {
			add(s.Name, "%d partitions, above the maximum %d", s.Partitions, policy.MaxPartitions)
		}
		if policy.MinReplicationFactor > 0 && s.ReplicationFactor < policy.MinReplicationFactor {
			add(s.Name, "replication factor %d, below the minimum %d", s.ReplicationFactor, policy.MinReplicationFactor)
		}
		if policy.MaxReplicationFactor > 0 && s.ReplicationFactor > policy.MaxReplicationFactor {
			add(s.Name, "replication factor %d, above the maximum %d", s.ReplicationFactor, policy.MaxReplicationFactor)
		}
		if v, ok := s.Configs["min.insync.replicas"]; ok {
			n, err := strconv.Atoi(v)
			switch {
			case err != nil:
				add(s.Name, "min.insync.replicas %q is not a number", v)
			case n > int(s.ReplicationFactor):
				add(s.Name, "min.insync.replicas %d exceeds the replication factor %d: every write would fail", n, s.ReplicationFactor)
			}
		}
		if v, ok := s.Configs["retention.ms"]; ok {
			ms, err := strconv.ParseInt(v, 10, 64)
			switch {
			case err != nil:
				add(s.Name, "retention.ms %q is not a number", v)
			case ms < 0 && policy.MaxRetention > 0:
				add(s.Name, "infinite retention, above the maximum %v", policy.MaxRetention)
			case ms >= 0 && policy.MaxRetention > 0 && time.Duration(ms)*time.Millisecond > policy.MaxRetention:
				add(s.Name, "retention %v, above the maximum %v", time.Duration(ms)*time.Millisecond, policy.MaxRetention)
			case ms >= 0 && policy.MinRetention > 0 && time.Duration(ms)*time.Millisecond < policy.MinRetention:
				add(s.Name, "retention %v, below the minimum %v", time.Duration(ms)*time.Millisecond, policy.MinRetention)
			}
		}
		if v, ok := s.Configs["cleanup.policy"]; ok && len(policy.CleanupPolicies) > 0 {
			allowed := false
			for _, a := range policy.CleanupPolicies {
				if normalizeList(a) == normalizeList(v) {
					allowed = true
				}
			}
			if !allowed {
				add(s.Name, "cleanup.policy %q is not one of %s", v, strings.Join(policy.CleanupPolicies, " | "))
			}
		}
	}
	if len(violations) > 0 {
		return &PolicyError{Violations: violations}
	}
	return nil
}

// normalizeList makes "delete, compact" and "compact,delete" equal.
func normalizeList(v string) string {
	parts := strings.Split(v, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}
