package platform

// The integration test runs on the platform's real Kafka and Kafka
// Connect: eval "$(scripts/platform env)" and go test ./metrics. make test
// runs it with STREAMKIT_REQUIRE_PLATFORM=1.

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/platformtest"
)

func TestIntegrationCollector(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka, platformtest.Connect)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	cl, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	topic := platformtest.UniqueName("metrics-rate")
	group := platformtest.UniqueName("metrics-stopped")
	sinkTopic := platformtest.UniqueName("metrics-sink")
	const partitions = 3
	for _, tp := range []string{topic, sinkTopic} {
		if _, err := adm.CreateTopic(ctx, partitions, -1, nil, tp); err != nil {
			t.Fatalf("create topic %s: %v", tp, err)
		}
	}
	t.Cleanup(func() { _, _ = adm.DeleteTopics(context.Background(), topic, sinkTopic) })

	// A consumer that read nothing and stopped: its group committed offset
	// 0 on every partition, where records already wait.
	produceBatch := func(n int) {
		t.Helper()
		recs := make([]*kgo.Record, n)
		for i := range recs {
			recs[i] = &kgo.Record{Topic: topic, Partition: int32(i % partitions), Value: []byte("0123456789abcdef0123456789abcdef")}
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	produceBatch(30)
	var offs kadm.Offsets
	for part := range int32(partitions) {
		offs.AddOffset(topic, part, 0, -1)
	}
	if err := adm.CommitAllOffsets(ctx, group, offs); err != nil {
		t.Fatalf("commit: %v", err)
	}
	t.Cleanup(func() { _, _ = adm.DeleteGroups(context.Background(), group) })

	// A paused connector, so that the connector metrics have a series.
	cc, err := connect.New(connect.WithURLs(p.ConnectURL))
	if err != nil {
		t.Fatal(err)
	}
	sink := platformtest.UniqueName("metrics-sink")
	if _, err := cc.Create(ctx, sink, map[string]string{
		"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
		"tasks.max":       "1",
		"topics":          sinkTopic,
		"file":            filepath.Join(t.TempDir(), "sink.txt"),
	}, connect.InitialPaused); err != nil {
		t.Fatalf("create connector: %v", err)
	}
	t.Cleanup(func() { _ = cc.Delete(context.Background(), sink) })

	c, err := NewCollector(cl,
		WithConnect(cc),
		WithTopics([]string{"^" + regexp.QuoteMeta(topic) + "$", "^" + regexp.QuoteMeta(sinkTopic) + "$"}, nil),
		WithGroups([]string{"^" + regexp.QuoteMeta(group) + "$"}, nil),
	)
	if err != nil {
		t.Fatal(err)
	}

	first, err := c.Collect(ctx)
	if err != nil {
		t.Fatalf("first collect: %v", err)
	}

	// 200 records/s for 6s: every 50ms, the records due by then, so that
	// a slow tick is caught up by the next one.
	const rate, window = 200.0, 6 * time.Second
	tick := time.NewTicker(50 * time.Millisecond)
	start := time.Now()
	produced := 0
	for time.Since(start) < window {
		<-tick.C
		due := int(min(time.Since(start), window).Seconds()*rate) - produced
		if due > 0 {
			produceBatch(due)
			produced += due
		}
	}
	tick.Stop()

	second, err := c.Collect(ctx)
	if err != nil {
		t.Fatalf("second collect: %v", err)
	}
	ts, ok := findTopic(second, topic)
	if !ok {
		t.Fatalf("topic %s missing from %+v", topic, second.Topics)
	}
	// The rate is the end-offset delta over the time between the two
	// cycles' offset reads, which is the produce window plus a cycle.
	elapsed := second.Time.Sub(first.Time).Seconds()
	t.Logf("produced %d records in %v; cycles %.2fs apart; gauge %.1f records/s", produced, time.Since(start).Round(time.Millisecond), elapsed, ts.RecordsPerSecond)
	if math.Abs(ts.RecordsPerSecond-rate)/rate > 0.2 {
		t.Errorf("records/s: got %.1f, want %.0f within 20%%", ts.RecordsPerSecond, rate)
	}
	if ts.Partitions != partitions || ts.Offline != 0 {
		t.Errorf("topic: got %d partitions, %d offline, want %d and 0", ts.Partitions, ts.Offline, partitions)
	}
	if ts.LeaderBytes <= 0 || ts.BytesPerSecond <= 0 {
		t.Errorf("topic bytes: got leader bytes %d, %.0f bytes/s, want both positive", ts.LeaderBytes, ts.BytesPerSecond)
	}

	g1, ok1 := findGroup(first, group)
	g2, ok2 := findGroup(second, group)
	if !ok1 || !ok2 {
		t.Fatalf("group %s missing: first %v, second %v", group, ok1, ok2)
	}
	if g1.Lag != 30 || g2.Lag != int64(30+produced) {
		t.Errorf("lag records: got %d then %d, want 30 then %d", g1.Lag, g2.Lag, 30+produced)
	}
	if g2.LagSeconds < g1.LagSeconds+window.Seconds()*0.8 {
		t.Errorf("lag seconds: got %.1f then %.1f, want growth of about %v", g1.LagSeconds, g2.LagSeconds, window)
	}

	var found bool
	for _, cs := range second.Connectors {
		if cs.Name == sink {
			found = true
			if cs.State != connect.StatePaused {
				t.Errorf("connector %s state: got %s, want PAUSED", sink, cs.State)
			}
		}
	}
	if !found {
		t.Errorf("connector %s missing from %+v", sink, second.Connectors)
	}

	// Scrape over HTTP.
	srv := httptest.NewServer(c.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	for _, name := range MetricNames() {
		if mfs[name] == nil {
			t.Errorf("%s missing from /metrics", name)
		}
	}
	gauge := func(name string, labels map[string]string) float64 {
		t.Helper()
		return value(t, mfs[name], labels)
	}
	if got := gauge(MetricTopicRecordsPerSecond, map[string]string{"topic": topic}); got != ts.RecordsPerSecond {
		t.Errorf("scraped records/s: got %v, want %v", got, ts.RecordsPerSecond)
	}
	if got := gauge(MetricConsumerGroupLagRecords, map[string]string{"group": group}); got != float64(g2.Lag) {
		t.Errorf("scraped group lag: got %v, want %d", got, g2.Lag)
	}
	if mf := mfs[MetricBrokerSizeBytes]; mf != nil && len(mf.GetMetric()) < 1 {
		t.Errorf("broker sizes: got %d series", len(mf.GetMetric()))
	}
}
