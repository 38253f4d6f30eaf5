package connect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// healWorker is a fake Connect worker whose connector and task states a
// test sets. It serves the list, status and restart endpoints, and records
// what it is asked.
type healWorker struct {
	mu       sync.Mutex
	conns    map[string]Status
	sticky   map[string]bool // a restart leaves the FAILED instances FAILED
	listCode int             // when not 0, List is answered with this status
	// restartCode answers a connector's restarts with this status.
	restartCode map[string]int
	lists       int
	statuses    int
	restarts    []healCall
	listed      chan struct{} // signalled, without blocking, after each List
}

// healCall is one restart request.
type healCall struct {
	Connector string
	Query     string
}

func newHealWorker(t *testing.T) (*healWorker, *Client) {
	t.Helper()
	w := &healWorker{
		conns:       map[string]Status{},
		sticky:      map[string]bool{},
		restartCode: map[string]int{},
		listed:      make(chan struct{}, 1),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /connectors", w.list)
	mux.HandleFunc("GET /connectors/{name}/status", w.status)
	mux.HandleFunc("POST /connectors/{name}/restart", w.restart)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := New(WithURLs(srv.URL), WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return w, c
}

// healStatus builds a status; a FAILED instance gets a trace naming it.
func healStatus(name, connector string, tasks ...string) Status {
	trace := func(what string) string {
		return "org.example.BoomException: " + what + " failed\n\tat org.example.Sink.put(Sink.java:42)"
	}
	st := Status{Name: name, Type: "sink", Connector: Instance{State: connector, WorkerID: "w1:8083"}}
	if connector == StateFailed {
		st.Connector.Trace = trace(name)
	}
	for i, s := range tasks {
		ts := TaskState{ID: i, Instance: Instance{State: s, WorkerID: "w1:8083"}}
		if s == StateFailed {
			ts.Trace = trace(fmt.Sprintf("%s task %d", name, i))
		}
		st.Tasks = append(st.Tasks, ts)
	}
	return st
}

func (w *healWorker) set(st Status) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.conns[st.Name] = st
}

func (w *healWorker) calls() []healCall {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.restarts)
}

func (w *healWorker) counts() (lists, statuses int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lists, w.statuses
}

func healJSON(rw http.ResponseWriter, code int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(code)
	_ = json.NewEncoder(rw).Encode(v)
}

func healError(rw http.ResponseWriter, code int, msg string) {
	healJSON(rw, code, map[string]any{"error_code": code, "message": msg})
}

func (w *healWorker) list(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	defer func() {
		select {
		case w.listed <- struct{}{}:
		default:
		}
	}()
	w.lists++
	if got := r.URL.Query()["expand"]; !slices.Equal(got, []string{"info", "status"}) {
		healError(rw, http.StatusBadRequest, fmt.Sprintf("expand %v", got))
		return
	}
	if w.listCode != 0 {
		healError(rw, w.listCode, "worker unavailable")
		return
	}
	out := map[string]Connector{}
	for name, st := range w.conns {
		out[name] = Connector{
			Info:   ConnectorInfo{Name: name, Type: st.Type, Config: map[string]string{"connector.class": "org.example.Sink"}},
			Status: st,
		}
	}
	healJSON(rw, http.StatusOK, out)
}

func (w *healWorker) status(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.statuses++
	name := r.PathValue("name")
	st, ok := w.conns[name]
	if !ok {
		healError(rw, http.StatusNotFound, "No status found for connector "+name)
		return
	}
	healJSON(rw, http.StatusOK, st)
}

// restart does what a worker does with includeTasks=true&onlyFailed=true:
// it marks the FAILED instances RESTARTING and answers 202 with the
// status.
func (w *healWorker) restart(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	name := r.PathValue("name")
	w.restarts = append(w.restarts, healCall{Connector: name, Query: r.URL.RawQuery})
	st, ok := w.conns[name]
	if !ok {
		healError(rw, http.StatusNotFound, "Unknown connector: "+name)
		return
	}
	if code := w.restartCode[name]; code != 0 {
		healError(rw, code, "restart refused")
		return
	}
	resp := st
	resp.Tasks = slices.Clone(st.Tasks)
	if resp.Connector.State == StateFailed {
		resp.Connector = Instance{State: StateRestarting, WorkerID: st.Connector.WorkerID}
	}
	for i, t := range resp.Tasks {
		if t.State == StateFailed {
			resp.Tasks[i].Instance = Instance{State: StateRestarting, WorkerID: t.WorkerID}
		}
	}
	if !w.sticky[name] {
		w.conns[name] = resp
	}
	healJSON(rw, http.StatusAccepted, resp)
}

