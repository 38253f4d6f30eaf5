package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/secrets/materialize"
	"github.com/streamkit/streamkit/validate"
)

// The agent's defaults.
const (
	DefaultAgentListen   = "127.0.0.1:9404"
	DefaultAgentGroup    = "streamkit-agent"
	DefaultAgentTopic    = "_streamkit-agent"
	DefaultAgentInterval = 10 * time.Second

	// The healer's defaults, connect.Healer's own: a failed connector is
	// restarted after 5s, then after twice as long each time up to 5m,
	// and given up on when it fails again after 5 restarts in an hour.
	DefaultAgentHealBackoff     = 5 * time.Second
	DefaultAgentHealMaxBackoff  = 5 * time.Minute
	DefaultAgentHealMaxRestarts = 5
	DefaultAgentHealWindow      = time.Hour
)

// agentOptions are the agent's flags.
type agentOptions struct {
	listen     string
	group      string
	topic      string
	interval   time.Duration
	namespaces []string

	healBackoff, healMaxBackoff time.Duration
	healMaxRestarts             int
	healWindow                  time.Duration
}

// agent is `streamkit agent`, the process a platform team runs beside
// each Connect worker. It is told nothing about connectors: it finds them
// on the workers. On every node it keeps the node's secrets folder in step
// with Vault (secrets/materialize's Watch). Of all the agents, the one
// that owns partition 0 of a one-partition topic in a Kafka consumer group
// is the leader: it alone restarts a connector whose secrets rotated, so
// a rotation restarts each connector once per cluster, and it alone heals
// the failed connectors of the namespaces it is given (connect.Healer,
// with backoff and a cap). The group is Kafka's own protocol: an agent
// that dies leaves it after its session timeout and another takes over.
type agent struct {
	opts agentOptions
	log  *slog.Logger
	cc   *connect.Client
	mat  *materialize.Materializer
	kc   *kgo.Client

	leader atomic.Bool
	// ready is closed once the agent has joined its group.
	joined chan struct{}
	once   sync.Once

	mLeader   prometheus.Gauge
	mWritten  prometheus.Counter
	mRestarts *prometheus.CounterVec
	mErrors   *prometheus.CounterVec
	mGaveUp   prometheus.Gauge

	// gaveUp is the connectors the leader's healers gave up on.
	gaveUpMu sync.Mutex
	gaveUp   map[string]bool
}

