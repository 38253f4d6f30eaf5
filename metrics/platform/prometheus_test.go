package platform

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/streamkit/streamkit/connect"
)

// scrape gets h's text exposition and parses it.
func scrape(t testing.TB, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "text/plain")
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: status %d: %s", rec.Code, rec.Body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse exposition: %v", err)
	}
	return mfs
}

// labelValues returns the values of label over mf's metrics.
func labelValues(mf *dto.MetricFamily, label string) map[string]bool {
	out := map[string]bool{}
	if mf == nil {
		return out
	}
	for _, m := range mf.GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == label {
				out[lp.GetValue()] = true
			}
		}
	}
	return out
}

// value returns the value of mf's metric whose labels include want.
func value(t testing.TB, mf *dto.MetricFamily, want map[string]string) float64 {
	t.Helper()
	if mf == nil {
		t.Fatalf("metric family missing")
	}
next:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		if c := m.GetCounter(); c != nil {
			return c.GetValue()
		}
		return m.GetGauge().GetValue()
	}
	t.Fatalf("%s: no series with %v", mf.GetName(), want)
	return 0
}

func TestHandlerExposesEveryMetric(t *testing.T) {
	cl := fakeKafka(t, 2, "orders")
	produce(t, cl, "orders", 0, 8)
	commit(t, cl, "billing", "orders", 0, 3)
	var states atomic.Value
	states.Store(map[string][]string{"sink": {connect.StateRunning, connect.StateFailed}})
	c := newTestCollector(t, cl, WithConnect(fakeConnect(t, &states)))

	if mfs := scrape(t, c.Handler()); len(mfs) > 2 {
		t.Errorf("before the first cycle: got %d families, want only the cycle gauge and error counter", len(mfs))
	}
	collect(t, c)
	mfs := scrape(t, c.Handler())
	for _, name := range MetricNames() {
		if mfs[name] == nil {
			t.Errorf("%s missing from the exposition", name)
		}
	}
	if got := value(t, mfs[MetricConsumerLagRecords], map[string]string{"group": "billing", "topic": "orders", "partition": "0"}); got != 5 {
		t.Errorf("partition lag: got %v, want 5", got)
	}
	if got := value(t, mfs[MetricConsumerGroupState], map[string]string{"group": "billing"}); got != 1 {
		t.Errorf("group state: got %v, want 1", got)
	}
	if got := value(t, mfs[MetricTopicEndOffset], map[string]string{"topic": "orders"}); got != 8 {
		t.Errorf("end offset: got %v, want 8", got)
	}
	if got := value(t, mfs[MetricConnectorFailedTasks], map[string]string{"connector": "sink"}); got != 1 {
		t.Errorf("failed tasks: got %v, want 1", got)
	}
	if got := value(t, mfs[MetricConnectorState], map[string]string{"connector": "sink", "state": "RUNNING"}); got != 1 {
		t.Errorf("connector state: got %v, want 1", got)
	}
	if mf := mfs[MetricCollectorErrorsTotal]; mf.GetType() != dto.MetricType_COUNTER {
		t.Errorf("errors total type: got %v, want counter", mf.GetType())
	}
}

func TestStaleLabelSetsRemoved(t *testing.T) {
	cl := fakeKafka(t, 1, "keep", "drop")
	commit(t, cl, "stays", "keep", 0, 0)
	commit(t, cl, "goes", "drop", 0, 0)
	var states atomic.Value
	states.Store(map[string][]string{"a": {connect.StateRunning}, "b": {connect.StatePaused}})
	c := newTestCollector(t, cl, WithConnect(fakeConnect(t, &states)))
	collect(t, c)
	mfs := scrape(t, c.Handler())
	if !labelValues(mfs[MetricTopicPartitions], "topic")["drop"] || !labelValues(mfs[MetricConsumerGroupMembers], "group")["goes"] {
		t.Fatal("first cycle misses the topic or group that will go")
	}

	adm := kadm.NewClient(cl)
	ctx := testContext(t)
	if _, err := adm.DeleteGroups(ctx, "goes"); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.DeleteTopics(ctx, "drop"); err != nil {
		t.Fatal(err)
	}
	states.Store(map[string][]string{"a": {connect.StateFailed}})
	collect(t, c)
	mfs = scrape(t, c.Handler())

	for _, name := range []string{MetricTopicPartitions, MetricTopicEndOffset, MetricTopicSizeBytes, MetricTopicRecordsPerSecond} {
		if labelValues(mfs[name], "topic")["drop"] {
			t.Errorf("%s still has topic drop", name)
		}
	}
	for _, name := range []string{MetricConsumerGroupMembers, MetricConsumerGroupLagRecords, MetricConsumerGroupState, MetricConsumerLagRecords} {
		if labelValues(mfs[name], "group")["goes"] {
			t.Errorf("%s still has group goes", name)
		}
	}
	if labelValues(mfs[MetricConnectorTasks], "connector")["b"] {
		t.Error("connector b still exported")
	}
	states2 := labelValues(mfs[MetricConnectorState], "state")
	if states2["RUNNING"] || !states2["FAILED"] {
		t.Errorf("connector states: got %v, want FAILED only", states2)
	}
	if !labelValues(mfs[MetricTopicPartitions], "topic")["keep"] || !labelValues(mfs[MetricConsumerGroupMembers], "group")["stays"] {
		t.Error("the topic or group that stays is gone")
	}
}

func TestRegistererShared(t *testing.T) {
	cl := fakeKafka(t, 1, "orders")
	c := newTestCollector(t, cl)
	other := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "streamkit_consumer_group_lag_status", Help: "test"}, []string{"group"})
	if err := c.Registerer().Register(other); err != nil {
		t.Fatal(err)
	}
	other.WithLabelValues("g").Set(2)
	if mfs := scrape(t, c.Handler()); mfs["streamkit_consumer_group_lag_status"] == nil {
		t.Error("a metric registered on Registerer is not served by Handler")
	}
}

func TestCallerRegisterer(t *testing.T) {
	cl := fakeKafka(t, 1, "orders")
	reg := prometheus.NewRegistry()
	c := newTestCollector(t, cl, WithRegisterer(reg))
	if c.Registerer() != reg {
		t.Error("Registerer is not the caller's")
	}
	collect(t, c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		found = found || mf.GetName() == MetricTopicPartitions
	}
	if !found {
		t.Error("caller's registry lacks the collector's metrics")
	}
	// The same names cannot be registered twice on one registry.
	if _, err := NewCollector(cl, WithRegisterer(reg)); err == nil {
		t.Error("second collector on the same registry: got no error")
	}

	// A registerer that is not a gatherer: Handler serves the collector's
	// own metrics.
	wrapped := prometheus.WrapRegistererWith(prometheus.Labels{"cluster": "a"}, prometheus.NewRegistry())
	c2 := newTestCollector(t, cl, WithRegisterer(wrapped))
	if _, err := c2.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if mfs := scrape(t, c2.Handler()); mfs[MetricTopicPartitions] == nil {
		t.Error("handler of a non-gathering registerer serves nothing")
	}
}

func TestDocListsEveryMetric(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, name := range MetricNames() {
		if seen[name] {
			t.Errorf("%s listed twice", name)
		}
		seen[name] = true
		if !strings.Contains(string(doc), "//\t"+name+" ") {
			t.Errorf("%s missing from the table in doc.go", name)
		}
	}
}
