package platform

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/internal/runloop"
	"github.com/streamkit/streamkit/topics"
)

// CollectorOpt configures a Collector (NewCollector).
type CollectorOpt interface{ applyCollector(*collectorConfig) }

// AlerterOpt configures an Alerter (NewAlerter).
type AlerterOpt interface{ applyAlerter(*alerterConfig) }

// Opt is an option of both NewCollector and NewAlerter: WithLogger.
type Opt interface {
	CollectorOpt
	AlerterOpt
}

type collectorOptFunc func(*collectorConfig)

func (f collectorOptFunc) applyCollector(c *collectorConfig) { f(c) }

// WithLogger sets the logger, overriding the default that discards: a
// Collector's for cycle errors, an Alerter's for events (firing at warn,
// resolved at info, with the event's fields as key/values). It must be
// safe for concurrent use.
func WithLogger(l *slog.Logger) Opt { return loggerOpt{l} }

type loggerOpt struct{ l *slog.Logger }

func (o loggerOpt) applyCollector(c *collectorConfig) { c.logger = o.l }
func (o loggerOpt) applyAlerter(c *alerterConfig) {
	if o.l == nil {
		c.errs = append(c.errs, errors.New("nil logger"))
		return
	}
	c.logger = o.l
}

type collectorConfig struct {
	kafka      *kgo.Client
	connect    *connect.Client
	interval   time.Duration
	groupAllow []string
	groupDeny  []string
	topicAllow []string
	topicDeny  []string
	reg        prometheus.Registerer
	logger     *slog.Logger
	onSnapshot func(Snapshot)
	history    int
}

// defaultTopicDeny keeps internal topics (__consumer_offsets,
// __transaction_state, _schemas, Connect's _connect-* topics, ...) out of
// the per-topic series.
var defaultTopicDeny = []string{`^_`}

func defaultCollectorConfig() collectorConfig {
	return collectorConfig{
		interval:  30 * time.Second,
		topicDeny: defaultTopicDeny,
		logger:    slog.New(slog.DiscardHandler),
		history:   120,
	}
}

// WithConnect sets the Kafka Connect client whose connectors' states
// are collected, with one request per cycle. By default connectors are not
// collected.
func WithConnect(cl *connect.Client) CollectorOpt {
	return collectorOptFunc(func(c *collectorConfig) { c.connect = cl })
}

// WithInterval sets how often Run collects, overriding the default
// 30s. It must be positive.
func WithInterval(d time.Duration) CollectorOpt {
	return collectorOptFunc(func(c *collectorConfig) { c.interval = d })
}

// WithGroups bounds which consumer groups are collected, to bound the
// metrics' cardinality: a group is collected when it matches one of the
// allow regular expressions (or allow is empty) and none of the deny ones.
// By default every group is collected.
func WithGroups(allow, deny []string) CollectorOpt {
	return collectorOptFunc(func(c *collectorConfig) { c.groupAllow, c.groupDeny = allow, deny })
}

// WithTopics bounds which topics have per-topic and per-partition
// data, with the same rules as WithGroups. It overrides the default,
// which denies `^_`: internal topics such as __consumer_offsets and
// _schemas. Include `^_` in deny to keep excluding them. Broker totals
// always count every topic.
func WithTopics(allow, deny []string) CollectorOpt {
	return collectorOptFunc(func(c *collectorConfig) { c.topicAllow, c.topicDeny = allow, deny })
}

// WithRegisterer sets where the collector registers its metrics,
// overriding the default: a private registry, served by Handler. The
// global registry is never used unless passed here.
func WithRegisterer(r prometheus.Registerer) CollectorOpt {
	return collectorOptFunc(func(c *collectorConfig) { c.reg = r })
}

// WithSnapshots sets a function called with every recorded
// snapshot, from the goroutine that ran the cycle, before Collect
// returns. It must be fast and safe for concurrent use, and must not
// modify the snapshot; a panic in it is recovered and logged. By default
// nothing is called.
func WithSnapshots(fn func(Snapshot)) CollectorOpt {
	return collectorOptFunc(func(c *collectorConfig) { c.onSnapshot = fn })
}

