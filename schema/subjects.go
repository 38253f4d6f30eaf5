package schema

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/sr"
)

// SubjectSpec is one subject a team declares: schemas as code.
type SubjectSpec struct {
	// Subject is the registry subject, e.g. "pricing.prices.v1-value".
	Subject string
	// Schema is the schema the subject's latest version must be.
	Schema *Schema
	// Compatibility is the subject's level; empty leaves the level the
	// registry has (the subject's own or the global one).
	Compatibility CompatibilityLevel
}

// SubjectPlanOptions scope a subject plan.
type SubjectPlanOptions struct {
	// Namespace is the subject-name prefix the plan owns. Every desired
	// subject must be inside it; only subjects inside it are ever deleted.
	// Required.
	Namespace string
	// Prune soft-deletes subjects of the namespace that are not desired.
	Prune bool
}

// SubjectAction is what a plan does to one subject.
type SubjectAction string

// The subject actions. Create, Update, Delete and Unchanged are the words
// the topics and connect plans use for the same things.
const (
	SubjectCreate    SubjectAction = "create"
	SubjectUpdate    SubjectAction = "update"
	SubjectDelete    SubjectAction = "delete"
	SubjectUnchanged SubjectAction = "unchanged"
	// SubjectRefused is a schema the registry refuses as the next
	// version under the subject's compatibility level.
	SubjectRefused SubjectAction = "refused"
	// SubjectDrift is a subject whose latest version is not the
	// repository's schema although the repository's schema is registered
	// under it: someone else (often a service that registers the schema it
	// derives from its own type at start-up) registered a newer version.
	// Registering the repository's schema again cannot fix it; a person
	// decides which is right.
	SubjectDrift SubjectAction = "drift"
)

// SubjectChange is what a plan does to one subject.
type SubjectChange struct {
	Action  SubjectAction `json:"action"`
	Subject string        `json:"subject"`
	// Latest and LatestID are the registry's latest version of the subject
	// and its schema ID; 0 for a subject that does not exist.
	Latest   int `json:"latest,omitempty"`
	LatestID int `json:"latest_id,omitempty"`
	// Version is the version the repository's schema already has under
	// the subject, when it is registered (unchanged, drift).
	Version int `json:"version,omitempty"`
	// FromLevel and ToLevel are set when the subject's compatibility level
	// changes; FromLevel is the level in force before (the global one when
	// the subject has none of its own).
	FromLevel CompatibilityLevel `json:"from_level,omitempty"`
	ToLevel   CompatibilityLevel `json:"to_level,omitempty"`
	// Diff is the schema change, one line each: "+ field x: long", "- field
	// y", "~ field z: int -> long". For a new subject it lists the fields.
	Diff []string `json:"diff,omitempty"`
	// NewVersion is set when apply registers the schema: a new subject, or
	// a new version of one. An update without it changes the level only.
	NewVersion bool `json:"new_version,omitempty"`
	// Reason says why a change is refused or drifted.
	Reason string `json:"reason,omitempty"`

	spec *SubjectSpec
}

// SubjectPlan is the difference between the desired subjects and the
// registry. It prints as a readable diff (String) and as JSON.
type SubjectPlan struct {
	Namespace string          `json:"namespace"`
	Prune     bool            `json:"prune"`
	Changes   []SubjectChange `json:"changes"`
}

// Empty reports whether the plan changes nothing and reports nothing.
func (p *SubjectPlan) Empty() bool {
	for _, c := range p.Changes {
		if c.Action != SubjectUnchanged {
			return false
		}
	}
	return true
}

// Refusals returns the changes apply refuses: incompatible schemas and
// drift.
func (p *SubjectPlan) Refusals() []SubjectChange {
	var out []SubjectChange
	for _, c := range p.Changes {
		if c.Action == SubjectRefused || c.Action == SubjectDrift {
			out = append(out, c)
		}
	}
	return out
}

// Count returns how many subjects the plan creates, updates, deletes,
// leaves unchanged, refuses and finds drifted.
func (p *SubjectPlan) Count() (create, update, del, unchanged, refused, drift int) {
	for _, c := range p.Changes {
		switch c.Action {
		case SubjectCreate:
			create++
		case SubjectUpdate:
			update++
		case SubjectDelete:
			del++
		case SubjectRefused:
			refused++
		case SubjectDrift:
			drift++
		default:
			unchanged++
		}
	}
	return
}

// planConcurrency bounds the subjects a plan asks about at once.
const planConcurrency = 8

