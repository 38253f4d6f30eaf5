package platformtest_test

// The platform smoke tests: each shows one component of the platform that
// scripts/platform starts is real and does what the rest of streamkit relies
// on. They run with `make test`, which sets STREAMKIT_REQUIRE_PLATFORM=1.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/platformtest"
)

func TestIntegrationKafkaRoundTrip(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	topic := platformtest.UniqueName("smoke.kafka")
	createTopic(t, p, topic, 3)

	const n = 1000
	producer := newClient(t, p, kgo.DefaultProduceTopic(topic))
	records := make([]*kgo.Record, n)
	for i := range records {
		records[i] = &kgo.Record{Key: []byte(strconv.Itoa(i % 17)), Value: []byte(strconv.Itoa(i))}
	}
	if err := producer.ProduceSync(ctx, records...).FirstErr(); err != nil {
		t.Fatalf("produce %d records: %v", n, err)
	}

	consumer := newClient(t, p,
		kgo.ConsumeTopics(topic),
		kgo.ConsumerGroup(platformtest.UniqueName("smoke-group")),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	seen := make(map[string]bool, n)
	partitions := make(map[int32]bool)
	for len(seen) < n {
		fs := consumer.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", len(seen), n, err)
		}
		if errs := fs.Errors(); len(errs) > 0 {
			t.Fatalf("fetch: %v", errs)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if seen[string(r.Value)] {
				t.Errorf("record %s consumed twice", r.Value)
			}
			seen[string(r.Value)] = true
			partitions[r.Partition] = true
		})
	}
	for i := 0; i < n; i++ {
		if !seen[strconv.Itoa(i)] {
			t.Fatalf("record %d never consumed", i)
		}
	}
	if len(partitions) != 3 {
		t.Fatalf("records came from %d partitions, want 3", len(partitions))
	}
	if err := consumer.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

const (
	orderV1 = `{"type":"record","name":"Order","namespace":"retail","fields":[
		{"name":"id","type":"string"},
		{"name":"quantity","type":"int"}]}`
	// Adds a field with a default: readers of v2 can read v1 data.
	orderV2Compatible = `{"type":"record","name":"Order","namespace":"retail","fields":[
		{"name":"id","type":"string"},
		{"name":"quantity","type":"int"},
		{"name":"currency","type":"string","default":"EUR"}]}`
	// Adds a field without a default: readers of v3 cannot read v1 data.
	orderV3Incompatible = `{"type":"record","name":"Order","namespace":"retail","fields":[
		{"name":"id","type":"string"},
		{"name":"quantity","type":"int"},
		{"name":"currency","type":"string","default":"EUR"},
		{"name":"store","type":"string"}]}`
)

func TestIntegrationSchemaRegistry(t *testing.T) {
	p := platformtest.Require(t, platformtest.SchemaRegistry)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	cl, err := sr.NewClient(sr.URLs(p.SchemaRegistryURL))
	if err != nil {
		t.Fatal(err)
	}
	subject := platformtest.UniqueName("smoke.orders") + "-value"

	global := cl.Compatibility(ctx)
	if len(global) != 1 || global[0].Err != nil {
		t.Fatalf("global compatibility: %+v", global)
	}
	if global[0].Level != sr.CompatBackward {
		t.Fatalf("global compatibility: got %s, want BACKWARD", global[0].Level)
	}

	v1, err := cl.CreateSchema(ctx, subject, sr.Schema{Schema: orderV1, Type: sr.TypeAvro})
	if err != nil {
		t.Fatalf("register v1: %v", err)
	}
	if v1.Version != 1 {
		t.Fatalf("v1 version: got %d, want 1", v1.Version)
	}

	byID, err := cl.SchemaByID(ctx, v1.ID)
	if err != nil {
		t.Fatalf("read schema %d: %v", v1.ID, err)
	}
	sameSchema(t, byID.Schema, orderV1)

	// The registry's own compatibility check says what registration will do.
	res, err := cl.CheckCompatibility(ctx, subject, -1, sr.Schema{Schema: orderV3Incompatible, Type: sr.TypeAvro})
	if err != nil {
		t.Fatalf("check compatibility: %v", err)
	}
	if res.Is {
		t.Fatalf("registry calls a new required field BACKWARD compatible: %+v", res)
	}

	v2, err := cl.CreateSchema(ctx, subject, sr.Schema{Schema: orderV2Compatible, Type: sr.TypeAvro})
	if err != nil {
		t.Fatalf("register compatible v2: %v", err)
	}
	if v2.Version != 2 || v2.ID == v1.ID {
		t.Fatalf("v2: got version %d id %d, want version 2 and an id other than %d", v2.Version, v2.ID, v1.ID)
	}

	_, err = cl.CreateSchema(ctx, subject, sr.Schema{Schema: orderV3Incompatible, Type: sr.TypeAvro})
	var re *sr.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("register incompatible v3: got %v, want an *sr.ResponseError", err)
	}
	if re.StatusCode != http.StatusConflict || re.ErrorCode != 409 {
		t.Fatalf("register incompatible v3: got status %d code %d (%s), want 409", re.StatusCode, re.ErrorCode, re.Message)
	}
	versions, err := cl.SubjectVersions(ctx, subject)
	if err != nil {
		t.Fatalf("versions: %v", err)
	}
	if len(versions) != 2 {
		t.Fatalf("after a refused registration: got versions %v, want [1 2]", versions)
	}
}

