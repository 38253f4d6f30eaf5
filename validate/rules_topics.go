package validate

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/streamkit/streamkit/topics"
)

const (
	kindTopic = "topic"
	kindACL   = "acl"
	// kindBinding is a raw ACL binding, as the evaluator locates it.
	kindBinding = "binding"
)

func topicRules() []Rule {
	return []Rule{
		{
			ID: "TOPIC001", Severity: Error,
			Summary: "topics meet the platform's topic policy",
			Doc: `Every topic is checked with topics.CheckPolicy: name pattern, partitions,
replication, retention, cleanup.policy, and min.insync.replicas not above
the replication factor. A retention, min.insync.replicas or cleanup.policy
violation is placed at that config key.

Fails:  {name: "pricing.orders.v1", replication_factor: 3, configs: {"min.insync.replicas": "4"}}
Passes: {name: "pricing.orders.v1", replication_factor: 3, configs: {"min.insync.replicas": "2"}}`,
			Check: checkTopicPolicy,
		},
		{
			ID: "TOPIC002", Severity: Error,
			Summary: "topic names are unique",
			Doc: `Two specs with one name would fight over the topic's configs on every
apply.

Fails:  two topics named "pricing.orders.v1"
Passes: "pricing.orders.v1" and "pricing.refunds.v1"`,
			Check: checkDuplicateTopics,
		},
		{
			ID: "TOPIC003", Severity: Error,
			Summary: "a topic's name starts with the team's namespace",
			Doc: `Plans own only the topics inside the namespace; a topic outside it could
neither be created nor pruned.

Fails:  "orders.v1" with namespace "pricing"
Passes: "pricing.orders.v1"`,
			Check: checkTopicNamespace,
		},
	}
}

func aclRules() []Rule {
	return []Rule{
		{
			ID: "ACL001", Severity: Error,
			Summary: "ACL principals, of grants and raw bindings, are Type:name",
			Doc: `Kafka principals are a type and a name, e.g. User:pricing-svc. A bare
name matches no client.

Fails:  {principal: "pricing-svc", role: "producer", topics: ["pricing.orders.v1"]}
Passes: {principal: "User:pricing-svc", role: "producer", topics: ["pricing.orders.v1"]}`,
			Check: checkPrincipals,
		},
		{
			ID: "ACL002", Severity: Error,
			Summary: "grants use a known role",
			Doc: `The roles are producer, consumer and admin.

Fails:  {principal: "User:pricing-svc", role: "writer", topics: ["pricing.orders.v1"]}
Passes: {principal: "User:pricing-svc", role: "producer", topics: ["pricing.orders.v1"]}`,
			Check: checkRoles,
		},
		{
			ID: "ACL003", Severity: Error,
			Summary: "grants expand to valid ACL bindings",
			Doc: `A grant must expand to bindings (topics.Grant.Bindings): a producer or
admin names topics, a consumer names its groups. Unknown roles and
malformed principals are ACL002 and ACL001.

Fails:  {principal: "User:pricing-svc", role: "consumer", topics: ["pricing.orders.v1"]}
Passes: {principal: "User:pricing-svc", role: "consumer", topics: ["pricing.orders.v1"], groups: ["pricing-svc"]}`,
			Check: checkGrantBindings,
		},
		{
			ID: "ACL004", Severity: Error,
			Summary: "grants and raw bindings name only topics, groups and transactional IDs inside the namespace",
			Doc: `The ACL plan (topics.PlanACLs) owns the bindings whose resource name starts
with the namespace, and refuses any other: a grant of "*", of another
team's topics, or of a prefix shorter than the namespace would give a
principal what is not the team's. Every topic and group of a grant, and
the name of every raw binding but a cluster one, must start with the
namespace; a name ending in "*" is a prefix and must start with it too.

Fails:  {principal: "User:pricing-svc", role: "consumer", topics: ["*"], groups: ["pricing-svc"]}
Fails:  {principal: "User:pricing-svc", role: "producer", topics: ["billing.invoices.v1"]}
Passes: {principal: "User:pricing-svc", role: "consumer", topics: ["pricing.*"], groups: ["pricing-svc"]}`,
			Check: checkACLNamespace,
		},
	}
}

func checkTopicPolicy(c *Context) []Finding {
	var out []Finding
	for _, s := range c.Manifest.Topics {
		// One spec at a time: violations are keyed by name, and a
		// duplicate name (TOPIC002) must not merge two specs' findings.
		err := topics.CheckPolicy(c.Policy.Topics, s)
		if err == nil {
			continue
		}
		var pe *topics.PolicyError
		if !errors.As(err, &pe) {
			// The policy itself is wrong (its name pattern); say so once.
			return []Finding{{Message: "topic policy: " + err.Error()}}
		}
		for _, v := range pe.Violations[s.Name] {
			out = append(out, c.finding(kindTopic, s.Name, policyViolationKey(v), "%s", v))
		}
	}
	return out
}