// PlanSubjects compares desired with the registry and changes nothing.
//
// For each subject it reads the latest version; when that is not the
// desired schema it looks the desired schema up under the subject: found,
// the subject has drifted (SubjectDrift); not found, it asks the registry
// whether the schema is compatible (SubjectUpdate or SubjectRefused). Two
// schemas are the same when their JSON is, ignoring formatting and key
// order: a changed doc or default is a new version, as the registry sees
// it. With a Compatibility the subject's level is read too. With Prune,
// one subject listing finds the namespace's subjects that are not desired.
// The checks use the level in force now: a plan that also changes the
// level is checked again by the registry when Apply registers.
//
// A plan asks about up to 8 subjects at once. An error reaching the
// registry fails the plan; it is a RegistryError that matches
// ErrUnavailable, ErrMalformedResponse or ErrRefused.
func (r *Registry) PlanSubjects(ctx context.Context, desired []SubjectSpec, opts SubjectPlanOptions) (*SubjectPlan, error) {
	if err := checkSubjectSpecs(desired, opts); err != nil {
		return nil, fmt.Errorf("plan subjects: %w", err)
	}
	p := &SubjectPlan{Namespace: opts.Namespace, Prune: opts.Prune, Changes: make([]SubjectChange, len(desired))}
	var listed []string
	err := bounded(ctx, len(desired)+1, func(ctx context.Context, i int) error {
		if i == len(desired) {
			if !opts.Prune {
				return nil
			}
			subjects, err := r.cl.Subjects(ctx)
			if err != nil {
				return registryErr(ctx, "list subjects", err)
			}
			listed = subjects
			return nil
		}
		ch, err := r.planSubject(ctx, &desired[i])
		if err != nil {
			return err
		}
		p.Changes[i] = ch
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("plan subjects: %w", err)
	}
	if opts.Prune {
		want := make(map[string]bool, len(desired))
		for _, s := range desired {
			want[s.Subject] = true
		}
		for _, s := range listed {
			if strings.HasPrefix(s, opts.Namespace) && !want[s] {
				p.Changes = append(p.Changes, SubjectChange{Action: SubjectDelete, Subject: s})
			}
		}
	}
	sort.Slice(p.Changes, func(i, j int) bool { return p.Changes[i].Subject < p.Changes[j].Subject })
	return p, nil
}

func checkSubjectSpecs(desired []SubjectSpec, opts SubjectPlanOptions) error {
	if opts.Namespace == "" {
		return errors.New("empty namespace")
	}
	seen := map[string]bool{}
	var errs []error
	for _, s := range desired {
		switch {
		case s.Subject == "":
			errs = append(errs, errors.New("a subject without a name"))
		case !strings.HasPrefix(s.Subject, opts.Namespace):
			errs = append(errs, fmt.Errorf("subject %q is outside the namespace %q", s.Subject, opts.Namespace))
		case seen[s.Subject]:
			errs = append(errs, fmt.Errorf("subject %q is declared twice", s.Subject))
		case s.Schema == nil:
			errs = append(errs, fmt.Errorf("subject %q has no schema", s.Subject))
		}
		if s.Compatibility != "" && !s.Compatibility.valid() {
			errs = append(errs, fmt.Errorf("subject %q: unknown compatibility level %q", s.Subject, s.Compatibility))
		}
		seen[s.Subject] = true
	}
	return errors.Join(errs...)
}

func (l CompatibilityLevel) valid() bool {
	switch l {
	case None, Backward, BackwardTransitive, Forward, ForwardTransitive, Full, FullTransitive:
		return true
	}
	return false
}

func (r *Registry) planSubject(ctx context.Context, s *SubjectSpec) (SubjectChange, error) {
	ch := SubjectChange{Subject: s.Subject, spec: s}
	latest, err := r.Latest(ctx, s.Subject)
	switch {
	case isNotFound(err):
		ch.Action, ch.NewVersion = SubjectCreate, true
		ch.Diff = diffSchemas(nil, s.Schema)
	case err != nil:
		return ch, err
	default:
		ch.Latest, ch.LatestID = latest.Version, latest.ID
		if sameSchema(latest.Schema, s.Schema) {
			ch.Action, ch.Version = SubjectUnchanged, latest.Version
			break
		}
		ch.Diff = diffSchemas(latest.Schema, s.Schema)
		ss, err := r.cl.LookupSchema(ctx, s.Subject, sr.Schema{Schema: s.Schema.String(), Type: sr.TypeAvro})
		if err == nil {
			ch.Action, ch.Version = SubjectDrift, ss.Version
			ch.Reason = fmt.Sprintf("the registry's latest version %d (id %d) is not the repository's schema, which is version %d: "+
				"someone registered a newer version outside the repository", latest.Version, latest.ID, ss.Version)
			break
		}
		if rerr := registryErr(ctx, fmt.Sprintf("look up the schema of %q", s.Subject), err); !isNotFound(rerr) {
			return ch, rerr
		}
		err = r.CheckCompatibility(ctx, s.Subject, s.Schema)
		var ie *IncompatibleError
		switch {
		case err == nil:
			ch.Action, ch.NewVersion = SubjectUpdate, true
		case errors.As(err, &ie):
			ch.Action = SubjectRefused
			ch.Reason = "the registry refuses it as the next version: " + strings.Join(ie.Messages, "; ")
		default:
			return ch, err
		}
	}
	if s.Compatibility == "" {
		return ch, nil
	}
	res := r.cl.Compatibility(sr.WithParams(ctx, sr.DefaultToGlobal), s.Subject)
	if len(res) != 1 {
		return ch, fmt.Errorf("get compatibility of %q: %w: %d answers", s.Subject, ErrMalformedResponse, len(res))
	}
	current := CompatibilityLevel(strings.ToUpper(res[0].Level.String()))
	if err := res[0].Err; err != nil {
		rerr := registryErr(ctx, fmt.Sprintf("get compatibility of %q", s.Subject), err)
		if !isNotFound(rerr) {
			return ch, rerr
		}
		current = "" // a subject, or a level, the registry does not have yet
	}
	if current != s.Compatibility {
		ch.FromLevel, ch.ToLevel = current, s.Compatibility
		if ch.Action == SubjectUnchanged {
			ch.Action = SubjectUpdate
		}
	}
	return ch, nil
}

// sameSchema reports whether a and b are the same text up to formatting
// and key order.
func sameSchema(a, b *Schema) bool {
	return normalJSON(a.String()) == normalJSON(b.String())
}

// normalJSON re-encodes a JSON document with sorted keys and no spaces;
// text that is not JSON stays as it is.
func normalJSON(s string) string {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return s
	}
	return string(b)
}

