package platform

import (
	"errors"
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// LagStatus is a consumer group's (or one partition's) health in the style
// of LinkedIn's Burrow: it judges how lag and committed offsets moved over a
// window of snapshots rather than comparing lag with a threshold, so a
// large but shrinking backlog is OK and a small but stuck one is not.
//
// The numeric value is what RegisterLagStatus exports as a gauge, and it is
// also the severity order, worst last: 0 OK, 1 WARN, 2 STALL, 3 STOP,
// 4 REWIND.
type LagStatus int

const (
	// LagOK (0): the consumer keeps up, or is working a backlog down.
	LagOK LagStatus = iota
	// LagWarn (1): commits advance but lag grew over the whole window.
	LagWarn
	// LagStall (2): the group has members but its committed offset did
	// not move over the whole window while there was lag.
	LagStall
	// LagStop (3): the committed offset did not move over the whole
	// window while there was lag, and the group has no members.
	LagStop
	// LagRewind (4): a committed offset went backwards within the window
	// (a reset to earlier offsets, or a consumer committing stale ones).
	LagRewind
)

// String returns the lower-case name: "ok", "warn", "stall", "stop" or
// "rewind".
func (s LagStatus) String() string {
	switch s {
	case LagOK:
		return "ok"
	case LagWarn:
		return "warn"
	case LagStall:
		return "stall"
	case LagStop:
		return "stop"
	case LagRewind:
		return "rewind"
	default:
		return fmt.Sprintf("LagStatus(%d)", int(s))
	}
}

// DefaultLagWindow is the number of snapshots a LagEvaluator keeps per
// partition when NewLagEvaluator is given 0 or less.
const DefaultLagWindow = 10

// lagEntry is one partition's state in one snapshot.
type lagEntry struct {
	committed int64
	lag       int64
}

type lagKey struct {
	group     string
	topic     string
	partition int32
}

// LagEvaluator turns a stream of Snapshots into Burrow-style statuses. It
// keeps, per group and partition, a sliding window of the last n
// (time, committed, end, lag) observations, one per Update.
//
// Rules for one partition, checked in this order over its window (a
// window with fewer than 2 entries is OK, there is nothing to compare yet):
//
//  1. REWIND if the committed offset ever went backwards between two
//     consecutive entries (both committed, i.e. not -1). Checked first:
//     a rewind matters even when lag is now 0.
//  2. OK if lag was 0 in any entry: the consumer caught up within the
//     window.
//  3. If the committed offset is the same in every entry (lag > 0
//     throughout, by rule 2): STOP when the group has no members in the
//     newest snapshot (nobody is consuming), STALL when it has members
//     (someone is there but not progressing). STALL does not require the
//     end offset to move: a member sitting on an unchanged backlog is as
//     stuck as one falling behind new writes.
//  4. WARN if commits advance (newest committed > oldest) and lag never
//     decreased from one entry to the next and the newest lag is larger
//     than the oldest: the consumer works but falls further behind.
//  5. OK otherwise.
//
// A group's status is the worst of its partitions' statuses, in the order
// REWIND > STOP > STALL > WARN > OK (the numeric order of LagStatus); a
// group without partitions is OK.
//
// Partitions and groups missing from a snapshot are forgotten, so a
// rebalanced-away or deleted group does not keep its old window.
//
// A LagEvaluator is safe for concurrent use by multiple goroutines;
// Updates are serialized and must be given snapshots in time order.
type LagEvaluator struct {
	window int

	mu      sync.Mutex
	windows map[lagKey][]lagEntry
}

// NewLagEvaluator returns an evaluator that keeps the last window
// snapshots per partition: 0 or less means DefaultLagWindow (10); 1 is
// raised to 2, the fewest that can show movement. It starts no goroutines.
func NewLagEvaluator(window int) *LagEvaluator {
	switch {
	case window <= 0:
		window = DefaultLagWindow
	case window < 2:
		window = 2
	}
	return &LagEvaluator{window: window, windows: make(map[lagKey][]lagEntry)}
}

// Update adds s to every partition's window and returns each group's
// status in s, keyed by group name.
func (e *LagEvaluator) Update(s Snapshot) map[string]LagStatus {
	e.mu.Lock()
	defer e.mu.Unlock()

	out := make(map[string]LagStatus, len(s.Groups))
	seen := make(map[lagKey]struct{})
	for _, g := range s.Groups {
		worst := out[g.Group] // a group listed twice keeps its worst
		for _, p := range g.Partitions {
			k := lagKey{group: g.Group, topic: p.Topic, partition: p.Partition}
			seen[k] = struct{}{}
			w := append(e.windows[k], lagEntry{committed: p.Committed, lag: p.Lag})
			if len(w) > e.window {
				// Shift in place rather than reslice, so the backing
				// array neither grows nor is reallocated.
				w = w[:copy(w, w[len(w)-e.window:])]
			}
			e.windows[k] = w
			if st := evalLagWindow(w, g.Members); st > worst {
				worst = st
			}
		}
		out[g.Group] = worst
	}
	for k := range e.windows {
		if _, ok := seen[k]; !ok {
			delete(e.windows, k)
		}
	}
	return out
}

// evalLagWindow applies the rules documented on LagEvaluator to one
// partition's window, oldest entry first.
func evalLagWindow(w []lagEntry, members int) LagStatus {
	if len(w) < 2 {
		return LagOK
	}
	for i := 1; i < len(w); i++ {
		prev, cur := w[i-1].committed, w[i].committed
		if prev >= 0 && cur >= 0 && cur < prev {
			return LagRewind
		}
	}
	for _, x := range w {
		if x.lag <= 0 {
			return LagOK
		}
	}
	first, last := w[0], w[len(w)-1]
	unchanged := true
	for _, x := range w[1:] {
		if x.committed != first.committed {
			unchanged = false
			break
		}
	}
	if unchanged {
		if members == 0 {
			return LagStop
		}
		return LagStall
	}
	if last.committed > first.committed && last.lag > first.lag {
		growing := true
		for i := 1; i < len(w); i++ {
			if w[i].lag < w[i-1].lag {
				growing = false
				break
			}
		}
		if growing {
			return LagWarn
		}
	}
	return LagOK
}

// WorstLagStatus returns the most severe of statuses (REWIND > STOP >
// STALL > WARN > OK), or LagOK when there are none.
func WorstLagStatus(statuses ...LagStatus) LagStatus {
	worst := LagOK
	for _, s := range statuses {
		if s > worst {
			worst = s
		}
	}
	return worst
}

// LagStatusMetric is the gauge RegisterLagStatus registers; its value is
// the numeric LagStatus (0 OK, 1 WARN, 2 STALL, 3 STOP, 4 REWIND).
const LagStatusMetric = "streamkit_consumer_group_lag_status"

// RegisterLagStatus registers the gauge LagStatusMetric{group} with reg and
// returns a function that sets it from an Update result. Each call
// replaces the previous set: groups absent from the map are removed from
// the gauge. The returned function is safe for concurrent use. reg is the
// caller's registry; the global one is never used implicitly.
func RegisterLagStatus(reg prometheus.Registerer) (func(map[string]LagStatus), error) {
	if reg == nil {
		return nil, errors.New("register lag status: nil registerer")
	}
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: LagStatusMetric,
		Help: "Burrow-style consumer group lag status: 0 ok, 1 warn, 2 stall, 3 stop, 4 rewind.",
	}, []string{"group"})
	if err := reg.Register(g); err != nil {
		return nil, fmt.Errorf("register lag status: %w", err)
	}
	var (
		mu   sync.Mutex
		prev = map[string]struct{}{}
	)
	return func(statuses map[string]LagStatus) {
		mu.Lock()
		defer mu.Unlock()
		next := make(map[string]struct{}, len(statuses))
		for group, st := range statuses {
			g.WithLabelValues(group).Set(float64(st))
			next[group] = struct{}{}
		}
		for group := range prev {
			if _, ok := next[group]; !ok {
				g.DeleteLabelValues(group)
			}
		}
		prev = next
	}, nil
}
