package pipelines

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/secrets/materialize"
)

// registryV2 is the Apicurio v2 API beside the platform's
// Confluent-compatible one: where the workers' Avro converter talks.
func registryV2(t testing.TB, p *platformtest.Platform) string {
	t.Helper()
	base, ok := strings.CutSuffix(p.SchemaRegistryURL, "/apis/ccompat/v7")
	if !ok {
		t.Fatalf("registry URL %s is not Apicurio's ccompat v7 API", p.SchemaRegistryURL)
	}
	return base + "/apis/registry/v2"
}

// avro is the converter config sk.avro writes, for prefix key.converter
// or value.converter.
func avro(prefix, registry string) map[string]string {
	return map[string]string{
		prefix:                            "io.apicurio.registry.utils.converter.AvroConverter",
		prefix + ".apicurio.registry.url": registry,
		prefix + ".apicurio.registry.auto-register":   "true",
		prefix + ".apicurio.registry.as-confluent":    "true",
		prefix + ".apicurio.registry.headers.enabled": "false",
		prefix + ".apicurio.registry.use-id":          "contentId",
	}
}

// database is a role of the platform's PostgreSQL with a table of its
// own, the role's password in Vault.
type database struct {
	admin     *pgx.Conn
	role      string // also the table's name and the Vault path's last part
	password  string
	vaultPath string // KV v2, under secret/
}

func newDatabase(ctx context.Context, t testing.TB, p *platformtest.Platform, prefix, columns string) *database {
	t.Helper()
	if p.ConnectSecretsDir == "" {
		t.Fatal(platformtest.EnvConnectSecretsDir + " is unset: the workers' secrets folder is unknown")
	}
	db := &database{role: strings.ReplaceAll(platformtest.UniqueName(prefix), "-", "_"), password: platformtest.UniqueName("pw")}
	db.vaultPath = "pipelines/" + db.role
	url := fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", p.PostgresUser, p.PostgresPassword,
		net.JoinHostPort(p.PostgresHost, p.PostgresPort), p.PostgresDB)
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	db.admin = admin
	role := pgx.Identifier{db.role}.Sanitize()
	db.exec(ctx, t, "CREATE ROLE "+role+" LOGIN REPLICATION PASSWORD '"+db.password+"'")
	db.exec(ctx, t, "GRANT CREATE ON DATABASE "+pgx.Identifier{p.PostgresDB}.Sanitize()+" TO "+role)
	db.exec(ctx, t, "GRANT CREATE, USAGE ON SCHEMA public TO "+role)
	if columns != "" {
		db.exec(ctx, t, "CREATE TABLE "+db.table()+" ("+columns+")")
		db.exec(ctx, t, "ALTER TABLE "+db.table()+" OWNER TO "+role)
	}
	if _, err := p.Clients.Vault.API().KVv2("secret").Put(ctx, db.vaultPath, map[string]any{"password": db.password}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for range 120 { // a slot stays active until its task is gone
			var active bool
			err := admin.QueryRow(ctx, "SELECT active FROM pg_replication_slots WHERE slot_name = $1", db.role).Scan(&active)
			if err != nil {
				break
			}
			if !active {
				_, _ = admin.Exec(ctx, "SELECT pg_drop_replication_slot($1)", db.role)
			}
			time.Sleep(500 * time.Millisecond)
		}
		for _, sql := range []string{
			"DROP PUBLICATION IF EXISTS " + role,
			"DROP TABLE IF EXISTS " + db.table(),
			"REVOKE CREATE, USAGE ON SCHEMA public FROM " + role,
			"REVOKE CREATE ON DATABASE " + pgx.Identifier{p.PostgresDB}.Sanitize() + " FROM " + role,
			"DROP ROLE IF EXISTS " + role,
		} {
			if _, err := admin.Exec(ctx, sql); err != nil {
				t.Logf("cleanup: %s: %v", sql, err)
			}
		}
		_ = admin.Close(ctx)
		_ = p.Clients.Vault.API().KVv2("secret").DeleteMetadata(ctx, db.vaultPath)
	})
	return db
}