const healQuery = "includeTasks=true&onlyFailed=true"

func TestRestartFailed(t *testing.T) {
	tests := []struct {
		name         string
		names        []string
		refuse       string // a connector whose restart the worker refuses
		want         []Restart
		wantCalls    []string
		wantErr      []error
		wantErrText  []string
		wantLists    int
		wantStatuses int
	}{
		{
			name: "all connectors",
			want: []Restart{
				{Connector: "a", ConnectorFailed: true, Tasks: []int{1}},
				{Connector: "c", Tasks: []int{0, 2}},
			},
			wantCalls: []string{"a", "c"},
			wantLists: 1,
		},
		{
			name:         "named",
			names:        []string{"c", "b", "c"},
			want:         []Restart{{Connector: "c", Tasks: []int{0, 2}}},
			wantCalls:    []string{"c"},
			wantStatuses: 2,
		},
		{
			name:         "named healthy",
			names:        []string{"b", "d"},
			wantStatuses: 2,
		},
		{
			name:         "named missing",
			names:        []string{"missing", "a"},
			want:         []Restart{{Connector: "a", ConnectorFailed: true, Tasks: []int{1}}},
			wantCalls:    []string{"a"},
			wantErr:      []error{ErrNotFound},
			wantErrText:  []string{`restart connector "missing"`},
			wantStatuses: 2,
		},
		{
			name:        "restart refused",
			refuse:      "a",
			want:        []Restart{{Connector: "c", Tasks: []int{0, 2}}},
			wantCalls:   []string{"a", "c"},
			wantErr:     []error{ErrBadRequest},
			wantErrText: []string{`restart connector "a"`, "restart refused"},
			wantLists:   1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, c := newHealWorker(t)
			w.set(healStatus("a", StateFailed, StateRunning, StateFailed))
			w.set(healStatus("b", StateRunning, StateRunning))
			w.set(healStatus("c", StateRunning, StateFailed, StateRunning, StateFailed))
			w.set(healStatus("d", StatePaused, StatePaused))
			if tt.refuse != "" {
				w.restartCode[tt.refuse] = http.StatusBadRequest
			}

			got, err := c.RestartFailed(context.Background(), tt.names...)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("restarted: got %+v, want %+v", got, tt.want)
			}
			if len(tt.wantErr) == 0 && err != nil {
				t.Errorf("error: got %v, want nil", err)
			}
			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("error: got %v, want one matching %v", err, want)
				}
			}
			for _, want := range tt.wantErrText {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error: got %v, want one containing %q", err, want)
				}
			}
			var names []string
			for _, call := range w.calls() {
				names = append(names, call.Connector)
				if call.Query != healQuery {
					t.Errorf("restart %s query: got %q, want %q", call.Connector, call.Query, healQuery)
				}
			}
			if !slices.Equal(names, tt.wantCalls) {
				t.Errorf("restart calls: got %v, want %v", names, tt.wantCalls)
			}
			lists, statuses := w.counts()
			if lists != tt.wantLists || statuses != tt.wantStatuses {
				t.Errorf("requests: got %d lists and %d statuses, want %d and %d",
					lists, statuses, tt.wantLists, tt.wantStatuses)
			}
		})
	}
}

func TestRestartFailedListError(t *testing.T) {
	w, c := newHealWorker(t)
	w.set(healStatus("a", StateFailed))
	w.listCode = http.StatusNotFound
	got, err := c.RestartFailed(context.Background())
	if got != nil || !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v, %v; want nil and an error matching %v", got, err, ErrNotFound)
	}
	if calls := w.calls(); len(calls) != 0 {
		t.Errorf("restart calls: got %v, want none", calls)
	}
}

