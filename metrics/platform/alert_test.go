package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

var alertT0 = time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)

func alertSnap(offset time.Duration, lag int64) Snapshot {
	return Snapshot{
		Time:   alertT0.Add(offset),
		Groups: []GroupSnapshot{{Group: "g1", Lag: lag}},
	}
}

func alertMust(t *testing.T, rules []AlertRule, opts ...AlerterOpt) *Alerter {
	t.Helper()
	a, err := NewAlerter(rules, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// alertBrief renders events as "rule subject state" lines for comparison.
func alertBrief(evs []AlertEvent) string {
	var parts []string
	for _, ev := range evs {
		parts = append(parts, ev.Rule+" "+ev.Subject+" "+string(ev.State))
	}
	return strings.Join(parts, "; ")
}

func TestAlertPendingFiringResolved(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	a := alertMust(t, []AlertRule{LagRecordsAbove(100, 2*time.Minute)}, WithLogger(logger))

	steps := []struct {
		at   time.Duration
		lag  int64
		want string
	}{
		{0, 500, ""}, // pending
		{time.Minute, 500, ""},
		{90 * time.Second, 10, ""}, // stops holding before For: forgotten
		{2 * time.Minute, 500, ""}, // pending again from here
		{3 * time.Minute, 500, ""},
		{4 * time.Minute, 600, "lag_records_above_100 group g1 firing"},
		{5 * time.Minute, 700, ""}, // still firing: no new event
		{6 * time.Minute, 50, "lag_records_above_100 group g1 resolved"},
		{7 * time.Minute, 50, ""},
	}
	for _, st := range steps {
		evs := a.Evaluate(alertSnap(st.at, st.lag), nil)
		if got := alertBrief(evs); got != st.want {
			t.Fatalf("at %v: got %q, want %q", st.at, got, st.want)
		}
		if st.want == "" {
			continue
		}
		ev := evs[0]
		if !ev.Time.Equal(alertT0.Add(st.at)) {
			t.Errorf("at %v: event time %v, want %v", st.at, ev.Time, alertT0.Add(st.at))
		}
		if ev.State == AlertFiring && ev.Value != 600 {
			t.Errorf("firing value: got %v, want 600", ev.Value)
		}
		if ev.State == AlertResolved && ev.Value != 700 {
			t.Errorf("resolved value: got %v, want 700 (the last firing value)", ev.Value)
		}
	}
	out := logs.String()
	for _, want := range []string{`level=WARN msg="alert firing" rule=lag_records_above_100 subject="group g1" value=600`, `level=INFO msg="alert resolved"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q does not contain %q", out, want)
		}
	}
}

func TestAlertForZeroFiresAtOnce(t *testing.T) {
	a := alertMust(t, []AlertRule{LagRecordsAbove(100, 0)})
	if got := alertBrief(a.Evaluate(alertSnap(0, 101), nil)); got != "lag_records_above_100 group g1 firing" {
		t.Errorf("got %q", got)
	}
	if got := alertBrief(a.Evaluate(alertSnap(time.Minute, 100), nil)); got != "lag_records_above_100 group g1 resolved" {
		t.Errorf("got %q", got)
	}
}

func TestAlertConstructors(t *testing.T) {
	s := Snapshot{
		Time: alertT0,
		Groups: []GroupSnapshot{
			{Group: "slow", Lag: 5000, LagSeconds: 900},
			{Group: "fine", Lag: 10, LagSeconds: 1},
		},
		Topics: []TopicSnapshot{
			{Topic: "ok", Partitions: 3},
			{Topic: "urp", Partitions: 3, UnderReplicated: 2},
			{Topic: "offline", Partitions: 3, Offline: 1},
		},
		Brokers: []BrokerSnapshot{{Broker: 1, Bytes: 2e9}, {Broker: 2, Bytes: 5e8}},
		Connectors: []ConnectorSnapshot{
			{Name: "running", State: "RUNNING", Tasks: 2},
			{Name: "dead", State: "FAILED", Trace: "org.apache.kafka.connect.errors.ConnectException: boom\n\tat x"},
			{Name: "half", State: "RUNNING", Tasks: 2, FailedTasks: 1},
		},
	}
	statuses := map[string]LagStatus{"slow": LagStall, "fine": LagOK, "gone": LagStop}
	tests := []struct {
		rule AlertRule
		want string
	}{
		{LagRecordsAbove(1000, 0), "lag_records_above_1000 group slow firing"},
		{LagSecondsAbove(300, 0), "lag_seconds_above_300 group slow firing"},
		{LagStatusIs(0, LagStall, LagStop), "lag_status_stall_stop group gone firing; lag_status_stall_stop group slow firing"},
		{ConnectorFailed(), "connector_failed connector dead firing; connector_failed connector half firing"},
		{UnderReplicated(), "under_replicated topic offline firing; under_replicated topic urp firing"},
		{BrokerStorageAbove(1e9), "broker_storage_above_1000000000 broker 1 firing"},
	}
	for _, tt := range tests {
		t.Run(tt.rule.Name, func(t *testing.T) {
			a := alertMust(t, []AlertRule{tt.rule})
			evs := a.Evaluate(s, statuses)
			if got := alertBrief(evs); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			for _, ev := range evs {
				if ev.Message == "" {
					t.Errorf("%s: empty message", ev.Subject)
				}
			}
		})
	}

	evs := alertMust(t, []AlertRule{ConnectorFailed()}).Evaluate(s, nil)
	if want := "connector dead is FAILED with 0 of 0 tasks failed: org.apache.kafka.connect.errors.ConnectException: boom"; evs[0].Message != want {
		t.Errorf("message: got %q, want %q", evs[0].Message, want)
	}
	evs = alertMust(t, []AlertRule{LagStatusIs(0, LagStall)}).Evaluate(s, statuses)
	if evs[0].Value != float64(LagStall) {
		t.Errorf("status value: got %v, want %v", evs[0].Value, float64(LagStall))
	}
}

func TestAlertOnEventPanicRecovered(t *testing.T) {
	var logs bytes.Buffer
	var got []AlertEvent
	a := alertMust(t, []AlertRule{LagRecordsAbove(1, 0)},
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		WithEvents(func(AlertEvent) { panic("boom") }),
		WithEvents(func(ev AlertEvent) { got = append(got, ev) }),
	)
	evs := a.Evaluate(alertSnap(0, 5), nil)
	if len(evs) != 1 || len(got) != 1 || got[0] != evs[0] {
		t.Fatalf("got returned %v and delivered %v, want one event both", evs, got)
	}
	if !strings.Contains(logs.String(), `msg="callback panicked"`) || !strings.Contains(logs.String(), "panic=boom") {
		t.Errorf("log %q does not record the panic", logs.String())
	}
}

func TestAlertRulePanicSkipsRule(t *testing.T) {
	calls := 0
	bad := AlertRule{Name: "bad", Eval: func(Snapshot, map[string]LagStatus) []AlertInstance {
		calls++
		if calls == 2 {
			panic("boom")
		}
		return []AlertInstance{{Subject: "x"}}
	}}
	a := alertMust(t, []AlertRule{bad, LagRecordsAbove(1, 0)})
	if got := alertBrief(a.Evaluate(alertSnap(0, 5), nil)); got != "bad x firing; lag_records_above_1 group g1 firing" {
		t.Fatalf("got %q", got)
	}
	// The panicking cycle neither resolves "bad x" nor stops other rules.
	if got := alertBrief(a.Evaluate(alertSnap(time.Minute, 0), nil)); got != "lag_records_above_1 group g1 resolved" {
		t.Fatalf("got %q", got)
	}
	if got := alertBrief(a.Evaluate(alertSnap(2*time.Minute, 0), nil)); got != "" {
		t.Fatalf("got %q, want no events: bad x still firing", got)
	}
}

func TestAlertConcurrentEvaluate(t *testing.T) {
	a := alertMust(t, []AlertRule{LagRecordsAbove(1, 0)})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { a.Evaluate(alertSnap(time.Duration(i)*time.Second, int64(i%2)*10), nil) })
	}
	wg.Wait()
}

func TestAlertNewAlerterValidates(t *testing.T) {
	ok := LagRecordsAbove(1, 0)
	tests := []struct {
		name  string
		rules []AlertRule
		opts  []AlerterOpt
	}{
		{"empty name", []AlertRule{{Eval: ok.Eval}}, nil},
		{"nil eval", []AlertRule{{Name: "x"}}, nil},
		{"negative for", []AlertRule{{Name: "x", For: -time.Second, Eval: ok.Eval}}, nil},
		{"duplicate", []AlertRule{ok, ok}, nil},
		{"nil logger", nil, []AlerterOpt{WithLogger(nil)}},
		{"nil callback", nil, []AlerterOpt{WithEvents(nil)}},
		{"nil client", nil, []AlerterOpt{WithEventTopic(nil, "alerts")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewAlerter(tt.rules, tt.opts...)
			if !errors.Is(err, ErrInvalidAlerter) {
				t.Errorf("got %v, want ErrInvalidAlerter", err)
			}
		})
	}
	if _, err := NewAlerter([]AlertRule{ok}); err != nil {
		t.Errorf("valid rules: got %v", err)
	}
}

func TestAlertKafkaSink(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "alerts"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	a := alertMust(t, []AlertRule{LagRecordsAbove(100, 0)}, WithEventTopic(cl, "alerts"))
	evs := a.Evaluate(alertSnap(0, 500), nil)
	if len(evs) != 1 {
		t.Fatalf("got %d events, want 1", len(evs))
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	consumer, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("alerts"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	fs := consumer.PollRecords(ctx, 1)
	if errs := fs.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	recs := fs.Records()
	if len(recs) != 1 {
		t.Fatalf("got %d records, want 1", len(recs))
	}
	if got, want := string(recs[0].Key), "lag_records_above_100/group g1"; got != want {
		t.Errorf("key: got %q, want %q", got, want)
	}
	var got AlertEvent
	if err := json.Unmarshal(recs[0].Value, &got); err != nil {
		t.Fatal(err)
	}
	if got != evs[0] {
		t.Errorf("got %+v, want %+v", got, evs[0])
	}
	for _, field := range []string{`"rule":`, `"subject":`, `"state":"firing"`, `"value":500`, `"message":`, `"time":`} {
		if !bytes.Contains(recs[0].Value, []byte(field)) {
			t.Errorf("record %s lacks %s", recs[0].Value, field)
		}
	}
}
