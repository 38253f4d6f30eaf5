package connect

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
// A worker restarts a connector and its tasks a moment after their
// config is written; until then their status is the old one, FAILED with
// the old trace if they had failed. So before it rewrites a connector's
// config Apply reads its status (GET /connectors/{name}/status), and
// while waiting it takes a FAILED instance with the trace and worker seen
// then for the old one, not for a verdict on the new config. A failure is
// final once its trace or worker differs, or once that instance has been
// seen in another state since the write. A new task that fails exactly as
// the old one did cannot be told apart: it is reported when the wait
// ends, as failed with the trace it had before the update.
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
	var changed, deletes []*Change
	stopped := false
	// before holds, by connector, the FAILED instances seen right before
	// Apply rewrote its config.
	before := map[string]map[string]Instance{}
	for i := range p.Changes {
		ch := &p.Changes[i]
		var err error
		switch ch.Action {
		case Create, Update:
			var failed map[string]Instance
			failed, err = c.applyOne(ctx, ch)
			if err == nil {
				changed = append(changed, ch)
				if len(failed) > 0 {
					before[ch.Name] = failed
				}
				if ch.Action == Create {
					res.Created = append(res.Created, ch.Name)
				} else {
					res.Updated = append(res.Updated, ch.Name)
				}
			}
		case Delete:
			// After the writes, several at a time: see deleteAll.
			deletes = append(deletes, ch)
			continue
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
				for _, d := range deletes {
					rest = append(rest, d.Name)
				}
				if len(rest) > 0 {
					errs = append(errs, fmt.Errorf("not attempted: %s", strings.Join(rest, ", ")))
				}
				stopped = true
				break
			}
		}
	}
	if !stopped && len(deletes) > 0 {
		deleted, derrs := c.deleteAll(ctx, deletes)
		res.Deleted = deleted
		errs = append(errs, derrs...)
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("apply: %w", errors.Join(errs...))
	}
	if opts.Wait > 0 && len(changed) > 0 {
		if err := c.waitFor(ctx, changed, before, opts); err != nil {
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

// applyOne writes one create or update. When it rewrites the config of a
// connector the plan found on the workers, it returns the connector's
// FAILED instances as they were right before the write (failedInstances).
func (c *Client) applyOne(ctx context.Context, ch *Change) (map[string]Instance, error) {
	s := ch.spec
	if ch.Action == Create && s.desiredState() != StateRunning {
		// Created in its state, so it never runs even briefly.
		_, err := c.Create(ctx, s.Name, s.Config, InitialState(s.desiredState()))
		if !errors.Is(err, ErrConflict) {
			return nil, err
		}
		// Already there: an earlier, interrupted Apply created it; make
		// its config and state the desired ones below.
	}
	var failed map[string]Instance
	if len(ch.Keys) > 0 || ch.Action == Create {
		if ch.Action == Update {
			// Not found is a connector gone since the plan, or one
			// without a status yet: no failure for the write to hide.
			st, err := c.Status(ctx, s.Name)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return nil, fmt.Errorf("read status before the update: %w", err)
			}
			failed = failedInstances(st)
		}
		if _, _, err := c.PutConfig(ctx, s.Name, s.Config); err != nil {
			return nil, err
		}
	}
	var err error
	switch ch.ToState {
	case "":
	case StatePaused:
		err = c.Pause(ctx, s.Name)
	case StateStopped:
		err = c.Stop(ctx, s.Name)
	default:
		err = c.Resume(ctx, s.Name)
	}
	return failed, err
}

// waitFor polls the workers, one listing per round, until every changed
// connector is in its desired state with all its tasks RUNNING (or none,
// for PAUSED and STOPPED) twice in a row, one fails, or the wait ends.
// before holds each rewritten connector's FAILED instances from before the
// write; waitFor takes it over.
func (c *Client) waitFor(ctx context.Context, changed []*Change, before map[string]map[string]Instance, opts ApplyOptions) error {
	ctx, cancel := context.WithTimeout(ctx, opts.Wait)
	defer cancel()
	pending := map[string]*Change{}
	for _, ch := range changed {
		pending[ch.Name] = ch
	}
	settled := map[string]int{}
	problems := map[string]string{}
	// taskless is when each connector was first seen RUNNING without a
	// task: on a cluster of several workers the connector runs before
	// the leader has written its task configs, so that is not settled yet,
	// unless it lasts (a connector may have no task: MirrorMaker with
	// nothing to copy).
	taskless := map[string]time.Time{}
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
			ok, failure, waiting := progress(cur.Status, ch.spec.desiredState(), before[name])
			switch {
			case failure != "":
				problems[name] = failure
				delete(pending, name)
				continue
			case ok && ch.spec.desiredState() == StateRunning && len(cur.Status.Tasks) == 0 &&
				time.Since(firstSeen(taskless, name)) < tasklessGrace:
				settled[name] = 0
				problems[name] = "connector RUNNING, no task yet"
			case ok:
				settled[name]++
				delete(problems, name)
				if settled[name] >= 2 {
					delete(pending, name)
				}
			default:
				settled[name] = 0
				problems[name] = waiting
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

// deleteConcurrency is how many deletes Apply has in flight. A worker of
// a cluster of several answers a delete once the group has rebalanced
// (a heartbeat, 3 s by default); deletes in flight together share the
// rebalance.
const deleteConcurrency = 8

// deleteAll deletes the connectors of deletes, deleteConcurrency at a
// time; one already gone is deleted. It returns the names deleted, in
// deletes' order, and an error per failure. Once no worker answers, or
// ctx ends, the deletes not yet started are not attempted, and named.
func (c *Client) deleteAll(ctx context.Context, deletes []*Change) ([]string, []error) {
	var (
		mu          sync.Mutex
		wg          sync.WaitGroup
		done        = make([]bool, len(deletes))
		errs        []error
		unavailable atomic.Bool
		notStarted  []string
		slots       = make(chan struct{}, deleteConcurrency)
	)
	for i, ch := range deletes {
		slots <- struct{}{}
		if ctx.Err() != nil || unavailable.Load() {
			<-slots
			notStarted = append(notStarted, ch.Name)
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			err := c.Delete(ctx, ch.Name)
			if errors.Is(err, ErrNotFound) {
				err = nil
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w", ch.Action, ch.Name, err))
				if errors.Is(err, ErrUnavailable) {
					unavailable.Store(true)
				}
				return
			}
			done[i] = true
		}()
	}
	wg.Wait()
	var deleted []string
	for i, ch := range deletes {
		if done[i] {
			deleted = append(deleted, ch.Name)
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	if len(notStarted) > 0 {
		errs = append(errs, fmt.Errorf("not attempted: %s", strings.Join(notStarted, ", ")))
	}
	return deleted, errs
}

// tasklessGrace is how long Apply waits for the tasks of a connector
// that runs without any before it takes that for the connector's state.
const tasklessGrace = 10 * time.Second

// firstSeen returns when key was first seen, recording now the first time.
func firstSeen(seen map[string]time.Time, key string) time.Time {
	t, ok := seen[key]
	if !ok {
		t = time.Now()
		seen[key] = t
	}
	return t
}

// failedInstances returns the FAILED instances of st, keyed "connector"
// or "task N".
func failedInstances(st Status) map[string]Instance {
	out := map[string]Instance{}
	if st.Connector.State == StateFailed {
		out["connector"] = st.Connector
	}
	for _, t := range st.Tasks {
		if t.State == StateFailed {
			out[fmt.Sprintf("task %d", t.ID)] = t.Instance
		}
	}
	return out
}

// progress reports whether st shows the desired state; or else why it
// never will (failure: a FAILED connector or task, with the worker's
// trace); or else what it waits for.
//
// old holds the failures seen before Apply rewrote the config. The worker
// replaces them a moment later; until it does, a FAILED instance with the
// same trace on the same worker is still the old one, and progress waits.
// It deletes from old every instance that st shows has moved on, in
// another state, with another trace or worker, or not listed, so a
// failure of that instance in a later status is final.
func progress(st Status, want string, old map[string]Instance) (ok bool, failure, waiting string) {
	var stale string
	check := func(key string, in Instance) string {
		prev, isOld := old[key]
		if isOld && (in.State != StateFailed || in.Trace != prev.Trace || in.WorkerID != prev.WorkerID) {
			delete(old, key)
			isOld = false
		}
		switch {
		case in.State != StateFailed:
			return ""
		case isOld:
			if stale == "" {
				stale = key + " FAILED with the trace it had before the update: " + in.Trace
			}
			return ""
		}
		return key + " FAILED: " + in.Trace
	}
	listed := map[string]bool{"connector": true}
	failure = check("connector", st.Connector)
	for _, t := range st.Tasks {
		key := fmt.Sprintf("task %d", t.ID)
		listed[key] = true
		if f := check(key, t.Instance); failure == "" {
			failure = f
		}
	}
	for key := range old {
		if !listed[key] {
			delete(old, key)
		}
	}
	switch {
	case failure != "":
		return false, failure, ""
	case stale != "":
		return false, "", stale
	case st.Connector.State == want && (want != StateRunning || healthy(st)):
		return true, "", ""
	}
	return false, "", describe(st)
}

func describe(st Status) string {
	s := "connector " + st.Connector.State
	for _, t := range st.Tasks {
		s += fmt.Sprintf(", task %d %s", t.ID, t.State)
	}
	return s
}
