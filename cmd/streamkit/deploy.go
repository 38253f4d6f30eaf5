package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/schema"
	"github.com/streamkit/streamkit/secrets"
	"github.com/streamkit/streamkit/topics"
	"github.com/streamkit/streamkit/validate"
)

// The rule IDs of plan findings: what validation cannot know and the plan
// finds on the platform.
const (
	// RulePlanRefused is a change the platform cannot make: fewer
	// partitions, a lower replication factor.
	RulePlanRefused = "PLAN001"
	// RulePlanDangerous is a delete of a topic still in use, without
	// -force.
	RulePlanDangerous = "PLAN002"
	// RulePlanIncompatible is a schema the registry refuses as the next
	// version of its subject.
	RulePlanIncompatible = "PLAN003"
	// RulePlanDrift is a subject whose latest version is not the
	// repository's schema.
	RulePlanDrift = "PLAN004"
	// RulePlanForce is a subject delete without -force.
	RulePlanForce = "PLAN005"
	// RulePlanMove is a topic that moves to another cluster (its
	// classification or cluster changed) without -force: the prune that
	// creates it there deletes it, with its records, where it was.
	RulePlanMove = "PLAN006"
)

// deployPlan is the one plan of a repository: topics, subjects, ACLs and
// connectors, applied in that order. A nil part is a component the
// manifests do not use. Topics, ACLs and Connectors are the default
// cluster's; Clusters hold the same parts for each other cluster of the
// team's data policy that is planned: one the manifests put something on,
// every one when the team has roles (their ACLs are on every cluster) or
// with a prune.
type deployPlan struct {
	Topics     *topics.Plan        `json:"topics,omitempty"`
	Subjects   *schema.SubjectPlan `json:"subjects,omitempty"`
	ACLs       *topics.ACLPlan     `json:"acls,omitempty"`
	Connectors *connect.Plan       `json:"connectors,omitempty"`
	Clusters   []*clusterPlan      `json:"clusters,omitempty"`

	// connectors are the manifests' connectors as written, with their
	// ${vault:...} references, which apply delivers before it writes
	// the connectors; the plan holds them translated.
	connectors []connect.Spec
}

// clusterPlan is the plan of one more cluster of the team: its topics, the
// ACLs of the grants on them, and the connectors that run on it.
type clusterPlan struct {
	Cluster    string          `json:"cluster"`
	Topics     *topics.Plan    `json:"topics,omitempty"`
	ACLs       *topics.ACLPlan `json:"acls,omitempty"`
	Connectors *connect.Plan   `json:"connectors,omitempty"`

	connectors []connect.Spec
}

// routed is the part of a manifest that one cluster holds.
type routed struct {
	topics     []topics.Spec
	grants     []topics.Grant
	bindings   []topics.Binding
	connectors []connect.Spec
}

// route splits m by cluster (validate.DataPolicy's TopicCluster and
// ConnectorCluster): a grant goes to every cluster that holds a declared
// topic it covers, or to the default one when it covers none; raw
// bindings go to the default cluster. A policy without clusters routes
// everything to "".
func route(data validate.DataPolicy, m validate.Manifest) (map[string]*routed, error) {
	out := map[string]*routed{data.DefaultCluster: {}}
	at := func(name string) *routed {
		if out[name] == nil {
			out[name] = &routed{}
		}
		return out[name]
	}
	where := map[string]string{}
	for _, t := range m.Topics {
		name, err := data.TopicCluster(t)
		if err != nil {
			return nil, err
		}
		where[t.Name] = name
		at(name).topics = append(at(name).topics, t)
	}
	for _, g := range m.ACLs {
		var clusters []string
		for _, t := range m.Topics {
			if g.Covers(t.Name) &&
				!slices.Contains(clusters, where[t.Name]) {
				clusters = append(clusters, where[t.Name])
			}
		}
		if len(clusters) == 0 {
			clusters = []string{data.DefaultCluster}
		}
		for _, name := range clusters {
			at(name).grants = append(at(name).grants, g)
		}
	}
	// A raw binding on topics goes where they are, as a grant does; any
	// other (groups, transactional IDs, the cluster) to the default
	// cluster only.
	for _, b := range m.Bindings {
		var clusters []string
		for _, t := range m.Topics {
			if b.Covers(t.Name) && !slices.Contains(clusters, where[t.Name]) {
				clusters = append(clusters, where[t.Name])
			}
		}
		if len(clusters) == 0 {
			clusters = []string{data.DefaultCluster}
		}
		for _, name := range clusters {
			at(name).bindings = append(at(name).bindings, b)
		}
	}
	for _, s := range m.Connectors {
		name, err := data.ConnectorCluster(s, &m)
		if err != nil {
			return nil, err
		}
		at(name).connectors = append(at(name).connectors, s)
	}
	return out, nil
}

