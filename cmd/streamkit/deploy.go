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
)

// deployPlan is the one plan of a repository: topics, subjects, ACLs and
// connectors, applied in that order. A nil part is a component the
// manifests do not use.
type deployPlan struct {
	Topics     *topics.Plan        `json:"topics,omitempty"`
	Subjects   *schema.SubjectPlan `json:"subjects,omitempty"`
	ACLs       *topics.ACLPlan     `json:"acls,omitempty"`
	Connectors *connect.Plan       `json:"connectors,omitempty"`

	// connectors are the manifests' connectors as written, with their
	// ${vault:...} references, which apply delivers before it writes
	// the connectors; the plan holds them translated.
	connectors []connect.Spec
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
	var missing []string
	if p.topics == nil {
		missing = append(missing, EnvBrokers)
	}
	if (len(m.Schemas) > 0 || prune) && p.registry == nil {
		missing = append(missing, EnvSchemaRegistryURL)
	}
	if (len(m.Connectors) > 0 || prune) && p.connect == nil {
		missing = append(missing, EnvConnectURL)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("plan and apply need %s: %w", strings.Join(missing, ", "), errMissing)
	}
	dp := &deployPlan{}
	var err error
	topicOpts := topics.PlanOptions{Namespace: t.Namespace, Prune: prune}
	if dp.Topics, err = p.topics.Plan(ctx, m.Topics, topicOpts); err != nil {
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
	if dp.ACLs, err = p.topics.PlanACLs(ctx, m.ACLs, m.Bindings, topicOpts); err != nil {
		return nil, fmt.Errorf("plan acls: %w", err)
	}
	if p.connect != nil {
		specs, err := p.workerSpecs(m.Connectors)
		if err != nil {
			return nil, fmt.Errorf("plan connectors: %w", err)
		}
		if dp.Connectors, err = p.connect.Plan(ctx, specs, connect.PlanOptions{Namespace: t.Namespace, Prune: prune}); err != nil {
			return nil, fmt.Errorf("plan connectors: %w", err)
		}
		dp.connectors = m.Connectors
	}
	return dp, nil
}

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
	if p.Topics != nil {
		for _, c := range p.Topics.Changes {
			switch {
			case c.Action == topics.Refused:
				add(RulePlanRefused, "topic", c.Topic, "Kafka cannot make this change: "+c.Reason)
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
	topicStep := func(name string, part *topics.Plan) step {
		return step{name, part != nil && !part.Empty(), func() error {
			r, err := p.topics.Apply(ctx, part, topics.ApplyOptions{Force: force})
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
	aclStep := func(name string, part *topics.ACLPlan) step {
		return step{name, part != nil && !part.Empty(), func() error {
			if err := p.topics.ApplyACLs(ctx, part); err != nil {
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
	connectorStep := func(name string, part *connect.Plan) step {
		return step{name, part != nil && !part.Empty(), func() error {
			// The files the placeholders name are in place before a
			// worker reads them: validation wrote them, and this writes
			// what Vault changed since.
			if slices.ContainsFunc(part.Changes, func(c connect.Change) bool { return c.Action != connect.Delete }) {
				if _, err := p.deliver(ctx, dp.connectors); err != nil {
					return fmt.Errorf("deliver secrets: %w", err)
				}
			}
			r, err := p.connect.Apply(ctx, part, connect.ApplyOptions{})
			done.Connectors = mergeConnectors(done.Connectors, r)
			return err
		}}
	}
	steps := []step{
		topicStep("topics", writes.Topics),
		subjectStep("subjects", writes.Subjects),
		aclStep("acls", writes.ACLs),
		connectorStep("connectors", writes.Connectors),
		connectorStep("connector deletes", deletes.Connectors),
		aclStep("acl deletes", deletes.ACLs),
		subjectStep("subject deletes", deletes.Subjects),
		topicStep("topic deletes", deletes.Topics),
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
	if p := dp.Topics; p != nil {
		w, d := *p, *p
		w.Changes, d.Changes = partition(p.Changes, func(c topics.Change) bool { return c.Action == topics.Delete })
		writes.Topics, deletes.Topics = &w, &d
	}
	if p := dp.Subjects; p != nil {
		w, d := *p, *p
		w.Changes, d.Changes = partition(p.Changes, func(c schema.SubjectChange) bool { return c.Action == schema.SubjectDelete })
		writes.Subjects, deletes.Subjects = &w, &d
	}
	if p := dp.ACLs; p != nil {
		w, d := *p, *p
		w.Delete, d.Create, d.Unchanged = nil, nil, 0
		writes.ACLs, deletes.ACLs = &w, &d
	}
	if p := dp.Connectors; p != nil {
		w, d := *p, *p
		w.Changes, d.Changes = partition(p.Changes, func(c connect.Change) bool { return c.Action == connect.Delete })
		writes.Connectors, deletes.Connectors = &w, &d
	}
	return writes, deletes
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
		out.err = err
		return out.write(stdout, stderr, exitError)
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
	var ne net.Error
	return errors.Is(err, connect.ErrUnavailable) || errors.Is(err, schema.ErrUnavailable) ||
		errors.Is(err, secrets.ErrUnavailable) || errors.Is(err, secrets.ErrSealed) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, errMissing) || errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED)
}
