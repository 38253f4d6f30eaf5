// Command quickstart walks through streamkit once, top to bottom: it
// validates the team's manifests (manifests/orders.jsonnet: a topic and the
// Avro schema of its values) with the validate package, creates the topic
// they declare with the topics package, produces and consumes a few typed
// Avro orders with schema.Producer and schema.Consumer in the Confluent wire
// format, and prints a few client metrics that metrics.ClientMetrics counted
// on the way.
//
//	go run ./examples/quickstart
//
// With no STREAMKIT_BROKERS set it starts an in-process Kafka (franz-go's
// kfake) and schema registry (srfake), so it runs on any machine. To run it
// against a real platform, point it there:
//
//	scripts/platform up
//	eval "$(scripts/platform env)"
//	go run ./examples/quickstart
//
// It reads STREAMKIT_BROKERS (comma-separated) and
// STREAMKIT_SCHEMA_REGISTRY_URL from the environment, as scripts/platform
// env prints them, and takes no flags.
package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/streamkit/streamkit/metrics"
	"github.com/streamkit/streamkit/schema"
	"github.com/streamkit/streamkit/topics"
	"github.com/streamkit/streamkit/validate"
)

// The manifests are compiled in, so that the program runs from any folder.
//
//go:embed manifests
var manifests embed.FS

// Order is a retail order as the team's services exchange it; its Avro
// schema is manifests/order.avsc.
type Order struct {
	ID         string `avro:"id"`
	Store      string `avro:"store"`
	SKU        string `avro:"sku"`
	Quantity   int32  `avro:"quantity"`
	PriceCents int64  `avro:"price_cents"`
	Currency   string `avro:"currency"`
}

const (
	namespace = "retail."
	topic     = "retail.orders.v1"
)

// The variables main reads, as scripts/platform env prints them.
const (
	envBrokers           = "STREAMKIT_BROKERS"
	envSchemaRegistryURL = schema.EnvSchemaRegistryURL
)

// platform is where the quickstart runs: Kafka's bootstrap brokers and the
// registry's Confluent-compatible API.
type platform struct {
	brokers     []string
	registryURL string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	p := platform{
		brokers:     splitList(os.Getenv(envBrokers)),
		registryURL: strings.TrimRight(strings.TrimSpace(os.Getenv(envSchemaRegistryURL)), "/"),
	}
	if err := run(ctx, os.Stdout, p); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
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
// process, so that the quickstart needs no platform; stop closes both.
func startEmbedded() (p platform, stop func(), err error) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(1))
	if err != nil {
		return platform{}, nil, fmt.Errorf("start embedded kafka: %w", err)
	}
	reg := srfake.New()
	return platform{brokers: cluster.ListenAddrs(), registryURL: reg.URL()}, func() { reg.Close(); cluster.Close() }, nil
}