// healClock is the time a Healer under test sees.
type healClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *healClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *healClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// healRun runs a Healer whose clock and polls the test drives: Run polls
// once at the start and then once per step.
type healRun struct {
	t      *testing.T
	h      *Healer
	clock  *healClock
	polled chan struct{}
	next   chan time.Duration
	cancel context.CancelFunc
	done   chan error
	stop   func() error

	mu     sync.Mutex
	events []HealEvent
}

// startHeal makes a Healer with opts, records its events (then hands each
// to onEvent when not nil), starts Run and waits for its first poll.
func startHeal(t *testing.T, c *Client, onEvent func(HealEvent), opts ...HealerOpt) *healRun {
	t.Helper()
	r := &healRun{
		t:      t,
		clock:  &healClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)},
		polled: make(chan struct{}),
		next:   make(chan time.Duration),
		done:   make(chan error, 1),
	}
	record := func(ev HealEvent) {
		r.mu.Lock()
		r.events = append(r.events, ev)
		r.mu.Unlock()
		if onEvent != nil {
			onEvent(ev)
		}
	}
	h, err := NewHealer(c, append([]HealerOpt{WithEvents(record)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	r.h = h
	h.now = r.clock.now
	h.sleep = func(ctx context.Context, d time.Duration) error {
		if d != h.cfg.interval {
			t.Errorf("sleep: got %v, want the interval %v", d, h.cfg.interval)
		}
		select {
		case r.polled <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case d := <-r.next:
			r.clock.add(d)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- h.Run(ctx) }()
	r.stop = sync.OnceValue(func() error {
		cancel()
		select {
		case err := <-r.done:
			return err
		case <-time.After(5 * time.Second):
			return errors.New("run did not return after cancel")
		}
	})
	t.Cleanup(func() {
		if err := r.stop(); err != nil {
			t.Errorf("run: got %v, want nil", err)
		}
	})
	r.waitPoll()
	return r
}

func (r *healRun) waitPoll() {
	r.t.Helper()
	select {
	case <-r.polled:
	case err := <-r.done:
		r.t.Fatalf("run returned %v during a poll", err)
	case <-time.After(5 * time.Second):
		r.t.Fatal("poll did not finish")
	}
}

// step moves the clock on by d and waits for the poll that follows.
func (r *healRun) step(d time.Duration) {
	r.t.Helper()
	select {
	case r.next <- d:
	case <-time.After(5 * time.Second):
		r.t.Fatal("run is not waiting for a poll")
	}
	r.waitPoll()
}

// take returns the events since the last take.
func (r *healRun) take() []HealEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

func healKinds(evs []HealEvent) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Connector+" "+ev.Kind.String())
	}
	return out
}

func TestHealerRestartsAndRecovers(t *testing.T) {
	w, c := newHealWorker(t)
	w.set(healStatus("sink", StateRunning, StateRunning, StateFailed))
	w.set(healStatus("other", StateRunning, StateRunning))
	r := startHeal(t, c, nil, WithInterval(time.Second))

	evs := r.take()
	if len(evs) != 1 {
		t.Fatalf("events: got %v, want one restart", healKinds(evs))
	}
	ev := evs[0]
	if ev.Kind != HealRestarted || ev.Connector != "sink" || !slices.Equal(ev.Tasks, []int{1}) || ev.Attempt != 1 {
		t.Errorf("event: got %+v, want sink restarted, tasks [1], attempt 1", ev)
	}
	if !strings.Contains(ev.Trace, "sink task 1 failed") {
		t.Errorf("trace: got %q, want the trace of task 1", ev.Trace)
	}
	if !ev.Time.Equal(r.clock.now()) {
		t.Errorf("time: got %v, want %v", ev.Time, r.clock.now())
	}
	if calls, want := w.calls(), []healCall{{"sink", healQuery}}; !slices.Equal(calls, want) {
		t.Errorf("restart calls: got %v, want %v", calls, want)
	}

	r.step(time.Second) // the task is RESTARTING: nothing to do
	if evs := r.take(); len(evs) != 0 {
		t.Errorf("events while restarting: got %v, want none", healKinds(evs))
	}
	w.set(healStatus("sink", StateRunning, StateRunning, StateRunning))
	r.step(time.Second)
	evs = r.take()
	if got, want := healKinds(evs), []string{"sink recovered"}; !slices.Equal(got, want) {
		t.Fatalf("events: got %v, want %v", got, want)
	}
	if evs[0].Attempt != 1 {
		t.Errorf("recovered attempt: got %d, want 1", evs[0].Attempt)
	}
	r.step(time.Second)
	if evs := r.take(); len(evs) != 0 {
		t.Errorf("events once healthy: got %v, want none", healKinds(evs))
	}
	if n := len(w.calls()); n != 1 {
		t.Errorf("restart calls: got %d, want 1", n)
	}
}