// WithHistory sets how many of the latest snapshots History keeps,
// overriding the default 120 (an hour at the default interval). It must
// be positive.
func WithHistory(n int) CollectorOpt {
	return collectorOptFunc(func(c *collectorConfig) { c.history = n })
}

// Collector takes snapshots of a Kafka cluster and its Kafka Connect
// connectors and exports them as Prometheus gauges. Each cycle issues a
// fixed set of batched requests whose number depends on the number of
// brokers and group coordinators, not on the number of partitions:
//
//   - one Metadata request (partitions, replicas, ISR, leaders);
//   - ListOffsets for the end offsets, one request per partition leader;
//   - DescribeLogDirs, one request per broker;
//   - consumer lag through topics.Client.Lag: ListGroups per broker, then
//     DescribeGroups and OffsetFetch per coordinator and ListOffsets per
//     leader, plus one short-lived direct consumer that reads the oldest
//     unconsumed record of each lagging partition for the time lag;
//   - one GET /connectors?expand=info&expand=status to Kafka Connect.
//
// A Collector starts no goroutine of its own: Run is the loop. It is safe
// for concurrent use by multiple goroutines; cycles are serialized.
type Collector struct {
	cfg    collectorConfig
	adm    *kadm.Client
	lag    *topics.Client
	log    *slog.Logger
	groups nameFilter
	topics nameFilter

	now func() time.Time

	reg     prometheus.Registerer
	handler http.Handler
	prom    *promMetrics

	running runloop.Guard
	cycleMu sync.Mutex // serializes cycles; guards prev
	prev    prevCycle

	mu      sync.Mutex // guards last and history
	last    Snapshot
	hasLast bool
	history []Snapshot
}

// prevCycle is what throughput is measured against: the last cycle whose
// offsets and log dirs were read.
type prevCycle struct {
	offsetsAt   time.Time
	endOffsets  map[string]int64
	bytesAt     time.Time
	leaderBytes map[string]int64
}

// NewCollector returns a Collector that reads the cluster through kafka,
// which it does not close. It validates the options and registers the
// collector's metrics. It starts no goroutine; call Run, or Collect for
// one cycle.
func NewCollector(kafka *kgo.Client, opts ...CollectorOpt) (*Collector, error) {
	cfg := defaultCollectorConfig()
	cfg.kafka = kafka
	for _, o := range opts {
		if o != nil {
			o.applyCollector(&cfg)
		}
	}
	var errs []error
	if cfg.kafka == nil {
		errs = append(errs, errors.New("nil kafka client"))
	}
	if cfg.interval <= 0 {
		errs = append(errs, fmt.Errorf("interval %v is not positive", cfg.interval))
	}
	if cfg.history <= 0 {
		errs = append(errs, fmt.Errorf("history %d is not positive", cfg.history))
	}
	if cfg.logger == nil {
		errs = append(errs, errors.New("nil logger"))
	}
	groups, err := newNameFilter(cfg.groupAllow, cfg.groupDeny)
	if err != nil {
		errs = append(errs, fmt.Errorf("group filter: %w", err))
	}
	topicsFilter, err := newNameFilter(cfg.topicAllow, cfg.topicDeny)
	if err != nil {
		errs = append(errs, fmt.Errorf("topic filter: %w", err))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("new collector: %w", errors.Join(errs...))
	}
	lag, err := topics.NewClient(cfg.kafka)
	if err != nil {
		return nil, fmt.Errorf("new collector: %w", err)
	}
	c := &Collector{
		cfg:    cfg,
		adm:    kadm.NewClient(cfg.kafka),
		lag:    lag,
		log:    cfg.logger,
		groups: groups,
		topics: topicsFilter,
		now:    time.Now,
	}
	if err := c.initPrometheus(); err != nil {
		return nil, fmt.Errorf("new collector: %w", err)
	}
	return c, nil
}

// Registerer returns the registerer the collector's metrics are
// registered on, so that other metrics (such as lag status) can join them
// and be served by Handler.
func (c *Collector) Registerer() prometheus.Registerer { return c.reg }

