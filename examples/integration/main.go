// Command integration is an order pricer, a small but real service, and
// the template of how a team tests its own service against a streamkit
// platform with platformtest and testcontainers-go.
//
// The service reads typed Avro orders from -input-topic as a member of
// -group with schema.Consumer[Order], prices each one (the sum of its
// lines, 10% off from 100.00 up; an order with an empty or negative line
// is rejected with a reason) and writes a typed Avro Price, keyed by the
// order's ID, to -output-topic with schema.Producer[Price], 16 orders at
// a time with Consumer.Process. It is at-least-once: an order's offset is
// committed only after its price is acknowledged, so a crash re-prices
// rather than loses. Records that are not Avro go to -dlq. SIGINT or
// SIGTERM finishes the orders in hand, commits and leaves the group, and
// exits 0. It creates no topics: they
// belong to the team's manifests (see examples/gitops).
//
// Every flag defaults to an environment variable, so the same binary runs
// from a shell and as a container:
//
//	-brokers              STREAMKIT_BROKERS (comma-separated, required)
//	-schema-registry-url  STREAMKIT_SCHEMA_REGISTRY_URL (required)
//	-input-topic          PRICER_INPUT_TOPIC, default retail.carts.v1
//	-output-topic         PRICER_OUTPUT_TOPIC, default retail.prices.v1
//	-dlq                  PRICER_DLQ_TOPIC, default the input topic plus .dlq
//	-group                PRICER_GROUP, default retail-order-pricer
//	-shutdown-timeout     PRICER_SHUTDOWN_TIMEOUT, default 30s
//	-register             PRICER_REGISTER, default false
//
// It reads and writes with schemas/order.avsc and schemas/price.avsc, the
// team repository's schemas, embedded at build time. Price's must be
// registered under the output topic's subject, as the team's CI does;
// -register registers it instead, for development.
//
// Against the project's platform, once the three topics exist:
//
//	eval "$(scripts/platform env)"
//	go run ./examples/integration
//
// main_test.go is the part to copy. TestPricerEmbedded runs the service in
// process on kfake and srfake (platformtest/embedded) and needs nothing.
// TestIntegrationPricer runs it in process against Kafka and the registry
// in Docker containers (platformtest/containers);
// TestIntegrationPricerContainer builds the service into a FROM scratch
// image and runs that container on the platform's Docker network, the way
// it is deployed. Both need a Docker Engine, skip without one, and fail
// instead when STREAMKIT_REQUIRE_PLATFORM=1 (set it in CI).
// TestIntegrationPricerExternal runs the in-process test against the
// platform the STREAMKIT_* variables name (platformtest.StartT), and skips
// (or fails) the same way without them. All three backends give the same
// *platformtest.Platform, so one test body serves them all; only the test
// binary links platformtest and testcontainers, never the service:
//
//	go test ./examples/integration/
//
// Where testcontainers' Ryuk image cannot be pulled, set
// TESTCONTAINERS_RYUK_DISABLED=true (the tests remove what they start
// themselves); when the tests run inside a container, set
// TESTCONTAINERS_HOST_OVERRIDE to the address where the containers'
// ports are reachable, e.g. 127.0.0.1. In this repository `eval
// "$(scripts/containers env)"` sets both and names locally built images.
//
// To copy the folder into a service's repository: rename Order, Price,
// their Avro schemas and price to the service's own records and logic; the
// PRICER_* variables, the default topics and group, and the image name in
// main_test.go (pricerImage); and the test's orders and expected prices.
// platformtest, the build of the binary and the container's set-up stay
// as they are.
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/schema"
)

// Order is a customer's order as the shop's checkout writes it.
type Order struct {
	ID       string `avro:"id"`
	Customer string `avro:"customer"`
	Currency string `avro:"currency"`
	Lines    []Line `avro:"lines"`
}

// Line is one article of an Order.
type Line struct {
	SKU            string `avro:"sku"`
	Quantity       int32  `avro:"quantity"`
	UnitPriceCents int64  `avro:"unit_price_cents"`
}

// Price is what the pricer writes for each order.
type Price struct {
	OrderID       string `avro:"order_id"`
	Currency      string `avro:"currency"`
	Items         int32  `avro:"items"`
	SubtotalCents int64  `avro:"subtotal_cents"`
	DiscountCents int64  `avro:"discount_cents"`
	TotalCents    int64  `avro:"total_cents"`
	// Rejected is why the order could not be priced; empty when it was.
	Rejected string `avro:"rejected"`
}

// schemas holds the team repository's .avsc files of Order and Price,
// the schemas its CI registers (streamkit apply): the service reads and
// writes with them, and NewConsumer and NewProducer check that Order and
// Price fit them.
//
//go:embed schemas
var schemas embed.FS

