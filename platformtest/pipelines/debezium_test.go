package pipelines

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/schema"
)

// Price is a row of the captured table. Note is a column the test adds
// while the pipeline runs: nil until then.
type Price struct {
	ID         int32   `avro:"id"`
	Item       string  `avro:"item"`
	PriceCents int64   `avro:"price_cents" json:"price_cents"`
	Note       *string `avro:"note"`
}

// Envelope is Debezium's change event, the fields a service reads: the
// row before and after, the operation (c, u, d, or r for a snapshot), the
// source's position and the time. Its name is Debezium's record name, so
// schema.Consumer reads it without AnyRecordName; fields Debezium writes
// and Envelope lacks are skipped.
type Envelope struct {
	Before *Price `avro:"before"`
	After  *Price `avro:"after"`
	Op     string `avro:"op"`
	Source Source `avro:"source"`
	TsMs   *int64 `avro:"ts_ms" json:"ts_ms"`
}

// Source is where a change event comes from.
type Source struct {
	Connector string `avro:"connector"`
	Table     string `avro:"table"`
	LSN       *int64 `avro:"lsn"`
}

// Key is Debezium's record key: the table's primary key.
type Key struct {
	ID int32 `avro:"id"`
}

// TestIntegrationDebeziumToConsumer runs the seed's inbound pipeline on
// the real platform: a Debezium PostgreSQL source writes Avro keys and
// values in the Confluent wire format (Apicurio's converter on the
// workers), and a Go service reads them with schema.Consumer[Envelope]:
// the snapshot, an insert, an update, a delete and its tombstone; then a
// column is added to the table and the next change, a new schema version,
// is read by the same consumer, without a restart.
func TestIntegrationDebeziumToConsumer(t *testing.T) {
	p := platformtest.StartT(t, platformtest.WithComponents(platformtest.Kafka, platformtest.SchemaRegistry,
		platformtest.Connect, platformtest.Vault, platformtest.Postgres))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	db := newDatabase(ctx, t, p, "cdc", "id integer PRIMARY KEY, item text NOT NULL, price_cents bigint NOT NULL")
	ns := db.role + "."
	topic := ns + "public." + db.role // <topic.prefix>.<schema>.<table>
	platformtest.CreateTopicsT(t, p.Clients.Admin, 1, topic)
	db.exec(ctx, t, "INSERT INTO "+db.table()+" VALUES (1, 'tea', 450)")

	cfg := db.sourceConfig(p)
	reg := registryV2(t, p)
	maps.Copy(cfg, avro("key.converter", reg))
	maps.Copy(cfg, avro("value.converter", reg))
	deploy(ctx, t, p, ns, connect.Spec{Name: ns + "source", Config: cfg})

	c, err := schema.NewConsumer[Envelope](ctx, p.Clients.Registry, ns+"service", []string{topic},
		schema.WithClientOpts(kgo.SeedBrokers(p.Brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	keys, err := schema.NewSerde[Key](p.Clients.Registry, schema.ForKeys())
	if err != nil {
		t.Fatal(err)
	}
	var events []schema.Record[Envelope]
	read := func(n int) {
		t.Helper()
		for len(events) < n {
			recs, err := c.Poll(ctx)
			if err != nil {
				st, _ := p.Clients.Connect.Status(context.Background(), ns+"source")
				t.Fatalf("have %d of %d events: %v; connector %+v", len(events), n, err, st)
			}
			events = append(events, recs...)
			c.MarkProcessed(recs...)
		}
	}
	read(1) // the snapshot
	db.exec(ctx, t, "INSERT INTO "+db.table()+" VALUES (2, 'coffee', 900)")
	db.exec(ctx, t, "UPDATE "+db.table()+" SET price_cents = 475 WHERE id = 1")
	db.exec(ctx, t, "DELETE FROM "+db.table()+" WHERE id = 2")
	read(5) // insert, update, delete, tombstone

	type want struct {
		key      int32
		op       string
		after    *Price
		tomb     bool
		beforeID int32
	}
	wants := []want{
		{key: 1, op: "r", after: &Price{ID: 1, Item: "tea", PriceCents: 450}},
		{key: 2, op: "c", after: &Price{ID: 2, Item: "coffee", PriceCents: 900}},
		{key: 1, op: "u", after: &Price{ID: 1, Item: "tea", PriceCents: 475}},
		{key: 2, op: "d", beforeID: 2},
		{key: 2, tomb: true},
	}
	for i, w := range wants {
		e := events[i]
		var k Key
		if err := keys.Decode(ctx, e.Key, &k); err != nil || k.ID != w.key {
			t.Errorf("event %d: key %+v (%v), want id %d", i, k, err, w.key)
		}
		if e.Tombstone != w.tomb {
			t.Errorf("event %d: tombstone %v, want %v", i, e.Tombstone, w.tomb)
			continue
		}
		if w.tomb {
			continue
		}
		v := e.Value
		if v.Op != w.op || v.Source.Table != db.role || v.Source.Connector != "postgresql" || v.TsMs == nil {
			t.Errorf("event %d: op %q source %+v ts_ms %v, want op %q from table %s", i, v.Op, v.Source, v.TsMs, w.op, db.role)
		}
		switch {
		case w.after != nil && (v.After == nil || *v.After != *w.after):
			t.Errorf("event %d: after %+v, want %+v", i, v.After, w.after)
		case w.op == "d" && (v.After != nil || v.Before == nil || v.Before.ID != w.beforeID):
			t.Errorf("event %d: a delete with before %+v after %+v", i, v.Before, v.After)
		}
	}

	// A new column: Debezium registers the next version of the value
	// schema with the change after it; the running consumer reads it.
	versions := func() int {
		vs, err := p.Clients.Registry.Client().SubjectVersions(ctx, topic+"-value")
		if err != nil {
			t.Fatal(err)
		}
		return len(vs)
	}
	before := versions()
	db.exec(ctx, t, "ALTER TABLE "+db.table()+" ADD COLUMN note text")
	db.exec(ctx, t, "INSERT INTO "+db.table()+" VALUES (3, 'cocoa', 300, 'new column')")
	read(6)
	if e := events[5].Value; e.Op != "c" || e.After == nil || e.After.Note == nil || *e.After.Note != "new column" {
		t.Errorf("the event after the new column: %+v", e.After)
	}
	if after := versions(); after <= before {
		t.Errorf("%s-value has %d versions after the new column, %d before: want a new one", topic, after, before)
	}
	if st := c.Stats(); st.DeadLettered != 0 || st.Skipped != 0 {
		t.Errorf("consumer stats %+v: nothing may be skipped or dead-lettered", st)
	}
	t.Logf("%d events read; value schema versions %d -> %d", len(events), before, versions())
}
