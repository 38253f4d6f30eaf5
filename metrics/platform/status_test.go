package platform

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var statusT0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// statusStep is one partition observation: committed and end offsets.
type statusStep struct{ committed, end int64 }

// statusSnaps builds one snapshot per step for group g with one partition
// t/0, a minute apart, with members consumers.
func statusSnaps(g string, members int, steps ...statusStep) []Snapshot {
	out := make([]Snapshot, len(steps))
	for i, st := range steps {
		lag := st.end - max(st.committed, 0)
		out[i] = Snapshot{
			Time: statusT0.Add(time.Duration(i) * time.Minute),
			Groups: []GroupSnapshot{{
				Group: g, Members: members, Lag: lag,
				Partitions: []PartitionLag{{Topic: "t", Partition: 0, Committed: st.committed, End: st.end, Lag: lag}},
			}},
		}
	}
	return out
}

func TestLagStatusRules(t *testing.T) {
	tests := []struct {
		name    string
		members int
		steps   []statusStep
		want    LagStatus
	}{
		{"too short window", 0, []statusStep{{0, 100}}, LagOK},
		{"caught up", 1, []statusStep{{10, 10}, {20, 20}, {30, 30}}, LagOK},
		{"backlog shrinking", 1, []statusStep{{0, 100}, {50, 120}, {110, 130}}, LagOK},
		{"lag zero once then stuck", 0, []statusStep{{10, 10}, {10, 20}, {10, 30}}, LagOK},
		{"lag grows while committing", 1, []statusStep{{0, 100}, {10, 130}, {20, 160}, {30, 190}}, LagWarn},
		{"lag flat while committing", 1, []statusStep{{0, 100}, {10, 110}, {20, 120}}, LagOK},
		{"lag grows with a dip", 1, []statusStep{{0, 100}, {10, 150}, {60, 160}, {70, 200}}, LagOK},
		{"stall end advancing", 2, []statusStep{{50, 100}, {50, 120}, {50, 140}}, LagStall},
		{"stall end still", 2, []statusStep{{50, 100}, {50, 100}, {50, 100}}, LagStall},
		{"stop no members", 0, []statusStep{{50, 100}, {50, 120}, {50, 140}}, LagStop},
		{"stop never committed", 0, []statusStep{{-1, 100}, {-1, 120}}, LagStop},
		{"rewind", 1, []statusStep{{100, 200}, {120, 220}, {40, 230}}, LagRewind},
		{"rewind beats lag zero", 1, []statusStep{{100, 100}, {50, 100}}, LagRewind},
		{"first commit is not a rewind", 1, []statusStep{{-1, 100}, {10, 100}}, LagOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewLagEvaluator(10)
			var got map[string]LagStatus
			for _, s := range statusSnaps("g1", tt.members, tt.steps...) {
				got = e.Update(s)
			}
			if got["g1"] != tt.want {
				t.Errorf("got %v, want %v", got["g1"], tt.want)
			}
		})
	}
}

func TestLagStatusWindowSlides(t *testing.T) {
	e := NewLagEvaluator(3)
	snaps := statusSnaps("g1", 1,
		statusStep{100, 200}, statusStep{50, 200}, // rewind
		statusStep{60, 210}, statusStep{70, 220}, statusStep{90, 230}, // then healthy, lag falling
	)
	want := []LagStatus{LagOK, LagRewind, LagRewind, LagOK, LagOK}
	for i, s := range snaps {
		if got := e.Update(s)["g1"]; got != want[i] {
			t.Errorf("update %d: got %v, want %v", i, got, want[i])
		}
	}
}

func TestLagStatusGroupIsWorstPartition(t *testing.T) {
	e := NewLagEvaluator(0)
	var got map[string]LagStatus
	for i := range 3 {
		i64 := int64(i)
		got = e.Update(Snapshot{
			Time: statusT0.Add(time.Duration(i) * time.Minute),
			Groups: []GroupSnapshot{
				{Group: "g1", Members: 1, Partitions: []PartitionLag{
					{Topic: "a", Partition: 0, Committed: 10 * i64, End: 10*i64 + 5, Lag: 5},          // OK: flat lag, committing
					{Topic: "a", Partition: 1, Committed: 7, End: 10 + i64, Lag: 3 + i64},             // STALL
					{Topic: "b", Partition: 0, Committed: 10 * i64, End: 30*i64 + 1, Lag: 20*i64 + 1}, // WARN
				}},
				{Group: "g2", Members: 1, Partitions: []PartitionLag{
					{Topic: "a", Partition: 0, Committed: 10 * i64, End: 30*i64 + 1, Lag: 20*i64 + 1}, // WARN
				}},
				{Group: "empty"},
			},
		})
	}
	want := map[string]LagStatus{"g1": LagStall, "g2": LagWarn, "empty": LagOK}
	for g, w := range want {
		if got[g] != w {
			t.Errorf("group %s: got %v, want %v", g, got[g], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d groups, want %d", len(got), len(want))
	}
	if w := WorstLagStatus(LagWarn, LagRewind, LagStop); w != LagRewind {
		t.Errorf("WorstLagStatus: got %v, want %v", w, LagRewind)
	}
}

func TestLagStatusForgetsMissingPartitions(t *testing.T) {
	e := NewLagEvaluator(5)
	snaps := statusSnaps("g1", 0, statusStep{50, 100}, statusStep{50, 120})
	if got := e.Update(snaps[0])["g1"]; got != LagOK {
		t.Fatalf("got %v, want %v", got, LagOK)
	}
	e.Update(Snapshot{Time: snaps[0].Time.Add(30 * time.Second)}) // group gone
	if got := e.Update(snaps[1])["g1"]; got != LagOK {
		t.Errorf("after the group came back: got %v, want %v (one entry)", got, LagOK)
	}
}

func TestLagStatusString(t *testing.T) {
	want := map[LagStatus]string{LagOK: "ok", LagWarn: "warn", LagStall: "stall", LagStop: "stop", LagRewind: "rewind", 9: "LagStatus(9)"}
	for s, w := range want {
		if s.String() != w {
			t.Errorf("got %q, want %q", s.String(), w)
		}
	}
	for i, s := range []LagStatus{LagOK, LagWarn, LagStall, LagStop, LagRewind} {
		if int(s) != i {
			t.Errorf("%v: got value %d, want %d", s, int(s), i)
		}
	}
}

func TestLagStatusGauge(t *testing.T) {
	reg := prometheus.NewRegistry()
	set, err := RegisterLagStatus(reg)
	if err != nil {
		t.Fatal(err)
	}
	set(map[string]LagStatus{"g1": LagStall, "g2": LagOK})
	set(map[string]LagStatus{"g1": LagRewind})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != LagStatusMetric {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "group" {
					got[l.GetValue()] = m.GetGauge().GetValue()
				}
			}
		}
	}
	if len(got) != 1 || got["g1"] != 4 {
		t.Errorf("got %v, want map[g1:4] (g2 removed)", got)
	}
	if _, err := RegisterLagStatus(reg); err == nil {
		t.Error("registering twice: got nil error, want one")
	}
	if _, err := RegisterLagStatus(nil); err == nil {
		t.Error("nil registerer: got nil error, want one")
	}
}
