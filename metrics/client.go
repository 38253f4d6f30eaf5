package metrics

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kprom"
)

// ClientOpt configures NewClientMetrics.
type ClientOpt interface{ applyClient(*clientConfig) }

type clientOptFunc func(*clientConfig)

func (f clientOptFunc) applyClient(c *clientConfig) { f(c) }

type clientConfig struct {
	reg       prometheus.Registerer
	regGiven  bool
	namespace string
}

func defaultClientConfig() clientConfig {
	return clientConfig{namespace: "streamkit"}
}

// ClientRegisterer registers the metrics on r, for example
// Collector.Registerer(), instead of the default private registry that
// Handler serves.
func ClientRegisterer(r prometheus.Registerer) ClientOpt {
	return clientOptFunc(func(c *clientConfig) { c.reg, c.regGiven = r, true })
}

// ClientNamespace sets the first part of every metric name, overriding the
// default "streamkit".
func ClientNamespace(ns string) ClientOpt {
	return clientOptFunc(func(c *clientConfig) { c.namespace = ns })
}

// ClientMetrics counts what the Kafka clients and the schema Serdes,
// Producers and Consumers of a service do. It bundles franz-go's kprom
// plug-in, wired into each client with KgoOpts, and implements
// schema.Observer, wired with schema.WithObserver:
//
//	m, err := metrics.NewClientMetrics()
//	if err != nil {
//		return err
//	}
//	http.Handle("/metrics", m.Handler())
//	p, err := schema.NewProducer[Order](ctx, reg, "orders",
//		schema.WithClientOpts(append(opts, m.KgoOpts()...)...),
//		schema.WithObserver(m))
//
// Its metrics, with the default namespace (MetricNames lists them):
//
//	name                                               type       labels          meaning
//	streamkit_client_encode_errors_total               counter    topic           values that could not be encoded (schema ID not found, value does not fit)
//	streamkit_client_decode_errors_total               counter    topic           records a Consumer could not decode, whatever its policy
//	streamkit_client_dead_lettered_total               counter    topic           undecodable records written to the dead-letter topic
//	streamkit_client_skipped_total                     counter    topic           undecodable records dropped under SkipInvalid
//	streamkit_client_held_total                        counter    topic           times a consumer held a partition back at a record that failed transiently (registry down, dead letter not written)
//	streamkit_client_schema_cache_total                counter    result          Registry cache lookups of a Serde's first use of a topic or ID (hit, miss)
//	streamkit_client_registry_requests_total           counter    op, result      schema registry requests (result ok, not_found, error)
//	streamkit_client_produce_records_total             counter    client, topic   records produced (kprom)
//	streamkit_client_produce_uncompressed_bytes_total  counter    client, topic   bytes produced before compression (kprom)
//	streamkit_client_produce_compressed_bytes_total    counter    client, topic   bytes produced after compression (kprom)
//	streamkit_client_fetch_records_total               counter    client, topic   records fetched (kprom)
//	streamkit_client_fetch_uncompressed_bytes_total    counter    client, topic   bytes fetched after decompression (kprom)
//	streamkit_client_fetch_compressed_bytes_total      counter    client, topic   bytes fetched before decompression (kprom)
//	streamkit_client_request_duration_e2e_seconds      histogram  client, node_id time from writing a request to reading its whole response (kprom)
//	streamkit_client_request_throttled_seconds         histogram  client, node_id time brokers throttled requests (kprom)
//	streamkit_client_write_wait_seconds                histogram  client, node_id time requests waited to be written (kprom)
//	streamkit_client_{connects,connect_errors,disconnects,write_errors,read_errors}_total,
//	streamkit_client_{write,read}_bytes_total          counter    client, node_id connections and bytes on the wire (kprom)
//	streamkit_client_buffered_{produce,fetch}_records_total,
//	streamkit_client_buffered_{produce,fetch}_bytes    gauge      client          records and bytes buffered in the client (kprom)
//
// A series with a topic label appears with the first event for the topic.
// The kprom series of a client are removed when the client is closed.
// It does not time single records: kgo hands hooks no enqueue time, and a
// record's Timestamp may be the event's time rather than the produce call's.
//
// A ClientMetrics is safe for concurrent use by multiple goroutines.
type ClientMetrics struct {
	reg       prometheus.Registerer
	gatherer  prometheus.Gatherer
	namespace string
	clients   atomic.Int64 // clients hooked, for the client label

	labelsMu sync.Mutex
	labels   map[string]bool // the client labels given

	encodeErrors     *prometheus.CounterVec
	decodeErrors     *prometheus.CounterVec
	deadLettered     *prometheus.CounterVec
	skipped          *prometheus.CounterVec
	held             *prometheus.CounterVec
	cacheHit         prometheus.Counter
	cacheMiss        prometheus.Counter
	registryRequests *prometheus.CounterVec
}

const clientSubsystem = "client"

