package platformtest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/platformtest"
)

func TestEmbedded(t *testing.T) {
	e := platformtest.StartEmbeddedT(t, 3)
	if got := len(e.Brokers); got != 3 {
		t.Fatalf("got %d brokers, want 3", got)
	}
	if missing := e.Missing(platformtest.Kafka, platformtest.SchemaRegistry); missing != nil {
		t.Fatalf("embedded platform lacks %v", missing)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	cl, err := kgo.NewClient(kgo.SeedBrokers(e.Brokers...), kgo.ConsumeTopics("t"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 2, 1, nil, "t"); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	fs := cl.PollRecords(ctx, 1)
	if errs := fs.Errors(); len(errs) > 0 {
		t.Fatalf("fetch: %v", errs)
	}
	if recs := fs.Records(); len(recs) != 1 || string(recs[0].Value) != "v" {
		t.Fatalf("got %v, want one record with value v", recs)
	}

	rcl, err := sr.NewClient(sr.URLs(e.SchemaRegistryURL))
	if err != nil {
		t.Fatal(err)
	}
	ss, err := rcl.CreateSchema(ctx, "t-value", sr.Schema{Schema: `{"type":"string"}`})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	if ss.ID <= 0 {
		t.Fatalf("got schema id %d, want > 0", ss.ID)
	}

	e.Close()
	e.Close() // idempotent
}

func ExampleStartEmbedded() {
	e, err := platformtest.StartEmbedded(1)
	if err != nil {
		panic(err)
	}
	defer e.Close()

	ctx := context.Background()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.Brokers...), kgo.ConsumeTopics("greetings"))
	if err != nil {
		panic(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, "greetings"); err != nil {
		panic(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "greetings", Value: []byte("hello")}).FirstErr(); err != nil {
		panic(err)
	}
	r := cl.PollRecords(ctx, 1).Records()[0]
	fmt.Printf("%s from %s[%d]\n", r.Value, r.Topic, r.Partition)
	// Output: hello from greetings[0]
}
