// Command consumer is a small service that reads typed Avro retail orders
// as a member of a consumer group with schema.Consumer[Order]. It shows
// at-least-once processing with Consumer.Process (an order's offset is
// committed only after it is handled), records that cannot be decoded sent
// to a dead-letter topic
// (OnInvalid(DeadLetter(topic+".dlq"))), client metrics on /metrics
// (metrics.ClientMetrics wired with KgoOpts and WithObserver), and a
// graceful shutdown on SIGINT or SIGTERM: Process finishes the orders in
// hand and commits, Close leaves the group, so the next member starts
// where this one stopped.
//
// With no STREAMKIT_BROKERS set it runs on an embedded platform (franz-go's
// kfake and srfake in process) seeded with a few demo orders and one
// corrupt record, prints them, and waits for Ctrl-C:
//
//	go run ./examples/consumer
//
// Against the project's platform, next to examples/producer:
//
//	eval "$(scripts/platform env)"
//	go run ./examples/producer -rate 10 &
//	go run ./examples/consumer -group retail-orders-printer
//
// Metrics are served on -metrics-addr (default 127.0.0.1:0, a free port,
// printed at start).
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
	"strings"
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

// order.avsc is the team repository's schema of Order: the consumer reads
// every version of the topic's records into it, and NewConsumer checks
// that Order fits it.
//
//go:embed order.avsc
var schemas embed.FS

// The variables main reads, as scripts/platform env prints them.
const (
	envBrokers           = "STREAMKIT_BROKERS"
	envSchemaRegistryURL = schema.EnvSchemaRegistryURL
)

// config is everything run needs; main fills it from flags and the
// environment, tests fill it directly.
type config struct {
	brokers     []string
	registryURL string
	topic       string
	group       string
	// dlq is the dead-letter topic; empty means topic+".dlq". run creates
	// it when it is missing.
	dlq         string
	metricsAddr string
	// shutdownTimeout bounds the commit and leave in Close after ctx ends.
	shutdownTimeout time.Duration
}

func main() {
	cfg := config{
		brokers:     splitList(os.Getenv(envBrokers)),
		registryURL: strings.TrimRight(strings.TrimSpace(os.Getenv(envSchemaRegistryURL)), "/"),
	}
	flag.StringVar(&cfg.topic, "topic", "retail.orders.v1", "topic to consume")
	flag.StringVar(&cfg.group, "group", "retail-orders-printer", "consumer group")
	flag.StringVar(&cfg.dlq, "dlq", "", "dead-letter topic (default: the topic with .dlq appended)")
	flag.StringVar(&cfg.metricsAddr, "metrics-addr", "127.0.0.1:0", "listen address of the /metrics endpoint")
	flag.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long to wait for the final commit at shutdown")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "consumer:", err)
		os.Exit(1)
	}
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