// NewClientMetrics registers the streamkit client counters and returns the
// ClientMetrics. It fails when an option is invalid or when the registerer
// already has metrics of these names, such as those of another
// ClientMetrics with the same namespace. It starts no goroutine.
func NewClientMetrics(opts ...ClientOpt) (*ClientMetrics, error) {
	cfg := defaultClientConfig()
	for _, o := range opts {
		if o != nil {
			o.applyClient(&cfg)
		}
	}
	if cfg.regGiven && cfg.reg == nil {
		return nil, errors.New("new client metrics: nil registerer")
	}
	if !validMetricPrefix(cfg.namespace) {
		return nil, fmt.Errorf("new client metrics: invalid namespace %q", cfg.namespace)
	}
	m := &ClientMetrics{reg: cfg.reg, namespace: cfg.namespace}
	if m.reg == nil {
		private := prometheus.NewRegistry()
		m.reg, m.gatherer = private, private
	} else if g, ok := m.reg.(prometheus.Gatherer); ok {
		m.gatherer = g
	} else {
		m.gatherer = prometheus.Gatherers{}
	}

	counterVec := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: m.namespace, Subsystem: clientSubsystem, Name: name, Help: help,
		}, labels)
	}
	m.encodeErrors = counterVec("encode_errors_total", "Values that could not be encoded for the topic.", "topic")
	m.decodeErrors = counterVec("decode_errors_total", "Records of the topic a consumer could not decode.", "topic")
	m.deadLettered = counterVec("dead_lettered_total", "Undecodable records of the topic written to the dead-letter topic.", "topic")
	m.skipped = counterVec("skipped_total", "Undecodable records of the topic dropped.", "topic")
	m.held = counterVec("held_total", "Times a consumer held a partition of the topic back at a record that failed transiently.", "topic")
	cache := counterVec("schema_cache_total", "Schema registry cache lookups by result (hit, miss).", "result")
	m.registryRequests = counterVec("registry_requests_total", "Schema registry requests by operation and result (ok, not_found, error).", "op", "result")
	// The two results are known: export them at zero.
	m.cacheHit, m.cacheMiss = cache.WithLabelValues("hit"), cache.WithLabelValues("miss")

	var registered []prometheus.Collector
	for _, c := range []prometheus.Collector{m.encodeErrors, m.decodeErrors, m.deadLettered, m.skipped, m.held, cache, m.registryRequests} {
		if err := m.reg.Register(c); err != nil {
			for _, r := range registered {
				m.reg.Unregister(r)
			}
			return nil, fmt.Errorf("new client metrics: %w", err)
		}
		registered = append(registered, c)
	}
	return m, nil
}