// Handler serves the metrics in the Prometheus exposition formats. With
// the default private registry, or a WithRegisterer that is also a
// prometheus.Gatherer (such as a *prometheus.Registry), it serves
// everything registered there; otherwise only the collector's own metrics.
func (c *Collector) Handler() http.Handler { return c.handler }

// Last returns the latest recorded snapshot and whether there is one. Its
// slices are shared and must not be modified.
func (c *Collector) Last() (Snapshot, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last, c.hasLast
}

// History returns the latest recorded snapshots, oldest first, at most as
// many as WithHistory. The snapshots' slices are shared and must not
// be modified.
func (c *Collector) History() []Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.history)
}

// Run collects every interval, starting at once, until ctx ends, and then
// returns nil. A failed cycle is logged, counted in
// streamkit_collector_errors_total, and the loop goes on. Run returns
// ErrRunning when another Run has not returned.
func (c *Collector) Run(ctx context.Context) error {
	leave, err := c.running.Enter()
	if err != nil {
		return err
	}
	defer leave()
	return runloop.Every(ctx, c.cfg.interval, func(ctx context.Context) {
		if _, err := c.Collect(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("collect metrics", "err", err)
		}
	})
}

// Collect runs one cycle: it reads the cluster and the connectors,
// records the snapshot (Last, History, the gauges, the OnSnapshot
// function) and returns it.
//
// When the metadata cannot be read, nothing is recorded and Collect
// returns the error. When only some parts fail (end offsets, log dirs,
// lag, connectors), those parts are carried over from the previous
// snapshot, the rest is recorded, and Collect returns the snapshot with
// an error joining each part's failure.
func (c *Collector) Collect(ctx context.Context) (Snapshot, error) {
	c.cycleMu.Lock()
	defer c.cycleMu.Unlock()
	start := time.Now()
	snap, err := c.collect(ctx)
	c.prom.cycleSeconds.Set(time.Since(start).Seconds())
	if err != nil && ctx.Err() == nil {
		// A cycle cut short by its caller is not a platform error.
		c.prom.errors.Add(float64(max(joinedErrCount(err), 1)))
	}
	if snap.Time.IsZero() {
		return Snapshot{}, err
	}
	c.record(snap)
	return snap, err
}

func joinedErrCount(err error) int {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return len(j.Unwrap())
	}
	return 1
}

func (c *Collector) record(snap Snapshot) {
	c.mu.Lock()
	c.last, c.hasLast = snap, true
	if len(c.history) == c.cfg.history {
		copy(c.history, c.history[1:])
		c.history = c.history[:len(c.history)-1]
	}
	c.history = append(c.history, snap)
	c.mu.Unlock()

	if fn := c.cfg.onSnapshot; fn != nil {
		runloop.Call(c.log, "snapshot function", func() { fn(snap) })
	}
}

// clusterMeta is what the Metadata response says.
type clusterMeta struct {
	brokers []int32
	topics  []topicMeta // kept topics, sorted
	// leaders maps a kept topic's partition to its leader (-1 offline).
	leaders map[string]map[int32]int32
	// perBroker counts, over all topics, replicas and leaders per broker.
	replicas, leads map[int32]int
}

type topicMeta struct {
	name                                 string
	partitions, underReplicated, offline int
}

func (c *Collector) metadata(ctx context.Context) (clusterMeta, error) {
	// A direct request, not kadm's cached metadata: leaders and ISR are
	// what the cycle measures, so they must be fresh.
	req := kmsg.NewPtrMetadataRequest()
	resp, err := req.RequestWith(ctx, c.cfg.kafka)
	if err != nil {
		return clusterMeta{}, fmt.Errorf("request metadata: %w", err)
	}
	m := clusterMeta{
		leaders:  make(map[string]map[int32]int32),
		replicas: make(map[int32]int),
		leads:    make(map[int32]int),
	}
	for _, b := range resp.Brokers {
		m.brokers = append(m.brokers, b.NodeID)
	}
	slices.Sort(m.brokers)
	for _, t := range resp.Topics {
		if t.Topic == nil {
			continue
		}
		name := *t.Topic
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			c.log.Debug("metadata topic error", "topic", name, "err", err)
			continue
		}
		keep := c.topics.match(name)
		tm := topicMeta{name: name, partitions: len(t.Partitions)}
		leaders := make(map[int32]int32, len(t.Partitions))
		for _, p := range t.Partitions {
			for _, r := range p.Replicas {
				m.replicas[r]++
			}
			leader := p.Leader
			if p.ErrorCode == kerr.LeaderNotAvailable.Code {
				leader = -1
			}
			if leader >= 0 {
				m.leads[leader]++
			} else {
				tm.offline++
			}
			if len(p.ISR) < len(p.Replicas) {
				tm.underReplicated++
			}
			leaders[p.Partition] = leader
		}
		if keep {
			m.topics = append(m.topics, tm)
			m.leaders[name] = leaders
		}
	}
	slices.SortFunc(m.topics, func(a, b topicMeta) int { return cmp.Compare(a.name, b.name) })
	return m, nil
}

