package schema

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// countingTransport counts the registry requests made through it, by
// method and path, so tests can show what the hot path does not do.
type countingTransport struct {
	next  http.RoundTripper
	total atomic.Int64
	mu    sync.Mutex
	paths map[string]int
	delay time.Duration
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.total.Add(1)
	c.mu.Lock()
	if c.paths == nil {
		c.paths = map[string]int{}
	}
	c.paths[req.Method+" "+req.URL.Path]++
	c.mu.Unlock()
	if c.delay > 0 {
		time.Sleep(c.delay)
	}
	return c.next.RoundTrip(req)
}

func (c *countingTransport) count(prefix string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for p, k := range c.paths {
		if strings.HasPrefix(p, prefix) {
			n += k
		}
	}
	return n
}

// newFakeRegistry returns a Registry on an srfake registry whose requests
// are counted.
func newFakeRegistry(t testing.TB) (*Registry, *srfake.Registry, *countingTransport) {
	t.Helper()
	fake := srfake.New()
	t.Cleanup(fake.Close)
	ct := &countingTransport{next: http.DefaultTransport}
	reg, err := NewRegistryFromOptions(sr.URLs(fake.URL()), sr.HTTPClient(&http.Client{Transport: ct}))
	if err != nil {
		t.Fatal(err)
	}
	return reg, fake, ct
}

func mustParse(t testing.TB, text string) *Schema {
	t.Helper()
	s, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The test's record in two versions: v2 adds a field with a default.
type orderV1 struct {
	ID       string `avro:"id"`
	Quantity int32  `avro:"quantity"`
}

type orderV2 struct {
	ID       string `avro:"id"`
	Quantity int32  `avro:"quantity"`
	Currency string `avro:"currency"`
}

// orderV3 is the Go type of orderV3Schema.
type orderV3 struct {
	ID       string `avro:"id"`
	Quantity int32  `avro:"quantity"`
	Currency string `avro:"currency"`
	Store    string `avro:"store"`
}

const (
	orderV1Schema = `{"type":"record","name":"Order","namespace":"retail","fields":[
		{"name":"id","type":"string"},{"name":"quantity","type":"int"}]}`
	orderV2Schema = `{"type":"record","name":"Order","namespace":"retail","fields":[
		{"name":"id","type":"string"},{"name":"quantity","type":"int"},
		{"name":"currency","type":"string","default":"EUR"}]}`
	// v3 adds a field without a default: BACKWARD-incompatible with v2.
	orderV3Schema = `{"type":"record","name":"Order","namespace":"retail","fields":[
		{"name":"id","type":"string"},{"name":"quantity","type":"int"},
		{"name":"currency","type":"string","default":"EUR"},{"name":"store","type":"string"}]}`
)

// deadLetterRead is a record of a dead-letter topic: what its headers say,
// and its key.
type deadLetterRead struct {
	DeadLetterInfo
	key []byte
}

// readDeadLetters reads the first n records of a dead-letter topic.
func readDeadLetters(t *testing.T, ctx context.Context, brokers []string, topic string, n int) []deadLetterRead {
	t.Helper()
	cl := rawClient(t, brokers, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var out []deadLetterRead
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("read the dead letters of %s (%d of %d): %v", topic, len(out), n, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			info, err := ReadDeadLetter(r)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, deadLetterRead{info, r.Key})
		})
	}
	return out
}

// endOffsets returns topic's end offsets by partition.
func endOffsets(t *testing.T, ctx context.Context, brokers []string, topic string) map[int32]int64 {
	t.Helper()
	ends, err := kadm.NewClient(rawClient(t, brokers)).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	by := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { by[o.Partition] = o.Offset })
	return by
}
