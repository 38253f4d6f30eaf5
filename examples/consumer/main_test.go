package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/platformtest/embedded"
	"github.com/streamkit/streamkit/schema"
)

// syncBuffer lets a test read run's output while run still writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	processedLine = regexp.MustCompile(`(?m)^processed (o-\S+) from \S+: \d+ x \S+ at \d+\.\d\d EUR \(partition \d+, offset \d+\)$`)
	metricsLine   = regexp.MustCompile(`(?m)^metrics: (http://\S+/metrics)$`)
)

// produceInput writes 10 good orders and 2 records that are not in the
// Confluent wire format, and returns the good orders' IDs.
func produceInput(t *testing.T, p platformtest.Platform, topic string) map[string]bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reg, err := schema.NewRegistryFromOptions(sr.URLs(p.SchemaRegistryURL))
	if err != nil {
		t.Fatal(err)
	}
	orderAvro, err := schema.ParseFS(schemas, "order.avsc")
	if err != nil {
		t.Fatal(err)
	}
	producer, err := schema.NewProducer[Order](ctx, reg, topic,
		schema.WithSchema(orderAvro), schema.WithClientOpts(kgo.SeedBrokers(p.Brokers...)))
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close(ctx)
	want := map[string]bool{}
	var msgs []schema.Message[Order]
	for i := range 10 {
		id := fmt.Sprintf("o-%d", 2000+i)
		want[id] = true
		msgs = append(msgs, schema.Message[Order]{Key: []byte(id), Value: Order{
			ID: id, Store: "berlin-01", SKU: "sku-coffee-1kg", Quantity: int32(1 + i), PriceCents: 1899, Currency: "EUR",
		}})
	}
	if err := producer.ProduceSync(ctx, msgs[:5]...); err != nil {
		t.Fatal(err)
	}
	corrupt := []*kgo.Record{
		{Topic: topic, Key: []byte("bad-1"), Value: []byte(`{"id":"not avro"}`)},
		{Topic: topic, Key: []byte("bad-2"), Value: []byte{0, 0, 0}}, // too short for a schema ID
	}
	if err := producer.Client().ProduceSync(ctx, corrupt...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := producer.ProduceSync(ctx, msgs[5:]...); err != nil {
		t.Fatal(err)
	}
	return want
}