func (c *Collector) collect(ctx context.Context) (Snapshot, error) {
	meta, err := c.metadata(ctx)
	if err != nil {
		return Snapshot{}, err
	}
	parts := c.read(ctx, meta)
	if err := ctx.Err(); err != nil {
		return Snapshot{}, fmt.Errorf("collect: %w", err)
	}
	prevSnap, _ := c.Last()
	snap, prev, err := assemble(parts, prevSnap, c.prev, c.now())
	c.prev = prev
	return snap, err
}

// cycleParts is what one cycle read from the cluster and Connect, each
// part with its error and, for the parts rates are measured on, when it
// was read.
type cycleParts struct {
	meta clusterMeta

	offsets   kadm.ListedOffsets
	offsetsAt time.Time
	offErr    error

	logDirs kadm.DescribedAllLogDirs
	dirsAt  time.Time
	dirErr  error

	lag    []GroupSnapshot
	lagErr error

	conns   []ConnectorSnapshot
	connErr error
}

// read reads a cycle's parts at once, one goroutine each: end offsets,
// log dirs, lag and, with a Connect client, the connectors.
func (c *Collector) read(ctx context.Context, meta clusterMeta) cycleParts {
	p := cycleParts{meta: meta}
	names := make([]string, len(meta.topics))
	for i, t := range meta.topics {
		names[i] = t.name
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if len(names) == 0 {
			p.offsets, p.offsetsAt = kadm.ListedOffsets{}, c.now()
			return
		}
		// A broker that did not answer (*kadm.ShardErrors) fails the whole
		// part: partial sums would read as a drop and then a burst.
		p.offsets, p.offErr = c.adm.ListEndOffsets(ctx, names...)
		p.offsetsAt = c.now()
	})
	wg.Go(func() {
		p.logDirs, p.dirErr = c.adm.DescribeAllLogDirs(ctx, nil)
		p.dirsAt = c.now()
		p.logDirs.Each(func(d kadm.DescribedLogDir) {
			if d.Err != nil {
				c.log.Debug("log dir error", "broker", d.Broker, "dir", d.Dir, "err", d.Err)
			}
		})
	})
	wg.Go(func() { p.lag, p.lagErr = c.collectLag(ctx) })
	if c.cfg.connect != nil {
		wg.Go(func() { p.conns, p.connErr = c.collectConnectors(ctx) })
	}
	wg.Wait()
	return p
}