// sameSchema compares two Avro schemas by their canonical form, which is
// what a registry may return instead of the text it was given.
func sameSchema(t *testing.T, got, want string) {
	t.Helper()
	g, err := avro.Parse(got)
	if err != nil {
		t.Fatalf("registry returned an invalid schema %q: %v", got, err)
	}
	w := avro.MustParse(want)
	if g.Fingerprint() != w.Fingerprint() {
		t.Fatalf("got schema %s, want %s", g, w)
	}
}

func TestIntegrationConnectFileSource(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka, platformtest.Connect)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	topic := platformtest.UniqueName("smoke.connect")
	createTopic(t, p, topic, 1)

	const n = 50
	var lines bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&lines, "order-%03d\n", i)
	}
	file := filepath.Join(t.TempDir(), "orders.txt")
	if err := os.WriteFile(file, lines.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	name := platformtest.UniqueName("smoke-file-source")
	config := map[string]string{
		"connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
		"tasks.max":       "1",
		"file":            file,
		"topic":           topic,
		"value.converter": "org.apache.kafka.connect.storage.StringConverter",
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
	}
	connectDo(ctx, t, p, http.MethodPut, "/connectors/"+name+"/config", config, http.StatusCreated)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		connectDo(ctx, t, p, http.MethodDelete, "/connectors/"+name, nil, http.StatusNoContent)
	})

	consumer := newClient(t, p, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []string
	for len(got) < n {
		fs := consumer.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d lines: %v; connector status: %s", len(got), n, err,
				connectDo(context.Background(), t, p, http.MethodGet, "/connectors/"+name+"/status", nil, 0))
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	for i, line := range got {
		if want := fmt.Sprintf("order-%03d", i); line != want {
			t.Fatalf("record %d: got %q, want %q", i, line, want)
		}
	}

	status := connectDo(ctx, t, p, http.MethodGet, "/connectors/"+name+"/status", nil, http.StatusOK)
	var st struct {
		Connector struct{ State string } `json:"connector"`
		Tasks     []struct{ State string }
	}
	if err := json.Unmarshal(status, &st); err != nil {
		t.Fatalf("decode status %s: %v", status, err)
	}
	if st.Connector.State != "RUNNING" || len(st.Tasks) != 1 || st.Tasks[0].State != "RUNNING" {
		t.Fatalf("connector status: %s", status)
	}
}

// connectDo sends one request to the Connect worker and checks the status
// when wantStatus is not 0. The connect package replaces this in its own
// tests; the smoke test talks HTTP so it depends on nothing but the worker.
func connectDo(ctx context.Context, t *testing.T, p platformtest.Platform, method, path string, body any, wantStatus int) []byte {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.ConnectURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	if wantStatus != 0 && resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: got status %d (%s), want %d", method, path, resp.StatusCode, strings.TrimSpace(string(out)), wantStatus)
	}
	return out
}

