package schema

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkProcessSlowHandler: Process with a handler that takes 5ms per
// record (a call to another service), on one partition of records with
// distinct keys, handled one at a time and 64 at a time, the two
// interleaved round after round in one run. It reports each variant's
// records/s and the speedup, and fails when 64 handlers give less than
// 40 times the rate of one.
func BenchmarkProcessSlowHandler(b *testing.B) {
	const handlerTime = 5 * time.Millisecond
	ctx := context.Background()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "slow"))
	if err != nil {
		b.Fatal(err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()
	reg, _, _ := newFakeRegistry(b)
	s, err := NewSerde[orderV1](reg, WithSchema(mustParse(b, orderV1Schema)))
	if err != nil {
		b.Fatal(err)
	}
	// One round: 64 records for one handler, 64*40 for 64 handlers: about
	// 0.3s each.
	rounds := []struct {
		name        string
		concurrency int
		records     int
	}{{"sequential", 1, 64}, {"concurrency=64", 64, 64 * 40}}
	produced := 0
	produce := func(n int) {
		rs := make([]*kgo.Record, n)
		for i := range rs {
			v, err := s.Encode(ctx, "slow", orderV1{ID: strconv.Itoa(produced + i)})
			if err != nil {
				b.Fatal(err)
			}
			rs[i] = &kgo.Record{Topic: "slow", Key: []byte(strconv.Itoa(produced + i)), Value: v}
		}
		if err := rawClient(b, brokers).ProduceSync(ctx, rs...).FirstErr(); err != nil {
			b.Fatal(err)
		}
		produced += n
	}
	elapsed := make([]time.Duration, len(rounds))
	handled := make([]int, len(rounds))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for v, r := range rounds {
			b.StopTimer()
			produce(r.records)
			c, err := NewConsumer[orderV1](ctx, reg, "slow", []string{"slow"}, AnyRecordName(), WithConcurrency(r.concurrency),
				WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
			if err != nil {
				b.Fatal(err)
			}
			done := make(chan struct{})
			var n int
			b.StartTimer()
			start := time.Now()
			pctx, cancel := context.WithCancel(ctx)
			go func() {
				defer close(done)
				if err := c.Process(pctx, func(ctx context.Context, _ *Record[orderV1]) error {
					time.Sleep(handlerTime)
					return nil
				}); err != nil {
					b.Error(err)
				}
			}()
			for c.Stats().Processed < uint64(r.records) {
				time.Sleep(time.Millisecond)
			}
			elapsed[v] += time.Since(start)
			b.StopTimer()
			cancel()
			<-done
			n = int(c.Stats().Processed)
			handled[v] += n
			if err := c.Close(ctx); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	}
	b.StopTimer()
	rate := make([]float64, len(rounds))
	for v, r := range rounds {
		rate[v] = float64(handled[v]) / elapsed[v].Seconds()
		b.ReportMetric(rate[v], "records/s-"+r.name)
	}
	speedup := rate[1] / rate[0]
	b.ReportMetric(speedup, "speedup")
	if speedup < 40 {
		b.Errorf("64 handlers give %.1f times the rate of one (%.0f vs %.0f records/s), want at least 40", speedup, rate[1], rate[0])
	}
}