// assemble makes the snapshot of one cycle from its parts, at now. It is
// a function of its arguments alone. A part that failed is carried over
// from prevSnap and its error joined into the one returned; rates are the
// change since prev, the offsets and leader sizes of the last cycle that
// read them, which assemble returns updated.
func assemble(p cycleParts, prevSnap Snapshot, prev prevCycle, now time.Time) (Snapshot, prevCycle, error) {
	meta := p.meta
	snap := Snapshot{Time: now}
	var errs []error

	// Brokers: partitions and leaders from metadata, sizes from log dirs.
	brokerIdx := make(map[int32]int, len(meta.brokers))
	for _, b := range meta.brokers {
		brokerIdx[b] = len(snap.Brokers)
		snap.Brokers = append(snap.Brokers, BrokerSnapshot{
			Broker:     b,
			Partitions: meta.replicas[b],
			Leaders:    meta.leads[b],
			LogDirs:    map[string]int64{},
		})
	}

	topicIdx := make(map[string]int, len(meta.topics))
	for _, t := range meta.topics {
		topicIdx[t.name] = len(snap.Topics)
		snap.Topics = append(snap.Topics, TopicSnapshot{
			Topic:           t.name,
			Partitions:      t.partitions,
			UnderReplicated: t.underReplicated,
			Offline:         t.offline,
		})
	}
	prevTopic := make(map[string]TopicSnapshot, len(prevSnap.Topics))
	for _, t := range prevSnap.Topics {
		prevTopic[t.Topic] = t
	}

	if p.offErr != nil {
		errs = append(errs, fmt.Errorf("list end offsets: %w", p.offErr))
		for i := range snap.Topics {
			pt := prevTopic[snap.Topics[i].Topic]
			snap.Topics[i].EndOffsets, snap.Topics[i].RecordsPerSecond = pt.EndOffsets, pt.RecordsPerSecond
		}
	} else {
		ends := make(map[string]int64, len(meta.topics))
		p.offsets.Each(func(o kadm.ListedOffset) {
			if o.Err == nil && o.Partition >= 0 {
				ends[o.Topic] += o.Offset
			}
		})
		elapsed := p.offsetsAt.Sub(prev.offsetsAt).Seconds()
		for i := range snap.Topics {
			t := &snap.Topics[i]
			t.EndOffsets = ends[t.Topic]
			if before, ok := prev.endOffsets[t.Topic]; ok && elapsed > 0 {
				// A recreated topic starts again from zero; its rate is
				// unknown rather than negative.
				t.RecordsPerSecond = max(float64(t.EndOffsets-before)/elapsed, 0)
			}
		}
		prev.offsetsAt, prev.endOffsets = p.offsetsAt, ends
	}

	if p.dirErr != nil {
		errs = append(errs, fmt.Errorf("describe log dirs: %w", p.dirErr))
		for i := range snap.Topics {
			pt := prevTopic[snap.Topics[i].Topic]
			snap.Topics[i].Bytes, snap.Topics[i].LeaderBytes, snap.Topics[i].BytesPerSecond = pt.Bytes, pt.LeaderBytes, pt.BytesPerSecond
		}
		prevBroker := make(map[int32]BrokerSnapshot, len(prevSnap.Brokers))
		for _, b := range prevSnap.Brokers {
			prevBroker[b.Broker] = b
		}
		for i := range snap.Brokers {
			pb := prevBroker[snap.Brokers[i].Broker]
			snap.Brokers[i].Bytes = pb.Bytes
			if pb.LogDirs != nil {
				snap.Brokers[i].LogDirs = pb.LogDirs
			}
		}
	} else {
		leaderBytes := make(map[string]int64, len(meta.topics))
		p.logDirs.Each(func(d kadm.DescribedLogDir) {
			if d.Err != nil {
				return // logged by read
			}
			bi, ok := brokerIdx[d.Broker]
			if !ok {
				bi = len(snap.Brokers)
				brokerIdx[d.Broker] = bi
				snap.Brokers = append(snap.Brokers, BrokerSnapshot{Broker: d.Broker, LogDirs: map[string]int64{}})
			}
			size := d.Size()
			snap.Brokers[bi].Bytes += size
			snap.Brokers[bi].LogDirs[d.Dir] += size
			for topic, ps := range d.Topics {
				ti, ok := topicIdx[topic]
				if !ok {
					continue
				}
				for part, dp := range ps {
					if dp.IsFuture {
						continue // a replica being moved between dirs
					}
					snap.Topics[ti].Bytes += dp.Size
					if meta.leaders[topic][part] == d.Broker {
						snap.Topics[ti].LeaderBytes += dp.Size
						leaderBytes[topic] += dp.Size
					}
				}
			}
		})
		elapsed := p.dirsAt.Sub(prev.bytesAt).Seconds()
		for i := range snap.Topics {
			t := &snap.Topics[i]
			if before, ok := prev.leaderBytes[t.Topic]; ok && elapsed > 0 {
				t.BytesPerSecond = float64(t.LeaderBytes-before) / elapsed
			}
		}
		prev.bytesAt, prev.leaderBytes = p.dirsAt, leaderBytes
	}
	slices.SortFunc(snap.Brokers, func(a, b BrokerSnapshot) int { return cmp.Compare(a.Broker, b.Broker) })

	if p.lagErr != nil {
		errs = append(errs, fmt.Errorf("collect lag: %w", p.lagErr))
		snap.Groups = prevSnap.Groups
	} else {
		snap.Groups = p.lag
	}
	if p.connErr != nil {
		errs = append(errs, fmt.Errorf("list connectors: %w", p.connErr))
		snap.Connectors = prevSnap.Connectors
	} else {
		snap.Connectors = p.conns
	}
	return snap, prev, errors.Join(errs...)
}

