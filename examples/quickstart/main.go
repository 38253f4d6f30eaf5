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
	"strings"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/platformtest"
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

	cl, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		return err
	}
	defer cl.Close()

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

	// 2. The schema, registered under the topic's value subject; the
	// registry returns the same ID for the same schema on every run.
	registry, err := sr.NewClient(sr.URLs(p.SchemaRegistryURL))
	if err != nil {
		return err
	}
	subject := topic + "-value"
	registered, err := registry.CreateSchema(ctx, subject, sr.Schema{Schema: orderSchema, Type: sr.TypeAvro})
	if err != nil {
		return fmt.Errorf("register schema under %s: %w", subject, err)
	}
	fmt.Fprintf(w, "schema %s: version %d, id %d\n", subject, registered.Version, registered.ID)

	avroSchema, err := avro.Parse(orderSchema)
	if err != nil {
		return err
	}
	var serde sr.Serde
	serde.Register(registered.ID, Order{},
		sr.EncodeFn(func(v any) ([]byte, error) { return avro.Marshal(avroSchema, v) }),
		sr.DecodeFn(func(b []byte, v any) error { return avro.Unmarshal(avroSchema, b, v) }),
	)

	// 3. Produce: magic byte 0, the 4-byte schema ID, then Avro binary.
	orders := []Order{
		{ID: "o-1001", Store: "berlin-01", SKU: "sku-coffee-1kg", Quantity: 2, PriceCents: 1899, Currency: "EUR"},
		{ID: "o-1002", Store: "hamburg-03", SKU: "sku-tea-green", Quantity: 5, PriceCents: 450, Currency: "EUR"},
		{ID: "o-1003", Store: "berlin-01", SKU: "sku-mug-white", Quantity: 1, PriceCents: 799, Currency: "EUR"},
	}
	records := make([]*kgo.Record, len(orders))
	for i, o := range orders {
		value, err := serde.Encode(o)
		if err != nil {
			return fmt.Errorf("encode order %s: %w", o.ID, err)
		}
		records[i] = &kgo.Record{Key: []byte(o.ID), Value: value}
	}
	results := cl.ProduceSync(ctx, records...)
	if err := results.FirstErr(); err != nil {
		return fmt.Errorf("produce: %w", err)
	}
	fmt.Fprintf(w, "produced %d orders\n", len(orders))

	// 4. Consume exactly what was produced: from each record's offset, so a
	// rerun against a long-lived topic reads this run's orders only.
	offsets := map[int32]kgo.Offset{}
	want := map[string]bool{}
	for _, r := range results { // in produce order, so the first per partition is the lowest
		if _, ok := offsets[r.Record.Partition]; !ok {
			offsets[r.Record.Partition] = kgo.NewOffset().At(r.Record.Offset)
		}
		want[fmt.Sprintf("%d/%d", r.Record.Partition, r.Record.Offset)] = true
	}
	consumer, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}))
	if err != nil {
		return err
	}
	defer consumer.Close()
	for len(want) > 0 {
		fs := consumer.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("consume: %w", err)
		}
		if err := fs.Err(); err != nil {
			return fmt.Errorf("consume: %w", err)
		}
		for _, r := range fs.Records() {
			key := fmt.Sprintf("%d/%d", r.Partition, r.Offset)
			if !want[key] {
				continue
			}
			delete(want, key)
			var o Order
			if err := serde.Decode(r.Value, &o); err != nil {
				return fmt.Errorf("decode record at %s: %w", key, err)
			}
			fmt.Fprintf(w, "consumed %s from %s: %d x %s at %d.%02d %s (partition %d, offset %d)\n",
				o.ID, o.Store, o.Quantity, o.SKU, o.PriceCents/100, o.PriceCents%100, o.Currency, r.Partition, r.Offset)
		}
	}
	fmt.Fprintf(w, "done in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}
