package connect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/streamkit/streamkit/internal/backoff"
	"github.com/streamkit/streamkit/internal/runloop"
)

// Restart is what RestartFailed, or one pass of a Healer, restarted of one
// connector.
type Restart struct {
	Connector string
	// ConnectorFailed reports whether the connector instance itself was
	// FAILED and so was restarted.
	ConnectorFailed bool
	// Tasks are the IDs of the FAILED tasks that were restarted.
	Tasks []int
}

// RestartFailed restarts the FAILED instances of the named connectors, or
// of every connector when none is named: the connector itself if it is
// FAILED, and its FAILED tasks, leaving RUNNING ones alone (POST
// /connectors/{name}/restart?includeTasks=true&onlyFailed=true). It reads
// the states with one List request when no name is given, or one Status
// request per name otherwise. Connectors with nothing FAILED are not
// touched.
//
// It returns what it restarted, in name order for all connectors and in
// the given order for named ones. It keeps going past a connector it
// cannot read or restart, and returns those errors joined, each naming
// its connector; a named connector that does not exist is an error
// matching ErrNotFound. What it did restart is returned even then.
//
// The worker must run Kafka Connect 3.0 or later (KIP-745): older workers
// ignore includeTasks and onlyFailed and restart the connector only.
func (c *Client) RestartFailed(ctx context.Context, names ...string) ([]Restart, error) {
	var (
		out  []Restart
		errs []error
	)
	restart := func(name string, st Status) error {
		if !st.Failed() {
			return nil
		}
		r, ok, err := c.restartFailed(ctx, name, st)
		if err != nil {
			return err
		}
		if ok {
			out = append(out, r)
		}
		return nil
	}

	if len(names) == 0 {
		conns, err := c.List(ctx)
		if err != nil {
			return nil, fmt.Errorf("restart failed connectors: %w", err)
		}
		for _, name := range slices.Sorted(maps.Keys(conns)) {
			if err := restart(name, conns[name].Status); err != nil {
				errs = append(errs, fmt.Errorf("restart connector %q: %w", name, err))
				if ctx.Err() != nil {
					break
				}
			}
		}
		return out, errors.Join(errs...)
	}

	seen := make(map[string]bool, len(names))
	for _, name := range names {
		if seen[name] {
			continue
		}
		seen[name] = true
		st, err := c.Status(ctx, name)
		if err == nil {
			err = restart(name, st)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("restart connector %q: %w", name, err))
			if ctx.Err() != nil {
				break
			}
		}
	}
	return out, errors.Join(errs...)
}

// restartFailed restarts the FAILED instances of connector name, whose
// state was st, and says what it restarted. ok is false when the worker
// found nothing FAILED any more.
func (c *Client) restartFailed(ctx context.Context, name string, st Status) (r Restart, ok bool, err error) {
	got, err := c.Restart(ctx, name, RestartOptions{IncludeTasks: true, OnlyFailed: true})
	if err != nil {
		return Restart{}, false, err
	}
	r = Restart{Connector: name}
	if got.Name == "" && got.Connector.State == "" && len(got.Tasks) == 0 {
		// No status in the answer: trust the state the restart was
		// decided on.
		r.ConnectorFailed = st.Connector.State == StateFailed
		r.Tasks = st.FailedTasks()
		return r, true, nil
	}
	// The worker marks exactly the instances it is about to restart as
	// RESTARTING (KIP-745), which is the truth if the state changed since
	// st was read.
	r.ConnectorFailed = got.Connector.State == StateRestarting
	for _, t := range got.Tasks {
		if t.State == StateRestarting {
			r.Tasks = append(r.Tasks, t.ID)
		}
	}
	return r, r.ConnectorFailed || len(r.Tasks) > 0, nil
}

// HealEventKind says what happened to a connector in a HealEvent.
type HealEventKind int