func (c *Collector) collectLag(ctx context.Context) ([]GroupSnapshot, error) {
	listed, err := c.adm.ListGroups(ctx)
	if err != nil {
		// Groups missing for one cycle would drop their series.
		return nil, fmt.Errorf("list groups: %w", err)
	}
	var names []string
	for g := range listed {
		if c.groups.match(g) {
			names = append(names, g)
		}
	}
	if len(names) == 0 {
		// Lag with no groups would measure every group.
		return nil, nil
	}
	slices.Sort(names)
	report, err := c.lag.Lag(ctx, names...)
	if err != nil {
		return nil, err
	}
	out := make([]GroupSnapshot, 0, len(report.Groups))
	for _, g := range report.Groups {
		if g.Err != nil {
			c.log.Debug("group lag", "group", g.Group, "err", g.Err)
		}
		gs := GroupSnapshot{Group: g.Group, State: g.State, Members: g.Members}
		for _, t := range g.Topics {
			if !c.topics.match(t.Topic) {
				continue
			}
			for _, p := range t.Partitions {
				pl := PartitionLag{
					Topic:      p.Topic,
					Partition:  p.Partition,
					Committed:  p.Committed,
					End:        p.End,
					Lag:        p.Lag,
					LagSeconds: p.TimeLag.Seconds(),
				}
				if pl.Lag > 0 {
					gs.Lag += pl.Lag
				}
				gs.LagSeconds = max(gs.LagSeconds, pl.LagSeconds)
				gs.Partitions = append(gs.Partitions, pl)
			}
		}
		out = append(out, gs)
	}
	return out, nil
}

func (c *Collector) collectConnectors(ctx context.Context) ([]ConnectorSnapshot, error) {
	list, err := c.cfg.connect.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ConnectorSnapshot, 0, len(list))
	for name, cn := range list {
		st := cn.Status
		cs := ConnectorSnapshot{
			Name:        name,
			State:       st.Connector.State,
			Tasks:       len(st.Tasks),
			FailedTasks: len(st.FailedTasks()),
		}
		if st.Connector.State == connect.StateFailed {
			cs.Trace = st.Connector.Trace
		}
		for _, t := range st.Tasks {
			if cs.Trace == "" && t.State == connect.StateFailed {
				cs.Trace = t.Trace
			}
		}
		out = append(out, cs)
	}
	slices.SortFunc(out, func(a, b ConnectorSnapshot) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// nameFilter keeps names that match an allow expression (or all, with none)
// and no deny expression.
type nameFilter struct {
	allow, deny []*regexp.Regexp
}

func newNameFilter(allow, deny []string) (nameFilter, error) {
	var f nameFilter
	var errs []error
	for _, list := range []struct {
		src []string
		dst *[]*regexp.Regexp
	}{{allow, &f.allow}, {deny, &f.deny}} {
		for _, s := range list.src {
			re, err := regexp.Compile(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("compile %q: %w", s, err))
				continue
			}
			*list.dst = append(*list.dst, re)
		}
	}
	return f, errors.Join(errs...)
}

func (f nameFilter) match(name string) bool {
	if len(f.allow) > 0 && !slices.ContainsFunc(f.allow, func(re *regexp.Regexp) bool { return re.MatchString(name) }) {
		return false
	}
	return !slices.ContainsFunc(f.deny, func(re *regexp.Regexp) bool { return re.MatchString(name) })
}

// collectorHandler serves g with promhttp, reporting encoding errors in the
// response rather than panicking.
func collectorHandler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}
