package connect

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// memWorker is a stateful stand-in for a Connect worker, enough for
// Apply: listing, status, validation, create, put config,
// pause/resume/stop and delete. Tests set invalid keys and task states,
// and what the status shows after a config is written.
type memWorker struct {
	mu        sync.Mutex
	conns     map[string]map[string]string
	states    map[string]string
	taskState map[string]string // connector -> state of its one task
	trace     string
	invalid   map[string]string // key -> error message
	writes    []string
	// statuses holds, by connector, the statuses the worker shows: the
	// first until the connector's config is written, then the others,
	// one per listing and the last for good, as a worker restarting the
	// connector and its tasks would.
	statuses map[string][]Status
	listed   map[string]int // listings since the config was written, if it was
}

func newMemWorker(t *testing.T) (*memWorker, *Client) {
	t.Helper()
	m := &memWorker{conns: map[string]map[string]string{}, states: map[string]string{}, taskState: map[string]string{}, invalid: map[string]string{},
		statuses: map[string][]Status{}, listed: map[string]int{}}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	c, err := New(WithURLs(srv.URL), WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return m, c
}

func (m *memWorker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	path := strings.TrimPrefix(r.URL.Path, "/")
	parts := strings.Split(path, "/")
	writeJSON := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	if r.Method != http.MethodGet && !strings.HasSuffix(path, "/validate") {
		m.writes = append(m.writes, r.Method+" "+r.URL.Path)
	}
	switch {
	case r.Method == http.MethodPut && len(parts) == 4 && parts[0] == "connector-plugins":
		var cfg map[string]string
		_ = json.NewDecoder(r.Body).Decode(&cfg)
		v := Validation{Name: parts[1]}
		for k, val := range cfg {
			c := ConfigCheck{}
			c.Value.Name, c.Value.Value = k, &val
			if msg, bad := m.invalid[k]; bad {
				c.Value.Errors = []string{msg}
				v.ErrorCount++
			}
			v.Configs = append(v.Configs, c)
		}
		writeJSON(200, v)
	case r.Method == http.MethodGet && path == "connectors":
		out := map[string]Connector{}
		for name, cfg := range m.conns {
			out[name] = Connector{Info: ConnectorInfo{Name: name, Config: cfg}, Status: m.status(name)}
			if n, put := m.listed[name]; put {
				m.listed[name] = n + 1
			}
		}
		writeJSON(200, out)
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "connectors" && parts[2] == "status":
		if _, ok := m.conns[parts[1]]; !ok {
			writeJSON(404, map[string]any{"error_code": 404, "message": "No status found for connector " + parts[1]})
			return
		}
		writeJSON(200, m.status(parts[1]))
	case r.Method == http.MethodPost && path == "connectors":
		var body struct {
			Name         string            `json:"name"`
			Config       map[string]string `json:"config"`
			InitialState string            `json:"initial_state"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		if _, ok := m.conns[body.Name]; ok {
			writeJSON(409, map[string]any{"error_code": 409, "message": "Connector " + body.Name + " already exists"})
			return
		}
		m.store(body.Name, body.Config, body.InitialState)
		writeJSON(201, ConnectorInfo{Name: body.Name, Config: body.Config})
	case len(parts) == 3 && parts[0] == "connectors" && parts[2] == "config" && r.Method == http.MethodPut:
		var cfg map[string]string
		_ = json.NewDecoder(r.Body).Decode(&cfg)
		_, existed := m.conns[parts[1]]
		state := m.states[parts[1]]
		if !existed {
			state = StateRunning
		}
		m.store(parts[1], cfg, state)
		if _, ok := m.statuses[parts[1]]; ok {
			m.listed[parts[1]] = 0
		}
		status := 200
		if !existed {
			status = 201
		}
		writeJSON(status, ConnectorInfo{Name: parts[1], Config: cfg})
	case len(parts) == 3 && parts[0] == "connectors" && r.Method == http.MethodPut:
		to := map[string]string{"pause": StatePaused, "resume": StateRunning, "stop": StateStopped}[parts[2]]
		m.states[parts[1]] = to
		w.WriteHeader(http.StatusAccepted)
	case len(parts) == 2 && parts[0] == "connectors" && r.Method == http.MethodDelete:
		if _, ok := m.conns[parts[1]]; !ok {
			writeJSON(404, map[string]any{"error_code": 404, "message": "Connector " + parts[1] + " not found"})
			return
		}
		delete(m.conns, parts[1])
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(404, map[string]any{"error_code": 404, "message": "no route " + r.Method + " " + path})
	}
}

// status is what the worker shows of connector name: its statuses if
// set, or else its state with its one task when RUNNING or FAILED.
func (m *memWorker) status(name string) Status {
	if script := m.statuses[name]; len(script) > 0 {
		i := 0
		if n, put := m.listed[name]; put {
			i = min(n+1, len(script)-1)
		}
		st := script[i]
		st.Name = name
		return st
	}
	st := Status{Name: name, Connector: Instance{State: m.states[name]}}
	if m.states[name] == StateRunning || m.taskState[name] == StateFailed {
		st.Tasks = []TaskState{{ID: 0, Instance: Instance{State: m.taskState[name], Trace: m.trace}}}
	}
	return st
}

func (m *memWorker) store(name string, cfg map[string]string, state string) {
	stored := map[string]string{"name": name}
	for k, v := range cfg {
		stored[k] = v
	}
	m.conns[name] = stored
	if state == "" {
		state = StateRunning
	}
	m.states[name] = state
	if _, ok := m.taskState[name]; !ok {
		m.taskState[name] = StateRunning
	}
}

func (m *memWorker) takeWrites() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.writes
	m.writes = nil
	return w
}

var quick = ApplyOptions{Wait: 2 * time.Second, PollInterval: time.Millisecond}

func spec(name string, kv ...string) Spec {
	cfg := map[string]string{"connector.class": "FileStreamSink"}
	for i := 0; i+1 < len(kv); i += 2 {
		cfg[kv[i]] = kv[i+1]
	}
	return Spec{Name: name, Config: cfg}
}

func TestApplyConverges(t *testing.T) {
	ctx := context.Background()
	m, c := newMemWorker(t)
	opts := PlanOptions{Namespace: "t-", Prune: true}
	desired := []Spec{spec("t-a", "topics", "x"), spec("t-b", "topics", "y")}
	stopped := spec("t-c", "topics", "z")
	stopped.State = StateStopped
	desired = append(desired, stopped)

	plan, err := c.Plan(ctx, desired, opts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Apply(ctx, plan, quick)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created) != 3 {
		t.Fatalf("created %v", res.Created)
	}
	writes := m.takeWrites()
	if len(writes) != 3 || !contains(writes, "POST /connectors") {
		t.Fatalf("writes %v: want two PUTs and one POST (created STOPPED)", writes)
	}
	if m.states["t-c"] != StateStopped {
		t.Fatalf("t-c is %s, want STOPPED", m.states["t-c"])
	}

	// Applying the same plan again converges: create-or-replace, and a
	// connector created STOPPED already is updated instead.
	if _, err := c.Apply(ctx, plan, quick); err != nil {
		t.Fatalf("re-apply: %v", err)
	}
	again, err := c.Plan(ctx, desired, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Empty() {
		t.Fatalf("plan after apply:\n%s", again)
	}
	m.takeWrites()

	// A state change only: one resume, no config write.
	desired[2].State = ""
	plan, _ = c.Plan(ctx, desired, opts)
	if _, err := c.Apply(ctx, plan, quick); err != nil {
		t.Fatal(err)
	}
	if w := m.takeWrites(); len(w) != 1 || w[0] != "PUT /connectors/t-c/resume" {
		t.Fatalf("writes %v, want only the resume", w)
	}

	// Prune; deleting a connector already gone is fine.
	plan, _ = c.Plan(ctx, desired[:1], opts)
	m.mu.Lock()
	delete(m.conns, "t-b")
	m.mu.Unlock()
	res, err = c.Apply(ctx, plan, quick)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Deleted) != 2 {
		t.Fatalf("deleted %v", res.Deleted)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestApplyValidationWritesNothing(t *testing.T) {
	ctx := context.Background()
	m, c := newMemWorker(t)
	m.invalid["tasks.max"] = `Invalid value many for configuration tasks.max: Not a number of type INT`
	plan, err := c.Plan(ctx, []Spec{spec("t-good", "topics", "x"), spec("t-bad", "tasks.max", "many")}, PlanOptions{Namespace: "t-"})
	if err != nil {
		t.Fatal(err)
	}
	delete(m.invalid, "x")
	_, err = c.Apply(ctx, plan, quick)
	var ve *ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("got %v, want *ValidationError", err)
	}
	if got := ve.Connectors["t-bad"]["tasks.max"]; len(got) != 1 || !strings.Contains(got[0], "Not a number") {
		t.Fatalf("messages %v", ve.Connectors)
	}
	if !strings.Contains(err.Error(), "t-bad tasks.max: Invalid value many") {
		t.Fatalf("error text: %v", err)
	}
	if w := m.takeWrites(); len(w) != 0 {
		t.Fatalf("wrote %v", w)
	}
}

func TestApplyReportsFailedTask(t *testing.T) {
	ctx := context.Background()
	m, c := newMemWorker(t)
	m.taskState["t-sink"] = StateFailed
	m.trace = "org.apache.kafka.connect.errors.ConnectException: /no/such/dir/out.txt\n\tat ..."
	plan, _ := c.Plan(ctx, []Spec{spec("t-sink", "file", "/no/such/dir/out.txt")}, PlanOptions{Namespace: "t-"})
	_, err := c.Apply(ctx, plan, quick)
	var se *StateError
	if !errors.As(err, &se) || !errors.Is(err, ErrNotRunning) {
		t.Fatalf("got %v, want *StateError", err)
	}
	if !strings.Contains(se.Connectors["t-sink"], "task 0 FAILED: org.apache.kafka.connect.errors.ConnectException") {
		t.Fatalf("state error %v", se.Connectors)
	}
	if strings.Contains(err.Error(), "\tat") {
		t.Fatalf("the error string should hold the trace's first line only: %v", err)
	}
}

// TestApplyAfterFailure: a worker restarts a connector and its tasks a
// moment after their config is written, and until then their status is
// the old one. Apply must not take a task's failure from before the
// update for a verdict on the new config, and must still report a failure
// of the new task, with its trace.
func TestApplyAfterFailure(t *testing.T) {
	const (
		oldTrace = "org.apache.kafka.connect.errors.ConnectException: Couldn't find or create file '/no/such/dir/out.txt'\n\tat ..."
		newTrace = "org.apache.kafka.connect.errors.ConnectException: Couldn't find or create file '/still/missing/out.txt'\n\tat ..."
		worker   = "10.0.0.1:8083"
	)
	task := func(state, trace, worker string) Status {
		return Status{Connector: Instance{State: StateRunning, WorkerID: worker},
			Tasks: []TaskState{{ID: 0, Instance: Instance{State: state, Trace: trace, WorkerID: worker}}}}
	}
	oldFailure := task(StateFailed, oldTrace, worker)
	running := task(StateRunning, "", worker)
	tests := []struct {
		name string
		// before is the connector's status before the update; the zero
		// value is RUNNING with its task FAILED with oldTrace.
		before   Status
		afterPut []Status
		wait     time.Duration
		// want is a fragment of the error; "" wants none.
		want, notWant string
	}{
		{
			name:     "old failure for a while, then running",
			afterPut: []Status{oldFailure, oldFailure, oldFailure, running},
		},
		{
			name:     "old failure, then the restarted task fails anew",
			afterPut: []Status{oldFailure, oldFailure, task(StateFailed, newTrace, worker)},
			want:     "task 0 FAILED: " + newTrace, notWant: "/no/such/dir",
		},
		{
			name:     "restarted, then the same failure again",
			afterPut: []Status{oldFailure, task(StateUnassigned, "", ""), oldFailure},
			want:     "task 0 FAILED: " + oldTrace,
		},
		{
			name:     "the same failure on another worker",
			afterPut: []Status{task(StateFailed, oldTrace, "10.0.0.2:8083")},
			want:     "task 0 FAILED: " + oldTrace,
		},
		{
			name:     "the old failure until the wait ends",
			afterPut: []Status{oldFailure},
			wait:     100 * time.Millisecond,
			want:     "not RUNNING after 100ms: task 0 FAILED with the trace it had before the update: " + oldTrace,
		},
		{
			name: "failed connector restarted",
			before: Status{Connector: Instance{State: StateFailed, Trace: oldTrace, WorkerID: worker},
				Tasks: []TaskState{{ID: 0, Instance: Instance{State: StateRunning, WorkerID: worker}}}},
			afterPut: []Status{{Connector: Instance{State: StateFailed, Trace: oldTrace, WorkerID: worker}}, running},
		},
		{
			// A cluster of several workers: the connector runs before the
			// leader has written its task configs.
			name:     "running without a task, then the task fails",
			before:   running,
			afterPut: []Status{{Connector: Instance{State: StateRunning, WorkerID: worker}}, {Connector: Instance{State: StateRunning, WorkerID: worker}}, {Connector: Instance{State: StateRunning, WorkerID: worker}}, task(StateFailed, newTrace, "10.0.0.2:8083")},
			want:     "task 0 FAILED: " + newTrace,
		},
		{
			name:     "running without a task, then running with it",
			before:   running,
			afterPut: []Status{{Connector: Instance{State: StateRunning, WorkerID: worker}}, {Connector: Instance{State: StateRunning, WorkerID: worker}}, running},
		},
		{
			name:     "no failure before: a failure right after the update is final",
			before:   running,
			afterPut: []Status{oldFailure, running},
			want:     "task 0 FAILED: " + oldTrace,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			m, c := newMemWorker(t)
			m.store("t-sink", map[string]string{"connector.class": "FileStreamSink", "file": "/no/such/dir/out.txt"}, StateRunning)
			before := tt.before
			if before.Connector.State == "" {
				before = oldFailure
			}
			m.statuses["t-sink"] = append([]Status{before}, tt.afterPut...)
			plan, err := c.Plan(ctx, []Spec{spec("t-sink", "file", "/tmp/out.txt")}, PlanOptions{Namespace: "t-"})
			if err != nil {
				t.Fatal(err)
			}

			opts := ApplyOptions{Wait: 10 * time.Second, PollInterval: time.Millisecond}
			if tt.wait != 0 {
				opts.Wait = tt.wait
			}
			start := time.Now()
			_, err = c.Apply(ctx, plan, opts)
			if w := m.takeWrites(); len(w) != 1 || w[0] != "PUT /connectors/t-sink/config" {
				t.Fatalf("writes %v, want one PUT of the config", w)
			}
			if tt.want == "" {
				if err != nil {
					t.Fatalf("apply: %v", err)
				}
				return
			}
			var se *StateError
			if !errors.As(err, &se) {
				t.Fatalf("apply: got %v, want a *StateError", err)
			}
			if got := se.Connectors["t-sink"]; !strings.Contains(got, tt.want) || (tt.notWant != "" && strings.Contains(got, tt.notWant)) {
				t.Fatalf("apply: got %q, want %q", got, tt.want)
			}
			if tt.wait == 0 && time.Since(start) > opts.Wait/2 {
				t.Fatalf("a final failure took %v to report", time.Since(start))
			}
		})
	}
}

func TestApplyWaitTimesOut(t *testing.T) {
	ctx := context.Background()
	m, c := newMemWorker(t)
	m.taskState["t-slow"] = StateUnassigned
	plan, _ := c.Plan(ctx, []Spec{spec("t-slow")}, PlanOptions{Namespace: "t-"})
	start := time.Now()
	_, err := c.Apply(ctx, plan, ApplyOptions{Wait: 100 * time.Millisecond, PollInterval: 10 * time.Millisecond})
	if !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), "task 0 UNASSIGNED") {
		t.Fatalf("got %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("waited past the bound")
	}
	// A negative wait does not wait.
	if _, err := c.Apply(ctx, plan, ApplyOptions{Wait: -1}); err != nil {
		t.Fatal(err)
	}
}

// TestWorkerDownIsUnavailable: a plan made while the worker was up and
// applied after it went away fails with ErrUnavailable, as does any call
// to a cluster that refuses connections or answers 503.
func TestWorkerDownIsUnavailable(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewServer(&memWorker{conns: map[string]map[string]string{}, states: map[string]string{},
		taskState: map[string]string{}, invalid: map[string]string{}})
	c, err := New(WithURLs(srv.URL), WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := c.Plan(ctx, []Spec{spec("t-a", "topics", "x"), spec("t-b", "topics", "y")}, PlanOptions{Namespace: "t-"})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if _, err := c.Apply(ctx, plan, ApplyOptions{SkipValidation: true, Wait: -1}); !errors.Is(err, ErrUnavailable) ||
		!strings.Contains(err.Error(), "not attempted: t-b") {
		t.Fatalf("apply with the worker gone: got %v, want ErrUnavailable and t-b not attempted", err)
	}
	if _, err := c.Names(ctx); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "GET /connectors") {
		t.Fatalf("names with the worker gone: got %v, want ErrUnavailable naming the request", err)
	}

	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("<html>Service Unavailable</html>"))
	}))
	defer busy.Close()
	c, err = New(WithURLs(busy.URL), WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Names(ctx)
	var apiErr *APIError
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
		t.Fatalf("names from a 503 worker: got %v, want an *APIError matching ErrUnavailable", err)
	}

	// A cancelled context is the caller's doing, not an outage.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Names(cctx); errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("names with a cancelled context: got %v, want context.Canceled only", err)
	}
}

// TestApplyDeletesTogether: a worker of a cluster of several answers a
// delete once the group has rebalanced, so Apply has several deletes in
// flight (a prune of 200 connectors took 3 s each, one at a time, on the
// platform's two workers) and still reports each one.
func TestApplyDeletesTogether(t *testing.T) {
	var (
		mu              sync.Mutex
		inFlight, maxIn int
		deleted         []string
		names           = []string{"t-a", "t-b", "t-c", "t-d", "t-e", "t-f", "t-g", "t-h", "t-i", "t-j", "t-k", "t-l"}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/connectors":
			out := map[string]any{}
			for _, n := range names {
				out[n] = map[string]any{
					"info":   map[string]any{"name": n, "config": map[string]string{"connector.class": "X"}, "tasks": []any{}},
					"status": map[string]any{"name": n, "connector": map[string]any{"state": "RUNNING"}, "tasks": []any{}},
				}
			}
			_ = json.NewEncoder(w).Encode(out)
		case r.Method == http.MethodDelete:
			mu.Lock()
			inFlight++
			maxIn = max(maxIn, inFlight)
			mu.Unlock()
			time.Sleep(50 * time.Millisecond) // the group rebalancing
			mu.Lock()
			inFlight--
			deleted = append(deleted, strings.TrimPrefix(r.URL.Path, "/connectors/"))
			mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c, err := New(WithURLs(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	plan, err := c.Plan(ctx, nil, PlanOptions{Namespace: "t-", Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := c.Apply(ctx, plan, ApplyOptions{Wait: -1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Deleted, names) {
		t.Errorf("deleted %v, want %v in the plan's order", res.Deleted, names)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(deleted) != len(names) || maxIn < 2 || maxIn > deleteConcurrency {
		t.Errorf("%d deletes, at most %d at once; want %d, several at once and at most %d", len(deleted), maxIn, len(names), deleteConcurrency)
	}
	if d := time.Since(start); d > time.Duration(len(names))*50*time.Millisecond/2 {
		t.Errorf("%d deletes took %v: one at a time", len(names), d)
	}
}