// The kinds of HealEvent.
const (
	// HealRestarted means the connector's FAILED instances were
	// restarted.
	HealRestarted HealEventKind = iota + 1
	// HealRecovered means a connector the healer had restarted or given
	// up on is now RUNNING with all its tasks RUNNING.
	HealRecovered
	// HealGaveUp means the connector failed again after the most
	// restarts WithMaxRestarts allows; the healer leaves it alone until it
	// is seen healthy. It is emitted once per give-up.
	HealGaveUp
	// HealRestartFailed means the restart request itself failed.
	HealRestartFailed
	// HealListFailed means listing the connectors failed; the healer tries
	// again at the next poll.
	HealListFailed
)

// String returns the kind's lower-case name, e.g. "gave-up".
func (k HealEventKind) String() string {
	switch k {
	case HealRestarted:
		return "restarted"
	case HealRecovered:
		return "recovered"
	case HealGaveUp:
		return "gave-up"
	case HealRestartFailed:
		return "restart-failed"
	case HealListFailed:
		return "list-failed"
	}
	return fmt.Sprintf("HealEventKind(%d)", int(k))
}

// HealEvent is something a Healer did or saw.
type HealEvent struct {
	Time time.Time
	// Connector is empty for HealListFailed.
	Connector string
	Kind      HealEventKind
	// Tasks are the IDs of the FAILED tasks: those restarted for
	// HealRestarted, those the restart was for with HealRestartFailed,
	// and those left FAILED for HealGaveUp.
	Tasks []int
	// Attempt counts, for HealRestarted and HealRestartFailed, the
	// restarts of the connector since it was last healthy, this one
	// included; for HealRecovered, the restarts it took; for HealGaveUp,
	// the restarts within the WithMaxRestarts window; for
	// HealListFailed, the failed polls in a row.
	Attempt int
	// Trace is the worker's stack trace of the FAILED connector, or else
	// of its first FAILED task.
	Trace string
	// Err is the error of HealRestartFailed and HealListFailed.
	Err error
}

