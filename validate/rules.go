package validate

import (
	"fmt"
	"strings"

	"github.com/streamkit/streamkit/topics"
)

// Rule is one check of a Manifest. The built-in rules are BuiltinRules; a
// team's own rules are more Rule values passed to Check beside them.
type Rule struct {
	// ID names the rule in findings and overrides, e.g. "CONN004".
	ID string
	// Severity is the rule's default severity; an override in Check
	// replaces it.
	Severity Severity
	// Summary is one line on what the rule requires.
	Summary string
	// Doc explains why, with a failing and a passing example.
	Doc string
	// Check returns the rule's findings. Rule and Severity of each are set
	// by Check; Pos is filled from Resource ("<kind> <name>") and Key when
	// the rule leaves it zero. Resource is "<kind> <name>" with the
	// Locator's kinds: "connector pricing-db-source". Check must not
	// modify the Context or its Manifest, must be safe for concurrent use,
	// and should be fast.
	Check func(*Context) []Finding
}

// Context is what rules check: the manifest, where it was written, and the
// platform's policy. Check only reads it, so one Context may be checked by
// several goroutines at once.
type Context struct {
	Manifest *Manifest
	// Locator places findings; nil leaves every Pos zero.
	Locator Locator
	Policy  Policy
}

// Policy is what a platform team allows. A zero field is not checked.
type Policy struct {
	// Namespace is the prefix every name of the team must start with, e.g.
	// "pricing": connectors, topics, subjects, the topics and groups of its
	// grants and the topics its connectors read and write.
	Namespace string
	// Topics bounds topic specs (topics.CheckPolicy).
	Topics topics.Policy
	// MinTasks and MaxTasks bound a connector's tasks.max.
	MinTasks, MaxTasks int
	// ExistingTopics are topics known to exist on the cluster, which a
	// connector may use without declaring them. Optional.
	ExistingTopics map[string]bool
	// Data is the policy on classified data and the clusters that hold
	// it (the DATA rules).
	Data DataPolicy
}

// RuleInternal is the ID of the finding reported when a rule panics.
const RuleInternal = "RULE000"

// BuiltinRules returns streamkit's rules, connectors first, then topics,
// ACLs, schemas and the namespace, each group in ID order. The slice is new
// on every call; callers may append to it or drop from it.
func BuiltinRules() []Rule {
	var rules []Rule
	rules = append(rules, connectorRules()...)
	rules = append(rules, topicRules()...)
	rules = append(rules, aclRules()...)
	rules = append(rules, schemaRules()...)
	rules = append(rules, namespaceRules()...)
	rules = append(rules, dataRules()...)
	return rules
}

// Check runs rules over ctx and returns their findings, rule by rule in the
// order given. overrides maps a rule ID to the severity it reports at
// instead of its default; an override of 0 disables the rule. A rule that
// panics (custom rules are caller code) is reported as one Error finding
// RULE000 naming it, and the other rules still run.
func Check(ctx *Context, rules []Rule, overrides map[string]Severity) []Finding {
	c := Context{}
	if ctx != nil {
		c = *ctx
	}
	if c.Manifest == nil {
		c.Manifest = &Manifest{}
	}
	var out []Finding
	for _, r := range rules {
		sev := r.Severity
		if o, ok := overrides[r.ID]; ok {
			sev = o
		}
		if sev == 0 {
			continue
		}
		fs, panicked := runRule(&c, r)
		if panicked != nil {
			out = append(out, *panicked)
			continue
		}
		for _, f := range fs {
			f.Rule, f.Severity = r.ID, sev
			if f.Pos == (Position{}) && f.Resource != "" {
				kind, name, _ := strings.Cut(f.Resource, " ")
				f.Pos = c.at(kind, name, f.Key)
			}
			out = append(out, f)
		}
	}
	return out
}

// runRule calls r.Check, turning a panic into a RULE000 finding.
func runRule(c *Context, r Rule) (fs []Finding, panicked *Finding) {
	defer func() {
		if v := recover(); v != nil {
			fs, panicked = nil, &Finding{
				Rule:     RuleInternal,
				Severity: Error,
				Message:  fmt.Sprintf("rule %s panicked: %v", r.ID, v),
				Resource: "rule " + r.ID,
			}
		}
	}()
	// A copy, so a rule that writes to its Context does not change what
	// the next rule sees; the Manifest itself is shared and read-only.
	cc := *c
	return r.Check(&cc), nil
}

// at is the position of key in the resource of kind named name, or of the
// resource itself when key is empty.
func (c *Context) at(kind, name, key string) Position {
	if c.Locator == nil {
		return Position{}
	}
	if key != "" {
		return c.Locator.Key(kind, name, key)
	}
	return c.Locator.Resource(kind, name)
}

// finding is a finding about key (or the whole resource when key is "") of
// the resource of kind named name, placed by the Locator.
func (c *Context) finding(kind, name, key, format string, args ...any) Finding {
	return Finding{
		Message:  fmt.Sprintf(format, args...),
		Resource: kind + " " + name,
		Key:      key,
		Pos:      c.at(kind, name, key),
	}
}

// inNamespace reports whether name starts with the policy's namespace; an
// empty namespace holds every name.
func (p Policy) inNamespace(name string) bool {
	return strings.HasPrefix(name, p.Namespace)
}

// topicKnown reports whether a topic is declared in the manifest or known
// to exist on the cluster.
func (c *Context) topicKnown(name string) bool {
	if c.Policy.ExistingTopics[name] {
		return true
	}
	for _, t := range c.Manifest.Topics {
		if t.Name == name {
			return true
		}
	}
	return false
}