// policyViolationKey is the config key a topics.CheckPolicy violation is
// about, or "" for the topic itself.
func policyViolationKey(v string) string {
	for _, p := range []struct{ prefix, key string }{
		{"min.insync.replicas", "min.insync.replicas"},
		{"retention", "retention.ms"},
		{"infinite retention", "retention.ms"},
		{"cleanup.policy", "cleanup.policy"},
	} {
		if strings.HasPrefix(v, p.prefix) {
			return p.key
		}
	}
	return ""
}

func checkDuplicateTopics(c *Context) []Finding {
	var out []Finding
	seen := map[string]bool{}
	for _, s := range c.Manifest.Topics {
		if seen[s.Name] {
			out = append(out, c.finding(kindTopic, s.Name, "", "topic %q is declared more than once", s.Name))
		}
		seen[s.Name] = true
	}
	return out
}

func checkTopicNamespace(c *Context) []Finding {
	var out []Finding
	for _, s := range c.Manifest.Topics {
		if !c.Policy.inNamespace(s.Name) {
			out = append(out, c.finding(kindTopic, s.Name, "", "topic %q is outside the namespace %q", s.Name, c.Policy.Namespace))
		}
	}
	return out
}

// principalPattern is Kafka's Type:name, e.g. User:alice; the name may hold
// colons (User:CN=a,O=b is one principal) but no spaces at its ends.
var principalPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*:\S(.*\S)?$`)

func validPrincipal(p string) bool { return principalPattern.MatchString(p) }

func checkPrincipals(c *Context) []Finding {
	var out []Finding
	check := func(kind, p string) {
		if !validPrincipal(p) {
			out = append(out, c.finding(kind, p, "principal", "principal %q: want Type:name, e.g. User:pricing-svc", p))
		}
	}
	for _, g := range c.Manifest.ACLs {
		check(kindACL, g.Principal)
	}
	for _, b := range c.Manifest.Bindings {
		check(kindBinding, b.Principal)
	}
	return out
}

func knownRole(r topics.Role) bool {
	switch r {
	case topics.RoleProducer, topics.RoleConsumer, topics.RoleAdmin:
		return true
	}
	return false
}

func checkRoles(c *Context) []Finding {
	var out []Finding
	for _, g := range c.Manifest.ACLs {
		if !knownRole(g.Role) {
			out = append(out, c.finding(kindACL, g.Principal, "role", "role %q: want producer, consumer or admin", g.Role))
		}
	}
	return out
}

// grantFields are the grant fields the ACL resource types come from.
var grantFields = map[string]string{"TOPIC": "topics", "GROUP": "groups"}

func checkACLNamespace(c *Context) []Finding {
	ns := c.Policy.Namespace
	if ns == "" {
		return nil
	}
	var out []Finding
	outside := func(kind, principal, key, resource, name string, prefixed bool) {
		what := strings.ToLower(resource)
		var msg string
		switch {
		case prefixed && name == "":
			msg = fmt.Sprintf(`%s "*" is every %s, beyond the namespace %q`, what, what, ns)
		case prefixed:
			msg = fmt.Sprintf("%s prefix %q reaches beyond the namespace %q", what, name+"*", ns)
		default:
			msg = fmt.Sprintf("%s %q is outside the namespace %q", what, name, ns)
		}
		out = append(out, c.finding(kind, principal, key, "%s", msg))
	}
	for _, g := range c.Manifest.ACLs {
		// The grant's bindings, as PlanACLs checks them: a role that does
		// not expand a field (a producer's groups) grants nothing there.
		bs, err := g.Bindings()
		if err != nil {
			continue // ACL001 to ACL003
		}
		seen := map[topics.Binding]bool{}
		for _, b := range bs {
			key, ok := grantFields[b.Resource]
			if !ok || c.Policy.inNamespace(b.Name) {
				continue
			}
			b.Operation = "" // once per resource, not per operation
			if !seen[b] {
				seen[b] = true
				outside(kindACL, g.Principal, key, b.Resource, b.Name, b.Pattern == "PREFIXED")
			}
		}
	}
	for _, b := range c.Manifest.Bindings {
		// A cluster binding names the cluster, which PlanACLs lets a
		// principal of the plan have.
		if strings.EqualFold(b.Resource, "cluster") || c.Policy.inNamespace(b.Name) {
			continue
		}
		outside(kindBinding, b.Principal, "name", b.Resource, b.Name, strings.EqualFold(b.Pattern, "prefixed"))
	}
	return out
}

func checkGrantBindings(c *Context) []Finding {
	var out []Finding
	for _, g := range c.Manifest.ACLs {
		if !knownRole(g.Role) || !validPrincipal(g.Principal) {
			continue // ACL002, ACL001
		}
		if _, err := g.Bindings(); err != nil {
			out = append(out, c.finding(kindACL, g.Principal, "", "%v", err))
		}
	}
	return out
}
