package schema

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
)

// The serde benchmarks compare, in one run, on the same retail order:
//
//	impl=floor      hamba's Marshal/Unmarshal and the 5-byte header by hand
//	impl=streamkit  Serde.AppendEncode into a reused buffer / Serde.Decode
//	impl=srserde    franz-go's sr.Serde over the same hamba functions
//
// Compare with: benchstat -col /impl bench.txt (see make bench).

type serdeBench struct {
	order  retailOrder
	schema avro.Schema
	id     int
	wire   []byte
	sk     *Serde[retailOrder]
	srs    *sr.Serde
}

func newSerdeBench(b testing.TB) *serdeBench {
	b.Helper()
	reg, _, ct := newFakeRegistry(b)
	s, err := NewSerde[retailOrder](reg, WithSchema(mustOrderSchema(b)))
	if err != nil {
		b.Fatal(err)
	}
	sb := &serdeBench{order: makeOrder(42), sk: s}
	if sb.id, err = s.Prepare(context.Background(), "orders"); err != nil {
		b.Fatal(err)
	}
	if sb.wire, err = s.Encode(context.Background(), "orders", sb.order); err != nil {
		b.Fatal(err)
	}
	var warm retailOrder
	if err := s.Decode(context.Background(), sb.wire, &warm); err != nil {
		b.Fatal(err)
	}
	warmed := ct.total.Load()
	b.Cleanup(func() {
		if n := ct.total.Load() - warmed; n != 0 {
			b.Errorf("%d registry calls after warm-up, want 0", n)
		}
	})
	sb.schema, err = avro.Parse(mustOrderSchema(b).String())
	if err != nil {
		b.Fatal(err)
	}
	sb.srs = new(sr.Serde)
	sb.srs.Register(sb.id, retailOrder{},
		sr.EncodeFn(func(v any) ([]byte, error) { return avro.Marshal(sb.schema, v) }),
		sr.DecodeFn(func(data []byte, v any) error { return avro.Unmarshal(sb.schema, data, v) }),
	)
	return sb
}

func BenchmarkEncode(b *testing.B) {
	sb := newSerdeBench(b)
	ctx := context.Background()
	b.Run("impl=floor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			body, err := avro.Marshal(sb.schema, sb.order)
			if err != nil {
				b.Fatal(err)
			}
			out := make([]byte, HeaderSize, HeaderSize+len(body))
			binary.BigEndian.PutUint32(out[1:], uint32(sb.id))
			out = append(out, body...)
			b.SetBytes(int64(len(out)))
		}
	})
	b.Run("impl=streamkit", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 1024)
		for b.Loop() {
			out, err := sb.sk.AppendEncode(ctx, buf[:0], "orders", sb.order)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(out)))
		}
	})
	b.Run("impl=srserde", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out, err := sb.srs.Encode(sb.order)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(out)))
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	sb := newSerdeBench(b)
	ctx := context.Background()
	b.Run("impl=floor", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(sb.wire)))
		for b.Loop() {
			var out retailOrder
			if sb.wire[0] != 0 {
				b.Fatal("bad magic")
			}
			if int(binary.BigEndian.Uint32(sb.wire[1:HeaderSize])) != sb.id {
				b.Fatal("wrong id")
			}
			if err := avro.Unmarshal(sb.schema, sb.wire[HeaderSize:], &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=streamkit", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(sb.wire)))
		for b.Loop() {
			var out retailOrder
			if err := sb.sk.Decode(ctx, sb.wire, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=srserde", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(sb.wire)))
		for b.Loop() {
			var out retailOrder
			if err := sb.srs.Decode(sb.wire, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The three implementations must agree before their speed is compared.
func TestBenchImplementationsAgree(t *testing.T) {
	sb := newSerdeBench(t)
	body, err := avro.Marshal(sb.schema, sb.order)
	if err != nil {
		t.Fatal(err)
	}
	floor := append([]byte{0, 0, 0, 0, 0}, body...)
	binary.BigEndian.PutUint32(floor[1:], uint32(sb.id))
	srOut, err := sb.srs.Encode(sb.order)
	if err != nil {
		t.Fatal(err)
	}
	// Map entries are written in Go's random map order, so compare the
	// headers and lengths here and the decoded values below.
	if !bytes.Equal(sb.wire[:HeaderSize], floor[:HeaderSize]) || !bytes.Equal(srOut[:HeaderSize], floor[:HeaderSize]) ||
		len(sb.wire) != len(floor) || len(srOut) != len(floor) {
		t.Fatalf("encodings differ:\nstreamkit %x\nfloor     %x\nsrserde   %x", sb.wire, floor, srOut)
	}
	var viaSR retailOrder
	if err := sb.srs.Decode(sb.wire, &viaSR); err != nil {
		t.Fatal(err)
	}
	var viaSK retailOrder
	if err := sb.sk.Decode(context.Background(), floor, &viaSK); err != nil {
		t.Fatal(err)
	}
	if err := equalOrders(viaSR, viaSK); err != nil {
		t.Fatal(err)
	}
	if err := equalOrders(sb.order, viaSK); err != nil {
		t.Fatal(err)
	}
}