func TestHealerBackoff(t *testing.T) {
	const (
		minDelay = 4 * time.Second
		maxDelay = 16 * time.Second
	)
	w, c := newHealWorker(t)
	w.set(healStatus("a", StateRunning, StateFailed))
	w.sticky["a"] = true
	w.set(healStatus("b", StateRunning, StateRunning))
	w.sticky["b"] = true
	r := startHeal(t, c, nil, WithInterval(time.Second), WithRestartBackoff(minDelay, maxDelay),
		WithMaxRestarts(1000, time.Hour))

	restarts := map[string][]time.Time{}
	attempts := map[string]int{}
	// check verifies the events of the poll at now against the earliest
	// restart times the healer had set before it.
	check := func(now time.Time, before map[string]time.Time) {
		t.Helper()
		got := map[string]bool{}
		for _, ev := range r.take() {
			if ev.Kind != HealRestarted {
				t.Fatalf("event: got %+v, want only restarts", ev)
			}
			got[ev.Connector] = true
			attempts[ev.Connector]++
			if ev.Attempt != attempts[ev.Connector] {
				t.Errorf("%s attempt: got %d, want %d", ev.Connector, ev.Attempt, attempts[ev.Connector])
			}
			restarts[ev.Connector] = append(restarts[ev.Connector], now)
		}
		for _, name := range []string{"a", "b"} {
			next, known := before[name]
			if !known {
				continue // not failed before this poll: restarted at once if failed now
			}
			if want := !now.Before(next); got[name] != want {
				t.Errorf("%s at %v: restarted %v, want %v (backoff until %v)", name, now, got[name], want, next)
			}
		}
	}
	// nexts returns the earliest restart times the healer has set, read
	// while Run waits for the next step.
	nexts := func() map[string]time.Time {
		out := map[string]time.Time{}
		for name, s := range r.h.state {
			out[name] = s.next
		}
		return out
	}

	check(r.clock.now(), nil)
	for i := 1; i <= 90; i++ {
		if i == 7 {
			w.set(healStatus("b", StateFailed))
		}
		before := nexts()
		r.step(time.Second)
		check(r.clock.now(), before)
		// The delay after the k-th restart is min doubled k-1 times,
		// capped at max, with jitter taking off up to half.
		for name, s := range r.h.state {
			k := len(restarts[name])
			if k == 0 || !restarts[name][k-1].Equal(r.clock.now()) {
				continue
			}
			d := min(minDelay<<(k-1), maxDelay)
			if gap := s.next.Sub(r.clock.now()); gap < d/2 || gap > d {
				t.Errorf("%s delay after restart %d: got %v, want within [%v, %v]", name, k, gap, d/2, d)
			}
		}
	}

	start := restarts["a"][0]
	if want := start.Add(7 * time.Second); len(restarts["b"]) == 0 || !restarts["b"][0].Equal(want) {
		t.Errorf("b first restart: got %v, want %v, despite a's backoff", restarts["b"], want)
	}
	// In 90s, with the gaps at their longest (4, 8, then 16s) a restarts
	// at 0, 4, 12, 28, 44, 60 and 76s; with them at their shortest (2, 4,
	// then 8s) at 0, 2, 6, 14, ... 86s: 13 times.
	if n := len(restarts["a"]); n < 7 || n > 13 {
		t.Errorf("a restarts in 90s: got %d, want 7 to 13", n)
	}
	if n := len(w.calls()); n != len(restarts["a"])+len(restarts["b"]) {
		t.Errorf("restart calls: got %d, want %d", n, len(restarts["a"])+len(restarts["b"]))
	}
}