// run does the quickstart against p, or against an embedded platform when
// p has no brokers, and writes what it did to w.
func run(ctx context.Context, w io.Writer, p platform) error {
	start := time.Now()
	if len(p.brokers) == 0 {
		e, stop, err := startEmbedded()
		if err != nil {
			return err
		}
		defer stop()
		p = e
		fmt.Fprintln(w, "platform: embedded (in-process Kafka and schema registry; set STREAMKIT_BROKERS for a real one)")
	} else {
		if p.registryURL == "" {
			return fmt.Errorf("%s is set but %s is not", envBrokers, envSchemaRegistryURL)
		}
		fmt.Fprintf(w, "platform: brokers %s, registry %s\n", strings.Join(p.brokers, ","), redactURL(p.registryURL))
	}

	admin, err := kgo.NewClient(kgo.SeedBrokers(p.brokers...))
	if err != nil {
		return err
	}
	defer admin.Close()

	// 1. Validate the manifests and stop on any error finding. Validation
	// is offline; only the replication factor comes from the cluster.
	brokers, err := kadm.NewClient(admin).BrokerMetadata(ctx)
	if err != nil {
		return fmt.Errorf("read brokers: %w", err)
	}
	replication := min(3, len(brokers.Brokers))
	res, err := validateManifests(ctx, replication)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "validate %s: %d topic(s), %d schema(s), %d finding(s)\n", strings.Join(res.Files, ", "),
		len(res.Manifest.Topics), len(res.Manifest.Schemas), len(res.Findings))
	fmt.Fprint(w, res.Text())
	if !res.OK() {
		return errors.New("the manifests have errors")
	}

	// 2. Create the topics they declare: plan, then apply. Apply is
	// idempotent, so a second run's plan is empty.
	tc, err := topics.NewClient(admin)
	if err != nil {
		return err
	}
	plan, err := tc.Plan(ctx, res.Manifest.Topics, topics.PlanOptions{Namespace: namespace})
	if err != nil {
		return err
	}
	if plan.Empty() {
		fmt.Fprintf(w, "topic %s: up to date\n", topic)
	} else {
		fmt.Fprint(w, plan)
		applied, err := tc.Apply(ctx, plan, topics.ApplyOptions{})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "applied: created %q, updated %q\n", applied.Created, applied.Updated)
	}

	// 3. Metrics: one ClientMetrics counts what the Kafka clients (KgoOpts,
	// once per client) and the schema serdes (WithObserver) do, on a
	// registry of our own.
	promReg := prometheus.NewRegistry()
	m, err := metrics.NewClientMetrics(metrics.ClientRegisterer(promReg))
	if err != nil {
		return err
	}

	// 4. The producer registers the schema under the topic's value subject
	// before the first record (the registry returns the same ID for the
	// same schema on every run) and caches the ID from then on.
	reg, err := schema.NewRegistryFromOptions(sr.URLs(p.registryURL))
	if err != nil {
		return err
	}
	avsc, err := manifests.ReadFile("manifests/order.avsc")
	if err != nil {
		return err
	}
	orderAvro, err := schema.Parse(string(avsc))
	if err != nil {
		return err
	}
	producer, err := schema.NewProducer[Order](ctx, reg, topic,
		schema.WithSchema(orderAvro),
		schema.WithClientOpts(append(m.KgoOpts(), kgo.SeedBrokers(p.brokers...))...),
		schema.WithObserver(m))
	if err != nil {
		return err
	}
	defer producer.Close(ctx)
	id, err := producer.Serde().Prepare(ctx, topic)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "schema %s-value: id %d\n", topic, id)

	// 5. Produce: magic byte 0, the 4-byte schema ID, then Avro binary. A
	// header marks this run's records: a long-lived topic holds earlier
	// runs' too.
	runID := strconv.FormatInt(start.UnixNano(), 36)
	orders := []Order{
		{ID: "o-1001", Store: "berlin-01", SKU: "sku-coffee-1kg", Quantity: 2, PriceCents: 1899, Currency: "EUR"},
		{ID: "o-1002", Store: "hamburg-03", SKU: "sku-tea-green", Quantity: 5, PriceCents: 450, Currency: "EUR"},
		{ID: "o-1003", Store: "berlin-01", SKU: "sku-mug-white", Quantity: 1, PriceCents: 799, Currency: "EUR"},
	}
	runStart := time.Now().Add(-time.Second) // broker and local clocks agree within that
	msgs := make([]schema.Message[Order], len(orders))
	want := map[string]bool{}
	for i, o := range orders {
		msgs[i] = schema.Message[Order]{Key: []byte(o.ID), Value: o, Headers: []kgo.RecordHeader{{Key: "run", Value: []byte(runID)}}}
		want[o.ID] = true
	}
	if err := producer.ProduceSync(ctx, msgs...); err != nil {
		return err
	}
	fmt.Fprintf(w, "produced %d orders\n", len(orders))

	// 6. Consume with a group of this run's own, from the records written
	// since the run began, until this run's orders are all back.
	consumer, err := schema.NewConsumer[Order](ctx, reg, "quickstart-"+runID, []string{topic},
		schema.WithSchema(orderAvro),
		schema.WithClientOpts(append(m.KgoOpts(), kgo.SeedBrokers(p.brokers...),
			kgo.ConsumeResetOffset(kgo.NewOffset().AfterMilli(runStart.UnixMilli())))...),
		schema.WithObserver(m))
	if err != nil {
		return err
	}
	defer consumer.Close(ctx)
	// Process hands over one record at a time and commits what is done;
	// it returns once all are back and back cancels its context.
	pctx, back := context.WithCancel(ctx)
	defer back()
	err = consumer.Process(pctx, func(_ context.Context, r *schema.Record[Order]) error {
		if !fromRun(r.Headers, runID) || !want[r.Value.ID] {
			return nil
		}
		delete(want, r.Value.ID)
		o := r.Value
		fmt.Fprintf(w, "consumed %s from %s: %d x %s at %d.%02d %s (partition %d, offset %d)\n",
			o.ID, o.Store, o.Quantity, o.SKU, o.PriceCents/100, o.PriceCents%100, o.Currency, r.Partition, r.Offset)
		if len(want) == 0 {
			back()
		}
		return nil
	})
	if err == nil && len(want) > 0 {
		err = fmt.Errorf("%d orders not back: %w", len(want), context.Cause(ctx))
	}
	if err != nil {
		return fmt.Errorf("consume: %w", err)
	}

	// 7. Read a few counters back, before the clients close: kprom drops a
	// client's series when it closes. A service serves them instead, with
	// m.Handler() or its own registry on /metrics.
	families, err := promReg.Gather()
	if err != nil {
		return fmt.Errorf("gather metrics: %w", err)
	}
	fmt.Fprintf(w, "metrics: produced %.0f records, fetched %.0f records, schema cache %.0f hit(s) %.0f miss(es), %.0f registry request(s)\n",
		sum(families, "streamkit_client_produce_records_total", "topic", topic),
		sum(families, "streamkit_client_fetch_records_total", "topic", topic),
		sum(families, "streamkit_client_schema_cache_total", "result", "hit"),
		sum(families, "streamkit_client_schema_cache_total", "result", "miss"),
		sum(families, "streamkit_client_registry_requests_total", "", ""))
	fmt.Fprintf(w, "done in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// validateManifests runs the built-in rules over the embedded manifests.
// validate reads files, so they are written to a temporary folder first.
func validateManifests(ctx context.Context, replication int) (*validate.Result, error) {
	dir, err := os.MkdirTemp("", "quickstart-manifests-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := os.CopyFS(dir, manifests); err != nil {
		return nil, fmt.Errorf("write manifests: %w", err)
	}
	return validate.Validate(ctx, validate.Options{
		Dir:     filepath.Join(dir, "manifests"),
		ExtVars: map[string]string{"replication": strconv.Itoa(replication)},
	}, validate.Config{Policy: validate.Policy{Namespace: namespace}})
}

// sum adds up the values of the counter called name, over the series whose
// label is value, or over all of them when label is empty.
func sum(families []*dto.MetricFamily, name, label, value string) float64 {
	matches := func(l *dto.LabelPair) bool { return l.GetName() == label && l.GetValue() == value }
	var total float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if label == "" || slices.ContainsFunc(m.GetLabel(), matches) {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}

func fromRun(headers []kgo.RecordHeader, runID string) bool {
	for _, h := range headers {
		if h.Key == "run" {
			return string(h.Value) == runID
		}
	}
	return false
}

// redactURL hides a password in u, as the registry URL may carry one.
func redactURL(u string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	return parsed.Redacted()
}
