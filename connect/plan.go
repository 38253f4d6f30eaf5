package connect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/streamkit/streamkit/internal/configdiff"
	"github.com/streamkit/streamkit/internal/redact"
)

// Spec is one connector's desired state: connectors as code. Printed,
// logged or encoded as JSON, it shows its config with credentials
// redacted unless they are config-provider placeholders; Config itself is
// what Plan and Apply compare and send.
type Spec struct {
	// Name is the connector's name; it must start with the plan's
	// namespace.
	Name string `json:"name"`
	// Config is the connector's whole config, connector.class included.
	// Config-provider placeholders (${dir:...}, ${file:...}, ${vault:...})
	// are written and compared as they are; streamkit never resolves them.
	Config map[string]string `json:"config"`
	// State is RUNNING (the default when empty), PAUSED or STOPPED.
	State string `json:"state,omitempty"`
	// Cluster names the Kafka cluster whose Connect workers run the
	// connector, one of the team file's; empty lets the classification of
	// its topics choose. Plan and Apply ignore it: a Client is one
	// Connect cluster's.
	Cluster string `json:"cluster,omitempty"`
}

func (s Spec) desiredState() string {
	if s.State == "" {
		return StateRunning
	}
	return s.State
}

// PlanOptions scope a plan.
type PlanOptions struct {
	// Namespace is the connector-name prefix the plan owns, e.g. the
	// team's "pricing-". Every desired connector must be inside it, and
	// only connectors inside it are ever deleted. Required.
	Namespace string
	// Prune deletes connectors inside the namespace that are not in the
	// desired state. Off by default.
	Prune bool
}

// Action is what a plan does to one connector.
type Action string

// The actions.
const (
	Create    Action = "create"
	Update    Action = "update"
	Delete    Action = "delete"
	Unchanged Action = "unchanged"
)

// KeyChange is one config key that differs. Old or New is nil when the key
// is absent on that side. Values of credentials are already redacted
// unless they are config-provider placeholders: a Plan holds no secret in
// what it exports or prints.
type KeyChange struct {
	Key string
	Old *string
	New *string
}

// Change is what a plan does to one connector.
type Change struct {
	Action Action
	Name   string
	// Keys are the config keys that differ: every key for a create, the
	// changed ones for an update, none otherwise. Sorted by key.
	Keys []KeyChange
	// FromState and ToState are set when the connector's state changes
	// (RUNNING, PAUSED, STOPPED).
	FromState, ToState string

	spec *Spec // the desired state of a create or update
}

// Plan is the difference between a desired state and the workers. It
// prints as a readable diff (String) and as JSON (MarshalJSON), with
// credentials redacted in both unless they are config-provider
// placeholders. A Plan is a value: it is safe to read from several
// goroutines and Apply does not change it.
type Plan struct {
	Namespace string
	Prune     bool
	// Changes holds one entry per connector in the namespace that is
	// desired or deleted, sorted by name.
	Changes []Change
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool {
	for _, c := range p.Changes {
		if c.Action != Unchanged {
			return false
		}
	}
	return true
}

// Count returns how many connectors the plan creates, updates, deletes and
// leaves unchanged.
func (p *Plan) Count() (create, update, del, unchanged int) {
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			create++
		case Update:
			update++
		case Delete:
			del++
		default:
			unchanged++
		}
	}
	return
}

// Plan compares desired with the connectors on the workers, using one
// listing request (GET /connectors?expand=info&expand=status). It changes
// nothing.
//
// Configs are compared as the worker stores them, less the "name" key the
// worker adds, so a plan right after an Apply is empty. A desired
// connector that is RUNNING but FAILED on the worker is unchanged: failures
// are for RestartFailed and the Healer, not for a config change.
func (c *Client) Plan(ctx context.Context, desired []Spec, opts PlanOptions) (*Plan, error) {
	if err := validateSpecs(desired, opts); err != nil {
		return nil, err
	}
	live, err := c.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("plan: list connectors: %w", err)
	}
	return diff(desired, live, opts), nil
}

