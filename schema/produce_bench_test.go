package schema

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkProduceThroughput produces retail orders to the real broker,
// one record per op, in one run and to one topic:
//
//	impl=raw        kgo.Client.Produce of records encoded before the timer
//	impl=raw-hamba  kgo.Client.Produce of records encoded with hamba/avro
//	                in the loop and framed by hand
//	impl=streamkit  Producer[retailOrder].Produce, encoding included
//
// Both clients have the same options (acks=all, idempotent). It reports
// records/s; benchstat -col /impl shows the ratio. It needs the platform
// (STREAMKIT_BROKERS, STREAMKIT_SCHEMA_REGISTRY_URL).
func BenchmarkProduceThroughput(b *testing.B) {
	ctx, rp := requireReal(b)
	topic := rp.topic(b, ctx, "bench.orders", 3)

	const distinct = 1024
	orders := make([]retailOrder, distinct)
	for i := range orders {
		orders[i] = makeOrder(i)
	}
	p, err := NewProducer[retailOrder](ctx, rp.reg, topic, WithSchema(mustOrderSchema(b)),
		WithClientOpts(kgo.SeedBrokers(rp.brokers...)))
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(ctx)
	encoded := make([][]byte, distinct)
	for i, o := range orders {
		if encoded[i], err = p.Serde().Encode(ctx, topic, o); err != nil {
			b.Fatal(err)
		}
	}
	raw := rawClient(b, rp.brokers, kgo.RequiredAcks(kgo.AllISRAcks()))

	run := func(b *testing.B, produce func(i int, promise func(*kgo.Record, error))) {
		var failed atomic.Int64
		var firstErr atomic.Value
		promise := func(_ *kgo.Record, err error) {
			if err != nil && failed.Add(1) == 1 {
				firstErr.Store(err)
			}
		}
		b.ReportAllocs()
		start := time.Now()
		i := 0
		for b.Loop() {
			produce(i, promise)
			i++
		}
		if err := raw.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		if err := p.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		if n := failed.Load(); n > 0 {
			b.Fatalf("%d records failed: %v", n, firstErr.Load())
		}
		b.ReportMetric(float64(i)/time.Since(start).Seconds(), "records/s")
	}
	b.Run("impl=raw", func(b *testing.B) {
		run(b, func(i int, promise func(*kgo.Record, error)) {
			o := &orders[i%distinct]
			raw.Produce(ctx, &kgo.Record{Topic: topic, Key: []byte(o.OrderID), Value: encoded[i%distinct]}, promise)
		})
	})
	// The comparison issue 17 asks for: a raw producer that encodes with
	// hamba/avro in the caller, framed with the ID the streamkit producer
	// found.
	writer, err := avro.Parse(mustOrderSchema(b).String())
	if err != nil {
		b.Fatal(err)
	}
	header := encoded[0][:HeaderSize]
	b.Run("impl=raw-hamba", func(b *testing.B) {
		run(b, func(i int, promise func(*kgo.Record, error)) {
			o := &orders[i%distinct]
			v, err := avro.Marshal(writer, o)
			if err != nil {
				b.Fatal(err)
			}
			value := make([]byte, 0, HeaderSize+len(v))
			value = append(append(value, header...), v...)
			raw.Produce(ctx, &kgo.Record{Topic: topic, Key: []byte(o.OrderID), Value: value}, promise)
		})
	})
	b.Run("impl=streamkit", func(b *testing.B) {
		run(b, func(i int, promise func(*kgo.Record, error)) {
			o := &orders[i%distinct]
			p.Produce(ctx, Message[retailOrder]{Key: []byte(o.OrderID), Value: *o}, promise)
		})
	})
}
