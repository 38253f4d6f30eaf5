// Command producer is a small service that produces typed Avro retail
// orders with schema.Producer[Order] at a steady rate. It shows the parts a
// production producer needs around the happy path: client metrics on
// /metrics (metrics.ClientMetrics wired with KgoOpts and WithObserver),
// credentials from Vault for SASL/SCRAM listeners, and a graceful shutdown
// on SIGINT or SIGTERM that stops producing, flushes and closes, so that
// every order it reports as produced has been acknowledged by Kafka.
//
// With no STREAMKIT_BROKERS set it runs on an embedded platform (franz-go's
// kfake and srfake in process):
//
//	go run ./examples/producer -rate 10 -count 100
//
// It writes with order.avsc, embedded at build time, the schema the team's
// repository reviews and registers; NewProducer checks that Order fits it
// and finds its ID, and fails if the registry lacks it. -register
// registers it instead, for development; the embedded platform does.
// Against the project's platform:
//
//	eval "$(scripts/platform env)"
//	go run ./examples/producer -rate 10 -register
//
// With -vault-kafka-path it reads a username and password (keys username
// and password) from that KV v2 secret in the Vault at VAULT_ADDR, with
// VAULT_TOKEN, and connects to STREAMKIT_SASL_BROKERS with SCRAM-SHA-512,
// re-reading the secret for new connections so a rotated password is
// picked up; the platform's env sets all three variables:
//
//	go run ./examples/producer -vault-kafka-path secret/data/retail/producer/kafka
//
// Without it, it uses the plain STREAMKIT_BROKERS (the platform's
// PLAINTEXT listeners need no credentials). Metrics are served on
// -metrics-addr (default 127.0.0.1:0, a free port, printed at start); stop
// it with Ctrl-C or SIGTERM.
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/streamkit/streamkit/metrics"
	"github.com/streamkit/streamkit/schema"
	"github.com/streamkit/streamkit/secrets"
)

// Order is a retail order as the team's services exchange it.
type Order struct {
	ID         string `avro:"id"`
	Store      string `avro:"store"`
	SKU        string `avro:"sku"`
	Quantity   int32  `avro:"quantity"`
	PriceCents int64  `avro:"price_cents"`
	Currency   string `avro:"currency"`
}

// order.avsc is the team repository's schema of Order, the one its CI
// registers (streamkit apply): the service writes with it, not with a
// schema derived from the Go type, and NewProducer checks that Order fits
// it.
//
//go:embed order.avsc
var schemas embed.FS

// The variables main reads, as scripts/platform env prints them, besides
// Vault's secrets.EnvVaultAddr (VAULT_ADDR) and secrets.EnvVaultToken
// (VAULT_TOKEN).
const (
	envBrokers           = "STREAMKIT_BROKERS"
	envSchemaRegistryURL = schema.EnvSchemaRegistryURL
	envSASLBrokers       = "STREAMKIT_SASL_BROKERS"
)

// config is everything run needs; main fills it from flags and the
// environment, tests fill it directly.
type config struct {
	brokers     []string
	registryURL string

	// Vault and SASL: used when vaultKafkaPath is set, and then all of
	// them must be.
	saslBrokers    []string
	vaultAddr      string
	vaultToken     string
	vaultKafkaPath string

	topic string
	// register registers the schema when the registry lacks it: for
	// development. Without it the schema must be registered already.
	register    bool
	rate        float64 // orders per second
	count       int     // 0: until ctx ends
	metricsAddr string
	// shutdownTimeout bounds Flush and Close after ctx ends.
	shutdownTimeout time.Duration
}

func main() {
	cfg := config{
		brokers:     splitList(os.Getenv(envBrokers)),
		registryURL: strings.TrimRight(strings.TrimSpace(os.Getenv(envSchemaRegistryURL)), "/"),
		saslBrokers: splitList(os.Getenv(envSASLBrokers)),
		vaultAddr:   strings.TrimSpace(os.Getenv(secrets.EnvVaultAddr)),
		vaultToken:  strings.TrimSpace(os.Getenv(secrets.EnvVaultToken)),
	}
	flag.StringVar(&cfg.topic, "topic", "retail.orders.v1", "topic to produce to (created with 3 partitions if missing)")
	flag.BoolVar(&cfg.register, "register", false,
		"development: register order.avsc when the registry lacks it (by default it must be registered, as the team's CI does with streamkit apply)")
	flag.Float64Var(&cfg.rate, "rate", 5, "orders per second")
	flag.IntVar(&cfg.count, "count", 0, "orders to produce; 0 produces until stopped")
	flag.StringVar(&cfg.metricsAddr, "metrics-addr", "127.0.0.1:0", "listen address of the /metrics endpoint")
	flag.StringVar(&cfg.vaultKafkaPath, "vault-kafka-path", "",
		"KV v2 secret with the Kafka username and password (keys username, password), e.g. secret/data/retail/producer/kafka; "+
			"needs VAULT_ADDR, VAULT_TOKEN and STREAMKIT_SASL_BROKERS. Empty: plain STREAMKIT_BROKERS")
	flag.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long to wait for outstanding orders at shutdown")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "producer:", err)
		os.Exit(1)
	}
}

