package metrics_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/metrics"
	"github.com/streamkit/streamkit/schema"
)

// BenchmarkProducerHooks measures what ClientMetrics costs a Producer: one
// op is a ProduceSync of 1000 records to a kfake broker, in one run:
//
//	impl=plain    no metrics
//	impl=metrics  KgoOpts (kprom) and WithObserver wired
//
// Each sub-benchmark has its own cluster, so neither inherits the other's
// log. It reports records/s; benchstat -col /impl shows the overhead.
func BenchmarkProducerHooks(b *testing.B) {
	const batch = 1000
	msgs := make([]schema.Message[clientOrder], batch)
	for i := range msgs {
		msgs[i] = schema.Message[clientOrder]{
			Key:   []byte("k" + strconv.Itoa(i%16)),
			Value: clientOrder{ID: "order-" + strconv.Itoa(i), Quantity: int32(i)},
		}
	}
	run := func(b *testing.B, wire bool) {
		ctx := clientCtx(b)
		pf := newClientPlatform(b, "orders")
		opts := []kgo.Opt{kgo.SeedBrokers(pf.brokers...)}
		var sopts []schema.ProducerOpt
		if wire {
			m, err := metrics.NewClientMetrics()
			if err != nil {
				b.Fatal(err)
			}
			opts = append(opts, m.KgoOpts()...)
			sopts = append(sopts, schema.WithObserver(m))
		}
		p, err := schema.NewProducer[clientOrder](ctx, pf.reg, "orders",
			append(sopts, schema.WithClientOpts(opts...))...)
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close(ctx)
		if err := p.ProduceSync(ctx, msgs...); err != nil { // warm up: connections, metadata
			b.Fatal(err)
		}
		b.ReportAllocs()
		n := 0
		start := time.Now()
		for b.Loop() {
			if err := p.ProduceSync(ctx, msgs...); err != nil {
				b.Fatal(err)
			}
			n += batch
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "records/s")
	}
	b.Run("impl=plain", func(b *testing.B) { run(b, false) })
	b.Run("impl=metrics", func(b *testing.B) { run(b, true) })
}
