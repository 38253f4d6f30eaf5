package platformtest_test

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/schema"
)

type Order struct {
	ID  string `avro:"id"`
	SKU string `avro:"sku"`
}

// Start with the embedded backend runs in this process; Containers() or
// External() instead give the same Platform, with Connect and Vault too.
func ExampleStart() {
	ctx := context.Background()
	p, err := platformtest.Start(ctx, platformtest.Embedded())
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
