package embedded_test

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/platformtest/embedded"
)

func ExampleStart() {
	ctx := context.Background()
	p, err := embedded.Start(ctx, embedded.WithBrokers(1))
	if err != nil {
		panic(err)
	}
	defer p.Close()

	if _, err := p.Clients.Admin.CreateTopic(ctx, 1, 1, nil, "greetings"); err != nil {
		panic(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...), kgo.ConsumeTopics("greetings"))
	if err != nil {
		panic(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "greetings", Value: []byte("hello")}).FirstErr(); err != nil {
		panic(err)
	}
	r := cl.PollRecords(ctx, 1).Records()[0]
	fmt.Printf("%s from %s[%d]\n", r.Value, r.Topic, r.Partition)
	// Output: hello from greetings[0]
}