// run consumes orders until ctx ends, then commits what it processed and
// leaves the group.
func run(ctx context.Context, cfg config, w io.Writer) (err error) {
	if cfg.topic == "" || cfg.group == "" {
		return errors.New("topic and group must be set")
	}
	if cfg.dlq == "" {
		cfg.dlq = cfg.topic + ".dlq"
	}
	if cfg.shutdownTimeout <= 0 {
		cfg.shutdownTimeout = 30 * time.Second
	}

	if len(cfg.brokers) == 0 {
		brokers, registryURL, stop, err := startEmbedded()
		if err != nil {
			return err
		}
		defer stop()
		cfg.brokers, cfg.registryURL = brokers, registryURL
		fmt.Fprintf(w, "platform: embedded, seeded with demo orders (set %s for a real one)\n", envBrokers)
		if err := seed(ctx, cfg); err != nil {
			return err
		}
	} else if cfg.registryURL == "" {
		return fmt.Errorf("%s is set but %s is not", envBrokers, envSchemaRegistryURL)
	} else {
		fmt.Fprintf(w, "platform: brokers %s, registry %s\n", strings.Join(cfg.brokers, ","), cfg.registryURL)
	}
	kopts := []kgo.Opt{kgo.SeedBrokers(cfg.brokers...)}
	// DeadLetter needs its topic to exist before the first bad record.
	if err := ensureTopic(ctx, cfg.dlq, kopts); err != nil {
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
	fmt.Fprintf(w, "metrics: http://%s/metrics\n", ln.Addr())

	reg, err := schema.NewRegistryFromOptions(sr.URLs(cfg.registryURL))
	if err != nil {
		return err
	}
	orderAvro, err := schema.ParseFS(schemas, "order.avsc")
	if err != nil {
		return err
	}
	consumer, err := schema.NewConsumer[Order](ctx, reg, cfg.group, []string{cfg.topic},
		schema.WithSchema(orderAvro),
		schema.OnInvalid(schema.DeadLetter(cfg.dlq)),
		schema.WithClientOpts(append(kopts, m.KgoOpts()...)...),
		schema.WithObserver(m))
	if err != nil {
		return err
	}
	// Close commits the marked offsets and leaves the group; it must run
	// after ctx has ended, so it gets a context of its own.
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.shutdownTimeout)
		defer cancel()
		cerr := consumer.Close(sctx)
		if cerr != nil && err == nil {
			err = cerr
		}
		st := consumer.Stats()
		fmt.Fprintf(w, "stopped: %d processed, %d dead-lettered to %s, offsets committed: %t\n",
			st.Processed, st.DeadLettered, cfg.dlq, cerr == nil)
	}()
	fmt.Fprintf(w, "consuming %s as group %s, dead letters to %s\n", cfg.topic, cfg.group, cfg.dlq)

	// Process hands each order to handle, commits only what is done,
	// dead-letters what cannot be decoded, and once ctx ends finishes the
	// orders in hand, commits and returns nil.
	err = consumer.Process(ctx, func(_ context.Context, r *schema.Record[Order]) error {
		handle(w, r)
		return nil
	})
	if err != nil {
		return fmt.Errorf("consume: %w", err)
	}
	fmt.Fprintf(w, "stopping: %v\n", context.Cause(ctx))
	return nil
}

// handle is the service's work; here it prints the order.
func handle(w io.Writer, r *schema.Record[Order]) {
	o := r.Value
	fmt.Fprintf(w, "processed %s from %s: %d x %s at %d.%02d %s (partition %d, offset %d)\n",
		o.ID, o.Store, o.Quantity, o.SKU, o.PriceCents/100, o.PriceCents%100, o.Currency, r.Partition, r.Offset)
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

// seed writes three demo orders and one record that is not Avro to the
// embedded platform's topic, so a run without a real platform has
// something to process and something to dead-letter.
func seed(ctx context.Context, cfg config) error {
	kopts := []kgo.Opt{kgo.SeedBrokers(cfg.brokers...)}
	if err := ensureTopic(ctx, cfg.topic, kopts); err != nil {
		return err
	}
	reg, err := schema.NewRegistryFromOptions(sr.URLs(cfg.registryURL))
	if err != nil {
		return err
	}
	orderAvro, err := schema.ParseFS(schemas, "order.avsc")
	if err != nil {
		return err
	}
	p, err := schema.NewProducer[Order](ctx, reg, cfg.topic, schema.WithSchema(orderAvro), schema.WithClientOpts(kopts...))
	if err != nil {
		return err
	}
	defer p.Close(ctx)
	if err := p.ProduceSync(ctx,
		schema.Message[Order]{Key: []byte("o-1001"), Value: Order{ID: "o-1001", Store: "berlin-01", SKU: "sku-coffee-1kg", Quantity: 2, PriceCents: 1899, Currency: "EUR"}},
		schema.Message[Order]{Key: []byte("o-1002"), Value: Order{ID: "o-1002", Store: "hamburg-03", SKU: "sku-tea-green", Quantity: 5, PriceCents: 450, Currency: "EUR"}},
		schema.Message[Order]{Key: []byte("o-1003"), Value: Order{ID: "o-1003", Store: "berlin-01", SKU: "sku-mug-white", Quantity: 1, PriceCents: 799, Currency: "EUR"}},
	); err != nil {
		return fmt.Errorf("seed orders: %w", err)
	}
	bad := &kgo.Record{Topic: cfg.topic, Key: []byte("o-bad"), Value: []byte(`{"id":"o-bad"}`)}
	if err := p.Client().ProduceSync(ctx, bad).FirstErr(); err != nil {
		return fmt.Errorf("seed corrupt record: %w", err)
	}
	return nil
}
