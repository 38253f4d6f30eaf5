package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/metrics/platform"
	"github.com/streamkit/streamkit/topics"
)

// Status samples lag this many times, this far apart, to tell a consumer
// that keeps up from one that is stuck.
const (
	lagSamples  = 3
	lagInterval = time.Second
)

type connectorStatus struct {
	Name string `json:"name"`
	// Cluster is the team file's cluster whose workers run it; empty for
	// the default one.
	Cluster  string       `json:"cluster,omitempty"`
	State    string       `json:"state"`
	WorkerID string       `json:"worker_id"`
	Trace    string       `json:"trace,omitempty"`
	Tasks    []taskStatus `json:"tasks"`
}

type taskStatus struct {
	ID       int    `json:"id"`
	State    string `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
}

type groupStatus struct {
	Group string `json:"group"`
	// Cluster is the team file's cluster of the group; empty for the
	// default one.
	Cluster    string  `json:"cluster,omitempty"`
	State      string  `json:"state"`
	Members    int     `json:"members"`
	Lag        int64   `json:"lag"`
	LagSeconds float64 `json:"lag_seconds"`
	// Status is the lag status over the samples: OK, WARN, STALL, STOP or
	// REWIND (see metrics/platform.LagEvaluator).
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

type statusReport struct {
	Namespace  string            `json:"namespace"`
	Connectors []connectorStatus `json:"connectors"`
	Groups     []groupStatus     `json:"groups"`
}

// statusTarget is one cluster of the team: its name (empty for the
// default one) and its clients, either of which may be nil.
type statusTarget struct {
	cluster string
	cc      *connect.Client
	tc      *topics.Client
}

// targets are the team's clusters that the environment names, the
// default one first.
func (p *clients) targets() []statusTarget {
	out := []statusTarget{{"", p.connect, p.topics}}
	for _, name := range slices.Sorted(maps.Keys(p.clusters)) {
		c := p.clusters[name]
		out = append(out, statusTarget{name, c.connect, c.topics})
	}
	return out
}

// status shows the team's connectors and tasks, with the trace of each
// failed one, and the team's consumer groups with their lag in records
// and seconds and its status, on every cluster of the team the
// environment names. It exits 1 when a connector or task is FAILED or a
// group is STALL, STOP or REWIND.
func (p *clients) status(ctx context.Context, t *team, o *options, stdout, stderr io.Writer) int {
	if !slices.ContainsFunc(p.targets(), func(c statusTarget) bool { return c.cc != nil || c.tc != nil }) {
		fmt.Fprintf(stderr, "streamkit: status needs %s or %s: %v\n", EnvConnectURL, EnvBrokers, errMissing)
		return exitError
	}
	rep := statusReport{Namespace: t.Namespace, Connectors: []connectorStatus{}, Groups: []groupStatus{}}
	bad := false
	for _, c := range p.targets() {
		on := ""
		if c.cluster != "" {
			on = " on " + c.cluster
		}
		if c.cc != nil {
			all, err := c.cc.List(ctx)
			if err != nil {
				fmt.Fprintf(stderr, "streamkit: status: connectors%s: %v\n", on, err)
				return exitError
			}
			for name, cs := range all {
				if !strings.HasPrefix(name, t.Namespace) {
					continue
				}
				bad = bad || cs.Status.Failed()
				st := toStatus(name, cs.Status)
				st.Cluster = c.cluster
				rep.Connectors = append(rep.Connectors, st)
			}
		}
		if c.tc != nil {
			groups, err := namespaceGroups(ctx, c.tc, t.Namespace)
			if err != nil {
				fmt.Fprintf(stderr, "streamkit: status: groups%s: %v\n", on, err)
				return exitError
			}
			gs, err := lagStatus(ctx, c.tc, groups)
			if err != nil {
				fmt.Fprintf(stderr, "streamkit: status: lag%s: %v\n", on, err)
				return exitError
			}
			for _, g := range gs {
				g.Cluster = c.cluster
				bad = bad || g.Status == "STALL" || g.Status == "STOP" || g.Status == "REWIND"
				rep.Groups = append(rep.Groups, g)
			}
		}
	}
	slices.SortStableFunc(rep.Connectors, func(a, b connectorStatus) int {
		return cmp.Or(strings.Compare(a.Cluster, b.Cluster), strings.Compare(a.Name, b.Name))
	})
	if o.format == "json" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			fmt.Fprintln(stderr, "streamkit:", err)
			return exitError
		}
		fmt.Fprintln(stdout, string(b))
	} else {
		writeStatus(stdout, rep, o.format == "github")
	}
	if bad {
		return exitFindings
	}
	return exitOK
}

// namespaceGroups lists the consumer groups of the namespace.
func namespaceGroups(ctx context.Context, tc *topics.Client, namespace string) ([]string, error) {
	listed, err := tc.Admin().ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, g := range listed.Groups() {
		if strings.HasPrefix(g, namespace) {
			out = append(out, g)
		}
	}
	slices.Sort(out)
	return out, nil
}

// lagStatus samples the groups' lag lagSamples times and evaluates it.
func lagStatus(ctx context.Context, tc *topics.Client, groups []string) ([]groupStatus, error) {
	if len(groups) == 0 {
		return []groupStatus{}, nil
	}
	ev := platform.NewLagEvaluator(lagSamples)
	var last topics.LagReport
	var statuses map[string]platform.LagStatus
	for i := range lagSamples {
		if i > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(lagInterval):
			}
		}
		r, err := tc.Lag(ctx, groups...)
		if err != nil {
			return nil, err
		}
		last = r
		statuses = ev.Update(snapshot(r))
	}
	out := make([]groupStatus, 0, len(last.Groups))
	for _, g := range last.Groups {
		gs := groupStatus{Group: g.Group, State: g.State, Members: g.Members, Lag: g.Lag,
			LagSeconds: g.MaxTimeLag.Seconds(), Status: statuses[g.Group].String()}
		if g.Err != nil {
			gs.Error = g.Err.Error()
		}
		out = append(out, gs)
	}
	return out, nil
}

func snapshot(r topics.LagReport) platform.Snapshot {
	s := platform.Snapshot{Time: r.Time}
	for _, g := range r.Groups {
		gs := platform.GroupSnapshot{Group: g.Group, State: g.State, Members: g.Members, Lag: g.Lag, LagSeconds: g.MaxTimeLag.Seconds()}
		for _, t := range g.Topics {
			for _, pl := range t.Partitions {
				gs.Partitions = append(gs.Partitions, platform.PartitionLag{Topic: pl.Topic, Partition: pl.Partition,
					Committed: pl.Committed, End: pl.End, Lag: pl.Lag, LagSeconds: pl.TimeLag.Seconds()})
			}
		}
		s.Groups = append(s.Groups, gs)
	}
	return s
}

func writeStatus(w io.Writer, rep statusReport, github bool) {
	fmt.Fprintf(w, "connectors of %q: %d\n", rep.Namespace, len(rep.Connectors))
	for _, c := range rep.Connectors {
		fmt.Fprintf(w, "  %s  %s  %s%s\n", c.Name, c.State, c.WorkerID, onCluster(c.Cluster))
		writeTrace(w, "    ", c.Trace)
		if github && c.State == connect.StateFailed {
			fmt.Fprintf(w, "::error title=connector %s::FAILED: %s\n", c.Name, firstLine(c.Trace))
		}
		for _, t := range c.Tasks {
			fmt.Fprintf(w, "    task %d  %s  %s\n", t.ID, t.State, t.WorkerID)
			writeTrace(w, "      ", t.Trace)
			if github && t.State == connect.StateFailed {
				fmt.Fprintf(w, "::error title=connector %s task %d::FAILED: %s\n", c.Name, t.ID, firstLine(t.Trace))
			}
		}
	}
	fmt.Fprintf(w, "consumer groups of %q: %d\n", rep.Namespace, len(rep.Groups))
	for _, g := range rep.Groups {
		fmt.Fprintf(w, "  %s  %s  %d members  lag %d records, %.1f s  %s%s\n", g.Group, g.State, g.Members, g.Lag, g.LagSeconds, g.Status, onCluster(g.Cluster))
		if g.Error != "" {
			fmt.Fprintf(w, "    error: %s\n", g.Error)
		}
	}
}

// writeTrace writes a trace's first lines: the exception and where it was
// thrown, which is what a team acts on.
func writeTrace(w io.Writer, indent, trace string) {
	if trace == "" {
		return
	}
	lines := strings.Split(strings.TrimSpace(trace), "\n")
	const keep = 6
	for i, l := range lines {
		if i == keep {
			fmt.Fprintf(w, "%s... (%d more lines; -format json has the whole trace)\n", indent, len(lines)-keep)
			break
		}
		fmt.Fprintf(w, "%s%s\n", indent, strings.TrimRight(l, "\r"))
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

// restartWait bounds how long restart waits for the connector to run.
const restartWait = time.Minute

// restart restarts a connector of the team and its failed tasks (the
// seed's user restart), then waits until it and its tasks run. A name
// outside the team's namespace is refused without a request.
func (p *clients) restart(ctx context.Context, t *team, name string, o *options, stdout, stderr io.Writer) int {
	if !strings.HasPrefix(name, t.Namespace) {
		fmt.Fprintf(stderr, "streamkit: restart: connector %q is outside the namespace %q: %v\n", name, t.Namespace, connect.ErrOutsideNamespace)
		return exitError
	}
	// The connector is on the workers of one of the team's clusters: the
	// first that knows it.
	var cc *connect.Client
	var err error
	for _, c := range p.targets() {
		if c.cc == nil {
			continue
		}
		if _, err = c.cc.Restart(ctx, name, connect.RestartOptions{IncludeTasks: true, OnlyFailed: true}); !errors.Is(err, connect.ErrNotFound) {
			cc = c.cc
			break
		}
	}
	switch {
	case cc == nil && err == nil:
		fmt.Fprintf(stderr, "streamkit: restart needs %s: %v\n", EnvConnectURL, errMissing)
		return exitError
	case err != nil:
		fmt.Fprintln(stderr, "streamkit: restart:", err)
		if errors.Is(err, connect.ErrNotFound) {
			return exitFindings
		}
		return applyCode(err)
	}
	wctx, cancel := context.WithTimeout(ctx, restartWait)
	defer cancel()
	var st connect.Status
	for {
		var err error
		st, err = cc.Status(wctx, name)
		if err == nil && running(st) {
			break
		}
		select {
		case <-wctx.Done():
			if err == nil {
				err = fmt.Errorf("%s is not running after %s", name, restartWait)
			}
			writeStatus(stdout, statusReport{Namespace: t.Namespace, Connectors: []connectorStatus{toStatus(name, st)}}, o.format == "github")
			fmt.Fprintln(stderr, "streamkit: restart:", err)
			return applyCode(err)
		case <-time.After(500 * time.Millisecond):
		}
	}
	fmt.Fprintf(stdout, "restarted %s: %s, %d tasks running\n", name, st.Connector.State, len(st.Tasks))
	return exitOK
}

func running(st connect.Status) bool {
	if st.Connector.State != connect.StateRunning || len(st.Tasks) == 0 {
		return false
	}
	for _, t := range st.Tasks {
		if t.State != connect.StateRunning {
			return false
		}
	}
	return true
}

func toStatus(name string, st connect.Status) connectorStatus {
	cs := connectorStatus{Name: name, State: st.Connector.State, WorkerID: st.Connector.WorkerID, Trace: st.Connector.Trace, Tasks: []taskStatus{}}
	for _, t := range st.Tasks {
		cs.Tasks = append(cs.Tasks, taskStatus{ID: t.ID, State: t.State, WorkerID: t.WorkerID, Trace: t.Trace})
	}
	return cs
}

// onCluster names a cluster other than the default one in a status line.
func onCluster(name string) string {
	if name == "" {
		return ""
	}
	return "  (cluster " + name + ")"
}