func (db *database) table() string { return pgx.Identifier{"public", db.role}.Sanitize() }

func (db *database) exec(ctx context.Context, t testing.TB, sql string, args ...any) {
	t.Helper()
	if _, err := db.admin.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", strings.Join(strings.Fields(sql)[:2], " "), err)
	}
}

// sourceConfig is the config of a Debezium PostgreSQL source of the
// database's table, as the role, writing <role>.public.<role>; the
// converters are the caller's.
func (db *database) sourceConfig(p *platformtest.Platform) map[string]string {
	return map[string]string{
		"connector.class":             "io.debezium.connector.postgresql.PostgresConnector",
		"tasks.max":                   "1",
		"database.hostname":           p.PostgresHost,
		"database.port":               p.PostgresPort,
		"database.dbname":             p.PostgresDB,
		"database.user":               db.role,
		"database.password":           db.passwordRef(),
		"topic.prefix":                db.role,
		"table.include.list":          "public." + db.role,
		"plugin.name":                 "pgoutput",
		"slot.name":                   db.role,
		"publication.name":            db.role,
		"publication.autocreate.mode": "filtered",
	}
}

// sinkConfig is the config of Debezium's JDBC sink of topic into a table
// named as the role, upserting by key and deleting by tombstone; the
// value converter is the caller's.
func (db *database) sinkConfig(p *platformtest.Platform, topic string) map[string]string {
	return map[string]string{
		"connector.class":        "io.debezium.connector.jdbc.JdbcSinkConnector",
		"tasks.max":              "1",
		"topics":                 topic,
		"connection.url":         fmt.Sprintf("jdbc:postgresql://%s:%s/%s", p.PostgresHost, p.PostgresPort, p.PostgresDB),
		"connection.username":    db.role,
		"connection.password":    db.passwordRef(),
		"insert.mode":            "upsert",
		"primary.key.mode":       "record_key",
		"primary.key.fields":     "id",
		"delete.enabled":         "true",
		"schema.evolution":       "basic",
		"collection.name.format": db.role,
		// The keys are the producer's bytes, read as a string; the sink
		// takes its primary key from a struct key: HoistField wraps the
		// string as the field id.
		"key.converter":        "org.apache.kafka.connect.storage.StringConverter",
		"transforms":           "key",
		"transforms.key.type":  "org.apache.kafka.connect.transforms.HoistField$Key",
		"transforms.key.field": "id",
	}
}

// passwordRef is the Vault reference of the role's password.
func (db *database) passwordRef() string { return "${vault:secret/data/" + db.vaultPath + ":password}" }

// deploy delivers the connectors' secrets to the workers' folder, then
// plans and applies them in namespace ns, as streamkit apply does, and
// deletes them when the test ends.
func deploy(ctx context.Context, t testing.TB, p *platformtest.Platform, ns string, specs ...connect.Spec) {
	t.Helper()
	m, err := materialize.New(p.Clients.Vault, p.Clients.Connect, p.ConnectSecretsDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Sync(ctx, specs); err != nil {
		t.Fatal(err)
	}
	translated, err := m.TranslateSpecs(specs)
	if err != nil {
		t.Fatal(err)
	}
	opts := connect.PlanOptions{Namespace: ns, Prune: true}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		plan, err := p.Clients.Connect.Plan(ctx, nil, opts)
		if err == nil {
			_, err = p.Clients.Connect.Apply(ctx, plan, connect.ApplyOptions{Wait: -1})
		}
		if err != nil {
			t.Logf("cleanup: connectors of %s: %v", ns, err)
		}
	})
	plan, err := p.Clients.Connect.Plan(ctx, translated, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Clients.Connect.Apply(ctx, plan, connect.ApplyOptions{Wait: 2 * time.Minute}); err != nil {
		t.Fatal(err)
	}
}