func TestIntegrationVaultKV(t *testing.T) {
	p := platformtest.Require(t, platformtest.Vault)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	cfg := api.DefaultConfig()
	cfg.Address = p.VaultAddr
	cl, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cl.SetToken(p.VaultToken)

	kv := cl.KVv2("secret")
	path := platformtest.UniqueName("streamkit-smoke/pricing-db")
	password := platformtest.UniqueName("pw")
	written, err := kv.Put(ctx, path, map[string]any{"username": "pricing", "password": password})
	if err != nil {
		t.Fatalf("write secret: %v", err)
	}
	if written.VersionMetadata == nil || written.VersionMetadata.Version != 1 {
		t.Fatalf("write secret: got metadata %+v, want version 1", written.VersionMetadata)
	}

	got, err := kv.Get(ctx, path)
	if err != nil {
		t.Fatalf("read secret: %v", err)
	}
	if got.Data["password"] != password || got.Data["username"] != "pricing" {
		t.Fatalf("read secret: got keys %v with other values than written", keys(got.Data))
	}

	// A second version, and the first is still readable by number.
	if _, err := kv.Put(ctx, path, map[string]any{"username": "pricing", "password": password + "-2"}); err != nil {
		t.Fatalf("write version 2: %v", err)
	}
	old, err := kv.GetVersion(ctx, path, 1)
	if err != nil {
		t.Fatalf("read version 1: %v", err)
	}
	if old.Data["password"] != password {
		t.Fatal("version 1 does not hold the first password")
	}

	// A missing secret is an error, not an empty success.
	if _, err := kv.Get(ctx, path+"-absent"); !errors.Is(err, api.ErrSecretNotFound) {
		t.Fatalf("read absent secret: got %v, want api.ErrSecretNotFound", err)
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func newClient(t *testing.T, p platformtest.Platform, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(p.Brokers...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func createTopic(t *testing.T, p platformtest.Platform, topic string, partitions int32) {
	t.Helper()
	platformtest.CreateTopicsT(t, kadm.NewClient(newClient(t, p)), partitions, topic)
}

// TestIntegrationKafkaSASL shows the SASL/SCRAM listeners authenticate and
// the StandardAuthorizer authorizes: the admin, a super user, works as on
// the PLAINTEXT listeners; a wrong password is refused; a fresh SCRAM user
// without ACLs may not produce until an ACL allows it.
func TestIntegrationKafkaSASL(t *testing.T) {
	p := platformtest.Require(t, platformtest.KafkaSASL)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	admin := scram.Auth{User: p.KafkaAdminUser, Pass: p.KafkaAdminPassword}
	adm := kadm.NewClient(newSASLClient(t, p, admin.AsSha512Mechanism()))
	topic := platformtest.UniqueName("smoke.sasl")
	platformtest.CreateTopicsT(t, adm, 1, topic) // as the admin, through SASL

	t.Run("admin round trip", func(t *testing.T) {
		producer := newSASLClient(t, p, admin.AsSha512Mechanism(), kgo.DefaultProduceTopic(topic))
		want := platformtest.UniqueName("sasl-record")
		if err := producer.ProduceSync(ctx, &kgo.Record{Value: []byte(want)}).FirstErr(); err != nil {
			t.Fatalf("produce as %s: %v", admin.User, err)
		}
		consumer := newSASLClient(t, p, admin.AsSha512Mechanism(),
			kgo.ConsumeTopics(topic),
			kgo.ConsumerGroup(platformtest.UniqueName("smoke-sasl-group")),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		)
		fs := consumer.PollRecords(ctx, 1)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consume as %s: %v", admin.User, err)
		}
		if errs := fs.Errors(); len(errs) > 0 {
			t.Fatalf("consume as %s: %v", admin.User, errs)
		}
		if recs := fs.Records(); len(recs) != 1 || string(recs[0].Value) != want {
			t.Fatalf("consume as %s: got %d records, want the one with value %s", admin.User, len(recs), want)
		}
		if err := consumer.CommitUncommittedOffsets(ctx); err != nil {
			t.Fatalf("commit as %s: %v", admin.User, err)
		}
	})

	t.Run("admin with SCRAM-SHA-256", func(t *testing.T) {
		topics, err := kadm.NewClient(newSASLClient(t, p, admin.AsSha256Mechanism())).ListTopics(ctx, topic)
		if err != nil {
			t.Fatalf("list topics as %s: %v", admin.User, err)
		}
		if !topics.Has(topic) {
			t.Fatalf("list topics as %s: %s missing from %v", admin.User, topic, topics.Names())
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		wrong := scram.Auth{User: admin.User, Pass: admin.Pass + "-wrong"}
		_, err := kadm.NewClient(newSASLClient(t, p, wrong.AsSha512Mechanism())).ListTopics(ctx)
		if !errors.Is(err, kerr.SaslAuthenticationFailed) {
			t.Fatalf("list topics with a wrong password: got %v, want %v", err, kerr.SaslAuthenticationFailed)
		}
	})

	t.Run("user without ACLs", func(t *testing.T) {
		user := scram.Auth{User: platformtest.UniqueName("smoke-sasl-user"), Pass: rand.Text()}
		altered, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{
			{User: user.User, Mechanism: kadm.ScramSha512, Password: user.Pass},
		})
		if err == nil {
			err = altered.Error()
		}
		if err != nil {
			t.Fatalf("create SCRAM user %s: %v", user.User, err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			altered, err := adm.AlterUserSCRAMs(ctx, []kadm.DeleteSCRAM{{User: user.User, Mechanism: kadm.ScramSha512}}, nil)
			if err == nil {
				err = altered.Error()
			}
			if err != nil {
				t.Logf("delete SCRAM user %s: %v", user.User, err)
			}
		})

		// The user authenticates (once every broker has the credential)
		// and is then refused by the authorizer.
		err = produceAs(ctx, t, p, user, topic, kerr.SaslAuthenticationFailed)
		if !errors.Is(err, kerr.TopicAuthorizationFailed) {
			t.Fatalf("produce as %s without ACLs: got %v, want %v", user.User, err, kerr.TopicAuthorizationFailed)
		}

		// Refused for want of an ACL, not for anything else: one ACL
		// later the same produce succeeds.
		// AllowHosts(): any host, both when creating and when deleting.
		acl := kadm.NewACLs().Allow("User:" + user.User).AllowHosts().Topics(topic).Operations(kadm.OpWrite)
		created, err := adm.CreateACLs(ctx, acl)
		if err == nil {
			for _, c := range created {
				err = errors.Join(err, c.Err)
			}
		}
		if err != nil {
			t.Fatalf("allow %s to write %s: %v", user.User, topic, err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			deleted, err := adm.DeleteACLs(ctx, acl)
			for _, d := range deleted {
				err = errors.Join(err, d.Err)
			}
			if err != nil {
				t.Logf("delete ACLs of %s: %v", user.User, err)
			}
		})
		if err := produceAs(ctx, t, p, user, topic, kerr.TopicAuthorizationFailed); err != nil {
			t.Fatalf("produce as %s with a WRITE ACL: %v", user.User, err)
		}
	})
}

// produceAs produces one record to topic as user with SCRAM-SHA-512 and
// returns the error, trying again while the error is transient: the
// metadata that a SCRAM credential or an ACL lives in reaches the brokers a
// moment after the request that changed it returned.
func produceAs(ctx context.Context, t *testing.T, p platformtest.Platform, user scram.Auth, topic string, transient error) error {
	t.Helper()
	for {
		cl, err := kgo.NewClient(kgo.SeedBrokers(p.SASLBrokers...), kgo.SASL(user.AsSha512Mechanism()),
			kgo.DefaultProduceTopic(topic), kgo.RecordDeliveryTimeout(20*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		err = cl.ProduceSync(ctx, &kgo.Record{Value: []byte("from " + user.User)}).FirstErr()
		cl.Close()
		if !errors.Is(err, transient) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// newSASLClient is newClient for the SASL listeners, authenticating with
// mech.
func newSASLClient(t *testing.T, p platformtest.Platform, mech sasl.Mechanism, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(p.SASLBrokers...), kgo.SASL(mech)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// TestIntegrationDebeziumPostgres shows the Connect worker runs Debezium's
// PostgreSQL connector against the platform's database: the rows a table
// holds arrive as snapshot events, rows inserted later as streamed change
// events, through logical decoding (pgoutput).
func TestIntegrationDebeziumPostgres(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka, platformtest.Connect, platformtest.Postgres)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	name := platformtest.UniqueName("smoke-debezium")
	// Table, replication slot and publication share one name made of
	// lower-case letters, digits and underscores, as slot names must be.
	ident := strings.ReplaceAll(name, "-", "_")
	table := pgx.Identifier{"public", ident}.Sanitize()
	topic := name + ".public." + ident

	db := connectPostgres(ctx, t, p)
	pgExec(ctx, t, db, "CREATE TABLE "+table+" (id integer PRIMARY KEY, name text NOT NULL)")
	postgresCleanup(t, p, "drop table "+table, func(ctx context.Context, db *pgx.Conn) error {
		_, err := db.Exec(ctx, "DROP TABLE IF EXISTS "+table)
		return err
	})
	insertItems := fmt.Sprintf("INSERT INTO %s (id, name) SELECT g, 'item-' || g FROM generate_series($1::int, $2::int) AS g", table)
	pgExec(ctx, t, db, insertItems, 1, 5)

	// The brokers do not create topics on demand; the cleanup deletes it.
	createTopic(t, p, topic, 1)

	connector := name
	config := map[string]string{
		"connector.class":                "io.debezium.connector.postgresql.PostgresConnector",
		"tasks.max":                      "1",
		"plugin.name":                    "pgoutput",
		"database.hostname":              p.PostgresHost,
		"database.port":                  p.PostgresPort,
		"database.user":                  p.PostgresUser,
		"database.password":              p.PostgresPassword,
		"database.dbname":                p.PostgresDB,
		"topic.prefix":                   name,
		"table.include.list":             "public." + ident,
		"slot.name":                      ident,
		"publication.name":               ident,
		"publication.autocreate.mode":    "filtered",
		"snapshot.mode":                  "initial",
		"key.converter":                  "org.apache.kafka.connect.json.JsonConverter",
		"key.converter.schemas.enable":   "false",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false",
	}
	// Cleanups run last registered first: the connector goes, then the
	// slot it held (active until its task has stopped) and the publication
	// it created, then the topic and the table.
	postgresCleanup(t, p, "drop replication slot and publication "+ident, func(ctx context.Context, db *pgx.Conn) error {
		if err := dropReplicationSlot(ctx, db, ident); err != nil {
			return err
		}
		_, err := db.Exec(ctx, "DROP PUBLICATION IF EXISTS "+pgx.Identifier{ident}.Sanitize())
		return err
	})
	connectDo(ctx, t, p, http.MethodPut, "/connectors/"+connector+"/config", config, http.StatusCreated)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		connectDo(ctx, t, p, http.MethodDelete, "/connectors/"+connector, nil, http.StatusNoContent)
	})

	consumer := newClient(t, p, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))

	snapshot := readChanges(ctx, t, p, consumer, connector, 5)
	checkChanges(t, "snapshot", snapshot, "r", 1, 5)

	pgExec(ctx, t, db, insertItems, 6, 8)
	streamed := readChanges(ctx, t, p, consumer, connector, 3)
	checkChanges(t, "streaming", streamed, "c", 6, 8)

	if st := connectorStatus(ctx, t, p, connector); st.Connector.State != "RUNNING" || len(st.Tasks) != 1 || st.Tasks[0].State != "RUNNING" {
		t.Fatalf("connector status: %+v", st)
	}
}

// change is the part of a Debezium change event, converted by JsonConverter
// without schemas, that the smoke test checks.
type change struct {
	key struct {
		ID int `json:"id"`
	}
	Op    string `json:"op"`
	After *struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	} `json:"after"`
}

// readChanges consumes n change events, failing early when the connector or
// its task fails.
func readChanges(ctx context.Context, t *testing.T, p platformtest.Platform, consumer *kgo.Client, connector string, n int) []change {
	t.Helper()
	var out []change
	for len(out) < n {
		pollCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		fs := consumer.PollRecords(pollCtx, n-len(out))
		cancel()
		for _, fe := range fs.Errors() {
			if !errors.Is(fe.Err, context.DeadlineExceeded) && !errors.Is(fe.Err, context.Canceled) {
				t.Fatalf("fetch %s[%d]: %v", fe.Topic, fe.Partition, fe.Err)
			}
		}
		for _, r := range fs.Records() {
			var c change
			if err := json.Unmarshal(r.Key, &c.key); err != nil {
				t.Fatalf("decode key %s: %v", r.Key, err)
			}
			if err := json.Unmarshal(r.Value, &c); err != nil {
				t.Fatalf("decode value %s: %v", r.Value, err)
			}
			out = append(out, c)
		}
		if len(out) >= n {
			break
		}
		st := connectorStatus(ctx, t, p, connector)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %d of %d change events: %v; connector status: %+v", len(out), n, err, st)
		}
		if st.Connector.State == "FAILED" || len(st.Tasks) > 0 && st.Tasks[0].State == "FAILED" {
			t.Fatalf("connector failed after %d of %d change events: %+v", len(out), n, st)
		}
	}
	return out
}

// checkChanges checks that changes are one event of operation op for each
// id from first to last, in any order, with the row the test inserted.
func checkChanges(t *testing.T, what string, changes []change, op string, first, last int) {
	t.Helper()
	seen := map[int]bool{}
	for _, c := range changes {
		if c.Op != op || c.After == nil {
			t.Fatalf("%s: got op %q with after %+v, want op %q with a row", what, c.Op, c.After, op)
		}
		if c.key.ID != c.After.ID || c.After.Name != fmt.Sprintf("item-%d", c.After.ID) {
			t.Fatalf("%s: got key id %d and row %+v, want key and row of item-%d", what, c.key.ID, *c.After, c.After.ID)
		}
		if seen[c.After.ID] {
			t.Fatalf("%s: row %d twice", what, c.After.ID)
		}
		seen[c.After.ID] = true
	}
	for id := first; id <= last; id++ {
		if !seen[id] {
			t.Fatalf("%s: got rows %v, want %d to %d", what, seen, first, last)
		}
	}
}

// connectorState is the part of GET /connectors/{name}/status the tests read.
type connectorState struct {
	Connector struct {
		State string `json:"state"`
		Trace string `json:"trace,omitempty"`
	} `json:"connector"`
	Tasks []struct {
		State string `json:"state"`
		Trace string `json:"trace,omitempty"`
	} `json:"tasks"`
}

// connectorStatus returns the connector's status, or a zero one while the
// worker does not know it yet.
func connectorStatus(ctx context.Context, t *testing.T, p platformtest.Platform, connector string) connectorState {
	t.Helper()
	// It also describes a failure after ctx has ended.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var st connectorState
	body := connectDo(ctx, t, p, http.MethodGet, "/connectors/"+connector+"/status", nil, 0)
	_ = json.Unmarshal(body, &st) // a 404 before the worker has assigned it leaves st zero
	return st
}

// postgresConfig is the connection configuration of the platform's
// database. The platform's server has no TLS.
func postgresConfig(t *testing.T, p platformtest.Platform) *pgx.ConnConfig {
	t.Helper()
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(p.PostgresUser, p.PostgresPassword),
		Host:     net.JoinHostPort(p.PostgresHost, p.PostgresPort),
		Path:     "/" + p.PostgresDB,
		RawQuery: "sslmode=disable&connect_timeout=10",
	}
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		t.Fatalf("postgres connection config: %v", err)
	}
	return cfg
}