func TestHealerMaxRestarts(t *testing.T) {
	tests := []struct {
		name         string
		step         time.Duration
		polls        int
		wantRestarts int
		wantGaveUp   bool
	}{
		{name: "gives up within the window", step: time.Second, polls: 10, wantRestarts: 3, wantGaveUp: true},
		{name: "restarts spread beyond the window", step: 4 * time.Second, polls: 10, wantRestarts: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, c := newHealWorker(t)
			w.set(healStatus("a", StateFailed, StateFailed))
			w.sticky["a"] = true
			r := startHeal(t, c, nil, WithInterval(time.Second), WithRestartBackoff(time.Second, time.Second),
				WithMaxRestarts(3, 10*time.Second))
			for i := 1; i < tt.polls; i++ {
				r.step(tt.step)
			}
			evs := r.take()
			var restarted, gaveUp int
			for _, ev := range evs {
				switch ev.Kind {
				case HealRestarted:
					restarted++
				case HealGaveUp:
					gaveUp++
					if ev.Attempt != 3 || !strings.Contains(ev.Trace, "a failed") || !slices.Equal(ev.Tasks, []int{0}) {
						t.Errorf("gave up: got %+v, want attempt 3, the connector's trace, tasks [0]", ev)
					}
				default:
					t.Errorf("event: got %+v, want restarts and give-ups only", ev)
				}
			}
			if restarted != tt.wantRestarts {
				t.Errorf("restarts: got %d, want %d", restarted, tt.wantRestarts)
			}
			if n := len(w.calls()); n != tt.wantRestarts {
				t.Errorf("restart calls: got %d, want %d", n, tt.wantRestarts)
			}
			if want := map[bool]int{true: 1}[tt.wantGaveUp]; gaveUp != want {
				t.Errorf("give-ups: got %d, want %d", gaveUp, want)
			}
		})
	}
}

// TestHealerGaveUpUntilHealthy checks the rule for retrying a connector
// given up on: not when the window has passed, only once it is seen
// healthy.
func TestHealerGaveUpUntilHealthy(t *testing.T) {
	w, c := newHealWorker(t)
	w.set(healStatus("a", StateRunning, StateFailed))
	w.sticky["a"] = true
	r := startHeal(t, c, nil, WithInterval(time.Second), WithRestartBackoff(time.Second, time.Second),
		WithMaxRestarts(2, time.Minute))
	r.step(time.Second)
	r.step(time.Second)
	want := []string{"a restarted", "a restarted", "a gave-up"}
	if got := healKinds(r.take()); !slices.Equal(got, want) {
		t.Fatalf("events: got %v, want %v", got, want)
	}
	r.step(2 * time.Hour)
	r.step(time.Second)
	if evs := r.take(); len(evs) != 0 {
		t.Errorf("events after the window: got %v, want none", healKinds(evs))
	}
	if n := len(w.calls()); n != 2 {
		t.Errorf("restart calls: got %d, want 2", n)
	}

	w.set(healStatus("a", StateRunning, StateRunning)) // fixed by hand
	r.step(time.Second)
	w.set(healStatus("a", StateRunning, StateFailed))
	r.step(time.Second)
	r.step(time.Second)
	r.step(time.Second)
	want = []string{"a recovered", "a restarted", "a restarted", "a gave-up"}
	if got := healKinds(r.take()); !slices.Equal(got, want) {
		t.Errorf("events once healthy again: got %v, want %v", got, want)
	}
}

