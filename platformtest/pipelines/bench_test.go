package pipelines

import (
	"context"
	"encoding/json"
	"maps"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/schema"
)

// benchRows is how many rows or records one pass of a pipeline moves.
const benchRows = 20000

// BenchmarkPipelineThroughput measures records per second through the
// seed's two pipelines on the real platform, each with Avro (Apicurio's
// converter, schema.Consumer / schema.Producer) and, in the same run, with
// the JSON converter (a raw kgo client and encoding/json), the baseline:
//
//   - source: rows inserted in PostgreSQL, in one statement, until the
//     Go service has read each one's change event;
//   - sink: records produced by the Go service until Debezium's JDBC sink
//     has written each one's row.
//
// One pass moves 20,000 rows; the connectors are set up once per
// sub-benchmark, outside the timing.
//
//	go test -run '^$' -bench PipelineThroughput -benchtime 3x -count 3 ./platformtest/pipelines
func BenchmarkPipelineThroughput(b *testing.B) {
	p := platformtest.StartT(b, platformtest.WithComponents(platformtest.Kafka, platformtest.SchemaRegistry,
		platformtest.Connect, platformtest.Vault, platformtest.Postgres))
	for _, conv := range []string{"avro", "json"} {
		b.Run("direction=source/converter="+conv, func(b *testing.B) { benchSource(b, p, conv) })
		b.Run("direction=sink/converter="+conv, func(b *testing.B) { benchSink(b, p, conv) })
	}
}

// converters is the key and value converter config of conv; JSON with
// schemas, which the JDBC sink needs, when schemas is true.
func converters(t testing.TB, p *platformtest.Platform, conv string, keys, schemas bool) map[string]string {
	cfg := map[string]string{}
	if conv == "avro" {
		if keys {
			maps.Copy(cfg, avro("key.converter", registryV2(t, p)))
		}
		maps.Copy(cfg, avro("value.converter", registryV2(t, p)))
		return cfg
	}
	enable := strconv.FormatBool(schemas)
	if keys {
		cfg["key.converter"] = "org.apache.kafka.connect.json.JsonConverter"
		cfg["key.converter.schemas.enable"] = enable
	}
	cfg["value.converter"] = "org.apache.kafka.connect.json.JsonConverter"
	cfg["value.converter.schemas.enable"] = enable
	return cfg
}

