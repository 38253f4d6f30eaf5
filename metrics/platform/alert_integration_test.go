package platform_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/metrics/platform"
	"github.com/streamkit/streamkit/platformtest"
)

// TestIntegrationLagStatusAndAlerts runs the collector, the lag status
// evaluator and the alerter against the real platform: a consumer that
// stops committing while records keep arriving turns STOP, the lag alert
// fires, and it resolves once the consumer catches up; a connector whose
// task fails raises the connector alert.
func TestIntegrationLagStatusAndAlerts(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka, platformtest.Connect)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	cl, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	topic := platformtest.UniqueName("alerts")
	group := platformtest.UniqueName("alerts-group")
	if _, err := adm.CreateTopic(ctx, 1, -1, nil, topic); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = adm.DeleteTopics(context.Background(), topic)
		_, _ = adm.DeleteGroups(context.Background(), group)
	})
	produce := func(n int) {
		t.Helper()
		recs := make([]*kgo.Record, n)
		for i := range recs {
			recs[i] = &kgo.Record{Topic: topic, Value: []byte("order")}
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// The group commits once, then stops: no members, nothing committed
	// since, while records keep arriving.
	commitAll := func() {
		t.Helper()
		ends, err := adm.ListEndOffsets(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		var offs kadm.Offsets
		ends.Each(func(o kadm.ListedOffset) { offs.AddOffset(o.Topic, o.Partition, o.Offset, -1) })
		if _, err := adm.CommitOffsets(ctx, group, offs); err != nil {
			t.Fatal(err)
		}
	}
	produce(10)
	commitAll()

	cc, err := connect.New(connect.WithURLs(p.ConnectURL))
	if err != nil {
		t.Fatal(err)
	}
	ns := platformtest.UniqueName("alerts-conn") + "-"
	broken := ns + "sink"
	t.Cleanup(func() { _ = cc.Delete(context.Background(), broken) })
	plan, err := cc.Plan(ctx, []connect.Spec{{Name: broken, Config: map[string]string{
		"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
		"topics":          topic,
		"file":            filepath.Join(t.TempDir(), "missing-dir", "out.txt"),
	}}}, connect.PlanOptions{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = cc.Apply(ctx, plan, connect.ApplyOptions{Wait: -1}) // it is meant to fail

	coll, err := platform.NewCollector(cl, platform.WithConnect(cc),
		platform.WithGroups([]string{"^" + group + "$"}, nil),
		platform.WithTopics([]string{"^" + topic + "$"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var events []platform.AlertEvent
	alerter, err := platform.NewAlerter([]platform.AlertRule{
		platform.LagRecordsAbove(20, 0),
		platform.LagStatusIs(0, platform.LagStop, platform.LagStall),
		platform.ConnectorFailed(),
	}, platform.WithEvents(func(ev platform.AlertEvent) {
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	eval := platform.NewLagEvaluator(3)
	cycle := func() map[string]platform.LagStatus {
		t.Helper()
		s, err := coll.Collect(ctx)
		if err != nil {
			t.Logf("collect: %v", err)
		}
		st := eval.Update(s)
		alerter.Evaluate(s, st)
		return st
	}
	fired := func(rule, state string) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range events {
			if ev.Rule == rule && string(ev.State) == state {
				return true
			}
		}
		return false
	}

	// Records arrive, nothing is committed: after a full window the group
	// is STOP and both lag alerts fire; the broken connector's alert too.
	var st map[string]platform.LagStatus
	for i := 0; i < 3; i++ {
		produce(15)
		st = cycle()
		time.Sleep(300 * time.Millisecond)
	}
	for deadline := time.Now().Add(time.Minute); !fired("connector_failed", "firing") && time.Now().Before(deadline); {
		time.Sleep(time.Second)
		st = cycle()
	}
	if st[group] != platform.LagStop {
		t.Fatalf("status of the stopped group: %v, want stop", st[group])
	}
	for _, rule := range []string{"lag_records_above_20", "lag_status_stop_stall", "connector_failed"} {
		if !fired(rule, "firing") {
			mu.Lock()
			t.Fatalf("%s did not fire; events %+v", rule, events)
		}
	}

	// The consumer catches up: lag 0, the lag alerts resolve.
	commitAll()
	cycle()
	for _, rule := range []string{"lag_records_above_20", "lag_status_stop_stall"} {
		if !fired(rule, "resolved") {
			mu.Lock()
			t.Fatalf("%s did not resolve; events %+v", rule, events)
		}
	}
	if st := cycle(); st[group] != platform.LagOK {
		t.Fatalf("status after catching up: %v, want ok", st[group])
	}
}
