package schema

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/internal/platformenv"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkConsumeThroughput reads retail orders from the real broker as
// a member of a fresh consumer group, one record per op, from a topic of 6
// partitions written before the timer, in one run:
//
//	impl=raw        a kgo.Client loop: PollFetches, each value decoded with
//	                hamba/avro from its writer's schema in the loop into one
//	                reused value, the batch marked for commit
//	                (kgo.AutoCommitMarks)
//	impl=raw-fresh  the same, each value decoded into a value of its own, as
//	                a loop that keeps or hands off its values must, and as
//	                map fields need (hamba adds a record's entries to the
//	                map already there: a reused value keeps an earlier
//	                record's keys)
//	impl=raw-batch  the same, a fetch's values decoded into a slice before
//	                they are handled, as Poll hands them over
//	impl=streamkit  Consumer[retailOrder]: Poll, MarkProcessed of the batch
//	impl=streamkit-records  Consumer[retailOrder]: a range loop over
//	                Records, which decodes 64 records at a time and marks
//	                them itself
//	impl=streamkit-records-reuse  the same with ReuseValues, decoding into
//	                the values of earlier records as impl=raw does
//
// It reports records/s and the process's CPU time per record;
// benchstat -col /impl shows the ratios. Run it with -benchtime of at
// most 200000x (the records written). It needs the platform.
func BenchmarkConsumeThroughput(b *testing.B) {
	ctx, rp := requireReal(b)
	topic := rp.topic(b, ctx, "bench.consume", 6)
	const written = 200_000
	p, err := NewProducer[retailOrder](ctx, rp.reg, topic, WithSchema(mustOrderSchema(b)),
		WithClientOpts(kgo.SeedBrokers(rp.brokers...), kgo.ProducerLinger(5*time.Millisecond)))
	if err != nil {
		b.Fatal(err)
	}
	msgs := make([]Message[retailOrder], 0, 1000)
	for i := 0; i < written; i++ {
		o := makeOrder(i)
		msgs = append(msgs, Message[retailOrder]{Key: []byte(o.OrderID), Value: o})
		if len(msgs) == cap(msgs) {
			if err := p.ProduceSync(ctx, msgs...); err != nil {
				b.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
	p.Close(ctx)
	writer, err := avro.Parse(mustOrderSchema(b).String())
	if err != nil {
		b.Fatal(err)
	}

	run := func(b *testing.B, read func(ctx context.Context, group string, n int) int) {
		if b.N > written {
			b.Fatalf("-benchtime %dx: at most %dx, the records written", b.N, written)
		}
		group := platformenv.UniqueName("bench-consume")
		b.ReportAllocs()
		b.ResetTimer()
		cpu0, start := cpuTime(b), time.Now()
		got := read(ctx, group, b.N)
		elapsed, cpu := time.Since(start), cpuTime(b)-cpu0
		b.StopTimer()
		if got < b.N {
			b.Fatalf("read %d of %d records", got, b.N)
		}
		b.ReportMetric(float64(got)/elapsed.Seconds(), "records/s")
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(got), "cpu-ns/record")
	}
	rawLoop := func(fresh bool) func(ctx context.Context, group string, n int) int {
		return func(ctx context.Context, group string, n int) int {
			cl := rawClient(b, rp.brokers, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.AutoCommitMarks(),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(500*time.Millisecond))
			defer cl.Close()
			got := 0
			var o retailOrder
			for got < n {
				fs := cl.PollFetches(ctx)
				if err := fs.Err0(); err != nil {
					b.Fatal(err)
				}
				fs.EachRecord(func(r *kgo.Record) {
					if fresh {
						o = retailOrder{}
					}
					if err := avro.Unmarshal(writer, r.Value[HeaderSize:], &o); err != nil {
						b.Fatal(err)
					}
					got++
				})
				cl.MarkCommitRecords(fs.Records()...)
			}
			return got
		}
	}
	b.Run("impl=raw", func(b *testing.B) { run(b, rawLoop(false)) })
	b.Run("impl=raw-fresh", func(b *testing.B) { run(b, rawLoop(true)) })
	b.Run("impl=raw-batch", func(b *testing.B) {
		run(b, func(ctx context.Context, group string, n int) int {
			cl := rawClient(b, rp.brokers, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.AutoCommitMarks(),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(500*time.Millisecond))
			defer cl.Close()
			got := 0
			var batch []retailOrder
			for got < n {
				fs := cl.PollFetches(ctx)
				if err := fs.Err0(); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
				fs.EachRecord(func(r *kgo.Record) {
					batch = append(batch, retailOrder{})
					if err := avro.Unmarshal(writer, r.Value[HeaderSize:], &batch[len(batch)-1]); err != nil {
						b.Fatal(err)
					}
					got++
				})
				clear(batch)
				cl.MarkCommitRecords(fs.Records()...)
			}
			return got
		})
	})
	b.Run("impl=streamkit", func(b *testing.B) {
		run(b, func(ctx context.Context, group string, n int) int {
			c, err := NewConsumer[retailOrder](ctx, rp.reg, group, []string{topic}, WithSchema(mustOrderSchema(b)),
				WithClientOpts(kgo.SeedBrokers(rp.brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close(context.WithoutCancel(ctx))
			got := 0
			for got < n {
				recs, err := c.Poll(ctx)
				if err != nil {
					b.Fatal(err)
				}
				got += len(recs)
				c.MarkProcessed(recs...)
			}
			return got
		})
	})
	records := func(opts ...ConsumerOpt) func(ctx context.Context, group string, n int) int {
		return func(ctx context.Context, group string, n int) int {
			c, err := NewConsumer[retailOrder](ctx, rp.reg, group, []string{topic}, append([]ConsumerOpt{WithSchema(mustOrderSchema(b)),
				WithClientOpts(kgo.SeedBrokers(rp.brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))}, opts...)...)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close(context.WithoutCancel(ctx))
			got := 0
			for _, err := range c.Records(ctx) {
				if err != nil {
					b.Fatal(err)
				}
				if got++; got == n {
					break
				}
			}
			return got
		}
	}
	b.Run("impl=streamkit-records", func(b *testing.B) { run(b, records()) })
	b.Run("impl=streamkit-records-reuse", func(b *testing.B) { run(b, records(ReuseValues())) })
}