func benchSource(b *testing.B, p *platformtest.Platform, conv string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	db := newDatabase(ctx, b, p, "bsrc", "id integer PRIMARY KEY, item text NOT NULL, price_cents bigint NOT NULL")
	ns := db.role + "."
	topic := ns + "public." + db.role
	platformtest.CreateTopicsT(b, p.Clients.Admin, 1, topic)
	cfg := db.sourceConfig(p)
	cfg["snapshot.mode"] = "no_data"
	maps.Copy(cfg, converters(b, p, conv, true, false))
	deploy(ctx, b, p, ns, connect.Spec{Name: ns + "source", Config: cfg})

	// read returns a function that reads n change events.
	var read func(n int)
	switch conv {
	case "avro":
		c, err := schema.NewConsumer[Envelope](ctx, p.Clients.Registry, ns+"bench", []string{topic},
			schema.WithClientOpts(kgo.SeedBrokers(p.Brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close(ctx)
		read = func(n int) {
			for n > 0 {
				recs, err := c.Poll(ctx)
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range recs {
					if !r.Tombstone && r.Value.After != nil {
						n--
					}
				}
				c.MarkProcessed(recs...)
			}
		}
	default:
		cl, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...), kgo.ConsumeTopics(topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		read = func(n int) {
			for n > 0 {
				fs := cl.PollFetches(ctx)
				if err := ctx.Err(); err != nil {
					b.Fatal(err)
				}
				fs.EachRecord(func(r *kgo.Record) {
					var e Envelope
					if err := json.Unmarshal(r.Value, &e); err != nil {
						b.Fatalf("a JSON change event: %v", err)
					}
					if e.After != nil {
						n--
					}
				})
			}
		}
	}
	// The connector streams: one row through first, then the timed passes.
	db.exec(ctx, b, "INSERT INTO "+db.table()+" VALUES (0, 'warm-up', 0)")
	read(1)
	next := 1
	var moved int
	start := time.Now()
	for b.Loop() {
		db.exec(ctx, b, "INSERT INTO "+db.table()+" SELECT i, 'item-' || i, i FROM generate_series($1::int, $2::int) AS i",
			next, next+benchRows-1)
		read(benchRows)
		next += benchRows
		moved += benchRows
	}
	b.ReportMetric(float64(moved)/time.Since(start).Seconds(), "records/s")
}

// stockJSON is a record of the sink pipeline as the JSON converter with
// schemas reads it.
func stockJSON(s Stock) []byte {
	b, _ := json.Marshal(map[string]any{
		"schema": map[string]any{"type": "struct", "name": "Stock", "optional": false, "fields": []any{
			map[string]any{"field": "item", "type": "string", "optional": false},
			map[string]any{"field": "quantity", "type": "int64", "optional": false},
		}},
		"payload": s,
	})
	return b
}

func benchSink(b *testing.B, p *platformtest.Platform, conv string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	db := newDatabase(ctx, b, p, "bsink", "")
	ns := db.role + "."
	topic := ns + "stock"
	platformtest.CreateTopicsT(b, p.Clients.Admin, 3, topic)
	cfg := db.sinkConfig(p, topic)
	maps.Copy(cfg, converters(b, p, conv, false, true))
	deploy(ctx, b, p, ns, connect.Spec{Name: ns + "sink", Config: cfg})

	var produce func(from, to int)
	switch conv {
	case "avro":
		prod, err := schema.NewProducer[Stock](ctx, p.Clients.Registry, topic, schema.WithClientOpts(kgo.SeedBrokers(p.Brokers...)))
		if err != nil {
			b.Fatal(err)
		}
		defer prod.Close(ctx)
		produce = func(from, to int) {
			msgs := make([]schema.Message[Stock], 0, to-from)
			for i := from; i < to; i++ {
				msgs = append(msgs, schema.Message[Stock]{Key: []byte(strconv.Itoa(i)), Value: Stock{Item: "item-" + strconv.Itoa(i), Quantity: int64(i)}})
			}
			if err := prod.ProduceSync(ctx, msgs...); err != nil {
				b.Fatal(err)
			}
		}
	default:
		produce = func(from, to int) {
			rs := make([]*kgo.Record, 0, to-from)
			for i := from; i < to; i++ {
				rs = append(rs, &kgo.Record{Topic: topic, Key: []byte(strconv.Itoa(i)), Value: stockJSON(Stock{Item: "item-" + strconv.Itoa(i), Quantity: int64(i)})})
			}
			if err := p.Clients.Kafka.ProduceSync(ctx, rs...).FirstErr(); err != nil {
				b.Fatal(err)
			}
		}
	}
	rows := func(want int) {
		for {
			var n int
			if err := db.admin.QueryRow(ctx, "SELECT count(*) FROM "+db.table()).Scan(&n); err == nil && n >= want {
				return
			}
			if st, _ := p.Clients.Connect.Status(ctx, ns+"sink"); ctx.Err() != nil || st.Failed() {
				b.Fatalf("rows of %s: want %d; connector %+v", db.table(), want, st)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// One record through first: the table exists, then the timed passes.
	produce(0, 1)
	rows(1)
	next := 1
	var moved int
	start := time.Now()
	for b.Loop() {
		produce(next, next+benchRows)
		next += benchRows
		rows(next)
		moved += benchRows
	}
	b.ReportMetric(float64(moved)/time.Since(start).Seconds(), "records/s")
}
