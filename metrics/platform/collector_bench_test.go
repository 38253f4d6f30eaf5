package platform

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// requestCounter counts the requests a client writes, by API key.
type requestCounter struct {
	mu    sync.Mutex
	byKey map[int16]int
}

var _ kgo.HookBrokerWrite = (*requestCounter)(nil)

func (rc *requestCounter) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, _ error) {
	rc.mu.Lock()
	rc.byKey[key]++
	rc.mu.Unlock()
}

func (rc *requestCounter) reset() map[int16]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := rc.byKey
	rc.byKey = map[int16]int{}
	return out
}

// benchCluster starts a three-broker kfake cluster with topics×partitions
// partitions holding one record each, and groups groups that each commit
// on three partitions of one topic.
func benchCluster(b *testing.B, topics, partitions, groups int) (*kgo.Client, *requestCounter) {
	b.Helper()
	names := make([]string, topics)
	for i := range names {
		names[i] = fmt.Sprintf("topic-%03d", i)
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(int32(partitions), names...))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cluster.Close)
	setup, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		b.Fatal(err)
	}
	defer setup.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var recs []*kgo.Record
	for _, t := range names {
		for p := range partitions {
			recs = append(recs, &kgo.Record{Topic: t, Partition: int32(p), Value: []byte("v"), Timestamp: time.Now().Add(-time.Minute)})
		}
	}
	if err := setup.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		b.Fatal(err)
	}
	adm := kadm.NewClient(setup)
	for g := range groups {
		var os kadm.Offsets
		for p := range 3 {
			os.AddOffset(names[g%topics], int32(p), 0, -1)
		}
		if err := adm.CommitAllOffsets(ctx, fmt.Sprintf("group-%03d", g), os); err != nil {
			b.Fatal(err)
		}
	}

	rc := &requestCounter{byKey: map[int16]int{}}
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.WithHooks(rc))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.Close)
	return cl, rc
}

// BenchmarkCollectorCycle measures one Collect over 200 groups and 1,000
// or 2,000 partitions on a three-broker kfake cluster, reporting the
// admin requests the collector's client writes per cycle. The time lag's
// short-lived direct consumer is not counted (it is its own client); its
// fetches are part of the time per cycle.
func BenchmarkCollectorCycle(b *testing.B) {
	for _, bc := range []struct{ topics, partitions int }{{50, 20}, {100, 20}} {
		b.Run(fmt.Sprintf("partitions=%d", bc.topics*bc.partitions), func(b *testing.B) {
			cl, rc := benchCluster(b, bc.topics, bc.partitions, 200)
			c, err := NewCollector(cl)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			// The first cycle finds coordinators and loads metadata.
			if _, err := c.Collect(ctx); err != nil {
				b.Fatal(err)
			}
			rc.reset()
			b.ReportAllocs()
			cycles := 0
			for b.Loop() {
				s, err := c.Collect(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if len(s.Groups) != 200 {
					b.Fatalf("got %d groups, want 200", len(s.Groups))
				}
				cycles++
			}
			byKey := rc.reset()
			total := 0
			var parts []string
			for k, n := range byKey {
				total += n
				parts = append(parts, fmt.Sprintf("%s=%.1f", kmsg.NameForKey(k), float64(n)/float64(cycles)))
			}
			sort.Strings(parts)
			b.ReportMetric(float64(total)/float64(cycles), "requests/cycle")
			b.Logf("requests per cycle by API: %s", strings.Join(parts, " "))
		})
	}
}
