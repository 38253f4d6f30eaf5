package pipelines

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/schema"
)

// Stock is the value a Go service produces; the key is the item's id.
type Stock struct {
	Item     string `avro:"item" json:"item"`
	Quantity int64  `avro:"quantity" json:"quantity"`
}

// TestIntegrationProducerToJDBC runs the seed's outbound pipeline on the
// real platform: a Go schema.Producer[Stock] writes Avro values in the
// Confluent wire format and string keys; Debezium's JDBC sink, with
// Apicurio's converter, upserts them by key into a PostgreSQL table it
// creates, and deletes a row for each tombstone. Every row is checked.
func TestIntegrationProducerToJDBC(t *testing.T) {
	p := platformtest.StartT(t, platformtest.WithComponents(platformtest.Kafka, platformtest.SchemaRegistry,
		platformtest.Connect, platformtest.Vault, platformtest.Postgres))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	db := newDatabase(ctx, t, p, "sink", "") // the sink creates the table
	ns := db.role + "."
	topic := ns + "stock"
	platformtest.CreateTopicsT(t, p.Clients.Admin, 3, topic)

	prod, err := schema.NewProducer[Stock](ctx, p.Clients.Registry, topic, schema.WithClientOpts(kgo.SeedBrokers(p.Brokers...)))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close(ctx)

	cfg := db.sinkConfig(p, topic)
	maps.Copy(cfg, avro("value.converter", registryV2(t, p)))
	deploy(ctx, t, p, ns, connect.Spec{Name: ns + "sink", Config: cfg})

	// 50 items, then new quantities for the even ones, then tombstones
	// for every fifth: upserts and deletes by key.
	want := map[string]Stock{}
	var msgs []schema.Message[Stock]
	for i := range 50 {
		id := strconv.Itoa(i)
		s := Stock{Item: "item-" + id, Quantity: int64(i)}
		want[id] = s
		msgs = append(msgs, schema.Message[Stock]{Key: []byte(id), Value: s})
	}
	for i := 0; i < 50; i += 2 {
		id := strconv.Itoa(i)
		s := Stock{Item: "item-" + id, Quantity: int64(1000 + i)}
		want[id] = s
		msgs = append(msgs, schema.Message[Stock]{Key: []byte(id), Value: s})
	}
	for i := 0; i < 50; i += 5 {
		id := strconv.Itoa(i)
		delete(want, id)
		msgs = append(msgs, schema.Message[Stock]{Key: []byte(id), Tombstone: true})
	}
	if err := prod.ProduceSync(ctx, msgs...); err != nil {
		t.Fatal(err)
	}

	// The table converges to want, row by row.
	var got map[string]Stock
	for {
		got = map[string]Stock{}
		rows, err := db.admin.Query(ctx, "SELECT id, item, quantity FROM "+db.table())
		if err == nil {
			for rows.Next() {
				var id string
				var s Stock
				if err := rows.Scan(&id, &s.Item, &s.Quantity); err != nil {
					t.Fatal(err)
				}
				got[id] = s
			}
			err = rows.Err()
		}
		if err == nil && maps.Equal(got, want) {
			break
		}
		st, _ := p.Clients.Connect.Status(ctx, ns+"sink")
		if ctx.Err() != nil || st.Failed() {
			t.Fatalf("table %s: %d rows (%v), want %d; connector %+v", db.table(), len(got), err, len(want), st)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("%d rows after %d records (%d upserts of existing keys, %d tombstones): %v", len(got), len(msgs), 25, 10,
		slices.Sorted(maps.Keys(got))[:3])
}