// run produces orders until cfg.count are acknowledged or ctx ends. When
// ctx ends it stops producing, waits for every order already handed to the
// client, and returns nil if all of them were acknowledged.
func run(ctx context.Context, cfg config, out io.Writer) (err error) {
	if cfg.rate <= 0 {
		return fmt.Errorf("rate must be positive, got %v", cfg.rate)
	}
	if cfg.count < 0 {
		return fmt.Errorf("count must not be negative, got %d", cfg.count)
	}
	if cfg.shutdownTimeout <= 0 {
		cfg.shutdownTimeout = 30 * time.Second
	}
	if cfg.topic == "" {
		cfg.topic = "retail.orders.v1"
	}
	w := &lockedWriter{w: out}

	if len(cfg.brokers) == 0 && len(cfg.saslBrokers) == 0 {
		brokers, registryURL, stop, err := startEmbedded()
		if err != nil {
			return err
		}
		defer stop()
		cfg.brokers, cfg.registryURL, cfg.register = brokers, registryURL, true
		w.printf("platform: embedded (set %s for a real one)\n", envBrokers)
	}
	if cfg.registryURL == "" {
		return fmt.Errorf("%s is not set", envSchemaRegistryURL)
	}

	kopts, stopVault, err := kafkaOpts(ctx, cfg, w)
	if err != nil {
		return err
	}
	defer stopVault()
	if err := ensureTopic(ctx, cfg.topic, kopts); err != nil {
		return err
	}

	m, err := metrics.NewClientMetrics()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.metricsAddr)
	if err != nil {
		return fmt.Errorf("listen for metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // returns ErrServerClosed on Close
	defer srv.Close()
	w.printf("metrics: http://%s/metrics\n", ln.Addr())

	reg, err := schema.NewRegistryFromOptions(sr.URLs(cfg.registryURL))
	if err != nil {
		return err
	}
	orderAvro, err := schema.ParseFS(schemas, "order.avsc")
	if err != nil {
		return err
	}
	registration := schema.LookupOnly() // fails here if the schema is not registered
	if cfg.register {
		registration = schema.AutoRegister()
	}
	// Orders are keyed by their ID, as text: one order's events stay in
	// one partition, in order.
	producer, err := schema.NewKeyedProducer[string, Order](ctx, reg, cfg.topic, schema.StringKeys(),
		schema.WithSchema(orderAvro),
		schema.WithRegistration(registration),
		schema.WithClientOpts(append(kopts, m.KgoOpts()...)...),
		schema.WithObserver(m))
	if err != nil {
		return err
	}
	// Shutdown must outlive ctx: a cancelled ctx is the signal to stop, not
	// a reason to drop what is buffered.
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.shutdownTimeout)
		defer cancel()
		if cerr := producer.Close(sctx); cerr != nil && err == nil {
			err = fmt.Errorf("close producer: %w", cerr)
		}
	}()
	w.printf("producing to %s at %v orders/s\n", cfg.topic, cfg.rate)

	var (
		mu       sync.Mutex
		acked    int
		failures []error
	)
	// Records are produced with a context that cancelling ctx does not
	// end, so a stop signal never aborts a record already buffered; Flush
	// below bounds the wait.
	pctx := context.WithoutCancel(ctx)
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	ticker := time.NewTicker(time.Duration(float64(time.Second) / cfg.rate))
	defer ticker.Stop()
	sent := 0
