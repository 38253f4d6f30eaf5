package validate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/topics"
)

func TestEvaluateValid(t *testing.T) {
	res := evaluateDir(t, filepath.Join("testdata", "valid"))
	if len(res.Findings) != 0 {
		t.Fatalf("got findings:\n%s", res.Text())
	}
	if !res.OK() {
		t.Error("OK() = false, want true")
	}
	wantFiles := []string{"acls.jsonnet", "connectors.jsonnet", "schemas/schemas.jsonnet", "topics.jsonnet"}
	if !reflect.DeepEqual(res.Files, wantFiles) {
		t.Errorf("Files = %v, want %v", res.Files, wantFiles)
	}
	avsc, err := os.ReadFile(filepath.Join("testdata", "valid", "schemas", "orders.avsc"))
	if err != nil {
		t.Fatal(err)
	}
	want := Manifest{
		Topics: []topics.Spec{
			{Name: "pricing.orders.v1", Partitions: 12, ReplicationFactor: 3, Configs: map[string]string{
				"cleanup.policy": "compact", "min.insync.replicas": "2", "retention.ms": "604800000",
			}},
			{Name: "pricing.quotes.v2", Partitions: 6, ReplicationFactor: 3, Configs: map[string]string{
				"cleanup.policy": "delete", "min.insync.replicas": "2", "retention.ms": "604800000",
			}},
			{Name: "pricing.audit.v1", Partitions: 1, ReplicationFactor: 3, Configs: map[string]string{
				"retention.ms": "-1",
			}},
		},
		ACLs: []topics.Grant{
			{Principal: "User:pricing-svc", Role: topics.RoleProducer, Topics: []string{"pricing.orders.v1"}},
			{Principal: "User:billing-svc", Role: topics.RoleConsumer, Topics: []string{"pricing.orders.v1", "pricing.quotes.v2"}, Groups: []string{"billing-pricing"}},
			{Principal: "User:pricing-ops", Role: topics.RoleAdmin, Topics: []string{"pricing.*"}, Groups: []string{"pricing.*"}},
		},
		Bindings: []topics.Binding{
			{Principal: "User:pricing-monitor", Host: "*", Resource: "topic", Name: "pricing.", Pattern: "prefixed", Operation: "describe", Permission: "allow"},
		},
		Schemas: []SchemaSpec{
			{Subject: "pricing.orders.v1-value", File: "orders.avsc", Schema: string(avsc)},
			{Subject: "pricing.quotes.v2-value", Schema: `{"fields":[{"name":"id","type":"string"}],"name":"Quote","type":"record"}`},
		},
		Connectors: []connect.Spec{
			{Name: "pricing-file-source", Config: map[string]string{
				"connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
				"tasks.max":       "1", "file": "/data/orders.txt", "topic": "pricing.orders.v1",
			}},
			{Name: "pricing-file-sink", Config: map[string]string{
				"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
				"tasks.max":       "1", "topics": "pricing.orders.v1", "file": "/data/out.txt",
			}},
			{Name: "pricing-mirror", Config: map[string]string{
				"connector.class":                  "org.apache.kafka.connect.mirror.MirrorSourceConnector",
				"tasks.max":                        "1",
				"source.cluster.alias":             "legacy",
				"source.cluster.bootstrap.servers": "legacy-kafka:9092",
				"target.cluster.bootstrap.servers": "kafka:9092",
				"topics":                           `pricing\..*`,
				"sync.topic.acls.enabled":          "false",
				"refresh.topics.interval.seconds":  "60",
			}},
			{Name: "pricing-db-source", Config: map[string]string{
				"connector.class":             "io.debezium.connector.postgresql.PostgresConnector",
				"tasks.max":                   "1",
				"database.hostname":           "pricing-db",
				"database.port":               "5432",
				"database.dbname":             "pricing",
				"database.user":               "debezium",
				"database.password":           "${vault:secret/data/pricing-db:password}",
				"topic.prefix":                "pricing.db",
				"table.include.list":          "public.prices",
				"plugin.name":                 "pgoutput",
				"slot.name":                   "pricing_db_source",
				"publication.name":            "pricing_db_source",
				"publication.autocreate.mode": "filtered",
				"snapshot.mode":               "initial",
			}},
		},
	}
	// Files are evaluated in lexical order: acls, connectors, schemas,
	// topics; each kind keeps its files' order.
	if !reflect.DeepEqual(res.Manifest, want) {
		t.Errorf("Manifest:\ngot  %+v\nwant %+v", res.Manifest, want)
	}
}

