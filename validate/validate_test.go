package validate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/internal/vaultfake"
	"github.com/streamkit/streamkit/schema"
	"github.com/streamkit/streamkit/secrets"
	"github.com/streamkit/streamkit/topics"
)

// fakeWorker is an httptest Connect worker: it lists plugins (GET
// /connector-plugins) and validates configs (PUT
// /connector-plugins/{class}/config/validate), answering for each key it
// knows of the class and leaving the others out, as a worker leaves out a
// key its plugin does not define. It counts requests by "METHOD path".
type fakeWorker struct {
	*httptest.Server
	// plugins are the installed connector classes.
	plugins []string
	// known are the keys the validation lists for a class, beside the
	// worker's own (name, connector.class, tasks.max, topics, ...).
	known map[string][]string
	// pluginsStatus and validateStatus, when not 0, make the listing or
	// the validation answer that status with message.
	pluginsStatus, validateStatus int
	message                       string

	mu        sync.Mutex
	requests  map[string]int
	validated map[string]map[string]string // the last config validated, by its name
}

// workerKeys are the keys every connector's validation lists.
var workerKeys = []string{
	"name", "connector.class", "tasks.max", "topics", "topics.regex", "key.converter", "value.converter",
	"header.converter", "transforms", "predicates", "errors.tolerance", "errors.deadletterqueue.topic.name",
}

func newFakeWorker(t *testing.T, plugins ...string) *fakeWorker {
	t.Helper()
	w := &fakeWorker{plugins: plugins, known: map[string][]string{}, requests: map[string]int{}, validated: map[string]map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /connector-plugins", func(rw http.ResponseWriter, r *http.Request) {
		w.count("GET /connector-plugins")
		if r.URL.Query().Get("connectorsOnly") != "true" {
			t.Errorf("plugins listed with %q, want connectorsOnly=true", r.URL.RawQuery)
		}
		if w.pluginsStatus != 0 {
			replyError(rw, w.pluginsStatus, w.message)
			return
		}
		var out []connect.Plugin
		for _, p := range w.plugins {
			out = append(out, connect.Plugin{Class: p, Type: "source", Version: "4.0.0"})
		}
		_ = json.NewEncoder(rw).Encode(out)
	})
	mux.HandleFunc("PUT /connector-plugins/{class}/config/validate", func(rw http.ResponseWriter, r *http.Request) {
		w.count("PUT /connector-plugins/{class}/config/validate")
		if w.validateStatus != 0 {
			replyError(rw, w.validateStatus, w.message)
			return
		}
		var cfg map[string]string
		if err := json.NewDecoder(r.Body).Decode(&cfg); err != nil {
			replyError(rw, http.StatusBadRequest, err.Error())
			return
		}
		w.mu.Lock()
		w.validated[cfg["name"]] = cfg
		w.mu.Unlock()
		v := connect.Validation{Name: r.PathValue("class")}
		for _, k := range append(slices.Clone(workerKeys), w.known[r.PathValue("class")]...) {
			var ch connect.ConfigCheck
			ch.Definition.Name, ch.Value.Name = k, k
			v.Configs = append(v.Configs, ch)
		}
		_ = json.NewEncoder(rw).Encode(v)
	})
	w.Server = httptest.NewServer(mux)
	t.Cleanup(w.Close)
	return w
}

func (w *fakeWorker) count(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.requests[key]++
}

// got returns how many requests the worker got for key.
func (w *fakeWorker) got(key string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.requests[key]
}

// config returns the last config of connector name the worker validated.
func (w *fakeWorker) config(name string) (map[string]string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.validated[name]
	return c, ok
}

