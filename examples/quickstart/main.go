// Command quickstart produces and consumes a few Avro orders through Kafka
// and a schema registry, in the Confluent wire format.
//
//	go run ./examples/quickstart
//
// With no STREAMKIT_BROKERS set it starts an in-process Kafka (franz-go's
// kfake) and schema registry (srfake), so it runs on any machine. To run it
// against a real platform, point it there:
//
//	eval "$(scripts/platform env)"
//	go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/platformtest"
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

const orderSchema = `{
  "type": "record", "name": "Order", "namespace": "retail",
  "fields": [
    {"name": "id",          "type": "string"},
    {"name": "store",       "type": "string"},
    {"name": "sku",         "type": "string"},
    {"name": "quantity",    "type": "int"},
    {"name": "price_cents", "type": "long"},
    {"name": "currency",    "type": "string", "default": "EUR"}
  ]
}`

const topic = "retail.orders.v1"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, platformtest.FromEnvironment()); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run does the quickstart against p, or against an embedded platform when
// p has no brokers, and writes what it did to w.
func run(ctx context.Context, w io.Writer, p platformtest.Platform) error {
	start := time.Now()
	if len(p.Brokers) == 0 {
		e, err := platformtest.StartEmbedded(1)
		if err != nil {
			return err
		}
		defer e.Close()
		p = e.Platform
		fmt.Fprintln(w, "platform: embedded (in-process Kafka and schema registry; set STREAMKIT_BROKERS for a real one)")
	} else {
		if p.SchemaRegistryURL == "" {
			return fmt.Errorf("%s is set but %s is not", platformtest.EnvBrokers, platformtest.EnvSchemaRegistryURL)
		}
		fmt.Fprintf(w, "platform: brokers %s, registry %s\n", strings.Join(p.Brokers, ","), p.SchemaRegistryURL)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...))
	if err != nil {
		return err
	}
	defer cl.Close()
	runID := strconv.FormatInt(start.UnixNano(), 36)

	// 1. The topic.
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, 3, -1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	switch {
	case err == nil:
		fmt.Fprintf(w, "topic %s: created with 3 partitions\n", topic)
	case errors.Is(err, kerr.TopicAlreadyExists):
		fmt.Fprintf(w, "topic %s: already there\n", topic)
	default:
		return fmt.Errorf("create topic %s: %w", topic, err)
	}

	// 2. The producer: the schema is registered under the topic's value
	// subject before the first record (the registry returns the same ID for
	// the same schema on every run), and the ID is cached from then on.
	reg, err := schema.NewRegistryFromOptions(sr.URLs(p.SchemaRegistryURL))
	if err != nil {
		return err
	}
	orderAvro, err := schema.Parse(orderSchema)
	if err != nil {
		return err
	}
	producer, err := schema.NewProducer[Order](ctx, reg, topic,
		schema.WithSchema(orderAvro), schema.WithClientOpts(kgo.SeedBrokers(p.Brokers...)))
	if err != nil {
		return err
	}
	defer producer.Close(ctx)
	id, err := producer.Serde().Prepare(ctx, topic)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "schema %s-value: id %d\n", topic, id)

	// 3. Produce: magic byte 0, the 4-byte schema ID, then Avro binary.
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

	// 4. Consume with a group of this run's own, starting at the records
	// written since the run began, and keep only this run's orders: a
	// long-lived topic holds earlier runs' too.
	consumer, err := schema.NewConsumer[Order](reg, "quickstart-"+runID, []string{topic},
		schema.WithSchema(orderAvro),
		schema.WithClientOpts(kgo.SeedBrokers(p.Brokers...),
			kgo.ConsumeResetOffset(kgo.NewOffset().AfterMilli(runStart.UnixMilli()))))
	if err != nil {
		return err
	}
	defer consumer.Close(ctx)
	for len(want) > 0 {
		recs, err := consumer.Poll(ctx)
		if err != nil {
			return fmt.Errorf("consume: %w", err)
		}
		for _, r := range recs {
			if !fromRun(r.Headers, runID) || !want[r.Value.ID] {
				continue
			}
			delete(want, r.Value.ID)
			o := r.Value
			fmt.Fprintf(w, "consumed %s from %s: %d x %s at %d.%02d %s (partition %d, offset %d)\n",
				o.ID, o.Store, o.Quantity, o.SKU, o.PriceCents/100, o.PriceCents%100, o.Currency, r.Partition, r.Offset)
		}
		consumer.MarkProcessed(recs...)
	}
	fmt.Fprintf(w, "done in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

func fromRun(headers []kgo.RecordHeader, runID string) bool {
	for _, h := range headers {
		if h.Key == "run" {
			return string(h.Value) == runID
		}
	}
	return false
}
