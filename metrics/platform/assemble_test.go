package platform

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// assembleParts is a cycle of two brokers and two topics: "orders" with
// partitions 0 (leader 1) and 1 (leader 2), "audit" with partition 0
// (leader 2), each replicated on both brokers.
func assembleParts(at time.Time, ordersEnds, auditEnd int64, ordersSize int64) cycleParts {
	meta := clusterMeta{
		brokers:  []int32{2, 1},
		topics:   []topicMeta{{name: "audit", partitions: 1}, {name: "orders", partitions: 2, underReplicated: 1}},
		leaders:  map[string]map[int32]int32{"orders": {0: 1, 1: 2}, "audit": {0: 2}},
		replicas: map[int32]int{1: 3, 2: 3},
		leads:    map[int32]int{1: 1, 2: 2},
	}
	dir := func(broker int32, sizes map[string]map[int32]int64) kadm.DescribedLogDir {
		topics := kadm.DescribedLogDirTopics{}
		for t, ps := range sizes {
			topics[t] = map[int32]kadm.DescribedLogDirPartition{}
			for p, size := range ps {
				topics[t][p] = kadm.DescribedLogDirPartition{Broker: broker, Topic: t, Partition: p, Size: size}
			}
		}
		return kadm.DescribedLogDir{Broker: broker, Dir: "/data", Topics: topics}
	}
	return cycleParts{
		meta: meta,
		offsets: kadm.ListedOffsets{
			"orders": {0: {Topic: "orders", Partition: 0, Offset: ordersEnds}, 1: {Topic: "orders", Partition: 1, Offset: ordersEnds}},
			"audit":  {0: {Topic: "audit", Partition: 0, Offset: auditEnd}},
		},
		offsetsAt: at,
		logDirs: kadm.DescribedAllLogDirs{
			1: {"/data": dir(1, map[string]map[int32]int64{"orders": {0: ordersSize, 1: ordersSize}, "audit": {0: 10}})},
			2: {"/data": dir(2, map[string]map[int32]int64{"orders": {0: ordersSize, 1: ordersSize}, "audit": {0: 10}})},
		},
		dirsAt: at,
		lag:    []GroupSnapshot{{Group: "billing"}},
		conns:  []ConnectorSnapshot{{Name: "orders-sink", State: "RUNNING"}},
	}
}

func TestAssemble(t *testing.T) {
	t0 := time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)
	first, prev, err := assemble(assembleParts(t0, 100, 7, 1000), Snapshot{}, prevCycle{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Brokers) != 2 || first.Brokers[0].Broker != 1 || first.Brokers[0].Bytes != 2010 || first.Brokers[0].LogDirs["/data"] != 2010 {
		t.Fatalf("brokers %+v: want broker 1 first with 2010 bytes", first.Brokers)
	}
	orders := first.Topics[1]
	if orders.Topic != "orders" || orders.EndOffsets != 200 || orders.Bytes != 4000 || orders.LeaderBytes != 2000 ||
		orders.UnderReplicated != 1 || orders.RecordsPerSecond != 0 || orders.BytesPerSecond != 0 {
		t.Fatalf("orders %+v: want 200 records, 4000 bytes, 2000 on leaders, no rate on the first cycle", orders)
	}

	// Ten seconds later: 50 more records per partition, 500 more bytes on
	// each replica.
	t1 := t0.Add(10 * time.Second)
	second, prev2, err := assemble(assembleParts(t1, 150, 7, 1500), first, prev, t1)
	if err != nil {
		t.Fatal(err)
	}
	if got := second.Topics[1]; got.RecordsPerSecond != 10 || got.BytesPerSecond != 100 {
		t.Fatalf("orders %+v: want 10 records/s and 100 bytes/s", got)
	}
	if !prev2.offsetsAt.Equal(t1) || prev2.endOffsets["orders"] != 300 {
		t.Fatalf("prev %+v: want offsets of t1", prev2)
	}

	// The topic is recreated: its rate is unknown (0), not negative.
	t2 := t1.Add(10 * time.Second)
	third, _, err := assemble(assembleParts(t2, 1, 7, 1500), second, prev2, t2)
	if err != nil {
		t.Fatal(err)
	}
	if got := third.Topics[1].RecordsPerSecond; got != 0 {
		t.Fatalf("recreated topic: got %v records/s, want 0", got)
	}

	// Failed parts are carried over from the previous snapshot, each
	// error reported.
	failed := assembleParts(t2, 999, 999, 999)
	failed.offErr = errors.New("offsets refused")
	failed.dirErr = errors.New("log dirs refused")
	failed.lagErr = errors.New("lag refused")
	failed.connErr = errors.New("connect down")
	carried, prev3, err := assemble(failed, second, prev2, t2)
	for _, want := range []string{"list end offsets: offsets refused", "describe log dirs: log dirs refused", "collect lag: lag refused", "list connectors: connect down"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("got %v, want it to say %q", err, want)
		}
	}
	if got := carried.Topics[1]; got.EndOffsets != 300 || got.RecordsPerSecond != 10 || got.Bytes != 6000 || got.BytesPerSecond != 100 {
		t.Fatalf("orders %+v: want the previous cycle's figures", got)
	}
	if carried.Brokers[0].Bytes != second.Brokers[0].Bytes || len(carried.Groups) != 1 || len(carried.Connectors) != 1 {
		t.Fatalf("carried %+v: want brokers, groups and connectors of the previous cycle", carried)
	}
	if !prev3.offsetsAt.Equal(prev2.offsetsAt) || !prev3.bytesAt.Equal(prev2.bytesAt) {
		t.Fatal("a failed part moved the base its rates are measured on")
	}
}