func validateSpecs(desired []Spec, opts PlanOptions) error {
	if opts.Namespace == "" {
		return errors.New("plan: empty namespace: a plan must own a connector-name prefix")
	}
	var errs []error
	seen := map[string]bool{}
	for i, s := range desired {
		switch {
		case s.Name == "":
			errs = append(errs, fmt.Errorf("connector %d: empty name", i))
			continue
		case seen[s.Name]:
			errs = append(errs, fmt.Errorf("connector %q: defined twice", s.Name))
		case !strings.HasPrefix(s.Name, opts.Namespace):
			errs = append(errs, fmt.Errorf("connector %q: %w %q", s.Name, ErrOutsideNamespace, opts.Namespace))
		}
		seen[s.Name] = true
		if s.Config["connector.class"] == "" {
			errs = append(errs, fmt.Errorf("connector %q: no connector.class", s.Name))
		}
		if n, ok := s.Config["name"]; ok && n != s.Name {
			errs = append(errs, fmt.Errorf("connector %q: config name %q differs", s.Name, n))
		}
		switch s.State {
		case "", StateRunning, StatePaused, StateStopped:
		default:
			errs = append(errs, fmt.Errorf("connector %q: state %q: want RUNNING, PAUSED or STOPPED", s.Name, s.State))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("plan: %w", errors.Join(errs...))
	}
	return nil
}

func diff(desired []Spec, live map[string]Connector, opts PlanOptions) *Plan {
	p := &Plan{Namespace: opts.Namespace, Prune: opts.Prune}
	want := map[string]bool{}
	for i := range desired {
		s := &desired[i]
		want[s.Name] = true
		cur, ok := live[s.Name]
		if !ok {
			ch := Change{Action: Create, Name: s.Name, Keys: keyChanges(nil, normalize(s.Name, s.Config)), spec: s}
			if s.desiredState() != StateRunning {
				ch.ToState = s.desiredState()
			}
			p.Changes = append(p.Changes, ch)
			continue
		}
		ch := Change{Action: Unchanged, Name: s.Name, spec: s}
		ch.Keys = keyChanges(normalize(s.Name, cur.Info.Config), normalize(s.Name, s.Config))
		if from, to := liveState(cur.Status.Connector.State), s.desiredState(); from != "" && from != to {
			ch.FromState, ch.ToState = from, to
		}
		if len(ch.Keys) > 0 || ch.ToState != "" {
			ch.Action = Update
		}
		p.Changes = append(p.Changes, ch)
	}
	if opts.Prune {
		for name := range live {
			if strings.HasPrefix(name, opts.Namespace) && !want[name] {
				p.Changes = append(p.Changes, Change{Action: Delete, Name: name})
			}
		}
	}
	sort.Slice(p.Changes, func(i, j int) bool { return p.Changes[i].Name < p.Changes[j].Name })
	return p
}

// liveState maps a worker's connector state to a desired state, or "" for
// states a plan does not act on (FAILED, UNASSIGNED, RESTARTING).
func liveState(s string) string {
	switch s {
	case StateRunning, StatePaused, StateStopped:
		return s
	}
	return ""
}

// normalize drops what the worker adds to a stored config: the "name" key.
func normalize(name string, cfg map[string]string) map[string]string {
	out := make(map[string]string, len(cfg))
	for k, v := range cfg {
		if k == "name" && v == name {
			continue
		}
		out[k] = v
	}
	return out
}

// keyChanges lists the keys that differ, values redacted.
func keyChanges(old, cur map[string]string) []KeyChange {
	var out []KeyChange
	for _, e := range configdiff.Diff(old, cur, true) {
		kc := KeyChange{Key: e.Key}
		if e.Old != nil {
			kc.Old = ptr(redact.Value(e.Key, *e.Old))
		}
		if e.New != nil {
			kc.New = ptr(redact.Value(e.Key, *e.New))
		}
		out = append(out, kc)
	}
	return out
}

func ptr(s string) *string { return &s }

// String renders the plan as a diff a reviewer reads in a pull request:
// "+" creates, "~" updates, "-" deletes, with each changed key beneath.
// Credentials are redacted unless they are config-provider placeholders.
func (p *Plan) String() string {
	var b strings.Builder
	prune := "off"
	if p.Prune {
		prune = "on"
	}
	fmt.Fprintf(&b, "connect plan for namespace %q (prune %s)\n", p.Namespace, prune)
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			fmt.Fprintf(&b, "+ create %s\n", c.Name)
		case Update:
			fmt.Fprintf(&b, "~ update %s\n", c.Name)
		case Delete:
			fmt.Fprintf(&b, "- delete %s\n", c.Name)
		default:
			continue
		}
		for _, k := range c.Keys {
			switch {
			case k.Old == nil:
				fmt.Fprintf(&b, "    + %s = %q\n", k.Key, *k.New)
			case k.New == nil:
				fmt.Fprintf(&b, "    - %s = %q\n", k.Key, *k.Old)
			default:
				fmt.Fprintf(&b, "    ~ %s: %q -> %q\n", k.Key, *k.Old, *k.New)
			}
		}
		if c.ToState != "" {
			from := c.FromState
			if from == "" {
				from = "(new)"
			}
			fmt.Fprintf(&b, "    state: %s -> %s\n", from, c.ToState)
		}
	}
	cr, up, del, same := p.Count()
	fmt.Fprintf(&b, "%d to create, %d to update, %d to delete, %d unchanged\n", cr, up, del, same)
	return b.String()
}

type jsonKeyChange struct {
	Key string  `json:"key"`
	Old *string `json:"old,omitempty"`
	New *string `json:"new,omitempty"`
}

type jsonChange struct {
	Action    Action          `json:"action"`
	Name      string          `json:"name"`
	Keys      []jsonKeyChange `json:"keys,omitempty"`
	FromState string          `json:"from_state,omitempty"`
	ToState   string          `json:"to_state,omitempty"`
}

// GoString is String, so %#v prints no more than %v.
func (p *Plan) GoString() string { return p.String() }

// MarshalJSON renders the plan for CI, with the same redaction as String.
func (p *Plan) MarshalJSON() ([]byte, error) {
	out := struct {
		Namespace string       `json:"namespace"`
		Prune     bool         `json:"prune"`
		Changes   []jsonChange `json:"changes"`
		Summary   struct {
			Create    int `json:"create"`
			Update    int `json:"update"`
			Delete    int `json:"delete"`
			Unchanged int `json:"unchanged"`
		} `json:"summary"`
	}{Namespace: p.Namespace, Prune: p.Prune, Changes: []jsonChange{}}
	out.Summary.Create, out.Summary.Update, out.Summary.Delete, out.Summary.Unchanged = p.Count()
	for _, c := range p.Changes {
		jc := jsonChange{Action: c.Action, Name: c.Name, FromState: c.FromState, ToState: c.ToState}
		for _, k := range c.Keys {
			jc.Keys = append(jc.Keys, jsonKeyChange(k))
		}
		out.Changes = append(out.Changes, jc)
	}
	return json.Marshal(out)
}