func TestHealerNamespace(t *testing.T) {
	w, c := newHealWorker(t)
	w.set(healStatus("team-a.orders", StateRunning, StateFailed))
	w.set(healStatus("team-b.orders", StateFailed, StateFailed))
	w.set(healStatus("team-a", StateFailed))
	r := startHeal(t, c, nil, WithNamespace("team-a."))
	if got, want := healKinds(r.take()), []string{"team-a.orders restarted"}; !slices.Equal(got, want) {
		t.Errorf("events: got %v, want %v", got, want)
	}
	if got, want := w.calls(), []healCall{{"team-a.orders", healQuery}}; !slices.Equal(got, want) {
		t.Errorf("restart calls: got %v, want %v", got, want)
	}
}

func TestHealerListFailed(t *testing.T) {
	w, c := newHealWorker(t)
	w.set(healStatus("a", StateRunning, StateFailed))
	w.listCode = http.StatusServiceUnavailable
	r := startHeal(t, c, nil, WithInterval(time.Second))
	r.step(time.Second)
	evs := r.take()
	if got, want := healKinds(evs), []string{" list-failed", " list-failed"}; !slices.Equal(got, want) {
		t.Fatalf("events: got %v, want %v", got, want)
	}
	for i, ev := range evs {
		var apiErr *APIError
		if !errors.As(ev.Err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("event %d error: got %v, want a 503 *APIError", i, ev.Err)
		}
		if ev.Attempt != i+1 {
			t.Errorf("event %d attempt: got %d, want %d", i, ev.Attempt, i+1)
		}
	}

	w.mu.Lock()
	w.listCode = 0
	w.mu.Unlock()
	r.step(time.Second)
	if got, want := healKinds(r.take()), []string{"a restarted"}; !slices.Equal(got, want) {
		t.Errorf("events once listing works: got %v, want %v", got, want)
	}
}

func TestHealerRestartError(t *testing.T) {
	w, c := newHealWorker(t)
	w.set(healStatus("a", StateFailed))
	w.restartCode["a"] = http.StatusBadRequest
	r := startHeal(t, c, nil, WithInterval(time.Second), WithRestartBackoff(10*time.Second, 10*time.Second))
	evs := r.take()
	if len(evs) != 1 || evs[0].Kind != HealRestartFailed || !errors.Is(evs[0].Err, ErrBadRequest) || evs[0].Attempt != 1 {
		t.Fatalf("events: got %+v, want one restart-failed matching %v, attempt 1", evs, ErrBadRequest)
	}
	// A refused restart counts for the backoff: no new try before 5s.
	for range 4 {
		r.step(time.Second)
	}
	if n := len(w.calls()); n != 1 {
		t.Errorf("restart calls within the backoff: got %d, want 1", n)
	}
}

