package materialize_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/secrets"
	"github.com/streamkit/streamkit/secrets/materialize"
)

// TestIntegrationDebeziumVaultRotation is the seed's own case: a Debezium
// PostgreSQL source whose database password lives in Vault. The
// Materializer writes it into the Connect worker's secrets folder and the
// connector config holds only a ${dir:...} placeholder. Rows inserted in
// PostgreSQL arrive in Kafka; the password is rotated in PostgreSQL and in
// Vault; the Materializer rewrites the file and restarts the connector,
// which logs in with the new password; rows keep arriving, none lost.
func TestIntegrationDebeziumVaultRotation(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka, platformtest.Connect, platformtest.Vault, platformtest.Postgres)
	if p.ConnectSecretsDir == "" {
		platformtest.SkipOrFail(t, platformtest.EnvConnectSecretsDir+" is unset: the worker's secrets folder is unknown")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	// Names: the slot, publication, table and role share one lower-case
	// identifier; the connectors live in a namespace of their own.
	name := strings.ReplaceAll(platformtest.UniqueName("dbz"), "-", "_")
	ns := strings.ReplaceAll(name, "_", "-") + "-"
	table := pgx.Identifier{"public", name}.Sanitize()
	role := pgx.Identifier{name}.Sanitize()
	topic := name + ".public." + name
	pw1, pw2 := platformtest.UniqueName("pg-pw1"), platformtest.UniqueName("pg-pw2")

	// PostgreSQL: a table owned by a replication role with the first
	// password.
	admin := pgConnect(ctx, t, p, p.PostgresUser, p.PostgresPassword)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := admin.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", strings.SplitN(sql, " ", 3)[:2], err)
		}
	}
	exec("CREATE ROLE " + role + " LOGIN REPLICATION PASSWORD '" + pw1 + "'")
	exec("CREATE TABLE " + table + " (id integer PRIMARY KEY, item text NOT NULL)")
	exec("ALTER TABLE " + table + " OWNER TO " + role)
	// Debezium creates its publication: CREATE on the database.
	exec("GRANT CREATE ON DATABASE " + pgx.Identifier{p.PostgresDB}.Sanitize() + " TO " + role)
	insert := func(from, to int) {
		t.Helper()
		exec("INSERT INTO "+table+" SELECT i, 'item-' || i FROM generate_series($1::int, $2::int) AS i", from, to)
	}
	insert(1, 5)

	// Vault holds the password; the Materializer delivers it.
	vault, err := secrets.New(ctx, secrets.WithAddress(p.VaultAddr), secrets.WithToken(secrets.NewValue(p.VaultToken)), secrets.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	kv := vault.API().KVv2("secret")
	if _, err := kv.Put(ctx, name+"/postgres", map[string]any{"password": pw1}); err != nil {
		t.Fatal(err)
	}
	cc, err := connect.New(connect.WithURLs(p.ConnectURL), connect.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	mat, err := materialize.New(vault, cc, p.ConnectSecretsDir,
		materialize.WithInterval(500*time.Millisecond), materialize.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 1, -1, nil, topic); err != nil {
		t.Fatal(err)
	}

	connector := ns + "inventory-source"
	desired := []connect.Spec{{Name: connector, Config: map[string]string{
		"connector.class":                "io.debezium.connector.postgresql.PostgresConnector",
		"plugin.name":                    "pgoutput",
		"database.hostname":              p.PostgresHost,
		"database.port":                  p.PostgresPort,
		"database.user":                  name,
		"database.password":              "${vault:secret/data/" + name + "/postgres:password}",
		"database.dbname":                p.PostgresDB,
		"topic.prefix":                   name,
		"table.include.list":             "public." + name,
		"slot.name":                      name,
		"publication.name":               name,
		"publication.autocreate.mode":    "filtered",
		"snapshot.mode":                  "initial",
		"key.converter":                  "org.apache.kafka.connect.json.JsonConverter",
		"key.converter.schemas.enable":   "false",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false",
	}}}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = cc.Delete(ctx, connector)
		db := pgConnect(ctx, t, p, p.PostgresUser, p.PostgresPassword)
		for i := 0; i < 60; i++ { // the slot stays active until the task is gone
			if _, err := db.Exec(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", name); err == nil {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		_, _ = db.Exec(ctx, "DROP PUBLICATION IF EXISTS "+pgx.Identifier{name}.Sanitize())
		_, _ = db.Exec(ctx, "DROP TABLE IF EXISTS "+table)
		_, _ = db.Exec(ctx, "REVOKE CREATE ON DATABASE "+pgx.Identifier{p.PostgresDB}.Sanitize()+" FROM "+role)
		_, _ = db.Exec(ctx, "DROP ROLE IF EXISTS "+role)
		_, _ = adm.DeleteTopics(ctx, topic)
		_ = kv.DeleteMetadata(ctx, name+"/postgres")
	})

	// The worker gets placeholders only.
	translated, err := mat.TranslateSpecs(desired)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mat.Sync(ctx, desired); err != nil {
		t.Fatal(err)
	}
	plan, err := cc.Plan(ctx, translated, connect.PlanOptions{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Apply(ctx, plan, connect.ApplyOptions{Wait: 2 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	stored, err := cc.Config(ctx, connector)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stored["database.password"], "${dir:") {
		t.Fatalf("stored password is not a dir placeholder: %q", redactIf(stored["database.password"], pw1))
	}

	consumer, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	seen := map[int]bool{}
	readUntil := func(n int) {
		t.Helper()
		for len(seen) < n {
			fs := consumer.PollFetches(ctx)
			if ctx.Err() != nil {
				st, _ := cc.Status(context.Background(), connector)
				t.Fatalf("have %d of %d rows; connector %+v", len(seen), n, st)
			}
			fs.EachRecord(func(r *kgo.Record) {
				var change struct {
					After struct {
						ID int `json:"id"`
					} `json:"after"`
				}
				if json.Unmarshal(r.Value, &change) == nil && change.After.ID > 0 {
					seen[change.After.ID] = true
				}
			})
		}
	}
	readUntil(5) // the snapshot

	// Rotate: PostgreSQL first (the running session keeps working), then
	// Vault; the Materializer notices the new version, rewrites the file and
	// restarts the connector, which reconnects with the new password.
	var rotatedAt time.Time
	if err := admin.QueryRow(ctx, "SELECT now()").Scan(&rotatedAt); err != nil {
		t.Fatal(err)
	}
	exec("ALTER ROLE " + role + " PASSWORD '" + pw2 + "'")
	if _, err := kv.Put(ctx, name+"/postgres", map[string]any{"password": pw2}); err != nil {
		t.Fatal(err)
	}
	restarted := make(chan struct{}, 1)
	matCtx, stopMat := context.WithCancel(ctx)
	defer stopMat()
	mat2, err := materialize.New(vault, cc, p.ConnectSecretsDir,
		materialize.WithInterval(500*time.Millisecond), materialize.WithLogger(logger),
		materialize.WithEvents(func(ev materialize.Event) {
			if ev.Kind == materialize.Restarted && ev.Connector == connector {
				select {
				case restarted <- struct{}{}:
				default:
				}
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mat2.Run(matCtx, desired) }()
	select {
	case <-restarted:
	case <-ctx.Done():
		t.Fatal("the materializer did not restart the connector after the rotation")
	}
	// The old password no longer logs in; the new one does.
	if _, err := pgx.Connect(ctx, pgURL(p, name, pw1)); err == nil {
		t.Fatal("the rotated-out password still logs in")
	}
	waitRunning(ctx, t, cc, connector)
	// The worker restarts the task after it answers the restart request:
	// wait for the replication connection the restarted task opens, which
	// can only have logged in with the new password.
	for {
		var fresh int
		if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_stat_replication WHERE usename = $1 AND backend_start > $2",
			name, rotatedAt).Scan(&fresh); err != nil {
			t.Fatal(err)
		}
		if fresh > 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("no replication connection was opened after the rotation")
		}
		time.Sleep(200 * time.Millisecond)
	}
	insert(6, 10)
	readUntil(10)
	for i := 1; i <= 10; i++ {
		if !seen[i] {
			t.Fatalf("row %d lost", i)
		}
	}
	stopMat()
	if err := <-done; err != nil {
		t.Fatalf("materializer: %v", err)
	}

	// No secret in the logs, the stored config or the plan.
	again, err := cc.Plan(ctx, translated, connect.PlanOptions{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	stored, _ = cc.Config(ctx, connector)
	storedJSON, _ := json.Marshal(stored)
	for _, out := range []string{logs.String(), string(storedJSON), again.String(), plan.String()} {
		for _, s := range []string{pw1, pw2, p.VaultToken} {
			if strings.Contains(out, s) {
				t.Fatal("a secret appears in a log, a plan or the stored connector config")
			}
		}
	}
	if !again.Empty() {
		t.Fatalf("plan after rotation:\n%s", again)
	}
}

func pgURL(p platformtest.Platform, user, pass string) string {
	return fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", user, pass, net.JoinHostPort(p.PostgresHost, p.PostgresPort), p.PostgresDB)
}

func pgConnect(ctx context.Context, t *testing.T, p platformtest.Platform, user, pass string) *pgx.Conn {
	t.Helper()
	db, err := pgx.Connect(ctx, pgURL(p, user, pass))
	if err != nil {
		t.Fatalf("connect to postgres as %s: %v", user, err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	return db
}

func waitRunning(ctx context.Context, t *testing.T, cc *connect.Client, name string) {
	t.Helper()
	for {
		st, err := cc.Status(ctx, name)
		if err == nil && st.Connector.State == connect.StateRunning && len(st.Tasks) > 0 && st.Tasks[0].State == connect.StateRunning {
			return
		}
		if err == nil && st.Failed() {
			t.Fatalf("connector failed after the restart: %+v", st.Tasks)
		}
		if ctx.Err() != nil {
			t.Fatalf("connector not running: %+v %v", st, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func redactIf(v, secret string) string {
	if strings.Contains(v, secret) {
		return "[the secret itself]"
	}
	return v
}