// consumeAll reads topic from the start until it has n records.
func consumeAll(t *testing.T, brokers []string, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("got %d of %d records from %s", len(recs), n, topic)
		}
		recs = append(recs, fs.Records()...)
	}
	return recs
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// checkConsumer runs the consumer over 10 good and 2 corrupt records,
// stops it as SIGTERM would, and checks what it processed, dead-lettered,
// exported and committed.
func checkConsumer(t *testing.T, p platformtest.Platform, topic, group string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close) // after the cleanup below that uses it
	adm := kadm.NewClient(cl)
	dlq := topic + ".dlq"
	platformtest.CreateTopicsT(t, adm, 3, topic, dlq)
	t.Cleanup(func() {
		_, _ = adm.DeleteTopics(context.Background(), topic, dlq)
		_, _ = adm.DeleteGroup(context.Background(), group)
	})
	want := produceInput(t, p, topic)

	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	cfg := config{brokers: p.Brokers, registryURL: p.SchemaRegistryURL, topic: topic, group: group, metricsAddr: "127.0.0.1:0"}
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, &out) }()

	deadLettered := regexp.MustCompile(`(?m)^streamkit_client_dead_lettered_total\{topic="` + regexp.QuoteMeta(topic) + `"\} 2$`)
	deadline := time.After(time.Minute)
	for len(processedLine.FindAllString(out.String(), -1)) < 10 || !deadLettered.MatchString(scrapeWhenUp(out.String())) {
		select {
		case err := <-done:
			t.Fatalf("run ended early: %v\n%s", err, out.String())
		case <-deadline:
			t.Fatalf("timed out waiting for 10 orders and 2 dead letters:\n%s", out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	scraped := scrape(t, metricsLine.FindStringSubmatch(out.String())[1])
	for _, re := range []string{
		`(?m)^streamkit_client_dead_lettered_total\{topic="` + regexp.QuoteMeta(topic) + `"\} 2$`,
		`(?m)^streamkit_client_decode_errors_total\{topic="` + regexp.QuoteMeta(topic) + `"\} 2$`,
		`(?m)^streamkit_client_fetch_records_total\{[^}]*topic="` + regexp.QuoteMeta(topic) + `"[^}]*\} 12$`,
	} {
		if !regexp.MustCompile(re).MatchString(scraped) {
			t.Errorf("/metrics lacks a line matching %s:\n%s", re, scraped)
		}
	}

	cancel(errors.New("terminated"))
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v\n%s", err, out.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("run did not return after cancel:\n%s", out.String())
	}
	got := map[string]bool{}
	for _, m := range processedLine.FindAllStringSubmatch(out.String(), -1) {
		got[m[1]] = true
	}
	if len(got) != len(want) {
		t.Errorf("got %d distinct orders processed, want %d:\n%s", len(got), len(want), out.String())
	}
	for id := range want {
		if !got[id] {
			t.Errorf("order %s was not processed", id)
		}
	}
	wantStop := "stopped: 10 processed, 2 dead-lettered to " + dlq + ", offsets committed: true\n"
	if !strings.HasSuffix(out.String(), wantStop) {
		t.Errorf("output should end with %q:\n%s", wantStop, out.String())
	}

	// The dead-letter topic holds the two corrupt records byte for byte,
	// with where they came from.
	dead := consumeAll(t, p.Brokers, dlq, 2)
	if len(dead) != 2 {
		t.Errorf("got %d dead letters, want 2", len(dead))
	}
	for _, r := range dead {
		if !strings.HasPrefix(string(r.Key), "bad-") || header(r, schema.HeaderSourceTopic) != topic {
			t.Errorf("dead letter key %q, source topic %q; want a bad- key from %s", r.Key, header(r, schema.HeaderSourceTopic), topic)
		}
	}

	// Close committed every record, the dead-lettered ones included, and
	// left the group.
	qctx, qcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer qcancel()
	end, err := adm.ListEndOffsets(qctx, topic)
	if err == nil {
		err = end.Error()
	}
	if err != nil {
		t.Fatalf("list end offsets: %v", err)
	}
	committed, err := adm.FetchOffsets(qctx, group)
	if err == nil {
		err = committed.Error()
	}
	if err != nil {
		t.Fatalf("fetch offsets: %v", err)
	}
	end.Each(func(o kadm.ListedOffset) {
		c, ok := committed.Lookup(topic, o.Partition)
		switch {
		case o.Offset == 0 && !ok:
		case !ok:
			t.Errorf("partition %d: nothing committed, want offset %d", o.Partition, o.Offset)
		case c.At != o.Offset:
			t.Errorf("partition %d: committed %d, want end offset %d", o.Partition, c.At, o.Offset)
		}
	})
	groups, err := adm.DescribeGroups(qctx, group)
	if err == nil {
		err = groups.Error()
	}
	if err != nil {
		t.Fatalf("describe group: %v", err)
	}
	if g := groups[group]; len(g.Members) != 0 {
		t.Errorf("group %s has %d members after Close, want 0 (state %s)", group, len(g.Members), g.State)
	}
}

// scrapeWhenUp is the consumer's /metrics once it prints their address,
// "" before or when they do not answer.
func scrapeWhenUp(out string) string {
	m := metricsLine.FindStringSubmatch(out)
	if m == nil {
		return ""
	}
	resp, err := http.Get(m[1])
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: status %d, %v", resp.StatusCode, err)
	}
	return string(b)
}

func TestConsumerEmbedded(t *testing.T) {
	e := embedded.StartT(t)
	checkConsumer(t, *e, "retail.orders.v1", "retail-orders-printer")
}

func TestConsumerEmbeddedDefault(t *testing.T) {
	// No brokers: run starts and seeds its own embedded platform.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, config{topic: "retail.orders.v1", group: "g", metricsAddr: "127.0.0.1:0"}, &out)
	}()
	deadline := time.After(30 * time.Second)
	deadLettered := regexp.MustCompile(`(?m)^streamkit_client_dead_lettered_total\{topic="retail.orders.v1"\} 1$`)
	for len(processedLine.FindAllString(out.String(), -1)) < 3 || !deadLettered.MatchString(scrapeWhenUp(out.String())) {
		select {
		case err := <-done:
			t.Fatalf("run ended early: %v\n%s", err, out.String())
		case <-deadline:
			t.Fatalf("timed out:\n%s", out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !strings.HasPrefix(out.String(), "platform: embedded") {
		t.Errorf("first line should say the platform is embedded:\n%s", out.String())
	}
}

func TestConsumerBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  config
		want string
	}{
		{"no group", config{topic: "t"}, "topic and group must be set"},
		{"no registry", config{topic: "t", group: "g", brokers: []string{"127.0.0.1:1"}}, platformtest.EnvSchemaRegistryURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(context.Background(), tc.cfg, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestIntegrationConsumer(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka, platformtest.SchemaRegistry)
	checkConsumer(t, p, platformtest.UniqueName("examples.consumer"), platformtest.UniqueName("examples-consumer"))
}
