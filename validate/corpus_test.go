package validate

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/streamkit/streamkit/topics"
)

// corpusPolicy is the platform policy the rule corpus is checked against.
func corpusPolicy() Policy {
	return Policy{
		Namespace: "pricing",
		Topics: topics.Policy{
			NamePattern:          `[a-z]+\.[a-z0-9-]+\.v[0-9]+`,
			MinPartitions:        1,
			MaxPartitions:        48,
			MinReplicationFactor: 1,
			MaxReplicationFactor: 3,
			MaxRetention:         30 * 24 * time.Hour,
			CleanupPolicies:      []string{"delete", "compact"},
		},
		MinTasks:       1,
		MaxTasks:       8,
		ExistingTopics: map[string]bool{"pricing.existing.v1": true},
	}
}

// corpusDataPolicy is the data policy of the DATA rules' folders: four
// levels, restricted the highest, on two clusters.
func corpusDataPolicy() DataPolicy {
	return DataPolicy{
		Levels: []string{"public", "internal", "confidential", "restricted"},
		Clusters: map[string]ClusterPolicy{
			"standard": {Levels: []string{"public", "internal", "confidential"}},
			"secure":   {Levels: []string{"confidential", "restricted"}, TLS: true},
		},
		DefaultCluster: "standard",
	}
}

// corpusRoot holds one folder per rule ID: bad.jsonnet triggers the rule,
// good.jsonnet is its minimal fix, bad.golden is bad's Result.Text().
var corpusRoot = filepath.Join("testdata", "rules")

// TestRuleCorpus validates every folder of testdata/rules offline: bad's
// report must match bad.golden (go test -update rewrites it) and name the
// folder's rule; good must have no error or warning.
func TestRuleCorpus(t *testing.T) {
	entries, err := os.ReadDir(corpusRoot)
	if err != nil {
		t.Fatal(err)
	}
	validate := func(t *testing.T, path string) *Result {
		t.Helper()
		cfg := Config{Policy: corpusPolicy()}
		if strings.HasPrefix(filepath.Base(filepath.Dir(path)), "DATA") {
			cfg.Policy.Data = corpusDataPolicy()
		}
		res, err := Validate(context.Background(), Options{
			Files:   []string{path},
			ExtVars: map[string]string{"env": "prod", "team": "pricing"},
		}, cfg)
		if err != nil {
			t.Fatalf("Validate(%s): %v", path, err)
		}
		return res
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		n++
		rule := e.Name()
		dir := filepath.Join(corpusRoot, rule)
		t.Run(rule, func(t *testing.T) {
			t.Parallel()
			t.Run("bad", func(t *testing.T) {
				res := validate(t, filepath.Join(dir, "bad.jsonnet"))
				got := res.Text()
				if !slices.ContainsFunc(res.Findings, func(f Finding) bool { return f.Rule == rule }) {
					t.Errorf("bad.jsonnet does not trigger %s; findings:\n%s", rule, got)
				}
				path := filepath.Join(dir, "bad.golden")
				if *update {
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("read golden file (run go test -update to create it): %v", err)
				}
				if got != string(want) {
					t.Errorf("Text() differs from %s (run go test -update to accept):\ngot:\n%s\nwant:\n%s", path, got, want)
				}
			})
			t.Run("good", func(t *testing.T) {
				res := validate(t, filepath.Join(dir, "good.jsonnet"))
				var bad []string
				for _, f := range res.Findings {
					if f.Severity >= Warning {
						bad = append(bad, f.Rule+": "+f.Message)
					} else {
						t.Logf("%s: %s %s: %s", f.Pos, f.Severity, f.Rule, f.Message)
					}
				}
				if len(bad) > 0 {
					t.Errorf("good.jsonnet has errors or warnings:\n%s", strings.Join(bad, "\n"))
				}
			})
		})
	}
	if n == 0 {
		t.Fatalf("no rule folders under %s", corpusRoot)
	}
}

// TestRuleCorpusCoversBuiltinRules keeps the corpus in step with the
// rules: every built-in rule has its folder.
func TestRuleCorpusCoversBuiltinRules(t *testing.T) {
	for _, r := range BuiltinRules() {
		for _, f := range []string{"bad.jsonnet", "good.jsonnet", "bad.golden"} {
			if _, err := os.Stat(filepath.Join(corpusRoot, r.ID, f)); err != nil {
				t.Errorf("rule %s: %v", r.ID, err)
			}
		}
	}
}