// counts is one kind's summary line.
type counts struct {
	Kind      string `json:"kind"`
	Create    int    `json:"create"`
	Update    int    `json:"update"`
	Delete    int    `json:"delete"`
	Unchanged int    `json:"unchanged"`
	Refused   int    `json:"refused"`
	Drift     int    `json:"drift"`
}

func (c counts) changes() int { return c.Create + c.Update + c.Delete }

// summary counts each part with the same actions.
func (p *deployPlan) summary() []counts {
	var out []counts
	if p.Topics != nil {
		c := counts{Kind: "topics"}
		c.Create, c.Update, c.Delete, c.Unchanged, c.Refused = p.Topics.Count()
		out = append(out, c)
	}
	if p.Subjects != nil {
		c := counts{Kind: "subjects"}
		c.Create, c.Update, c.Delete, c.Unchanged, c.Refused, c.Drift = p.Subjects.Count()
		out = append(out, c)
	}
	if p.ACLs != nil {
		out = append(out, counts{Kind: "acls", Create: len(p.ACLs.Create), Delete: len(p.ACLs.Delete), Unchanged: p.ACLs.Unchanged})
	}
	if p.Connectors != nil {
		c := counts{Kind: "connectors"}
		c.Create, c.Update, c.Delete, c.Unchanged = p.Connectors.Count()
		out = append(out, c)
	}
	for _, cp := range p.Clusters {
		on := " on " + cp.Cluster
		if cp.Topics != nil {
			c := counts{Kind: "topics" + on}
			c.Create, c.Update, c.Delete, c.Unchanged, c.Refused = cp.Topics.Count()
			out = append(out, c)
		}
		if cp.ACLs != nil {
			out = append(out, counts{Kind: "acls" + on, Create: len(cp.ACLs.Create), Delete: len(cp.ACLs.Delete), Unchanged: cp.ACLs.Unchanged})
		}
		if cp.Connectors != nil {
			c := counts{Kind: "connectors" + on}
			c.Create, c.Update, c.Delete, c.Unchanged = cp.Connectors.Count()
			out = append(out, c)
		}
	}
	return out
}

// text renders every part, then the totals.
func (p *deployPlan) text() string {
	var b strings.Builder
	if p.Topics != nil {
		b.WriteString(p.Topics.String())
	}
	if p.Subjects != nil {
		b.WriteString(p.Subjects.String())
	}
	if p.ACLs != nil {
		b.WriteString(p.ACLs.String())
	}
	if p.Connectors != nil {
		b.WriteString(p.Connectors.String())
	}
	for _, cp := range p.Clusters {
		fmt.Fprintf(&b, "on cluster %s:\n", cp.Cluster)
		if cp.Topics != nil {
			b.WriteString(cp.Topics.String())
		}
		if cp.ACLs != nil {
			b.WriteString(cp.ACLs.String())
		}
		if cp.Connectors != nil {
			b.WriteString(cp.Connectors.String())
		}
	}
	var total counts
	for _, c := range p.summary() {
		total.Create += c.Create
		total.Update += c.Update
		total.Delete += c.Delete
		total.Unchanged += c.Unchanged
		total.Refused += c.Refused
		total.Drift += c.Drift
	}
	fmt.Fprintf(&b, "plan: %d to create, %d to update, %d to delete, %d unchanged, %d refused, %d drifted\n",
		total.Create, total.Update, total.Delete, total.Unchanged, total.Refused, total.Drift)
	return b.String()
}

// subjectSpecs turns the manifest's schemas into subject specs. A schema
// that does not parse was reported by validation, which stops before a
// plan.
func subjectSpecs(m validate.Manifest) ([]schema.SubjectSpec, error) {
	out := make([]schema.SubjectSpec, 0, len(m.Schemas))
	for _, s := range m.Schemas {
		parsed, err := schema.Parse(s.Schema)
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", s.Subject, err)
		}
		out = append(out, schema.SubjectSpec{Subject: s.Subject, Schema: parsed,
			Compatibility: schema.CompatibilityLevel(strings.ToUpper(s.Compatibility))})
	}
	return out, nil
}