func TestEvaluateBroken(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"syntax", false},
		{"runtime", false},
		{"assert", false},
		{"unknown-key", true},
		{"wrong-type", false},
		{"missing-avsc", false},
		{"import", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := evaluateDir(t, filepath.Join("testdata", "broken", tc.name))
			if len(res.Findings) == 0 {
				t.Fatal("got no findings")
			}
			if got := res.OK(); got != tc.ok {
				t.Errorf("OK() = %v, want %v", got, tc.ok)
			}
			golden(t, tc.name, res.Text())
		})
	}
}

func TestEvaluateFilesAndImportPaths(t *testing.T) {
	dir := t.TempDir()
	shared := filepath.Join(dir, "shared")
	if err := os.Mkdir(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(shared, "defaults.libsonnet"), `{ partitions: 4 }`)
	main := filepath.Join(dir, "main.jsonnet")
	write(t, main, `local d = import 'defaults.libsonnet';
{ topics: [{ name: 't', partitions: d.partitions, replication_factor: 3 }] }`)

	res, err := Evaluate(context.Background(), Options{Files: []string{main}, ImportPaths: []string{shared}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 {
		t.Fatalf("got findings:\n%s", res.Text())
	}
	if got := res.Manifest.Topics[0].Partitions; got != 4 {
		t.Errorf("partitions = %d, want 4", got)
	}

	res, err = Evaluate(context.Background(), Options{Files: []string{main}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || res.Findings[0].Rule != RuleRuntime || res.Findings[0].Pos.Line != 1 {
		t.Errorf("without the import path: got %+v, want one %s at line 1", res.Findings, RuleRuntime)
	}
}

func TestEvaluateMaxStack(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "deep.jsonnet"), `local f(n) = if n == 0 then 0 else 1 + f(n - 1);
{ topics: [{ name: 't', partitions: f(100), replication_factor: 3 }] }`)
	res, err := Evaluate(context.Background(), Options{Dir: dir, MaxStack: 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || res.Findings[0].Rule != RuleRuntime || !strings.Contains(res.Findings[0].Message, "stack") {
		t.Fatalf("got %+v, want a stack overflow finding", res.Findings)
	}
	if res.Findings[0].Pos.File != "deep.jsonnet" {
		t.Errorf("position %v, want in deep.jsonnet", res.Findings[0].Pos)
	}
}

func TestEvaluateContext(t *testing.T) {
	t.Run("canceled before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := Evaluate(ctx, Options{Dir: filepath.Join("testdata", "valid")})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	})
	t.Run("canceled between files", func(t *testing.T) {
		dir := t.TempDir()
		write(t, filepath.Join(dir, "a.jsonnet"), `{}`)
		write(t, filepath.Join(dir, "b.jsonnet"), `{}`)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var done []string
		_, err := evaluate(ctx, Options{Dir: dir}, func(file string) {
			done = append(done, file)
			cancel() // as if a.jsonnet took too long
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
		if want := []string{"a.jsonnet"}; !reflect.DeepEqual(done, want) {
			t.Errorf("evaluated %v, want %v", done, want)
		}
	})
}

func TestEvaluateIOError(t *testing.T) {
	_, err := Evaluate(context.Background(), Options{Files: []string{filepath.Join(t.TempDir(), "missing.jsonnet")}})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want an error wrapping os.ErrNotExist", err)
	}
	_, err = Evaluate(context.Background(), Options{})
	if err == nil {
		t.Error("no Dir nor Files: got nil error")
	}
}

func TestLibraryEmbedded(t *testing.T) {
	if !strings.Contains(Library(), "FileStreamSourceConnector") {
		t.Error("Library() does not look like streamkit.libsonnet")
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLibraryRejectsLiteralPassword(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "db.jsonnet"), `local sk = import 'streamkit.libsonnet';
{
  connectors: [
    sk.debeziumPostgres('pricing-db', 'db', 5432, 'pricing', 'dbz', 'hunter2', 'pricing.db', ['public.t']),
  ],
}`)
	res, err := Evaluate(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	want := Position{File: "db.jsonnet", Line: 4, Column: 5}
	if len(res.Findings) != 1 || res.Findings[0].Rule != RuleRuntime || res.Findings[0].Pos != want {
		t.Fatalf("got %+v, want one %s at %v", res.Findings, RuleRuntime, want)
	}
	if strings.Contains(res.Findings[0].Message, "hunter2") {
		t.Errorf("message %q repeats the password", res.Findings[0].Message)
	}
}
