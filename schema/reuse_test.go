package schema

import (
	"reflect"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestRecordsReuseValues: with ReuseValues, every record a Records loop
// sees equals a fresh decode of its bytes, across chunks whose values
// are reused: maps that had other keys, slices that were longer, coupons
// that were set, tombstones between them.
func TestRecordsReuseValues(t *testing.T) {
	ctx := testCtx(t)
	brokers := newKafka(t, 2, "orders")
	reg, _, _ := newFakeRegistry(t)
	opts := []ProducerOpt{WithSchema(mustOrderSchema(t)), WithClientOpts(kgo.SeedBrokers(brokers...))}
	p, err := NewProducer[retailOrder](ctx, reg, "orders", opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	const n = 700
	ms := make([]Message[retailOrder], n)
	for i := range ms {
		o := makeOrder(i)
		o.Attributes = map[string]string{"only-" + strconv.Itoa(i): "x"}
		for j := range i % 4 {
			o.Attributes["extra-"+strconv.Itoa(j)] = strconv.Itoa(i)
		}
		if i%7 == 0 {
			o.Lines = nil
		}
		ms[i] = Message[retailOrder]{Key: []byte(strconv.Itoa(i % 5)), Value: o, Tombstone: i%50 == 49}
	}
	if err := p.ProduceSync(ctx, ms...); err != nil {
		t.Fatal(err)
	}

	c, err := NewConsumer[retailOrder](ctx, reg, "reuse", []string{"orders"}, WithSchema(mustOrderSchema(t)), ReuseValues(),
		WithClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	fresh := c.Serde()
	seen, tombstones := 0, 0
	for r, err := range c.Records(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if r.Tombstone {
			tombstones++
			if !reflect.ValueOf(r.Value).IsZero() {
				t.Fatalf("%s[%d]@%d: a tombstone with a value: %+v", r.Topic, r.Partition, r.Offset, r.Value)
			}
		} else {
			var want retailOrder
			if err := fresh.Decode(ctx, r.Raw().Value, &want); err != nil {
				t.Fatal(err)
			}
			if err := equalOrders(r.Value, want); err != nil {
				t.Fatalf("%s[%d]@%d decoded into a reused value: %v", r.Topic, r.Partition, r.Offset, err)
			}
		}
		if seen++; seen == n {
			break
		}
	}
	if tombstones != n/50 {
		t.Errorf("%d tombstones, want %d", tombstones, n/50)
	}
}

type resetInner struct {
	Tags map[string]int
	n    map[string]int // unexported: never decoded, never reset
}

type resetOuter struct {
	Name  string
	Attrs map[string]string
	Inner *resetInner
	Items []resetInner
	Fixed [2]resetInner
	Any   any
	Next  *resetOuter // recursive
}

// TestResetter: the reset empties every map a value holds, through
// pointers, slices (their whole capacity), arrays and recursion, cuts
// slices to length 0 keeping their capacity, leaves the rest, and is nil
// for a type without maps or slices.
func TestResetter(t *testing.T) {
	if resetter[retailOrder]() == nil {
		t.Error("retailOrder holds a map: want a reset")
	}
	if resetter[orderV1]() != nil {
		t.Error("orderV1 holds no map and no slice: want none")
	}
	m := func() map[string]int { return map[string]int{"stale": 1} }
	v := resetOuter{
		Name:  "kept",
		Attrs: map[string]string{"stale": "x"},
		Inner: &resetInner{Tags: m(), n: m()},
		Items: make([]resetInner, 1, 3),
		Fixed: [2]resetInner{{Tags: m()}, {Tags: m()}},
		Any:   map[string]int{"left": 1},
		Next:  &resetOuter{Attrs: map[string]string{"stale": "y"}},
	}
	v.Items[0].Tags = m()
	v.Items[:3][2].Tags = m() // past the length, within the capacity
	resetter[resetOuter]()(&v)
	if v.Name != "kept" || len(v.Attrs) != 0 || v.Attrs == nil || len(v.Inner.Tags) != 0 || len(v.Inner.n) != 1 ||
		len(v.Items) != 0 || cap(v.Items) != 3 || len(v.Items[:3][0].Tags) != 0 || len(v.Items[:3][2].Tags) != 0 ||
		len(v.Fixed[0].Tags)+len(v.Fixed[1].Tags) != 0 ||
		len(v.Next.Attrs) != 0 || len(v.Any.(map[string]int)) != 1 {
		t.Fatalf("after the reset: %+v", v)
	}
	var top map[string]any = map[string]any{"stale": 1}
	resetter[map[string]any]()(&top)
	if len(top) != 0 {
		t.Fatalf("a map T: %v", top)
	}
}