// Healer restarts FAILED connectors and tasks, with per-connector backoff
// and a cap on restarts; see Run.
//
// A Healer is safe for concurrent use by multiple goroutines, but only one
// call to Run may be active at a time.
type Healer struct {
	c   *Client
	cfg healConfig

	running runloop.Guard
	// Owned by the active Run.
	state     map[string]*healState
	listFails int

	// Seams for tests.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

// healState is what a Healer remembers of one connector.
type healState struct {
	attempts int         // restarts since the connector was last healthy
	next     time.Time   // no restart before then
	restarts []time.Time // successful restarts within the cap window
	gaveUp   bool
}

type healConfig struct {
	namespace   string
	interval    time.Duration
	backoff     backoff.Policy
	maxRestarts int
	window      time.Duration
	onEvent     func(HealEvent)
	logger      *slog.Logger
}

func defaultHealConfig() healConfig {
	return healConfig{
		interval:    10 * time.Second,
		backoff:     backoff.Policy{Min: 5 * time.Second, Max: 5 * time.Minute},
		maxRestarts: 5,
		window:      time.Hour,
		logger:      slog.New(slog.DiscardHandler),
	}
}

type healerOptFunc func(*healConfig)

func (f healerOptFunc) applyHealer(c *healConfig) { f(c) }

// WithNamespace makes a Healer look after only the connectors whose name
// starts with prefix, overriding the default of all connectors.
func WithNamespace(prefix string) HealerOpt {
	return healerOptFunc(func(c *healConfig) { c.namespace = prefix })
}

// WithInterval sets the pause between the end of one poll of a Healer and
// the start of the next, overriding the default 10s. It must be positive.
func WithInterval(d time.Duration) HealerOpt {
	return healerOptFunc(func(c *healConfig) { c.interval = d })
}

// WithRestartBackoff sets the least time between two restarts of one
// connector, overriding the default 5s doubling after each restart up to
// 5m. Each wait is a random duration between half and all of the doubled
// one, so connectors that failed together are not restarted together
// again. A connector seen healthy starts again from min, but is never
// restarted before the wait after its previous restart is over. min 0
// disables the backoff.
func WithRestartBackoff(min, max time.Duration) HealerOpt {
	return healerOptFunc(func(c *healConfig) { c.backoff = backoff.Policy{Min: min, Max: max} })
}

// WithMaxRestarts caps the restarts of one connector: when it fails again
// after n restarts within window, the healer gives up on it, emits one
// HealGaveUp event and leaves it alone until it is seen RUNNING with all
// its tasks RUNNING (after someone fixes and restarts it), which forgets
// its restarts. It overrides the default of 5 restarts per hour.
func WithMaxRestarts(n int, window time.Duration) HealerOpt {
	return healerOptFunc(func(c *healConfig) { c.maxRestarts, c.window = n, window })
}

// WithEvents sets a function Run calls with each event, from Run's
// goroutine, overriding the default of none. It must be safe for
// concurrent use and fast: Run waits for it. A panic in it is recovered
// and logged.
func WithEvents(f func(HealEvent)) HealerOpt {
	return healerOptFunc(func(c *healConfig) { c.onEvent = f })
}

// NewHealer returns a Healer that uses c. It validates every option
// together. It starts no goroutine: Run does the work in its caller's.
func NewHealer(c *Client, opts ...HealerOpt) (*Healer, error) {
	cfg := defaultHealConfig()
	for _, o := range opts {
		if o != nil {
			o.applyHealer(&cfg)
		}
	}
	var errs []error
	if c == nil {
		errs = append(errs, errors.New("nil client"))
	}
	if cfg.interval <= 0 {
		errs = append(errs, fmt.Errorf("interval %v, want more than 0", cfg.interval))
	}
	if cfg.backoff.Min < 0 || cfg.backoff.Max < cfg.backoff.Min {
		errs = append(errs, fmt.Errorf("backoff: min %v, max %v", cfg.backoff.Min, cfg.backoff.Max))
	}
	if cfg.maxRestarts < 1 {
		errs = append(errs, fmt.Errorf("max restarts %d, want at least 1", cfg.maxRestarts))
	}
	if cfg.window <= 0 {
		errs = append(errs, fmt.Errorf("max restarts window %v, want more than 0", cfg.window))
	}
	if cfg.logger == nil {
		errs = append(errs, errors.New("nil logger"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("new healer: %w", errors.Join(errs...))
	}
	return &Healer{
		c:     c,
		cfg:   cfg,
		state: map[string]*healState{},
		now:   time.Now,
		sleep: backoff.Sleep,
	}, nil
}

// Run polls the connectors' states with one List request per interval and
// restarts the FAILED connectors and tasks, and only those, within the
// namespace (as RestartFailed does), honouring the backoff and the cap on
// restarts of each connector. It reports what it does through the
// WithEvents function and the logger.
//
// A failed List does not stop Run: it emits HealListFailed and tries again
// at the next poll. Run returns nil when ctx ends, and ErrRunning at
// once if another Run of h is active. What Run learned of each connector
// (backoff, restarts, give-ups) carries over to the next Run of h; a
// connector that disappears from the list is forgotten.
func (h *Healer) Run(ctx context.Context) error {
	leave, err := h.running.Enter()
	if err != nil {
		return err
	}
	defer leave()
	for ctx.Err() == nil {
		h.poll(ctx)
		if h.sleep(ctx, h.cfg.interval) != nil {
			break
		}
	}
	return nil
}

// poll does one pass over the connectors.
func (h *Healer) poll(ctx context.Context) {
	conns, err := h.c.List(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		h.listFails++
		h.emit(HealEvent{Time: h.now(), Kind: HealListFailed, Attempt: h.listFails, Err: err})
		return
	}
	h.listFails = 0
	for name := range h.state {
		if _, ok := conns[name]; !ok {
			delete(h.state, name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(conns)) {
		if !strings.HasPrefix(name, h.cfg.namespace) {
			continue
		}
		if ctx.Err() != nil {
			return
		}
		h.check(ctx, name, conns[name].Status)
	}
}

// check acts on one connector's state.
func (h *Healer) check(ctx context.Context, name string, st Status) {
	now := h.now()
	s := h.state[name]
	if healthy(st) {
		if s == nil {
			return
		}
		if s.attempts > 0 || s.gaveUp {
			h.emit(HealEvent{Time: now, Connector: name, Kind: HealRecovered, Attempt: s.attempts})
		}
		if s.gaveUp {
			s.restarts = nil
		}
		s.attempts, s.gaveUp = 0, false
		s.restarts = h.inWindow(s.restarts, now)
		if len(s.restarts) == 0 && !now.Before(s.next) {
			delete(h.state, name)
		}
		return
	}
	if !st.Failed() {
		return // paused, stopped, or on its way
	}
	if s == nil {
		s = &healState{}
		h.state[name] = s
	}
	if s.gaveUp || now.Before(s.next) {
		return
	}
	s.restarts = h.inWindow(s.restarts, now)
	if len(s.restarts) >= h.cfg.maxRestarts {
		s.gaveUp = true
		h.emit(HealEvent{Time: now, Connector: name, Kind: HealGaveUp, Tasks: st.FailedTasks(),
			Attempt: len(s.restarts), Trace: firstTrace(st)})
		return
	}

	s.attempts++
	r, ok, err := h.c.restartFailed(ctx, name, st)
	// A restart that errs counts for the backoff, so that a worker that
	// refuses restarts is not asked at every poll.
	s.next = now.Add(h.cfg.backoff.Delay(s.attempts - 1))
	switch {
	case err != nil:
		if ctx.Err() != nil {
			return
		}
		h.emit(HealEvent{Time: now, Connector: name, Kind: HealRestartFailed, Tasks: st.FailedTasks(),
			Attempt: s.attempts, Trace: firstTrace(st), Err: err})
	case ok:
		s.restarts = append(s.restarts, now)
		h.emit(HealEvent{Time: now, Connector: name, Kind: HealRestarted, Tasks: r.Tasks,
			Attempt: s.attempts, Trace: firstTrace(st)})
	default:
		// Nothing was FAILED any more by the time the worker looked.
		s.attempts--
	}
}

// inWindow drops the restarts older than the cap window.
func (h *Healer) inWindow(restarts []time.Time, now time.Time) []time.Time {
	cutoff := now.Add(-h.cfg.window)
	return slices.DeleteFunc(restarts, func(t time.Time) bool { return !t.After(cutoff) })
}

// emit logs ev and hands it to the WithEvents function.
func (h *Healer) emit(ev HealEvent) {
	logger := h.cfg.logger
	attrs := []any{"kind", ev.Kind.String()}
	if ev.Connector != "" {
		attrs = append(attrs, "connector", ev.Connector)
	}
	if len(ev.Tasks) > 0 {
		attrs = append(attrs, "tasks", ev.Tasks)
	}
	if ev.Attempt > 0 {
		attrs = append(attrs, "attempt", ev.Attempt)
	}
	if ev.Trace != "" {
		attrs = append(attrs, "trace", firstLine(ev.Trace))
	}
	if ev.Err != nil {
		attrs = append(attrs, "error", ev.Err)
	}
	switch ev.Kind {
	case HealGaveUp:
		logger.Error("gave up restarting connector", attrs...)
	case HealRestartFailed:
		logger.Warn("restart connector failed", attrs...)
	case HealListFailed:
		logger.Warn("list connectors failed", attrs...)
	case HealRecovered:
		logger.Info("connector recovered", attrs...)
	default:
		logger.Info("restarted connector", attrs...)
	}

	if h.cfg.onEvent != nil {
		runloop.Call(logger, "heal event function", func() { h.cfg.onEvent(ev) })
	}
}

// healthy reports whether the connector and all its tasks are RUNNING.
func healthy(st Status) bool {
	if st.Connector.State != StateRunning {
		return false
	}
	for _, t := range st.Tasks {
		if t.State != StateRunning {
			return false
		}
	}
	return true
}

// firstTrace returns the trace of the FAILED connector, or else of its
// first FAILED task.
func firstTrace(st Status) string {
	if st.Connector.State == StateFailed {
		return st.Connector.Trace
	}
	for _, t := range st.Tasks {
		if t.State == StateFailed {
			return t.Trace
		}
	}
	return ""
}