func TestHealerRunReturnsOnCancel(t *testing.T) {
	w, c := newHealWorker(t)
	w.set(healStatus("a", StateRunning))
	h, err := NewHealer(c, WithInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	select {
	case <-w.listed:
	case <-time.After(5 * time.Second):
		t.Fatal("run did not poll")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: got %v, want nil", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("run did not return after cancel")
	}

	// Cancelled before it starts, it returns at once without polling.
	before, _ := w.counts()
	if err := h.Run(ctx); err != nil {
		t.Errorf("run with a cancelled context: got %v, want nil", err)
	}
	if after, _ := w.counts(); after != before {
		t.Errorf("lists with a cancelled context: got %d, want %d", after-before, 0)
	}
}

// syncBuffer is a log sink safe for concurrent use.
func TestHealerOnEventPanic(t *testing.T) {
	w, c := newHealWorker(t)
	w.set(healStatus("a", StateFailed))
	w.sticky["a"] = true
	var logs syncBuffer
	r := startHeal(t, c, func(HealEvent) { panic("callback bug") },
		WithInterval(time.Second), WithRestartBackoff(time.Second, time.Second),
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	r.step(time.Second)
	r.step(time.Second)
	if got, want := healKinds(r.take()), []string{"a restarted", "a restarted", "a restarted"}; !slices.Equal(got, want) {
		t.Errorf("events: got %v, want %v", got, want)
	}
	if got := strings.Count(logs.String(), `msg="callback panicked" callback="heal event function"`); got != 3 {
		t.Errorf("logged panics: got %d, want 3 in %s", got, logs.String())
	}
	if !strings.Contains(logs.String(), "callback bug") {
		t.Errorf("log: got %s, want the panic value", logs.String())
	}
}

func TestHealerRunTwice(t *testing.T) {
	_, c := newHealWorker(t)
	r := startHeal(t, c, nil)
	if err := r.h.Run(context.Background()); !errors.Is(err, ErrRunning) {
		t.Errorf("second run: got %v, want %v", err, ErrRunning)
	}
	if err := r.stop(); err != nil {
		t.Fatalf("first run: got %v, want nil", err)
	}
	// Once the first has returned, Run may be called again.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.h.Run(ctx); err != nil {
		t.Errorf("run after the first returned: got %v, want nil", err)
	}
}

func TestNewHealer(t *testing.T) {
	_, c := newHealWorker(t)
	tests := []struct {
		name    string
		client  *Client
		opts    []HealerOpt
		wantErr []string
	}{
		{name: "defaults", client: c, opts: []HealerOpt{nil}},
		{name: "all options", client: c, opts: []HealerOpt{
			WithNamespace("team-"), WithInterval(time.Minute), WithRestartBackoff(0, 0),
			WithMaxRestarts(1, time.Second), WithEvents(nil), WithLogger(slog.Default()),
		}},
		{name: "nil client", wantErr: []string{"nil client"}},
		{name: "negative interval", client: c, opts: []HealerOpt{WithInterval(-time.Second)}, wantErr: []string{"interval -1s"}},
		{name: "zero interval", client: c, opts: []HealerOpt{WithInterval(0)}, wantErr: []string{"interval 0s"}},
		{name: "min above max", client: c, opts: []HealerOpt{WithRestartBackoff(time.Minute, time.Second)}, wantErr: []string{"backoff: min 1m0s, max 1s"}},
		{name: "negative min", client: c, opts: []HealerOpt{WithRestartBackoff(-time.Second, time.Second)}, wantErr: []string{"backoff: min -1s"}},
		{name: "no restarts", client: c, opts: []HealerOpt{WithMaxRestarts(0, time.Hour)}, wantErr: []string{"max restarts 0"}},
		{name: "no window", client: c, opts: []HealerOpt{WithMaxRestarts(1, 0)}, wantErr: []string{"window 0s"}},
		{name: "nil logger", client: c, opts: []HealerOpt{WithLogger(nil)}, wantErr: []string{"nil logger"}},
		{
			name: "all errors together", opts: []HealerOpt{WithInterval(-1), WithMaxRestarts(-1, -1)},
			wantErr: []string{"nil client", "interval", "max restarts -1", "window -1ns"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := NewHealer(tt.client, tt.opts...)
			if len(tt.wantErr) == 0 {
				if err != nil || h == nil {
					t.Fatalf("got %v, %v; want a healer", h, err)
				}
				return
			}
			if h != nil || err == nil {
				t.Fatalf("got %v, %v; want an error", h, err)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error: got %v, want one containing %q", err, want)
				}
			}
		})
	}

	h, err := NewHealer(c)
	if err != nil {
		t.Fatal(err)
	}
	got := h.cfg
	if got.namespace != "" || got.interval != 10*time.Second || got.backoff.Min != 5*time.Second ||
		got.backoff.Max != 5*time.Minute || got.maxRestarts != 5 || got.window != time.Hour ||
		got.onEvent != nil || got.logger == nil {
		t.Errorf("defaults: got %+v, want all connectors, 10s, 5s to 5m, 5 per 1h, no callback, a logger", got)
	}
}

func TestHealEventKindString(t *testing.T) {
	tests := []struct {
		kind HealEventKind
		want string
	}{
		{HealRestarted, "restarted"},
		{HealRecovered, "recovered"},
		{HealGaveUp, "gave-up"},
		{HealRestartFailed, "restart-failed"},
		{HealListFailed, "list-failed"},
		{0, "HealEventKind(0)"},
		{42, "HealEventKind(42)"},
	}
	for _, tt := range tests {
		if got := tt.kind.String(); got != tt.want {
			t.Errorf("kind %d: got %q, want %q", int(tt.kind), got, tt.want)
		}
	}
}