// connectPostgres connects to the platform's database for the test's
// duration.
func connectPostgres(ctx context.Context, t *testing.T, p platformtest.Platform) *pgx.Conn {
	t.Helper()
	db, err := pgx.ConnectConfig(ctx, postgresConfig(t, p))
	if err != nil {
		t.Fatalf("connect to postgres %s:%s: %v", p.PostgresHost, p.PostgresPort, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = db.Close(ctx)
	})
	return db
}

func pgExec(ctx context.Context, t *testing.T, db *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := db.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// postgresCleanup runs fn when the test ends, on a connection of its own:
// the test's may have closed when a query outlived the test's context.
func postgresCleanup(t *testing.T, p platformtest.Platform, what string, fn func(context.Context, *pgx.Conn) error) {
	t.Helper()
	cfg := postgresConfig(t, p)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		db, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			err = fn(ctx, db)
			_ = db.Close(ctx)
		}
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	})
}

// dropReplicationSlot drops the slot if it exists, trying again while a
// walsender still holds it: a deleted connector's task lets go of it a
// moment after the worker answered the delete. A slot left behind would
// keep the server's WAL forever.
func dropReplicationSlot(ctx context.Context, db *pgx.Conn, slot string) error {
	for {
		_, err := db.Exec(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", slot)
		var pgErr *pgconn.PgError
		// 55006 object_in_use: the slot is active for another process.
		if !errors.As(err, &pgErr) || pgErr.Code != "55006" {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("drop replication slot %s: %w (last: %w)", slot, ctx.Err(), err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}