func parseAgentFlags(args []string) (agentOptions, error) {
	ao := agentOptions{listen: DefaultAgentListen, group: DefaultAgentGroup, topic: DefaultAgentTopic, interval: DefaultAgentInterval,
		healBackoff: DefaultAgentHealBackoff, healMaxBackoff: DefaultAgentHealMaxBackoff,
		healMaxRestarts: DefaultAgentHealMaxRestarts, healWindow: DefaultAgentHealWindow}
	fs := newFlagSet("agent")
	fs.StringVar(&ao.listen, "listen", ao.listen, "address of /metrics and /healthz")
	fs.StringVar(&ao.group, "group", ao.group, "the agents' Kafka consumer group")
	fs.StringVar(&ao.topic, "topic", ao.topic, "the group's one-partition topic, created when missing")
	fs.DurationVar(&ao.interval, "interval", ao.interval, "how often to look at the workers and Vault")
	fs.DurationVar(&ao.healBackoff, "heal-backoff", ao.healBackoff, "the wait before a failed connector's first restart, doubled after each")
	fs.DurationVar(&ao.healMaxBackoff, "heal-max-backoff", ao.healMaxBackoff, "the longest wait between two restarts of a failed connector")
	fs.IntVar(&ao.healMaxRestarts, "heal-max-restarts", ao.healMaxRestarts, "restarts of one connector within -heal-window before the agent gives up on it")
	fs.DurationVar(&ao.healWindow, "heal-window", ao.healWindow, "the window of -heal-max-restarts")
	var ns string
	fs.StringVar(&ns, "namespaces", "", "the connectors the agent looks after, by namespace, comma-separated (default: all; healing needs them)")
	if err := fs.Parse(args); err != nil {
		return ao, fmt.Errorf("%w: agent: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return ao, fmt.Errorf("%w: agent: unexpected arguments %q", errUsage, fs.Args())
	}
	ao.namespaces = splitList(ns)
	switch {
	case ao.interval <= 0:
		return ao, fmt.Errorf("%w: agent: -interval %v: want more than 0", errUsage, ao.interval)
	case ao.group == "" || ao.topic == "":
		return ao, fmt.Errorf("%w: agent: -group and -topic may not be empty", errUsage)
	case ao.healBackoff < 0 || ao.healMaxBackoff < ao.healBackoff:
		return ao, fmt.Errorf("%w: agent: -heal-backoff %v, -heal-max-backoff %v: want 0 <= backoff <= max", errUsage, ao.healBackoff, ao.healMaxBackoff)
	case ao.healMaxRestarts < 1 || ao.healWindow <= 0:
		return ao, fmt.Errorf("%w: agent: -heal-max-restarts %d, -heal-window %v: want at least 1 restart in more than 0", errUsage, ao.healMaxRestarts, ao.healWindow)
	}
	if _, _, err := net.SplitHostPort(ao.listen); err != nil {
		return ao, fmt.Errorf("%w: agent: -listen %q: %w", errUsage, ao.listen, err)
	}
	return ao, nil
}

// runAgent runs the agent until ctx ends (SIGTERM, SIGINT), then leaves
// the group, stops serving and returns 0; it returns 2 when the
// environment lacks what it needs or it cannot start.
func runAgent(ctx context.Context, ao agentOptions, env func(string) string, stderr io.Writer) int {
	log := slog.New(slog.NewJSONHandler(stderr, nil)).With("component", "streamkit-agent")
	fail := func(err error) int {
		log.Error("agent not started", "error", err)
		return exitError
	}
	var missing []string
	for _, k := range []string{EnvBrokers, EnvConnectURL, EnvVaultAddr, EnvSecretsDir} {
		if env(k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return fail(fmt.Errorf("agent needs %s: %w", strings.Join(missing, ", "), errMissing))
	}
	p, err := dial(ctx, env, nil, validate.DataPolicy{}, false)
	if err != nil {
		return fail(err)
	}
	defer p.close()
	a := &agent{opts: ao, log: log, cc: p.connect, joined: make(chan struct{})}
	a.mat, err = materialize.New(p.vault, p.connect, env(EnvSecretsDir),
		materialize.WithInterval(ao.interval), materialize.WithLogger(log), materialize.WithEvents(a.event),
		materialize.WithNamespaces(ao.namespaces...))
	if err != nil {
		return fail(err)
	}
	reg := a.metrics()
	if err := a.coordinate(ctx, p.topics.Admin(), splitList(env(EnvBrokers))); err != nil {
		return fail(err)
	}
	defer a.kc.Close() // leaves the group

	lis, err := net.Listen("tcp", ao.listen)
	if err != nil {
		return fail(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", a.healthz)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Info("agent started", "listen", lis.Addr().String(), "group", ao.group, "secrets_dir", a.mat.Dir(), "namespaces", ao.namespaces)

	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); _ = srv.Serve(lis) }()
	go func() { defer wg.Done(); a.poll(ctx) }()
	go func() { defer wg.Done(); a.heal(ctx) }()
	err = a.mat.Watch(ctx, a.leader.Load)
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	wg.Wait()
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Error("agent stopped", "error", err)
		return exitError
	}
	log.Info("agent stopped")
	return exitOK
}

func (a *agent) metrics() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	a.mLeader = prometheus.NewGauge(prometheus.GaugeOpts{Name: "streamkit_agent_leader",
		Help: "1 while this agent is the leader: it restarts connectors on rotation and heals failed ones."})
	a.mWritten = prometheus.NewCounter(prometheus.CounterOpts{Name: "streamkit_agent_secret_writes_total",
		Help: "Vault secrets whose files this agent wrote to the node's secrets folder."})
	a.mRestarts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "streamkit_agent_connector_restarts_total",
		Help: "Connector restarts by this agent, by reason: rotation (a secret changed) or failed (healing)."}, []string{"reason"})
	a.mErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "streamkit_agent_errors_total",
		Help: "Failures the agent retries, by kind: secrets (Vault, files, discovery) or heal."}, []string{"kind"})
	a.mGaveUp = prometheus.NewGauge(prometheus.GaugeOpts{Name: "streamkit_agent_connectors_given_up",
		Help: "Failed connectors the leader no longer restarts: they failed again after -heal-max-restarts restarts within -heal-window. Fixed and seen RUNNING, they leave the count."})
	a.mRestarts.WithLabelValues("rotation")
	a.mRestarts.WithLabelValues("failed")
	a.mErrors.WithLabelValues("secrets")
	a.mErrors.WithLabelValues("heal")
	reg.MustRegister(a.mLeader, a.mWritten, a.mRestarts, a.mErrors, a.mGaveUp)
	return reg
}

// event counts what the materializer did.
func (a *agent) event(e materialize.Event) {
	switch e.Kind {
	case materialize.Written:
		a.mWritten.Inc()
	case materialize.Restarted:
		a.mRestarts.WithLabelValues("rotation").Inc()
	case materialize.Failed:
		a.mErrors.WithLabelValues("secrets").Inc()
	}
}