loop:
	for cfg.count == 0 || sent < cfg.count {
		select {
		case <-ctx.Done():
			break loop
		case <-ticker.C:
		}
		mu.Lock()
		failed := len(failures) > 0
		mu.Unlock()
		if failed {
			break // report what failed rather than keep producing into it
		}
		o := newOrder(runID, sent)
		sent++
		producer.Produce(pctx, schema.KeyedMessage[string, Order]{Key: o.ID, Value: o}, func(r *kgo.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failures = append(failures, fmt.Errorf("produce %s: %w", o.ID, err))
				return
			}
			acked++
			w.printf("acked %s partition %d offset %d\n", o.ID, r.Partition, r.Offset)
		})
	}
	if ctx.Err() != nil {
		w.printf("stopping: %v\n", context.Cause(ctx))
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.shutdownTimeout)
	defer cancel()
	if err := producer.Flush(sctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	mu.Lock()
	defer mu.Unlock()
	w.printf("produced %d orders, %d acknowledged\n", sent, acked)
	return errors.Join(failures...)
}

// splitList splits a comma-separated list and drops empty entries.
func splitList(v string) []string {
	var out []string
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// startEmbedded runs franz-go's kfake (one broker) and srfake in this
// process, for a demo without a platform; stop closes both.
func startEmbedded() (brokers []string, registryURL string, stop func(), err error) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(1))
	if err != nil {
		return nil, "", nil, fmt.Errorf("start embedded kafka: %w", err)
	}
	reg := srfake.New()
	return cluster.ListenAddrs(), reg.URL(), func() { reg.Close(); cluster.Close() }, nil
}

// kafkaOpts picks the brokers: the SASL listeners with credentials from
// Vault when Vault and SASL brokers are configured, else the plain ones.
// With Vault it starts the client's token renewal, which stop ends.
func kafkaOpts(ctx context.Context, cfg config, w *lockedWriter) (opts []kgo.Opt, stop func(), err error) {
	if cfg.vaultKafkaPath != "" && (cfg.vaultAddr == "" || cfg.vaultToken == "" || len(cfg.saslBrokers) == 0) {
		// Asked for Vault: falling back to plain brokers would hide the
		// misconfiguration.
		return nil, nil, fmt.Errorf("a vault kafka path needs %s, %s and %s",
			secrets.EnvVaultAddr, secrets.EnvVaultToken, envSASLBrokers)
	}
	if cfg.vaultKafkaPath == "" {
		if len(cfg.brokers) == 0 {
			return nil, nil, fmt.Errorf("%s is not set", envBrokers)
		}
		w.printf("kafka: %s\n", strings.Join(cfg.brokers, ","))
		return []kgo.Opt{kgo.SeedBrokers(cfg.brokers...)}, func() {}, nil
	}
	vc, err := secrets.New(ctx, secrets.WithAddress(cfg.vaultAddr), secrets.WithToken(secrets.NewValue(cfg.vaultToken)))
	if err != nil {
		return nil, nil, fmt.Errorf("vault: %w", err)
	}
	creds := vc.Credentials(cfg.vaultKafkaPath, "username", "password", time.Minute, time.Hour)
	// Fail at start, not at the first connection, when the secret is missing.
	if _, _, err := creds.Get(ctx); err != nil {
		return nil, nil, fmt.Errorf("read kafka credentials from vault: %w", err)
	}
	// The token must stay alive through the shutdown flush, which may open
	// new connections after ctx has ended.
	rctx, rcancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = vc.Run(rctx) // returns nil when rctx ends
	}()
	w.printf("kafka: %s (SASL SCRAM-SHA-512, credentials from vault %s)\n", strings.Join(cfg.saslBrokers, ","), cfg.vaultKafkaPath)
	return []kgo.Opt{kgo.SeedBrokers(cfg.saslBrokers...), kgo.SASL(creds.SCRAMSHA512())}, func() { rcancel(); <-done }, nil
}

// ensureTopic creates topic with 3 partitions unless it exists, and waits
// until its offsets list: on a multi-broker cluster a new topic's leaders
// take a moment to be known everywhere.
func ensureTopic(ctx context.Context, topic string, kopts []kgo.Opt) error {
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	resp, err := adm.CreateTopic(ctx, 3, -1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	for {
		offs, err := adm.ListEndOffsets(ctx, topic)
		if err == nil {
			err = offs.Error()
		}
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for topic %s: %w", topic, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

var (
	stores = []string{"berlin-01", "hamburg-03", "munich-02"}
	skus   = []string{"sku-coffee-1kg", "sku-tea-green", "sku-mug-white"}
	prices = []int64{1899, 450, 799}
)

func newOrder(runID string, i int) Order {
	return Order{
		ID:         fmt.Sprintf("o-%s-%d", runID, i),
		Store:      stores[i%len(stores)],
		SKU:        skus[i%len(skus)],
		Quantity:   int32(1 + i%5),
		PriceCents: prices[i%len(prices)],
		Currency:   "EUR",
	}
}

// lockedWriter serializes writes from the produce promises and the main
// loop.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}