// validMetricPrefix reports whether ns can start a metric name.
func validMetricPrefix(ns string) bool {
	if ns == "" {
		return false
	}
	for i, r := range ns {
		switch {
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// Handler serves the metrics of the private registry, or of the
// ClientRegisterer when it is also a prometheus.Gatherer (as a
// *prometheus.Registry is); for another Registerer it serves nothing, and
// the caller serves its own registry.
func (m *ClientMetrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{})
}

// KgoOpts returns the options that hook a kgo client into the metrics:
// kprom's, with records and bytes per topic, request duration, write wait
// and throttle histograms, and connection and wire errors, under the
// namespace and the "client" subsystem.
//
// Call it once per client: the series of each client carry their own
// "client" label, because several clients of a service (a Producer's, a
// Consumer's) would otherwise collide in one registry. The label is the
// client's kgo.ClientID, or when that is kgo's default ("kgo") the
// client's number, from 1 in the order the clients are created; a client
// ID that another client of these metrics has already is followed by
// "-" and the number. Options given to several clients at once count
// them together under the first client's label, and its buffered gauges
// are the first client's.
func (m *ClientMetrics) KgoOpts() []kgo.Opt {
	return []kgo.Opt{kgo.WithHooks(&clientHooks{m: m})}
}

// defaultClientID is kgo's client ID when none is given.
const defaultClientID = "kgo"

// clientLabel returns the "client" label of a new client.
func (m *ClientMetrics) clientLabel(cl *kgo.Client) string {
	n := strconv.FormatInt(m.clients.Add(1), 10)
	id, _ := cl.OptValue(kgo.ClientID).(string)
	if id == "" || id == defaultClientID {
		return n
	}
	m.labelsMu.Lock()
	defer m.labelsMu.Unlock()
	if m.labels == nil {
		m.labels = map[string]bool{}
	}
	label := id
	if m.labels[label] {
		label = id + "-" + n
	}
	m.labels[label] = true
	return label
}

// kprom returns kprom's metrics for one client label.
func (m *ClientMetrics) kprom(label string) *kprom.Metrics {
	reg := prometheus.WrapRegistererWith(prometheus.Labels{"client": label}, m.reg)
	return kprom.NewMetrics(m.namespace,
		kprom.Registerer(reg),
		kprom.Subsystem(clientSubsystem),
		kprom.FetchAndProduceDetail(kprom.ByTopic, kprom.Records,
			kprom.UncompressedBytes, kprom.CompressedBytes, kprom.ConsistentNaming),
		kprom.Histograms(kprom.RequestDurationE2E, kprom.RequestThrottled, kprom.WriteWait),
	)
}

// clientHooks is kprom's hooks made safe to share between clients: kprom
// registers its metrics in OnNewClient and panics when they are
// registered already, and unregisters them in OnClientClosed. Its kprom
// metrics are made in the first OnNewClient, which knows the client's ID;
// kgo calls it before any other hook.
type clientHooks struct {
	*kprom.Metrics
	m *ClientMetrics

	mu       sync.Mutex
	attached int
}

func (h *clientHooks) OnNewClient(cl *kgo.Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.attached++; h.attached == 1 {
		if h.Metrics == nil {
			h.Metrics = h.m.kprom(h.m.clientLabel(cl))
		}
		h.Metrics.OnNewClient(cl)
	}
}

func (h *clientHooks) OnClientClosed(cl *kgo.Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.attached--; h.attached == 0 {
		h.Metrics.OnClientClosed(cl)
	}
}

var (
	_ kgo.HookNewClient           = (*clientHooks)(nil)
	_ kgo.HookClientClosed        = (*clientHooks)(nil)
	_ kgo.HookProduceBatchWritten = (*clientHooks)(nil)
	_ kgo.HookFetchBatchRead      = (*clientHooks)(nil)
	_ kgo.HookBrokerE2E           = (*clientHooks)(nil)
)

// MetricNames returns the names of the metric families ClientMetrics
// exports, sorted: its own counters and the kprom families KgoOpts
// enables. A family shows in a scrape once it has a series.
func (m *ClientMetrics) MetricNames() []string {
	names := []string{
		"encode_errors_total",
		"decode_errors_total",
		"dead_lettered_total",
		"skipped_total",
		"held_total",
		"schema_cache_total",
		"registry_requests_total",
		"produce_records_total",
		"produce_uncompressed_bytes_total",
		"produce_compressed_bytes_total",
		"fetch_records_total",
		"fetch_uncompressed_bytes_total",
		"fetch_compressed_bytes_total",
		"request_duration_e2e_seconds",
		"request_throttled_seconds",
		"write_wait_seconds",
		"connects_total",
		"connect_errors_total",
		"disconnects_total",
		"write_bytes_total",
		"write_errors_total",
		"read_bytes_total",
		"read_errors_total",
		"buffered_produce_records_total",
		"buffered_produce_bytes",
		"buffered_fetch_records_total",
		"buffered_fetch_bytes",
	}
	for i, n := range names {
		names[i] = prometheus.BuildFQName(m.namespace, clientSubsystem, n)
	}
	slices.Sort(names)
	return names
}

// OnEncodeError implements schema.Observer.
func (m *ClientMetrics) OnEncodeError(topic string, _ error) {
	if m != nil {
		m.encodeErrors.WithLabelValues(topic).Inc()
	}
}

// OnDecodeError implements schema.Observer.
func (m *ClientMetrics) OnDecodeError(topic string, _ error) {
	if m != nil {
		m.decodeErrors.WithLabelValues(topic).Inc()
	}
}

// OnDeadLetter implements schema.Observer.
func (m *ClientMetrics) OnDeadLetter(topic string) {
	if m != nil {
		m.deadLettered.WithLabelValues(topic).Inc()
	}
}

// OnSkip implements schema.Observer.
func (m *ClientMetrics) OnSkip(topic string) {
	if m != nil {
		m.skipped.WithLabelValues(topic).Inc()
	}
}

// OnHold implements schema.Observer.
func (m *ClientMetrics) OnHold(topic string, _ error) {
	if m != nil {
		m.held.WithLabelValues(topic).Inc()
	}
}

// OnSchemaCache implements schema.Observer.
func (m *ClientMetrics) OnSchemaCache(hit bool) {
	switch {
	case m == nil:
	case hit:
		m.cacheHit.Inc()
	default:
		m.cacheMiss.Inc()
	}
}

// OnRegistryRequest implements schema.Observer. A "not found" answer
// (subject, version or schema) is result="not_found": under LookupOnly it
// is an answer, not a failure of the registry. An error is "not found" when
// one in its chain has a NotFound method that says so, as
// schema.RegistryError has: the package does not import schema.
func (m *ClientMetrics) OnRegistryRequest(op string, err error) {
	if m == nil {
		return
	}
	result := "ok"
	var nf interface{ NotFound() bool }
	switch {
	case err == nil:
	case errors.As(err, &nf) && nf.NotFound():
		result = "not_found"
	default:
		result = "error"
	}
	m.registryRequests.WithLabelValues(op, result).Inc()
}

// Format prints the metrics as their namespace, for every verb: the
// counters change under the clients' goroutines while fmt would read them.
func (m *ClientMetrics) Format(f fmt.State, _ rune) {
	if m == nil {
		_, _ = io.WriteString(f, "metrics.ClientMetrics(nil)")
		return
	}
	_, _ = fmt.Fprintf(f, "metrics.ClientMetrics{namespace: %s}", m.namespace)
}

var _ fmt.Formatter = (*ClientMetrics)(nil)
