package validate

import (
	"strings"
	"testing"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/topics"
)

// fakeLocator places a resource at <kind>/<name>:1:1 and a key at line 2,
// column len(key), so a test can tell which one a finding got.
type fakeLocator struct{}

func (fakeLocator) Resource(kind, name string) Position {
	return Position{File: kind + "/" + name, Line: 1, Column: 1}
}

func (fakeLocator) Key(kind, name, key string) Position {
	return Position{File: kind + "/" + name, Line: 2, Column: len(key)}
}

// wantFinding is what a rule test checks of a finding beyond its Rule and
// Severity.
type wantFinding struct{ resource, key string }

// ruleCase is one manifest a rule is run on, and the findings it must give.
type ruleCase struct {
	rule   string
	name   string
	m      Manifest
	policy Policy
	want   []wantFinding
}

func builtinRule(t *testing.T, id string) Rule {
	t.Helper()
	for _, r := range BuiltinRules() {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no builtin rule %s", id)
	return Rule{}
}

// runRuleCases runs each case's rule alone and checks every finding's
// Rule, Severity, Resource, Key and Pos.
func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.rule+"/"+tc.name, func(t *testing.T) {
			r := builtinRule(t, tc.rule)
			got := Check(&Context{Manifest: &tc.m, Locator: fakeLocator{}, Policy: tc.policy}, []Rule{r}, nil)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d findings %+v, want %d %+v", len(got), got, len(tc.want), tc.want)
			}
			for i, f := range got {
				w := tc.want[i]
				if f.Rule != tc.rule || f.Severity != r.Severity {
					t.Errorf("finding %d: got rule %s %v, want %s %v", i, f.Rule, f.Severity, tc.rule, r.Severity)
				}
				if f.Resource != w.resource || f.Key != w.key {
					t.Errorf("finding %d: got %q key %q, want %q key %q (%s)", i, f.Resource, f.Key, w.resource, w.key, f.Message)
				}
				kind, name, _ := strings.Cut(w.resource, " ")
				wantPos := fakeLocator{}.Resource(kind, name)
				if w.key != "" {
					wantPos = fakeLocator{}.Key(kind, name, w.key)
				}
				if w.resource != "" && f.Pos != wantPos {
					t.Errorf("finding %d: got position %v, want %v", i, f.Pos, wantPos)
				}
				if f.Message == "" {
					t.Errorf("finding %d: empty message", i)
				}
			}
		})
	}
}

func TestRuleBuiltinsDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range BuiltinRules() {
		if seen[r.ID] {
			t.Errorf("rule %s: duplicate ID", r.ID)
		}
		seen[r.ID] = true
		if r.Summary == "" || !strings.Contains(r.Doc, "Fails:") || !strings.Contains(r.Doc, "Passes:") {
			t.Errorf("rule %s: want a summary and a doc with a failing and a passing example", r.ID)
		}
		if r.Severity < Info || r.Severity > Error || r.Check == nil {
			t.Errorf("rule %s: got severity %v, check set %v", r.ID, r.Severity, r.Check != nil)
		}
	}
}

// badManifest trips CONN001 (no class) and TOPIC003 (outside namespace).
func badManifest() *Manifest {
	return &Manifest{
		Connectors: []connect.Spec{{Name: "pricing-x", Config: map[string]string{"tasks.max": "1"}}},
		Topics:     []topics.Spec{{Name: "orders.v1", Partitions: 1, ReplicationFactor: 1}},
	}
}

func TestRuleOverrides(t *testing.T) {
	ctx := &Context{Manifest: badManifest(), Policy: Policy{Namespace: "pricing"}}
	rules := BuiltinRules()
	tests := []struct {
		name      string
		overrides map[string]Severity
		want      map[string]Severity
	}{
		{"defaults", nil, map[string]Severity{"CONN001": Error, "TOPIC003": Error}},
		{"downgraded", map[string]Severity{"TOPIC003": Warning}, map[string]Severity{"CONN001": Error, "TOPIC003": Warning}},
		{"disabled", map[string]Severity{"CONN001": 0}, map[string]Severity{"TOPIC003": Error}},
		{"unknown id ignored", map[string]Severity{"NOPE001": 0}, map[string]Severity{"CONN001": Error, "TOPIC003": Error}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]Severity{}
			for _, f := range Check(ctx, rules, tc.overrides) {
				got[f.Rule] = f.Severity
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for id, sev := range tc.want {
				if got[id] != sev {
					t.Errorf("rule %s: got %v, want %v", id, got[id], sev)
				}
			}
		})
	}
}

func TestRuleCustomAndPanic(t *testing.T) {
	custom := Rule{
		ID: "TEAM001", Severity: Warning,
		Check: func(c *Context) []Finding {
			// Rule and Severity are Check's to set; Pos comes from Resource.
			return []Finding{{Rule: "ignored", Severity: Error, Message: "custom", Resource: "topic orders.v1", Key: "retention.ms"}}
		},
	}
	panicky := Rule{ID: "TEAM002", Severity: Error, Check: func(c *Context) []Finding {
		panic("boom")
	}}
	nilCheck := Rule{ID: "TEAM003", Severity: Info}
	ctx := &Context{Manifest: badManifest(), Locator: fakeLocator{}}
	got := Check(ctx, []Rule{panicky, custom, nilCheck, builtinRule(t, "CONN001")}, nil)
	if len(got) != 4 {
		t.Fatalf("got %d findings %+v, want 4", len(got), got)
	}
	if f := got[0]; f.Rule != RuleInternal || f.Severity != Error || !strings.Contains(f.Message, "TEAM002") || f.Resource != "rule TEAM002" {
		t.Errorf("got %+v, want %s naming TEAM002", f, RuleInternal)
	}
	want := Finding{Rule: "TEAM001", Severity: Warning, Message: "custom", Resource: "topic orders.v1", Key: "retention.ms",
		Pos: fakeLocator{}.Key("topic", "orders.v1", "retention.ms")}
	if got[1] != want {
		t.Errorf("got %+v, want %+v", got[1], want)
	}
	if f := got[2]; f.Rule != RuleInternal || !strings.Contains(f.Message, "TEAM003") {
		t.Errorf("got %+v, want %s naming TEAM003", f, RuleInternal)
	}
	if got[3].Rule != "CONN001" {
		t.Errorf("got %s, want CONN001 to run after a panic", got[3].Rule)
	}
}

func TestRuleNilContext(t *testing.T) {
	if got := Check(nil, BuiltinRules(), nil); len(got) != 0 {
		t.Errorf("got %+v, want no findings for an empty manifest", got)
	}
	if got := Check(&Context{}, BuiltinRules(), nil); len(got) != 0 {
		t.Errorf("got %+v, want no findings for a nil manifest", got)
	}
}

func TestRuleNoLocator(t *testing.T) {
	got := Check(&Context{Manifest: badManifest()}, []Rule{builtinRule(t, "CONN001")}, nil)
	if len(got) != 1 || got[0].Pos != (Position{}) {
		t.Errorf("got %+v, want one finding with a zero position", got)
	}
}