// errMissing is a plan that needs a component the environment does not
// name.
var errMissing = errors.New("not configured")

// plan plans every part the manifests use. Everything is read, nothing is
// written.
func (p *clients) plan(ctx context.Context, t *team, m validate.Manifest, prune bool) (*deployPlan, error) {
	data := t.dataPolicy()
	routes, err := route(data, m)
	if err != nil {
		return nil, fmt.Errorf("route: %w", err)
	}
	home := routes[data.DefaultCluster]
	var missing []string
	if p.topics == nil {
		missing = append(missing, EnvBrokers)
	}
	if (len(m.Schemas) > 0 || prune) && p.registry == nil {
		missing = append(missing, EnvSchemaRegistryURL)
	}
	if (len(home.connectors) > 0 || prune) && p.connect == nil {
		missing = append(missing, EnvConnectURL)
	}
	// Another cluster is planned when the manifests put something on it,
	// when the team has roles (their ACLs are on every cluster), and with
	// a prune, which must see every cluster the team has.
	var others []string
	for _, name := range sortedKeys(data.Clusters) {
		if name == data.DefaultCluster || (routes[name] == nil && !prune && len(t.Roles) == 0) {
			continue
		}
		others = append(others, name)
		r, c := routes[name], p.clusters[name]
		if r == nil {
			r = &routed{}
		}
		if c == nil || c.topics == nil {
			missing = append(missing, clusterEnv(EnvBrokers, name, false))
		}
		if (len(r.connectors) > 0 || prune) && (c == nil || c.connect == nil) {
			missing = append(missing, clusterEnv(EnvConnectURL, name, false))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("plan and apply need %s: %w", strings.Join(missing, ", "), errMissing)
	}
	// The team roles' ACLs go to every cluster.
	roles, err := t.roleBindings()
	if err != nil {
		return nil, err
	}
	home.bindings = append(slices.Clip(home.bindings), roles...)
	dp := &deployPlan{}
	topicOpts := topics.PlanOptions{Namespace: t.Namespace, Prune: prune}
	if dp.Topics, err = p.topics.Plan(ctx, home.topics, topicOpts); err != nil {
		return nil, fmt.Errorf("plan topics: %w", err)
	}
	if p.registry != nil {
		specs, err := subjectSpecs(m)
		if err != nil {
			return nil, err
		}
		if dp.Subjects, err = p.registry.PlanSubjects(ctx, specs, schema.SubjectPlanOptions{Namespace: t.Namespace, Prune: prune}); err != nil {
			return nil, err
		}
	}
	if dp.ACLs, err = p.topics.PlanACLs(ctx, home.grants, home.bindings, topicOpts); err != nil {
		return nil, fmt.Errorf("plan acls: %w", err)
	}
	if p.connect != nil {
		specs, err := p.workerSpecs("", home.connectors)
		if err != nil {
			return nil, fmt.Errorf("plan connectors: %w", err)
		}
		if dp.Connectors, err = p.connect.Plan(ctx, specs, connect.PlanOptions{Namespace: t.Namespace, Prune: prune}); err != nil {
			return nil, fmt.Errorf("plan connectors: %w", err)
		}
		dp.connectors = home.connectors
	}
	for _, name := range others {
		r, c := routes[name], p.clusters[name]
		if r == nil {
			r = &routed{}
		}
		cp := &clusterPlan{Cluster: name}
		if cp.Topics, err = c.topics.Plan(ctx, r.topics, topicOpts); err != nil {
			return nil, fmt.Errorf("plan topics on %s: %w", name, err)
		}
		if cp.ACLs, err = c.topics.PlanACLs(ctx, r.grants, append(slices.Clip(r.bindings), roles...), topicOpts); err != nil {
			return nil, fmt.Errorf("plan acls on %s: %w", name, err)
		}
		if c.connect != nil {
			specs, err := p.workerSpecs(name, r.connectors)
			if err != nil {
				return nil, fmt.Errorf("plan connectors on %s: %w", name, err)
			}
			if cp.Connectors, err = c.connect.Plan(ctx, specs, connect.PlanOptions{Namespace: t.Namespace, Prune: prune}); err != nil {
				return nil, fmt.Errorf("plan connectors on %s: %w", name, err)
			}
			cp.connectors = r.connectors
		}
		dp.Clusters = append(dp.Clusters, cp)
	}
	return dp, nil
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// findings are the plan's refusals as findings, placed at the resources
// they are about.
func (p *deployPlan) findings(loc validate.Locator, force bool) []validate.Finding {
	var out []validate.Finding
	add := func(rule, kind, name, msg string) {
		f := validate.Finding{Rule: rule, Severity: validate.Error, Message: msg, Resource: kind + " " + name}
		if loc != nil {
			f.Pos = loc.Resource(kind, name)
		}
		out = append(out, f)
	}
	topicPlans := []*topics.Plan{p.Topics}
	for _, cp := range p.Clusters {
		topicPlans = append(topicPlans, cp.Topics)
	}
	created := map[string]bool{}
	for _, tp := range topicPlans {
		if tp == nil {
			continue
		}
		for _, c := range tp.Changes {
			if c.Action == topics.Create {
				created[c.Topic] = true
			}
		}
	}
	for _, tp := range topicPlans {
		if tp == nil {
			continue
		}
		for _, c := range tp.Changes {
			switch {
			case c.Action == topics.Refused:
				add(RulePlanRefused, "topic", c.Topic, "Kafka cannot make this change: "+c.Reason)
			case c.Action == topics.Delete && created[c.Topic] && !force:
				add(RulePlanMove, "topic", c.Topic, "the topic moves to another cluster: it is created there empty and deleted here, with its records "+
					"(copy them first, e.g. with MirrorMaker; apply -prune -force moves it)")
			case c.Action == topics.Delete && c.Danger != "" && !force:
				add(RulePlanDangerous, "topic", c.Topic, "deleting the topic may hurt: "+c.Danger+" (apply -prune -force deletes it)")
			}
		}
	}
	if p.Subjects != nil {
		for _, c := range p.Subjects.Changes {
			switch c.Action {
			case schema.SubjectRefused:
				add(RulePlanIncompatible, "schema", c.Subject, c.Reason)
			case schema.SubjectDrift:
				add(RulePlanDrift, "schema", c.Subject, c.Reason+"; delete the stray version, or make the repository's schema the next version")
			case schema.SubjectDelete:
				if !force {
					add(RulePlanForce, "schema", c.Subject, "the subject is no longer declared; apply -prune -force soft-deletes it")
				}
			}
		}
	}
	return out
}

// applied is what apply did, part by part.
type applied struct {
	Topics     *topics.ApplyResult        `json:"topics,omitempty"`
	Subjects   *schema.SubjectApplyResult `json:"subjects,omitempty"`
	ACLs       *aclResult                 `json:"acls,omitempty"`
	Connectors *connect.ApplyResult       `json:"connectors,omitempty"`
}

type aclResult struct {
	Created int `json:"created"`
	Deleted int `json:"deleted"`
}

// apply carries out dp in the one order: topics (subjects and connectors
// need them), subjects, ACLs, connectors; then the deletes of a prune in
// the reverse order, connectors first, so that nothing still running
// loses its topic, grant or schema under it. It stops at the first step
// that fails and returns what was done with the error; the steps not
// attempted are named in the error. Run again, plan and apply converge.
func (p *clients) apply(ctx context.Context, dp *deployPlan, force bool) (*applied, error) {
	done := &applied{}
	writes, deletes := dp.split()
	type step struct {
		name string
		todo bool // something to change
		run  func() error
	}
	topicStep := func(name string, tc *topics.Client, part *topics.Plan) step {
		return step{name, part != nil && !part.Empty(), func() error {
			r, err := tc.Apply(ctx, part, topics.ApplyOptions{Force: force})
			done.Topics = mergeTopics(done.Topics, r)
			return err
		}}
	}
	subjectStep := func(name string, part *schema.SubjectPlan) step {
		return step{name, part != nil && !part.Empty(), func() error {
			r, err := p.registry.ApplySubjects(ctx, part, schema.SubjectApplyOptions{Force: force})
			done.Subjects = mergeSubjects(done.Subjects, r)
			return err
		}}
	}
	aclStep := func(name string, tc *topics.Client, part *topics.ACLPlan) step {
		return step{name, part != nil && !part.Empty(), func() error {
			if err := tc.ApplyACLs(ctx, part); err != nil {
				return err
			}
			if done.ACLs == nil {
				done.ACLs = &aclResult{}
			}
			done.ACLs.Created += len(part.Create)
			done.ACLs.Deleted += len(part.Delete)
			return nil
		}}
	}
	connectorStep := func(name, cluster string, cc *connect.Client, specs []connect.Spec, part *connect.Plan) step {
		return step{name, part != nil && !part.Empty(), func() error {
			// The files the placeholders name are in place before a
			// worker reads them: validation wrote them, and this writes
			// what Vault changed since.
			if slices.ContainsFunc(part.Changes, func(c connect.Change) bool { return c.Action != connect.Delete }) {
				if _, err := p.deliverTo(ctx, cluster, specs); err != nil {
					return fmt.Errorf("deliver secrets: %w", err)
				}
			}
			r, err := cc.Apply(ctx, part, connect.ApplyOptions{})
			done.Connectors = mergeConnectors(done.Connectors, r)
			return err
		}}
	}
	// Each step runs on every cluster, the default one first.
	type where struct {
		cluster, suffix string
		tc              *topics.Client
		cc              *connect.Client
		w, d            *clusterPlan
	}
	clusters := []where{{"", "", p.topics, p.connect,
		&clusterPlan{Topics: writes.Topics, ACLs: writes.ACLs, Connectors: writes.Connectors, connectors: dp.connectors},
		&clusterPlan{Topics: deletes.Topics, ACLs: deletes.ACLs, Connectors: deletes.Connectors}}}
	for i, cp := range dp.Clusters {
		c := p.clusters[cp.Cluster]
		clusters = append(clusters, where{cp.Cluster, " on " + cp.Cluster, c.topics, c.connect, writes.Clusters[i], deletes.Clusters[i]})
	}
	var steps []step
	for _, c := range clusters {
		steps = append(steps, topicStep("topics"+c.suffix, c.tc, c.w.Topics))
	}
	steps = append(steps, subjectStep("subjects", writes.Subjects))
	for _, c := range clusters {
		steps = append(steps, aclStep("acls"+c.suffix, c.tc, c.w.ACLs))
	}
	for _, c := range clusters {
		steps = append(steps, connectorStep("connectors"+c.suffix, c.cluster, c.cc, c.w.connectors, c.w.Connectors))
	}
	for _, c := range clusters {
		steps = append(steps, connectorStep("connector deletes"+c.suffix, c.cluster, c.cc, nil, c.d.Connectors))
	}
	for _, c := range clusters {
		steps = append(steps, aclStep("acl deletes"+c.suffix, c.tc, c.d.ACLs))
	}
	steps = append(steps, subjectStep("subject deletes", deletes.Subjects))
	for _, c := range clusters {
		steps = append(steps, topicStep("topic deletes"+c.suffix, c.tc, c.d.Topics))
	}
	for i, s := range steps {
		if !s.todo {
			continue
		}
		if err := s.run(); err != nil {
			var rest []string
			for _, r := range steps[i+1:] {
				if r.todo {
					rest = append(rest, r.name)
				}
			}
			if len(rest) > 0 {
				return done, fmt.Errorf("apply %s: %w (not attempted: %s)", s.name, err, strings.Join(rest, ", "))
			}
			return done, fmt.Errorf("apply %s: %w", s.name, err)
		}
	}
	return done, nil
}

// split returns the part of dp that creates and updates, in which
// unchanged resources stay, and the part that deletes. A nil part stays
// nil in both.
func (dp *deployPlan) split() (writes, deletes *deployPlan) {
	writes, deletes = &deployPlan{connectors: dp.connectors}, &deployPlan{}
	writes.Topics, deletes.Topics = splitTopics(dp.Topics)
	writes.ACLs, deletes.ACLs = splitACLs(dp.ACLs)
	writes.Connectors, deletes.Connectors = splitConnectors(dp.Connectors)
	for _, cp := range dp.Clusters {
		w := &clusterPlan{Cluster: cp.Cluster, connectors: cp.connectors}
		d := &clusterPlan{Cluster: cp.Cluster}
		w.Topics, d.Topics = splitTopics(cp.Topics)
		w.ACLs, d.ACLs = splitACLs(cp.ACLs)
		w.Connectors, d.Connectors = splitConnectors(cp.Connectors)
		writes.Clusters, deletes.Clusters = append(writes.Clusters, w), append(deletes.Clusters, d)
	}
	if p := dp.Subjects; p != nil {
		w, d := *p, *p
		w.Changes, d.Changes = partition(p.Changes, func(c schema.SubjectChange) bool { return c.Action == schema.SubjectDelete })
		writes.Subjects, deletes.Subjects = &w, &d
	}
	return writes, deletes
}

func splitTopics(p *topics.Plan) (writes, deletes *topics.Plan) {
	if p == nil {
		return nil, nil
	}
	w, d := *p, *p
	w.Changes, d.Changes = partition(p.Changes, func(c topics.Change) bool { return c.Action == topics.Delete })
	return &w, &d
}

func splitACLs(p *topics.ACLPlan) (writes, deletes *topics.ACLPlan) {
	if p == nil {
		return nil, nil
	}
	w, d := *p, *p
	w.Delete, d.Create, d.Unchanged = nil, nil, 0
	return &w, &d
}

func splitConnectors(p *connect.Plan) (writes, deletes *connect.Plan) {
	if p == nil {
		return nil, nil
	}
	w, d := *p, *p
	w.Changes, d.Changes = partition(p.Changes, func(c connect.Change) bool { return c.Action == connect.Delete })
	return &w, &d
}

// partition splits s into the elements del does not match and those it
// does, each in s's order.
func partition[T any](s []T, del func(T) bool) (keep, drop []T) {
	for _, v := range s {
		if del(v) {
			drop = append(drop, v)
		} else {
			keep = append(keep, v)
		}
	}
	return keep, drop
}

func mergeTopics(a, b *topics.ApplyResult) *topics.ApplyResult {
	switch {
	case b == nil:
		return a
	case a == nil:
		return b
	}
	return &topics.ApplyResult{Created: append(a.Created, b.Created...), Updated: append(a.Updated, b.Updated...), Deleted: append(a.Deleted, b.Deleted...)}
}

func mergeSubjects(a, b *schema.SubjectApplyResult) *schema.SubjectApplyResult {
	switch {
	case b == nil:
		return a
	case a == nil:
		return b
	}
	out := &schema.SubjectApplyResult{Registered: maps.Clone(a.Registered), Levels: append(a.Levels, b.Levels...), Deleted: append(a.Deleted, b.Deleted...)}
	if out.Registered == nil {
		out.Registered = map[string]int{}
	}
	maps.Copy(out.Registered, b.Registered)
	return out
}

func mergeConnectors(a, b *connect.ApplyResult) *connect.ApplyResult {
	switch {
	case b == nil:
		return a
	case a == nil:
		return b
	}
	return &connect.ApplyResult{Created: append(a.Created, b.Created...), Updated: append(a.Updated, b.Updated...), Deleted: append(a.Deleted, b.Deleted...)}
}

// text is one line per part that changed something.
func (a *applied) text() string {
	var b strings.Builder
	if r := a.Topics; r != nil {
		fmt.Fprintf(&b, "applied topics: created %v, updated %v, deleted %v\n", list(r.Created), list(r.Updated), list(r.Deleted))
	}
	if r := a.Subjects; r != nil {
		var reg []string
		for s, id := range r.Registered {
			reg = append(reg, fmt.Sprintf("%s (id %d)", s, id))
		}
		fmt.Fprintf(&b, "applied subjects: registered %v, levels set %v, deleted %v\n", list(slices.Sorted(slices.Values(reg))), list(r.Levels), list(r.Deleted))
	}
	if r := a.ACLs; r != nil {
		fmt.Fprintf(&b, "applied acls: created %d, deleted %d\n", r.Created, r.Deleted)
	}
	if r := a.Connectors; r != nil {
		fmt.Fprintf(&b, "applied connectors: created %v, updated %v, deleted %v\n", list(r.Created), list(r.Updated), list(r.Deleted))
	}
	if b.Len() == 0 {
		return "applied: nothing to change\n"
	}
	return b.String()
}

func list(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// relocate makes the findings' files relative to the repository root, so
// that GitHub annotations and SARIF results attach to the pull request's
// lines and a terminal's file:line links open.
func relocate(fs []validate.Finding, t *team) {
	dir := t.manifestsDir()
	for i := range fs {
		f := &fs[i].Pos
		if f.File == "" || filepath.IsAbs(f.File) {
			continue
		}
		if rel, err := filepath.Rel(t.root, filepath.Join(dir, f.File)); err == nil {
			f.File = filepath.ToSlash(rel)
		}
	}
}

// deploy runs validate, plan or apply.
func (p *clients) deploy(ctx context.Context, t *team, o *options, stdout, stderr io.Writer) int {
	cfg := t.config()
	if p.any() {
		cfg.Live = &validate.Live{Connect: p.connect, Registry: p.registry, Vault: p.vault, Topics: p.topics, Deliver: p.deliver}
		// Each cluster's workers check its connectors, with its own
		// secrets folder.
		for name, c := range p.clusters {
			if c.connect == nil {
				continue
			}
			if cfg.Live.Clusters == nil {
				cfg.Live.Clusters = map[string]validate.LiveConnect{}
			}
			cfg.Live.Clusters[name] = validate.LiveConnect{Connect: c.connect,
				Deliver: func(ctx context.Context, specs []connect.Spec) ([]connect.Spec, error) {
					return p.deliverTo(ctx, name, specs)
				}}
		}
	}
	res, err := validate.Validate(ctx, validate.Options{Dir: t.manifestsDir(), ExtVars: t.extVars()}, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "streamkit: validate:", err)
		return exitError
	}
	rules := cfg.Rules
	if rules == nil {
		rules = validate.BuiltinRules()
	}
	out := &report{format: o.format, cmd: o.cmd, team: t, res: res, rules: append(rules, cfg.Custom...)}
	code := validationCode(res)
	if o.cmd == "validate" || code == exitFindings {
		return out.write(stdout, stderr, code)
	}
	dp, err := p.plan(ctx, t, res.Manifest, o.prune)
	if err != nil {
		// A platform that refused to be read (an ACL, a certificate, a
		// credential) is 1, as a refused apply is; anything else that
		// stops a plan (the platform out of reach among others), 2.
		out.err = err
		code := exitError
		if refused(err) {
			code = exitFindings
		}
		return out.write(stdout, stderr, code)
	}
	out.plan = dp
	if pf := dp.findings(res.Locator, o.force); len(pf) > 0 {
		res.Findings = append(res.Findings, pf...)
		return out.write(stdout, stderr, exitFindings)
	}
	if o.cmd == "plan" || o.dryRun {
		return out.write(stdout, stderr, code)
	}
	if code != exitOK {
		out.err = errors.New("apply refused: some checks against the platform could not run (LIVE000); nothing was changed")
		return out.write(stdout, stderr, code)
	}
	out.applied, out.err = p.apply(ctx, dp, o.force)
	return out.write(stdout, stderr, applyCode(out.err))
}

// validationCode is the exit code validation alone asks for: 1 for error
// findings, 2 when a check against the platform could not run.
func validationCode(res *validate.Result) int {
	if !res.OK() {
		return exitFindings
	}
	if unreachableChecks(res) > 0 {
		return exitError
	}
	return exitOK
}

// refused reports whether err is the platform refusing the CLI's
// principal: an authorization error of Kafka, a refused credential or
// certificate, a 401 or 403 of Connect, the registry or Vault.
func refused(err error) bool {
	return topics.IsAuthorizationError(err) || errors.Is(err, topics.ErrAuthentication) ||
		errors.Is(err, connect.ErrUnauthorized) || errors.Is(err, connect.ErrCertificate) ||
		errors.Is(err, schema.ErrRefused) || errors.Is(err, secrets.ErrPermissionDenied) || errors.Is(err, secrets.ErrCertificate)
}

// applyCode is 0 for a finished apply, 2 when the platform could not be
// reached part-way, and 1 when it refused something.
func applyCode(err error) int {
	switch {
	case err == nil:
		return exitOK
	case unreachable(err):
		return exitError
	}
	return exitFindings
}

// unreachable reports whether err is a platform that could not be reached
// rather than one that refused.
func unreachable(err error) bool {
	// A certificate or a credential refused is the platform's answer, not
	// its absence: *url.Error and *net.OpError, which carry them, are
	// net.Errors too.
	if refused(err) {
		return false
	}
	var ne net.Error
	return errors.Is(err, connect.ErrUnavailable) || errors.Is(err, schema.ErrUnavailable) ||
		errors.Is(err, secrets.ErrUnavailable) || errors.Is(err, secrets.ErrSealed) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, errMissing) || errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED)
}