// Pricing rules.
const (
	discountFromCents = 100_00 // subtotals from 100.00 up get discountPercent off
	discountPercent   = 10
)

// price prices o. An order without lines, or with a line whose quantity is
// not positive or whose unit price is negative, is rejected: its Price
// says why and carries no amounts.
func price(o Order) Price {
	p := Price{OrderID: o.ID, Currency: o.Currency}
	if len(o.Lines) == 0 {
		p.Rejected = "no lines"
		return p
	}
	var items int32
	var subtotal int64
	for i, l := range o.Lines {
		if l.Quantity <= 0 {
			p.Rejected = fmt.Sprintf("line %d (%s): quantity %d", i, l.SKU, l.Quantity)
			return p
		}
		if l.UnitPriceCents < 0 {
			p.Rejected = fmt.Sprintf("line %d (%s): unit price %d", i, l.SKU, l.UnitPriceCents)
			return p
		}
		items += l.Quantity
		subtotal += int64(l.Quantity) * l.UnitPriceCents
	}
	p.Items, p.SubtotalCents = items, subtotal
	if subtotal >= discountFromCents {
		p.DiscountCents = subtotal * discountPercent / 100
	}
	p.TotalCents = p.SubtotalCents - p.DiscountCents
	return p
}

// Environment variables the flags default to. STREAMKIT_* are what
// scripts/platform env prints; PRICER_* are this service's own.
const (
	envBrokers         = "STREAMKIT_BROKERS"
	envRegistryURL     = "STREAMKIT_SCHEMA_REGISTRY_URL"
	envInputTopic      = "PRICER_INPUT_TOPIC"
	envOutputTopic     = "PRICER_OUTPUT_TOPIC"
	envDLQTopic        = "PRICER_DLQ_TOPIC"
	envGroup           = "PRICER_GROUP"
	envShutdownTimeout = "PRICER_SHUTDOWN_TIMEOUT"
	envRegister        = "PRICER_REGISTER"
)

// config is everything run needs; main fills it from flags and the
// environment, tests fill it directly.
type config struct {
	brokers     []string
	registryURL string
	inputTopic  string
	outputTopic string
	// dlq receives input records that are not Avro; empty means
	// inputTopic+".dlq". It must exist.
	dlq   string
	group string
	// shutdownTimeout bounds finishing the batch in hand, the final commit
	// and leaving the group once ctx ends.
	shutdownTimeout time.Duration
	// register registers price.avsc when the registry lacks it, for
	// development; by default it must be registered, as the team's CI
	// does, and the service stops at start when it is not.
	register bool
	// logger defaults to discarding.
	logger *slog.Logger
}

// validate checks cfg and fills in its defaults. Its error lists every
// problem, on one line.
func (c *config) validate() error {
	var errs []string
	if len(c.brokers) == 0 {
		errs = append(errs, "no brokers: set -brokers or "+envBrokers)
	}
	if c.registryURL == "" {
		errs = append(errs, "no schema registry: set -schema-registry-url or "+envRegistryURL)
	}
	if c.inputTopic == "" || c.outputTopic == "" || c.group == "" {
		errs = append(errs, "input topic, output topic and group must be set")
	}
	if c.inputTopic != "" && c.inputTopic == c.outputTopic {
		errs = append(errs, fmt.Sprintf("input and output topic are both %q", c.inputTopic))
	}
	if c.shutdownTimeout <= 0 {
		errs = append(errs, fmt.Sprintf("shutdown timeout %v: must be positive", c.shutdownTimeout))
	}
	if c.dlq == "" {
		c.dlq = c.inputTopic + ".dlq"
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// parseConfig reads the flags in args, each defaulting to its variable in
// getenv, and validates the result.
func parseConfig(args []string, getenv func(string) string) (config, error) {
	envOr := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	var cfg config
	var brokers string
	fs := flag.NewFlagSet("pricer", flag.ContinueOnError)
	fs.StringVar(&brokers, "brokers", envOr(envBrokers, ""), "comma-separated Kafka bootstrap brokers")
	fs.StringVar(&cfg.registryURL, "schema-registry-url", envOr(envRegistryURL, ""), "schema registry URL (Confluent-compatible API)")
	fs.StringVar(&cfg.inputTopic, "input-topic", envOr(envInputTopic, "retail.carts.v1"), "topic of the orders: carts of lines, not the producer example's single-line orders")
	fs.StringVar(&cfg.outputTopic, "output-topic", envOr(envOutputTopic, "retail.prices.v1"), "topic of the prices")
	fs.StringVar(&cfg.dlq, "dlq", envOr(envDLQTopic, ""), "topic for input records that are not Avro (default: the input topic with .dlq appended)")
	fs.StringVar(&cfg.group, "group", envOr(envGroup, "retail-order-pricer"), "consumer group")
	register, err := strconv.ParseBool(envOr(envRegister, "false"))
	if err != nil {
		return cfg, fmt.Errorf("%s: %w", envRegister, err)
	}
	fs.BoolVar(&cfg.register, "register", register, "development: register schemas/price.avsc when the registry lacks it")
	timeout, err := time.ParseDuration(envOr(envShutdownTimeout, "30s"))
	if err != nil {
		return cfg, fmt.Errorf("%s: %w", envShutdownTimeout, err)
	}
	fs.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", timeout, "how long to finish the batch in hand and commit at shutdown")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for b := range strings.SplitSeq(brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			cfg.brokers = append(cfg.brokers, b)
		}
	}
	cfg.registryURL = strings.TrimRight(cfg.registryURL, "/")
	return cfg, cfg.validate()
}

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pricer:", err)
		os.Exit(2)
	}
	cfg.logger = slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		cfg.logger.Error("pricer failed", "err", err)
		os.Exit(1)
	}
}