// coordinate joins the agents' group on its one-partition topic, which it
// creates with adm when missing; the member given partition 0 leads.
func (a *agent) coordinate(ctx context.Context, adm *kadm.Client, brokers []string) error {
	created, err := adm.CreateTopic(ctx, 1, -1, nil, a.opts.topic)
	if err == nil {
		err = created.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("the agents' topic %s: %w", a.opts.topic, err)
	}
	set := func(lead bool) {
		if a.leader.Swap(lead) != lead {
			a.log.Info("leadership changed", "leader", lead)
		}
		if lead {
			a.mLeader.Set(1)
		} else {
			a.mLeader.Set(0)
		}
	}
	a.kc, err = kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumerGroup(a.opts.group), kgo.ConsumeTopics(a.opts.topic),
		// With the cooperative balancer a callback names only the
		// partitions that move: the leader is whoever last gained
		// partition 0, until it loses it.
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			if slices.Contains(m[a.opts.topic], 0) {
				set(true)
			}
			a.once.Do(func() { close(a.joined) })
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			if slices.Contains(m[a.opts.topic], 0) {
				set(false)
			}
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			if slices.Contains(m[a.opts.topic], 0) {
				set(false)
			}
		}),
		kgo.DisableAutoCommit())
	return err
}

// poll keeps the group membership alive; the topic holds no records.
func (a *agent) poll(ctx context.Context) {
	for ctx.Err() == nil {
		fs := a.kc.PollFetches(ctx)
		fs.EachError(func(t string, p int32, err error) {
			if ctx.Err() == nil {
				a.log.Warn("coordination poll failed", "topic", t, "partition", p, "error", err)
			}
		})
	}
	a.leader.Store(false)
	a.mLeader.Set(0)
}

// heal runs a healer per namespace while this agent leads.
func (a *agent) heal(ctx context.Context) {
	if len(a.opts.namespaces) == 0 {
		return
	}
	var healers []*connect.Healer
	for _, ns := range a.opts.namespaces {
		h, err := connect.NewHealer(a.cc, connect.WithNamespace(ns), connect.WithInterval(a.opts.interval),
			connect.WithRestartBackoff(a.opts.healBackoff, a.opts.healMaxBackoff),
			connect.WithMaxRestarts(a.opts.healMaxRestarts, a.opts.healWindow),
			connect.WithEvents(func(e connect.HealEvent) {
				switch e.Kind {
				case connect.HealRestarted:
					a.mRestarts.WithLabelValues("failed").Inc()
				case connect.HealRestartFailed, connect.HealListFailed:
					a.mErrors.WithLabelValues("heal").Inc()
				case connect.HealGaveUp:
					a.givenUp(e.Connector, true)
				case connect.HealRecovered:
					a.givenUp(e.Connector, false)
				}
				a.log.Info("heal", "connector", e.Connector, "event", e.Kind.String(), "tasks", e.Tasks, "attempt", e.Attempt)
			}))
		if err != nil {
			a.log.Error("healer not started", "namespace", ns, "error", err)
			return
		}
		healers = append(healers, h)
	}
	var done sync.WaitGroup
	// start runs the healers until the returned stop is called.
	start := func() (stop func()) {
		hctx, cancel := context.WithCancel(ctx)
		for _, h := range healers {
			done.Add(1)
			go func() { defer done.Done(); _ = h.Run(hctx) }()
		}
		return func() {
			cancel()
			done.Wait()
			a.gaveUpMu.Lock()
			defer a.gaveUpMu.Unlock()
			clear(a.gaveUp) // the next leader's healers decide again
			a.mGaveUp.Set(0)
		}
	}
	var stop func() // nil while the healers do not run
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		lead := a.leader.Load() && ctx.Err() == nil
		switch {
		case lead && stop == nil:
			stop = start()
		case !lead && stop != nil:
			stop()
			stop = nil
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// givenUp adds a connector to, or removes it from, those the healers
// gave up on.
func (a *agent) givenUp(name string, gaveUp bool) {
	a.gaveUpMu.Lock()
	defer a.gaveUpMu.Unlock()
	if a.gaveUp == nil {
		a.gaveUp = map[string]bool{}
	}
	if gaveUp {
		a.gaveUp[name] = true
	} else {
		delete(a.gaveUp, name)
	}
	a.mGaveUp.Set(float64(len(a.gaveUp)))
}

// healthz answers 200 once the agent has joined its group and its worker
// answers, 503 otherwise, with the reason.
func (a *agent) healthz(w http.ResponseWriter, r *http.Request) {
	select {
	case <-a.joined:
	default:
		http.Error(w, "not yet in the agents' group", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if _, err := a.cc.Info(ctx); err != nil {
		http.Error(w, "connect worker: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintf(w, "ok leader=%t\n", a.leader.Load())
}