// client is a connect.Client of the worker that tries every request once.
func (w *fakeWorker) client(t *testing.T) *connect.Client {
	t.Helper()
	c, err := connect.New(connect.WithURLs(w.URL), connect.WithRetries(1), connect.WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func replyError(rw http.ResponseWriter, status int, msg string) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(map[string]any{"error_code": status, "message": msg})
}

// validateSource writes src as main.jsonnet of a new repository and
// validates it with cfg.
func validateSource(t *testing.T, src string, cfg Config) *Result {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.jsonnet"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Validate(context.Background(), Options{Dir: dir}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// lineOf is the 1-based line of src holding s.
func lineOf(t *testing.T, src, s string) int {
	t.Helper()
	for i, l := range strings.Split(src, "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("%q not in the manifest", s)
	return 0
}

// findingsOf returns the findings of rule.
func findingsOf(res *Result, rule string) []Finding {
	var out []Finding
	for _, f := range res.Findings {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

const (
	fileSinkClass   = "org.apache.kafka.connect.file.FileStreamSinkConnector"
	fileSourceClass = "org.apache.kafka.connect.file.FileStreamSourceConnector"
	mirrorClass     = "org.apache.kafka.connect.mirror.MirrorSourceConnector"
)

const unknownClassManifest = `{
  topics: [{name: 'pricing.orders.v1', partitions: 1, replication_factor: 1}],
  connectors: [
    {name: 'pricing-typo', config: {
      'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConector',
      'tasks.max': '1', topics: 'pricing.orders.v1'}},
    {name: 'pricing-alias', config: {'connector.class': 'FileStreamSink', 'tasks.max': '1', topics: 'pricing.orders.v1'}},
    {name: 'pricing-simple', config: {'connector.class': 'FileStreamSinkConnector', 'tasks.max': '1', topics: 'pricing.orders.v1'}},
    {name: 'pricing-full', config: {
      'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
      'tasks.max': '1', topics: 'pricing.orders.v1'}},
  ],
}
`

// TestLiveUnknownConnectorClass checks that a connector.class no plugin
// implements is an error at that key, found from one plugin listing, while
// the full class name, its simple name and its alias all pass.
func TestLiveUnknownConnectorClass(t *testing.T) {
	w := newFakeWorker(t, fileSinkClass, fileSourceClass, mirrorClass)
	res := validateSource(t, unknownClassManifest, Config{Live: &Live{Connect: w.client(t)}})
	if res.OK() {
		t.Fatalf("an unknown connector class passed:\n%s", res.Text())
	}
	got := findingsOf(res, RuleUnknownClass)
	if len(got) != 1 {
		t.Fatalf("got %d %s findings, want 1:\n%s", len(got), RuleUnknownClass, res.Text())
	}
	f := got[0]
	wantPos := Position{File: "main.jsonnet", Line: lineOf(t, unknownClassManifest, "FileStreamSinkConector"), Column: 7}
	if f.Severity != Error || f.Resource != "connector pricing-typo" || f.Key != "connector.class" || f.Pos != wantPos {
		t.Errorf("got %+v, want an error at %v about connector pricing-typo's connector.class", f, wantPos)
	}
	if !strings.Contains(f.Message, "did you mean "+fileSinkClass) {
		t.Errorf("got %q, want a suggestion of %s", f.Message, fileSinkClass)
	}
	for _, f := range res.Findings {
		if f.Rule == RuleUnreachable || f.Rule == RuleWorker {
			t.Errorf("unexpected finding %s: %s", f.Rule, f.Message)
		}
	}
	if n := w.got("GET /connector-plugins"); n != 1 {
		t.Errorf("plugins listed %d times, want once", n)
	}
	// The known classes are validated; the unknown one is not asked about.
	if n := w.got("PUT /connector-plugins/{class}/config/validate"); n != 3 {
		t.Errorf("got %d validations, want 3", n)
	}
}

// TestLiveUnknownConnectorClassWithoutListing checks the worker's own
// answer to an unknown class, when the plugins cannot be listed: the 500
// (400 on some versions) "Failed to find any class" is the same error, not
// an unreachable worker.
func TestLiveUnknownConnectorClassWithoutListing(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadRequest} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			w := newFakeWorker(t)
			w.pluginsStatus, w.validateStatus = http.StatusForbidden, status
			w.message = "Failed to find any class that implements Connector and which name matches " +
				"org.apache.kafka.connect.file.FileStreamSinkConector, available connectors are: ..."
			res := validateSource(t, `{connectors: [{name: 'pricing-typo', config: {
  'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConector', 'tasks.max': '1'}}]}`,
				Config{Live: &Live{Connect: w.client(t)}})
			got := findingsOf(res, RuleUnknownClass)
			if len(got) != 1 || got[0].Severity != Error || got[0].Key != "connector.class" || got[0].Pos.Line != 2 {
				t.Fatalf("got %+v, want one error at connector.class:\n%s", got, res.Text())
			}
			// The failed listing is a warning of its own; the validation's
			// answer is not.
			if un := findingsOf(res, RuleUnreachable); len(un) != 1 || un[0].Severity != Warning || !strings.Contains(un[0].Message, "plugins") {
				t.Errorf("got %+v, want one warning about the plugin listing", un)
			}
		})
	}
}

// TestLivePluginsListedOnce checks that the plugins are listed once per
// run whatever the number of connectors.
func TestLivePluginsListedOnce(t *testing.T) {
	w := newFakeWorker(t, fileSinkClass)
	const n = 500
	m := &Manifest{}
	for i := range n {
		m.Connectors = append(m.Connectors, connect.Spec{Name: fmt.Sprintf("pricing-sink-%03d", i),
			Config: map[string]string{"connector.class": fileSinkClass, "tasks.max": "1"}})
	}
	out := liveChecks(context.Background(), &Context{Manifest: m}, &Live{Connect: w.client(t)})
	if len(out) != 0 {
		t.Fatalf("got findings %+v, want none", out)
	}
	if got := w.got("GET /connector-plugins"); got != 1 {
		t.Errorf("plugins listed %d times for %d connectors, want once", got, n)
	}
	if got := w.got("PUT /connector-plugins/{class}/config/validate"); got != n {
		t.Errorf("got %d validations, want %d", got, n)
	}

	// No connector with a class: no listing at all.
	w2 := newFakeWorker(t, fileSinkClass)
	m2 := &Manifest{Connectors: []connect.Spec{{Name: "pricing-x", Config: map[string]string{"tasks.max": "1"}}}}
	liveChecks(context.Background(), &Context{Manifest: m2}, &Live{Connect: w2.client(t)})
	if got := w2.got("GET /connector-plugins"); got != 0 {
		t.Errorf("plugins listed %d times without a class to check, want none", got)
	}
}

// TestLiveWorkerDownAsksOnce: with no worker answering, validation says so
// once and does not retry the worker once per connector.
func TestLiveWorkerDownAsksOnce(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	cc, err := connect.New(connect.WithURLs(url))
	if err != nil {
		t.Fatal(err)
	}
	m := &Manifest{}
	for i := range 20 {
		m.Connectors = append(m.Connectors, connect.Spec{Name: fmt.Sprintf("pricing-sink-%02d", i),
			Config: map[string]string{"connector.class": fileSinkClass, "tasks.max": "1"}})
	}
	start := time.Now()
	out := liveChecks(context.Background(), &Context{Manifest: m}, &Live{Connect: cc})
	if len(out) != 1 || out[0].Rule != RuleUnreachable || !strings.Contains(out[0].Message, "no connector config was validated") {
		t.Fatalf("findings %+v, want one LIVE000 for the worker", out)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("took %s: the worker was asked again per connector", d)
	}
}

// TestLiveMirrorMakerClientSettings checks that MirrorMaker 2's
// per-cluster client settings are not reported as typos for its
// connectors, and still are for another connector.
func TestLiveMirrorMakerClientSettings(t *testing.T) {
	w := newFakeWorker(t, fileSinkClass, mirrorClass)
	w.known[mirrorClass] = []string{"source.cluster.alias", "target.cluster.alias", "replication.factor"}
	mirrorKeys := []string{
		"source.cluster.alias", "target.cluster.alias",
		"source.cluster.bootstrap.servers", "target.cluster.bootstrap.servers",
		"source.cluster.security.protocol", "target.cluster.sasl.mechanism",
		"source.admin.request.timeout.ms", "target.admin.security.protocol",
		"source.consumer.fetch.min.bytes", "target.consumer.isolation.level",
		"source.producer.acks", "target.producer.compression.type",
		"offset-syncs.source.producer.acks", "offset-syncs.target.admin.request.timeout.ms",
	}
	for _, class := range []string{mirrorClass, "MirrorSourceConnector", "MirrorSource"} {
		t.Run(class, func(t *testing.T) {
			cfg := map[string]string{"connector.class": class, "tasks.max": "1", "replication.factr": "3"}
			for _, k := range mirrorKeys {
				cfg[k] = "x"
			}
			m := &Manifest{Connectors: []connect.Spec{{Name: "pricing-mirror", Config: cfg}}}
			out := liveChecks(context.Background(), &Context{Manifest: m}, &Live{Connect: w.client(t)})
			if len(out) != 1 || out[0].Rule != RuleUnknownConfig || out[0].Key != "replication.factr" {
				t.Errorf("got %+v, want only the typo replication.factr reported", out)
			}
		})
	}
	t.Run("not mirror maker", func(t *testing.T) {
		m := &Manifest{Connectors: []connect.Spec{{Name: "pricing-sink", Config: map[string]string{
			"connector.class": fileSinkClass, "tasks.max": "1", "source.cluster.bootstrap.servers": "x",
		}}}}
		out := liveChecks(context.Background(), &Context{Manifest: m}, &Live{Connect: w.client(t)})
		if len(out) != 1 || out[0].Rule != RuleUnknownConfig || out[0].Key != "source.cluster.bootstrap.servers" {
			t.Errorf("got %+v, want source.cluster.bootstrap.servers reported on a file sink", out)
		}
	})
}

const kv2Manifest = `{
  connectors: [{name: 'pricing-db-source', config: {
    'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    'tasks.max': '1',
    'database.user': '${vault:secret/data/pricing/db:username}',
    'database.password': '${vault:secret/pricing/db:password}',
  }}],
}
`

// TestLiveVaultKV2PathWithoutData checks that a reference to a KV v2
// secret without data/ in its path is an error at its key that says the
// path it should be.
func TestLiveVaultKV2PathWithoutData(t *testing.T) {
	v := vaultfake.NewServer(t) // holds secret/data/pricing/db
	vc, err := secrets.New(context.Background(), secrets.WithAddress(v.Addr()), secrets.WithToken(secrets.NewValue(vaultfake.RootToken)))
	if err != nil {
		t.Fatal(err)
	}
	res := validateSource(t, kv2Manifest, Config{Live: &Live{Vault: vc}})
	got := findingsOf(res, RuleVault)
	if len(got) != 1 {
		t.Fatalf("got %d %s findings, want 1:\n%s", len(got), RuleVault, res.Text())
	}
	f := got[0]
	if f.Severity != Error || f.Key != "database.password" || f.Pos.Line != lineOf(t, kv2Manifest, "'database.password'") ||
		!strings.Contains(f.Message, "the path should be secret/data/pricing/db") {
		t.Errorf("got %+v, want an error at database.password saying the path should be secret/data/pricing/db", f)
	}
	if strings.Contains(res.Text(), vaultfake.Marker) {
		t.Errorf("the report holds a secret:\n%s", res.Text())
	}
}

// TestLiveRegistryDecimalScale checks that a decimal whose scale changes is
// an LIVE002 error, though the registry itself accepts the schema.
func TestLiveRegistryDecimalScale(t *testing.T) {
	fake := srfake.New()
	t.Cleanup(fake.Close)
	reg, err := schema.NewRegistryFromOptions(sr.URLs(fake.URL()))
	if err != nil {
		t.Fatal(err)
	}
	const price = `{"type":"record","name":"Price","namespace":"pricing","fields":[
		{"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":%d}}]}`
	v1, err := schema.Parse(fmt.Sprintf(price, 2))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Register(context.Background(), "pricing.prices.v1-value", v1); err != nil {
		t.Fatal(err)
	}
	src := "{schemas: [{subject: 'pricing.prices.v1-value', schema: '" + strings.ReplaceAll(fmt.Sprintf(price, 4), "\n", " ") + "'}]}\n"
	res := validateSource(t, src, Config{Live: &Live{Registry: reg}})
	got := findingsOf(res, RuleRegistry)
	if len(got) != 1 || got[0].Severity != Error || got[0].Resource != "schema pricing.prices.v1-value" ||
		!strings.Contains(got[0].Message, "field amount: decimal precision 12, scale 2") || !strings.Contains(got[0].Message, "precision 12, scale 4") {
		t.Fatalf("got %+v, want one error naming the field and both scales:\n%s", got, res.Text())
	}
}

// TestLiveDeliver: the worker validates the connectors as Deliver makes
// them (the ${dir:...} placeholders of materialized secrets, not the
// ${vault:...} text); when Deliver fails, the connectors with a Vault
// reference are not sent at all and one LIVE000 names them, while the
// others are still validated.
func TestLiveDeliver(t *testing.T) {
	const ref = "${vault:secret/data/pricing/db:password}"
	manifest := func() *Manifest {
		return &Manifest{Connectors: []connect.Spec{
			{Name: "pricing-db-source", Config: map[string]string{"connector.class": fileSinkClass, "tasks.max": "1", "topics": "pricing-a", "database.password": ref}},
			{Name: "pricing-plain-sink", Config: map[string]string{"connector.class": fileSinkClass, "tasks.max": "1", "topics": "pricing-a"}},
		}}
	}
	t.Run("delivered", func(t *testing.T) {
		w := newFakeWorker(t, fileSinkClass)
		w.known[fileSinkClass] = []string{"database.password"}
		var calls int
		deliver := func(_ context.Context, specs []connect.Spec) ([]connect.Spec, error) {
			calls++
			out := slices.Clone(specs)
			for i, s := range out {
				s.Config = maps.Clone(s.Config)
				for k, v := range s.Config {
					s.Config[k] = strings.ReplaceAll(v, ref, "${dir:/etc/kafka/secrets/secret_data_pricing_db:password}")
				}
				out[i] = s
			}
			return out, nil
		}
		m := manifest()
		out := liveChecks(context.Background(), &Context{Manifest: m}, &Live{Connect: w.client(t), Deliver: deliver})
		if len(out) != 0 || calls != 1 {
			t.Fatalf("findings %+v after %d Deliver calls, want none after one", out, calls)
		}
		if got, _ := w.config("pricing-db-source"); got["database.password"] != "${dir:/etc/kafka/secrets/secret_data_pricing_db:password}" {
			t.Errorf("the worker validated database.password = %q, want the delivered placeholder", got["database.password"])
		}
		if m.Connectors[0].Config["database.password"] != ref {
			t.Error("Deliver changed the manifest's own connector")
		}
	})
	t.Run("failed", func(t *testing.T) {
		w := newFakeWorker(t, fileSinkClass)
		deliver := func(context.Context, []connect.Spec) ([]connect.Spec, error) {
			return nil, errors.New("vault: connection refused")
		}
		out := liveChecks(context.Background(), &Context{Manifest: manifest()}, &Live{Connect: w.client(t), Deliver: deliver})
		if len(out) != 1 || out[0].Rule != RuleUnreachable || !strings.Contains(out[0].Message, "pricing-db-source") ||
			strings.Contains(out[0].Message, "pricing-plain-sink") || !strings.Contains(out[0].Message, "connection refused") {
			t.Fatalf("findings %+v, want one LIVE000 naming the connector with a reference", out)
		}
		if _, sent := w.config("pricing-db-source"); sent {
			t.Error("the connector with an undelivered reference was sent to the worker")
		}
		if _, sent := w.config("pricing-plain-sink"); !sent {
			t.Error("the connector without a reference was not validated")
		}
	})
}

// TestLiveClusters: each connector is checked by the workers of its own
// cluster, with that cluster's Deliver; one of a cluster without workers
// in Live is checked by none, and delivered to none.
func TestLiveClusters(t *testing.T) {
	data := DataPolicy{
		Levels: []string{"internal", "restricted"},
		Clusters: map[string]ClusterPolicy{
			"standard": {Levels: []string{"internal"}},
			"secure":   {Levels: []string{"internal", "restricted"}, TLS: true},
			"archive":  {Levels: []string{"internal"}},
		},
		DefaultCluster: "standard",
	}
	m := &Manifest{
		Topics: []topics.Spec{
			{Name: "pricing.prices.v1", Partitions: 1, ReplicationFactor: 1, Classification: "internal"},
			{Name: "pricing.cards.v1", Partitions: 1, ReplicationFactor: 1, Classification: "restricted"},
		},
		Connectors: []connect.Spec{
			{Name: "pricing-prices-sink", Config: map[string]string{"connector.class": fileSinkClass, "tasks.max": "1", "topics": "pricing.prices.v1"}},
			{Name: "pricing-cards-sink", Config: map[string]string{"connector.class": fileSinkClass, "tasks.max": "1", "topics": "pricing.cards.v1"}},
			{Name: "pricing-archive-sink", Cluster: "archive", Config: map[string]string{"connector.class": fileSinkClass, "tasks.max": "1", "topics": "pricing.prices.v1"}},
		},
	}
	standard, secure := newFakeWorker(t, fileSinkClass), newFakeWorker(t, fileSinkClass)
	delivered := map[string][]string{}
	deliverTo := func(cluster string) func(context.Context, []connect.Spec) ([]connect.Spec, error) {
		return func(_ context.Context, specs []connect.Spec) ([]connect.Spec, error) {
			for _, s := range specs {
				delivered[cluster] = append(delivered[cluster], s.Name)
			}
			return specs, nil
		}
	}
	live := &Live{Connect: standard.client(t), Deliver: deliverTo("standard"),
		Clusters: map[string]LiveConnect{"secure": {Connect: secure.client(t), Deliver: deliverTo("secure")}}}
	if out := liveChecks(context.Background(), &Context{Manifest: m, Policy: Policy{Data: data}}, live); len(out) != 0 {
		t.Fatalf("findings %+v", out)
	}
	for _, c := range []struct {
		w          *fakeWorker
		has, hasnt string
	}{{standard, "pricing-prices-sink", "pricing-cards-sink"}, {secure, "pricing-cards-sink", "pricing-prices-sink"}} {
		if _, ok := c.w.config(c.has); !ok {
			t.Errorf("%s was not checked by its cluster's workers", c.has)
		}
		if _, ok := c.w.config(c.hasnt); ok {
			t.Errorf("%s was checked by another cluster's workers", c.hasnt)
		}
	}
	for _, w := range []*fakeWorker{standard, secure} {
		if _, ok := w.config("pricing-archive-sink"); ok {
			t.Error("a connector of a cluster without workers in Live was checked")
		}
	}
	if !slices.Equal(delivered["standard"], []string{"pricing-prices-sink"}) || !slices.Equal(delivered["secure"], []string{"pricing-cards-sink"}) {
		t.Errorf("delivered %v", delivered)
	}

	// Without the secure cluster's workers, its connector goes to no
	// worker at all: not to the standard ones, whose folder would get its
	// secrets.
	clear(delivered)
	standard = newFakeWorker(t, fileSinkClass)
	live = &Live{Connect: standard.client(t), Deliver: deliverTo("standard")}
	if out := liveChecks(context.Background(), &Context{Manifest: m, Policy: Policy{Data: data}}, live); len(out) != 0 {
		t.Fatalf("findings %+v", out)
	}
	if _, ok := standard.config("pricing-cards-sink"); ok || !slices.Equal(delivered["standard"], []string{"pricing-prices-sink"}) {
		t.Errorf("without the secure workers: delivered %v", delivered)
	}
}
