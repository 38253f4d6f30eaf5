package platformtest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/platformtest/embedded"
	"github.com/streamkit/streamkit/schema"
)

type Order struct {
	ID  string `avro:"id"`
	SKU string `avro:"sku"`
}

// Every backend gives the same Platform with the same ready-made clients:
// here the embedded one, in this process; platformtest.Start (the
// platform the environment names) and containers.Start (Docker) instead
// give Connect and Vault too.
func Example() {
	ctx := context.Background()
	p, err := embedded.Start(ctx)
	if err != nil {
		panic(err)
	}
	defer p.Close()

	if _, err := p.Clients.Admin.CreateTopic(ctx, 1, 1, nil, "orders"); err != nil {
		panic(err)
	}
	prod, err := schema.NewProducer[Order](ctx, p.Clients.Registry, "orders",
		schema.WithClientOpts(kgo.SeedBrokers(p.Brokers...)))
	if err != nil {
		panic(err)
	}
	defer prod.Close(ctx)
	if err := prod.ProduceSync(ctx, schema.Message[Order]{Value: Order{ID: "o-1", SKU: "tea"}}); err != nil {
		panic(err)
	}
	subjects, err := p.Clients.Registry.Client().Subjects(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Backend, subjects)
	// Output: embedded [orders-value]
}

// Start connects to the platform the environment names, such as the one
// scripts/platform runs (eval "$(scripts/platform env)"). Without it, Start
// fails with ErrUnavailable, on which StartT skips a test.
func ExampleStart() {
	ctx := context.Background()
	p, err := platformtest.Start(ctx, platformtest.WithComponents(platformtest.Kafka, platformtest.SchemaRegistry))
	if errors.Is(err, platformtest.ErrUnavailable) {
		fmt.Println("no platform:", err)
		return
	}
	if err != nil {
		panic(err)
	}
	defer p.Close() // closes the clients; the platform keeps running

	brokers, err := p.Clients.Admin.ListBrokers(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Backend, len(brokers), "broker(s), registry at", p.SchemaRegistryURL)
}