// SubjectApplyOptions change how ApplySubjects works.
type SubjectApplyOptions struct {
	// Force is needed to delete subjects.
	Force bool
}

// SubjectApplyResult is what ApplySubjects did.
type SubjectApplyResult struct {
	// Registered maps each subject given a new version to its schema ID.
	Registered map[string]int
	// Levels are the subjects whose compatibility level was set.
	Levels []string
	// Deleted are the subjects soft-deleted.
	Deleted []string
}

// ErrDrift is returned by ApplySubjects for a plan that holds drift.
var ErrDrift = errors.New("subject drifted from the repository")

// ErrDeleteNeedsForce is returned by ApplySubjects for a plan that deletes
// subjects when SubjectApplyOptions.Force is not set.
var ErrDeleteNeedsForce = errors.New("deleting subjects needs force")

// ApplySubjects carries out p: for each created or updated subject it sets
// the compatibility level first (so that the registration is checked
// under it) and then registers the schema; then it soft-deletes the
// subjects p deletes, which needs opts.Force. A plan with a refused or
// drifted subject is refused as a whole, before anything is written: the
// error matches ErrIncompatible or ErrDrift. An error part-way returns the
// result so far with it; a new plan and apply converge.
func (r *Registry) ApplySubjects(ctx context.Context, p *SubjectPlan, opts SubjectApplyOptions) (*SubjectApplyResult, error) {
	res := &SubjectApplyResult{Registered: map[string]int{}}
	var errs []error
	for _, c := range p.Refusals() {
		target := ErrIncompatible
		if c.Action == SubjectDrift {
			target = ErrDrift
		}
		errs = append(errs, fmt.Errorf("subject %s: %w: %s", c.Subject, target, c.Reason))
	}
	if !opts.Force {
		for _, c := range p.Changes {
			if c.Action == SubjectDelete {
				errs = append(errs, fmt.Errorf("subject %s: %w", c.Subject, ErrDeleteNeedsForce))
			}
		}
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("apply subjects: %w", errors.Join(errs...))
	}
	var mu sync.Mutex
	err := bounded(ctx, len(p.Changes), func(gctx context.Context, i int) error {
		c := &p.Changes[i]
		if c.Action != SubjectCreate && c.Action != SubjectUpdate && c.Action != SubjectDelete {
			return nil
		}
		{
			if c.Action == SubjectDelete {
				if _, err := r.cl.DeleteSubject(gctx, c.Subject, sr.SoftDelete); err != nil {
					if rerr := registryErr(gctx, fmt.Sprintf("delete subject %q", c.Subject), err); !isNotFound(rerr) {
						return rerr
					}
				}
				mu.Lock()
				res.Deleted = append(res.Deleted, c.Subject)
				mu.Unlock()
				return nil
			}
			if c.ToLevel != "" {
				set := r.cl.SetCompatibility(gctx, sr.SetCompatibility{Level: srLevel(c.ToLevel)}, c.Subject)
				if len(set) == 1 && set[0].Err != nil {
					return registryErr(gctx, fmt.Sprintf("set compatibility of %q to %s", c.Subject, c.ToLevel), set[0].Err)
				}
				mu.Lock()
				res.Levels = append(res.Levels, c.Subject)
				mu.Unlock()
			}
			if !c.NewVersion || c.spec == nil {
				return nil // a level change only
			}
			id, err := r.Register(gctx, c.Subject, c.spec.Schema)
			if err != nil {
				return err
			}
			mu.Lock()
			res.Registered[c.Subject] = id
			mu.Unlock()
			return nil
		}
	})
	slices.Sort(res.Levels)
	slices.Sort(res.Deleted)
	if err != nil {
		return res, fmt.Errorf("apply subjects: %w", err)
	}
	return res, nil
}

