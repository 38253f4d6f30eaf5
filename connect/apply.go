package connect

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/streamkit/streamkit/internal/backoff"
)

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// Wait bounds how long Apply waits for changed connectors to reach
	// their desired state with all tasks RUNNING: 0 means the default 2
	// minutes, a negative value does not wait.
	Wait time.Duration
	// PollInterval is the pause between status checks while waiting:
	// 0 means the default 500ms.
	PollInterval time.Duration
	// SkipValidation skips the worker's config validation. Validation is
	// on by default.
	SkipValidation bool
}

// ApplyResult says what Apply did.
type ApplyResult struct {
	Created, Updated, Deleted []string
}

// Apply carries out a plan.
//
// First it asks the workers to validate every config the plan creates or
// updates (PUT /connector-plugins/{class}/config/validate); if the worker
// rejects any, Apply changes nothing and returns a *ValidationError with
// the worker's messages for each key. Then it writes each change: a PUT of
// the whole config for a create or update (create-or-replace, so a re-run
// after an interruption converges), pause, resume or stop for a state
// change, and a delete for a pruned connector (one already gone is fine).
// Finally it waits, bounded by opts.Wait, until each changed connector and
// all its tasks are in their desired state, and returns a *StateError
// carrying the worker's trace for those that failed or did not get there.
//
// Apply is idempotent: applying the same plan again changes nothing more.
func (c *Client) Apply(ctx context.Context, p *Plan, opts ApplyOptions) (*ApplyResult, error) {
	if opts.Wait == 0 {
		opts.Wait = 2 * time.Minute
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 500 * time.Millisecond
	}
	if !opts.SkipValidation {
		if err := c.validatePlan(ctx, p); err != nil {
			return nil, err
		}
	}

	res := &ApplyResult{}
	var errs []error
	var changed []*Change
	for i := range p.Changes {
		ch := &p.Changes[i]
		var err error
		switch ch.Action {
		case Create, Update:
			err = c.applyOne(ctx, ch)
			if err == nil {
				changed = append(changed, ch)
				if ch.Action == Create {
					res.Created = append(res.Created, ch.Name)
				} else {
					res.Updated = append(res.Updated, ch.Name)
				}
			}
		case Delete:
			if err = c.Delete(ctx, ch.Name); errors.Is(err, ErrNotFound) {
				err = nil
			}
			if err == nil {
				res.Deleted = append(res.Deleted, ch.Name)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", ch.Action, ch.Name, err))
			if ctx.Err() != nil || errors.Is(err, ErrUnavailable) {
				// No worker answers: the rest would fail the same way,
				// each after its retries. A new plan picks them up.
				var rest []string
				for _, later := range p.Changes[i+1:] {
					if later.Action != Unchanged {
						rest = append(rest, later.Name)
					}
				}
				if len(rest) > 0 {
					errs = append(errs, fmt.Errorf("not attempted: %s", strings.Join(rest, ", ")))
				}
				break
			}
		}
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("apply: %w", errors.Join(errs...))
	}
	if opts.Wait > 0 && len(changed) > 0 {
		if err := c.waitFor(ctx, changed, opts); err != nil {
			return res, fmt.Errorf("apply: %w", err)
		}
	}
	return res, nil
}

// validatePlan validates every create and update, and reports all
// rejections at once.
func (c *Client) validatePlan(ctx context.Context, p *Plan) error {
	rejected := map[string]map[string][]string{}
	for _, ch := range p.Changes {
		if ch.spec == nil || (ch.Action != Create && ch.Action != Update) || len(ch.Keys) == 0 {
			continue
		}
		cfg := withName(ch.spec)
		v, err := c.Validate(ctx, cfg["connector.class"], cfg)
		if err != nil {
			if errors.Is(err, ErrNotFound) || errors.Is(err, ErrBadRequest) {
				rejected[ch.Name] = map[string][]string{"connector.class": {err.Error()}}
				continue
			}
			return fmt.Errorf("apply: validate %s: %w", ch.Name, err)
		}
		if v.ErrorCount > 0 {
			errsByKey := v.Errors()
			if len(errsByKey) == 0 {
				errsByKey = map[string][]string{"": {fmt.Sprintf("%d errors", v.ErrorCount)}}
			}
			rejected[ch.Name] = errsByKey
		}
	}
	if len(rejected) > 0 {
		return &ValidationError{Connectors: rejected}
	}
	return nil
}

func withName(s *Spec) map[string]string {
	cfg := make(map[string]string, len(s.Config)+1)
	for k, v := range s.Config {
		cfg[k] = v
	}
	cfg["name"] = s.Name
	return cfg
}

func (c *Client) applyOne(ctx context.Context, ch *Change) error {
	s := ch.spec
	if ch.Action == Create && s.desiredState() != StateRunning {
		// Created in its state, so it never runs even briefly.
		_, err := c.Create(ctx, s.Name, s.Config, InitialState(s.desiredState()))
		if !errors.Is(err, ErrConflict) {
			return err
		}
		// Already there: an earlier, interrupted Apply created it; make
		// its config and state the desired ones below.
		ch = &Change{Action: Update, Name: ch.Name, Keys: ch.Keys, ToState: ch.ToState, spec: s}
	}
	if len(ch.Keys) > 0 || ch.Action == Create {
		if _, _, err := c.PutConfig(ctx, s.Name, s.Config); err != nil {
			return err
		}
	}
	if ch.ToState == "" {
		return nil
	}
	switch ch.ToState {
	case StatePaused:
		return c.Pause(ctx, s.Name)
	case StateStopped:
		return c.Stop(ctx, s.Name)
	default:
		return c.Resume(ctx, s.Name)
	}
}

// waitFor polls the workers, one listing per round, until every changed
// connector is in its desired state with all its tasks RUNNING (or none,
// for PAUSED and STOPPED) twice in a row, one fails, or the wait ends.
func (c *Client) waitFor(ctx context.Context, changed []*Change, opts ApplyOptions) error {
	ctx, cancel := context.WithTimeout(ctx, opts.Wait)
	defer cancel()
	pending := map[string]*Change{}
	for _, ch := range changed {
		pending[ch.Name] = ch
	}
	settled := map[string]int{}
	problems := map[string]string{}
	for len(pending) > 0 {
		live, err := c.List(ctx)
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("wait for connectors: %w", err)
		}
		for name, ch := range pending {
			if err != nil {
				break // the wait ended during the listing: keep what was seen last
			}
			cur, ok := live[name]
			if !ok {
				settled[name] = 0
				problems[name] = "not listed by the worker yet"
				continue
			}
			ok, failure := reached(cur.Status, ch.spec.desiredState())
			switch {
			case failure != "":
				problems[name] = failure
				delete(pending, name)
				continue
			case ok:
				settled[name]++
				delete(problems, name)
				if settled[name] >= 2 {
					delete(pending, name)
				}
			default:
				settled[name] = 0
				problems[name] = describe(cur.Status)
			}
		}
		if len(pending) == 0 {
			break
		}
		if ctx.Err() != nil {
			for name := range pending {
				problems[name] = fmt.Sprintf("not %s after %v: %s", pending[name].spec.desiredState(), opts.Wait, problems[name])
			}
			break
		}
		// ctx ending is seen at the top of the next round.
		_ = backoff.Sleep(ctx, opts.PollInterval)
	}
	if len(problems) > 0 {
		return &StateError{Connectors: problems}
	}
	return nil
}

// reached reports whether a status shows the desired state, or why it
// never will (a FAILED connector or task, with the worker's trace).
func reached(st Status, want string) (bool, string) {
	if st.Connector.State == StateFailed {
		return false, "connector FAILED: " + st.Connector.Trace
	}
	for _, t := range st.Tasks {
		if t.State == StateFailed {
			return false, fmt.Sprintf("task %d FAILED: %s", t.ID, t.Trace)
		}
	}
	return st.Connector.State == want && (want != StateRunning || healthy(st)), ""
}

func describe(st Status) string {
	s := "connector " + st.Connector.State
	for _, t := range st.Tasks {
		s += fmt.Sprintf(", task %d %s", t.ID, t.State)
	}
	return s
}
