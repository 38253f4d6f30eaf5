package validate

import "strings"

func namespaceRules() []Rule {
	return []Rule{
		{
			ID: "NAMESPACE001", Severity: Warning,
			Summary: "names do not repeat the team's namespace",
			Doc: `A name that starts with the namespace twice is inside it, so no namespace
rule refuses it, but it is almost always a name that was prefixed twice:
a team library's helper that prepends the namespace (name(short):: ns +
short) called with a name that already holds it. Checked are the names
of topics, connectors and subjects, and the topics and groups of grants.

Fails:  topic "pricing.pricing.prices.v1" with namespace "pricing." (from p.name('pricing.prices.v1'))
Passes: topic "pricing.prices.v1" (from p.name('prices.v1'))`,
			Check: checkDoubledNamespace,
		},
	}
}

// doubledNamespace reports whether name starts with the namespace and, past
// it and the separators after it, with the namespace again as a whole
// segment: "pricing.pricing.prices.v1" or "pricing-pricing-sink" for
// "pricing" or "pricing.", but not "pricing.pricingengine.v1".
func (p Policy) doubledNamespace(name string) bool {
	const separators = ".-_"
	core := strings.TrimRight(p.Namespace, separators)
	if core == "" || !strings.HasPrefix(name, p.Namespace) {
		return false
	}
	rest := strings.TrimLeft(name[len(p.Namespace):], separators)
	if !strings.HasPrefix(rest, core) {
		return false
	}
	return len(rest) == len(core) || strings.IndexByte(separators, rest[len(core)]) >= 0
}

func checkDoubledNamespace(c *Context) []Finding {
	if c.Policy.Namespace == "" {
		return nil
	}
	var out []Finding
	check := func(kind, resource, key, what, name string) {
		if c.Policy.doubledNamespace(name) {
			out = append(out, c.finding(kind, resource, key, "%s %q repeats the namespace %q: prefixed twice?", what, name, c.Policy.Namespace))
		}
	}
	for _, s := range c.Manifest.Topics {
		check(kindTopic, s.Name, "", "topic", s.Name)
	}
	for _, s := range c.Manifest.Connectors {
		check(kindConnector, s.Name, "", "connector", s.Name)
	}
	for _, s := range c.Manifest.Schemas {
		check(kindSchema, s.Subject, "", "subject", s.Subject)
	}
	for _, g := range c.Manifest.ACLs {
		for _, t := range g.Topics {
			check(kindACL, g.Principal, "topics", "topic", t)
		}
		for _, gr := range g.Groups {
			check(kindACL, g.Principal, "groups", "group", gr)
		}
	}
	return out
}