// run prices orders until ctx ends, then finishes the batch in hand,
// commits and leaves the group. It returns nil after a clean shutdown.
func run(ctx context.Context, cfg config) (err error) {
	if err := cfg.validate(); err != nil {
		return err
	}
	log := cfg.logger
	reg, err := schema.NewRegistryFromOptions(sr.URLs(cfg.registryURL))
	if err != nil {
		return err
	}
	orderAvro, err := schema.ParseFS(schemas, "schemas/order.avsc")
	if err != nil {
		return err
	}
	priceAvro, err := schema.ParseFS(schemas, "schemas/price.avsc")
	if err != nil {
		return err
	}
	kopts := []kgo.Opt{kgo.SeedBrokers(cfg.brokers...)}

	// NewProducer registers the Price schema before anything is consumed,
	// so a registry that refuses it stops the service at start.
	registration := schema.LookupOnly()
	if cfg.register {
		registration = schema.AutoRegister()
	}
	producer, err := schema.NewProducer[Price](ctx, reg, cfg.outputTopic, schema.WithRegistration(registration),
		schema.WithSchema(priceAvro), schema.WithClientOpts(kopts...))
	if err != nil {
		return err
	}
	// Deferred first, so it runs last: after the consumer's Close.
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.shutdownTimeout)
		defer cancel()
		if cerr := producer.Close(sctx); cerr != nil && err == nil {
			err = cerr
		}
	}()

	consumer, err := schema.NewConsumer[Order](ctx, reg, cfg.group, []string{cfg.inputTopic},
		schema.WithSchema(orderAvro),
		schema.OnInvalid(schema.DeadLetter(cfg.dlq)),
		// 16 orders at a time, each key's in order. A price that cannot be
		// written is tried again until it is: Kafka away for a while is
		// no reason to dead-letter an order.
		schema.WithConcurrency(16),
		schema.WithRetries(schema.RetryForever),
		schema.WithDrainTimeout(cfg.shutdownTimeout),
		schema.WithLogger(log),
		schema.WithClientOpts(kopts...))
	if err != nil {
		return err
	}
	// Close leaves the group, so the next member starts where this one
	// stopped; it runs after ctx has ended, so it gets a context of its own.
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.shutdownTimeout)
		defer cancel()
		if cerr := consumer.Close(sctx); cerr != nil && err == nil {
			err = cerr
		}
		log.Info("stopped", "priced", consumer.Stats().Processed, "dead_lettered", consumer.Stats().DeadLettered, "clean", err == nil)
	}()
	log.Info("pricing orders", "input", cfg.inputTopic, "output", cfg.outputTopic, "group", cfg.group, "dlq", cfg.dlq)

	// At least once: an order's offset is committed only once its price is
	// acknowledged, so a crash prices it again rather than losing it. Once
	// ctx ends, Process finishes the orders in hand, commits and returns.
	err = consumer.Process(ctx, func(ctx context.Context, o *schema.Record[Order]) error {
		p := price(o.Value)
		if p.Rejected != "" {
			log.Warn("order rejected", "order", o.Value.ID, "reason", p.Rejected)
		}
		return producer.ProduceSync(ctx, schema.Message[Price]{Key: []byte(o.Value.ID), Value: p})
	})
	if err != nil {
		return fmt.Errorf("consume: %w", err)
	}
	log.Info("stopping", "cause", context.Cause(ctx))
	return nil
}
