package schema_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/platformtest/embedded"
	"github.com/streamkit/streamkit/schema"
)

type Order struct {
	ID       string `avro:"id"`
	SKU      string `avro:"sku"`
	Quantity int32  `avro:"quantity"`
}

// setup starts an in-process Kafka and registry and creates a topic.
func setup(topics ...string) (*platformtest.Platform, *schema.Registry) {
	e, err := embedded.Start(context.Background())
	if err != nil {
		panic(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.Brokers...))
	if err != nil {
		panic(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopics(context.Background(), 1, 1, nil, topics...); err != nil {
		panic(err)
	}
	reg, err := schema.NewRegistryFromOptions(sr.URLs(e.SchemaRegistryURL))
	if err != nil {
		panic(err)
	}
	return e, reg
}

func ExampleNewProducer() {
	e, reg := setup("retail.orders.v1")
	defer e.Close()
	ctx := context.Background()

	// The schema is derived from Order; under the default AutoRegister it
	// is registered as "retail.orders.v1-value" here, before any record.
	p, err := schema.NewProducer[Order](ctx, reg, "retail.orders.v1",
		schema.WithClientOpts(kgo.SeedBrokers(e.Brokers...)))
	if err != nil {
		panic(err)
	}
	defer p.Close(ctx)

	err = p.ProduceSync(ctx,
		schema.Message[Order]{Key: []byte("o-1"), Value: Order{ID: "o-1", SKU: "coffee-1kg", Quantity: 2}},
		schema.Message[Order]{Key: []byte("o-2"), Value: Order{ID: "o-2", SKU: "tea-green", Quantity: 5}},
	)
	fmt.Println("produced:", err == nil)
	// Output: produced: true
}

func ExampleNewConsumer() {
	e, reg := setup("retail.orders.v1", "retail.orders.v1.dlq")
	defer e.Close()
	ctx := context.Background()

	p, err := schema.NewProducer[Order](ctx, reg, "retail.orders.v1", schema.WithClientOpts(kgo.SeedBrokers(e.Brokers...)))
	if err != nil {
		panic(err)
	}
	if err := p.ProduceSync(ctx, schema.Message[Order]{Value: Order{ID: "o-1", SKU: "coffee-1kg", Quantity: 2}}); err != nil {
		panic(err)
	}
	p.Close(ctx)

	c, err := schema.NewConsumer[Order](ctx, reg, "billing", []string{"retail.orders.v1"},
		schema.OnInvalid(schema.DeadLetter("retail.orders.v1.dlq")),
		schema.WithClientOpts(kgo.SeedBrokers(e.Brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		panic(err)
	}
	defer c.Close(ctx) // commits what was marked and leaves the group

	recs, err := c.Poll(ctx)
	if err != nil {
		panic(err)
	}
	for _, r := range recs {
		fmt.Printf("%s: %d x %s (partition %d, offset %d)\n", r.Value.ID, r.Value.Quantity, r.Value.SKU, r.Partition, r.Offset)
	}
	c.MarkProcessed(recs...) // at-least-once: only marked records are committed
	// Output: o-1: 2 x coffee-1kg (partition 0, offset 0)
}

func ExampleConsumer_Process() {
	e, reg := setup("retail.orders.v1", "retail.orders.v1.dlq")
	defer e.Close()
	ctx := context.Background()

	p, err := schema.NewProducer[Order](ctx, reg, "retail.orders.v1", schema.WithClientOpts(kgo.SeedBrokers(e.Brokers...)))
	if err != nil {
		panic(err)
	}
	for _, o := range []Order{{ID: "o-1", SKU: "coffee-1kg", Quantity: 2}, {ID: "o-2", SKU: "tea-green", Quantity: -1}} {
		if err := p.ProduceSync(ctx, schema.Message[Order]{Key: []byte(o.ID), Value: o}); err != nil {
			panic(err)
		}
	}
	p.Close(ctx)

	c, err := schema.NewConsumer[Order](ctx, reg, "billing", []string{"retail.orders.v1"},
		schema.OnInvalid(schema.DeadLetter("retail.orders.v1.dlq")), // for what cannot be decoded or handled
		schema.WithConcurrency(8),                                   // 8 keys at a time, each key's records in order
		schema.WithClientOpts(kgo.SeedBrokers(e.Brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		panic(err)
	}
	defer c.Close(ctx) // leaves the group

	// Process runs until ctx ends (SIGTERM in a service); here, until both
	// orders are done.
	pctx, stop := context.WithCancel(ctx)
	var seen atomic.Int32
	err = c.Process(pctx, func(ctx context.Context, r *schema.Record[Order]) error {
		if seen.Add(1) == 2 {
			stop() // Process finishes the records in hand, commits and returns
		}
		if r.Value.Quantity <= 0 {
			// No retry cures this: to the dead-letter topic at once.
			return schema.Reject(fmt.Errorf("order %s: quantity %d", r.Value.ID, r.Value.Quantity))
		}
		fmt.Printf("billed %s: %d x %s\n", r.Value.ID, r.Value.Quantity, r.Value.SKU)
		return nil // done: committed once the records before it are done too
	})
	st := c.Stats()
	fmt.Println("err:", err, "processed:", st.Processed, "dead-lettered:", st.DeadLettered)
	// Output:
	// billed o-1: 2 x coffee-1kg
	// err: <nil> processed: 1 dead-lettered: 1
}

func ExampleConsumer_Records() {
	e, reg := setup("retail.orders.v1")
	defer e.Close()
	ctx := context.Background()

	p, err := schema.NewProducer[Order](ctx, reg, "retail.orders.v1", schema.WithClientOpts(kgo.SeedBrokers(e.Brokers...)))
	if err != nil {
		panic(err)
	}
	for _, o := range []Order{{ID: "o-1", SKU: "coffee-1kg", Quantity: 2}, {ID: "o-2", SKU: "tea-green", Quantity: 1}} {
		if err := p.ProduceSync(ctx, schema.Message[Order]{Key: []byte(o.ID), Value: o}); err != nil {
			panic(err)
		}
	}
	p.Close(ctx)

	c, err := schema.NewConsumer[Order](ctx, reg, "billing", []string{"retail.orders.v1"},
		schema.WithClientOpts(kgo.SeedBrokers(e.Brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		panic(err)
	}
	defer c.Close(ctx)
	// One record at a time; a record is marked for commit once the loop
	// moves on from it.
	for r, err := range c.Records(ctx) {
		if err != nil {
			fmt.Println("transient:", err) // a registry outage, a fetch error: the loop goes on
			continue
		}
		fmt.Printf("billed %s: %d x %s\n", r.Value.ID, r.Value.Quantity, r.Value.SKU)
		if r.Value.ID == "o-2" {
			break // a service loops until ctx ends
		}
	}
	// Output:
	// billed o-1: 2 x coffee-1kg
	// billed o-2: 1 x tea-green
}

func ExampleWithRetryTopics() {
	e, reg := setup("retail.orders.v1", "billing.retry-1s", "retail.orders.v1.dlq")
	defer e.Close()
	ctx := context.Background()

	p, err := schema.NewProducer[Order](ctx, reg, "retail.orders.v1", schema.WithClientOpts(kgo.SeedBrokers(e.Brokers...)))
	if err != nil {
		panic(err)
	}
	if err := p.ProduceSync(ctx, schema.Message[Order]{Key: []byte("o-1"), Value: Order{ID: "o-1", SKU: "coffee-1kg", Quantity: 2}}); err != nil {
		panic(err)
	}
	p.Close(ctx)

	// A record still failing after the in-place retries waits a second in
	// billing.retry-1s, without holding up its key, then is tried again;
	// one failing there too goes to the dead-letter topic.
	c, err := schema.NewConsumer[Order](ctx, reg, "billing", []string{"retail.orders.v1"},
		schema.WithRetries(1),
		schema.WithRetryTopics(schema.RetryTopic{Topic: "billing.retry-1s", Delay: time.Second}),
		schema.OnInvalid(schema.DeadLetter("retail.orders.v1.dlq")),
		schema.WithClientOpts(kgo.SeedBrokers(e.Brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		panic(err)
	}
	defer c.Close(ctx)

	pctx, stop := context.WithCancel(ctx)
	err = c.Process(pctx, func(ctx context.Context, r *schema.Record[Order]) error {
		info, retried := r.Retry()
		if !retried {
			return errors.New("stock service timed out")
		}
		fmt.Printf("billed %s from %s after %d attempts; first read from %s\n", r.Value.ID, r.Topic, info.Attempts, info.Topic)
		stop()
		return nil
	})
	st := c.Stats()
	fmt.Println("err:", err, "processed:", st.Processed, "deferred:", st.Deferred, "dead-lettered:", st.DeadLettered)
	// Output:
	// billed o-1 from billing.retry-1s after 2 attempts; first read from retail.orders.v1
	// err: <nil> processed: 1 deferred: 1 dead-lettered: 0
}

func ExampleNewKeyedProducer() {
	e, reg := setup("retail.orders.v1")
	defer e.Close()
	ctx := context.Background()

	// Orders keyed by store, as text.
	p, err := schema.NewKeyedProducer[string, Order](ctx, reg, "retail.orders.v1", schema.StringKeys(),
		schema.WithClientOpts(kgo.SeedBrokers(e.Brokers...)))
	if err != nil {
		panic(err)
	}
	defer p.Close(ctx)
	err = p.ProduceSync(ctx,
		schema.KeyedMessage[string, Order]{Key: "berlin-01", Value: Order{ID: "o-1", SKU: "coffee-1kg", Quantity: 2}},
		schema.KeyedMessage[string, Order]{Key: "berlin-01", Value: Order{ID: "o-2", SKU: "tea-green", Quantity: 1}})
	if err != nil {
		panic(err)
	}

	c, err := schema.NewConsumer[Order](ctx, reg, "stores", []string{"retail.orders.v1"},
		schema.WithClientOpts(kgo.SeedBrokers(e.Brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		panic(err)
	}
	defer c.Close(ctx)
	pctx, stop := context.WithCancel(ctx)
	var seen atomic.Int32
	err = schema.ProcessKeyed(pctx, c, schema.StringKeys(), func(ctx context.Context, store string, r *schema.Record[Order]) error {
		fmt.Printf("%s: %s\n", store, r.Value.ID)
		if seen.Add(1) == 2 {
			stop()
		}
		return nil
	})
	fmt.Println("err:", err)
	// Output:
	// berlin-01: o-1
	// berlin-01: o-2
	// err: <nil>
}

func ExampleNewPipeline() {
	e, reg := setup("retail.orders.v1", "retail.orders.v2")
	defer e.Close()
	ctx := context.Background()

	p, err := schema.NewProducer[Order](ctx, reg, "retail.orders.v1", schema.WithClientOpts(kgo.SeedBrokers(e.Brokers...)))
	if err != nil {
		panic(err)
	}
	if err := p.ProduceSync(ctx, schema.Message[Order]{Key: []byte("o-1"), Value: Order{ID: "o-1", SKU: "coffee-1kg", Quantity: 2}}); err != nil {
		panic(err)
	}
	p.Close(ctx)

	// Orders in, doubled orders out, each input's output committed with its
	// offset in one transaction. The output schema is the team's,
	// registered by its CI; here it is registered on the spot.
	pl, err := schema.NewPipeline[Order, Order](ctx, reg, "doubler", []string{"retail.orders.v1"}, "retail.orders.v2",
		schema.WithTransactionalID("doubler-0"), // stable per instance: a pod's name
		schema.WithOutputRegistration(schema.AutoRegister()),
		schema.WithPipelineClientOpts(kgo.SeedBrokers(e.Brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		panic(err)
	}
	defer pl.Close()
	rctx, stop := context.WithCancel(ctx)
	err = pl.Run(rctx, func(ctx context.Context, r *schema.Record[Order]) ([]schema.Message[Order], error) {
		defer stop() // one order is enough here: Run ends after its transaction
		o := r.Value
		o.Quantity *= 2
		return []schema.Message[Order]{{Key: r.Key, Value: o}}, nil
	})
	st := pl.Stats()
	fmt.Println("err:", err, "transactions:", st.Transactions, "consumed:", st.Consumed, "produced:", st.Produced)
	// Output: err: <nil> transactions: 1 consumed: 1 produced: 1
}

func ExampleCheckCompatibility() {
	v1, _ := schema.Parse(`{"type":"record","name":"Order","fields":[
		{"name":"id","type":"string"}]}`)
	v2, _ := schema.Parse(`{"type":"record","name":"Order","fields":[
		{"name":"id","type":"string"},
		{"name":"currency","type":"string","default":"EUR"}]}`)
	v3, _ := schema.Parse(`{"type":"record","name":"Order","fields":[
		{"name":"id","type":"string"},
		{"name":"currency","type":"string","default":"EUR"},
		{"name":"store","type":"string"}]}`)

	fmt.Println("v2 after v1:", schema.CheckCompatibility(schema.Backward, v2, v1))
	err := schema.CheckCompatibility(schema.Backward, v3, v1, v2)
	fmt.Println("v3 after v2 incompatible:", errors.Is(err, schema.ErrIncompatible))
	// Output:
	// v2 after v1: <nil>
	// v3 after v2 incompatible: true
}