// bounded calls f(ctx, i) for i in [0, n), up to planConcurrency at a
// time, and returns the first error; the first error cancels the ctx the
// other calls get.
func bounded(ctx context.Context, n int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		slots = make(chan struct{}, planConcurrency)
	)
	for i := range n {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			if err := f(ctx, i); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

func srLevel(l CompatibilityLevel) sr.CompatibilityLevel {
	var out sr.CompatibilityLevel
	if err := out.UnmarshalText([]byte(l)); err != nil {
		return sr.CompatBackward // unreachable: checkSubjectSpecs allows known levels only
	}
	return out
}

// String renders the plan as a diff for review.
func (p *SubjectPlan) String() string {
	var b strings.Builder
	prune := "off"
	if p.Prune {
		prune = "on"
	}
	fmt.Fprintf(&b, "subjects plan for namespace %q (prune %s)\n", p.Namespace, prune)
	for _, c := range p.Changes {
		switch c.Action {
		case SubjectCreate:
			fmt.Fprintf(&b, "+ create %s\n", c.Subject)
		case SubjectUpdate:
			if c.NewVersion {
				fmt.Fprintf(&b, "~ update %s (new version after %d)\n", c.Subject, c.Latest)
			} else {
				fmt.Fprintf(&b, "~ update %s\n", c.Subject)
			}
		case SubjectDelete:
			fmt.Fprintf(&b, "- delete %s (soft, needs force)\n", c.Subject)
		case SubjectRefused:
			fmt.Fprintf(&b, "! refused %s: %s\n", c.Subject, c.Reason)
		case SubjectDrift:
			fmt.Fprintf(&b, "! drift %s: %s\n", c.Subject, c.Reason)
		default:
			continue
		}
		for _, d := range c.Diff {
			fmt.Fprintf(&b, "    %s\n", d)
		}
		if c.ToLevel != "" {
			from := string(c.FromLevel)
			if from == "" {
				from = "(registry default)"
			}
			fmt.Fprintf(&b, "    compatibility: %s -> %s\n", from, c.ToLevel)
		}
	}
	cr, up, del, same, ref, drift := p.Count()
	fmt.Fprintf(&b, "%d to create, %d to update, %d to delete, %d unchanged, %d refused, %d drifted\n", cr, up, del, same, ref, drift)
	return b.String()
}

// MarshalJSON renders the plan for CI, with a summary of the counts.
func (p *SubjectPlan) MarshalJSON() ([]byte, error) {
	type plain SubjectPlan
	q := plain(*p)
	if q.Changes == nil {
		q.Changes = []SubjectChange{}
	}
	cr, up, del, same, ref, drift := p.Count()
	return json.Marshal(struct {
		plain
		Summary map[string]int `json:"summary"`
	}{q, map[string]int{"create": cr, "update": up, "delete": del, "unchanged": same, "refused": ref, "drift": drift}})
}
