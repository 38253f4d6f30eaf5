package validate

import (
	"regexp/syntax"
	"strings"
	"testing"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/topics"
)

// sink is a valid JDBC sink of pricing.orders.v1 with kv added (an empty
// value deletes the key).
func sink(name string, kv ...string) connect.Spec {
	cfg := map[string]string{
		"connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
		"tasks.max":       "2",
		"topics":          "pricing.orders.v1",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(cfg, kv[i])
			continue
		}
		cfg[kv[i]] = kv[i+1]
	}
	return connect.Spec{Name: name, Config: cfg}
}

// withConnectors is a manifest declaring pricing.orders.v1 and cs.
func withConnectors(cs ...connect.Spec) Manifest {
	return Manifest{
		Topics:     []topics.Spec{{Name: "pricing.orders.v1", Partitions: 3, ReplicationFactor: 3}},
		Connectors: cs,
	}
}

func TestRuleConnectors(t *testing.T) {
	const res = "connector pricing-sink"
	fileSource := func(topic string) connect.Spec {
		return connect.Spec{Name: "pricing-file", Config: map[string]string{
			"connector.class": "FileStreamSource", "tasks.max": "1", "file": "/tmp/in", "topic": topic,
		}}
	}
	runRuleCases(t, []ruleCase{
		{rule: "CONN001", name: "missing", m: withConnectors(sink("pricing-sink", "connector.class", "")),
			want: []wantFinding{{res, "connector.class"}}},
		{rule: "CONN001", name: "present", m: withConnectors(sink("pricing-sink"))},

		{rule: "CONN002", name: "missing", m: withConnectors(sink("pricing-sink", "tasks.max", "")),
			want: []wantFinding{{res, "tasks.max"}}},
		{rule: "CONN002", name: "not an integer", m: withConnectors(sink("pricing-sink", "tasks.max", "two")),
			want: []wantFinding{{res, "tasks.max"}}},
		{rule: "CONN002", name: "zero", m: withConnectors(sink("pricing-sink", "tasks.max", "0")),
			want: []wantFinding{{res, "tasks.max"}}},
		{rule: "CONN002", name: "above max", m: withConnectors(sink("pricing-sink", "tasks.max", "9")),
			policy: Policy{MaxTasks: 4}, want: []wantFinding{{res, "tasks.max"}}},
		{rule: "CONN002", name: "below min", m: withConnectors(sink("pricing-sink", "tasks.max", "1")),
			policy: Policy{MinTasks: 2}, want: []wantFinding{{res, "tasks.max"}}},
		{rule: "CONN002", name: "within bounds", m: withConnectors(sink("pricing-sink", "tasks.max", "4")),
			policy: Policy{MinTasks: 1, MaxTasks: 4}},

		{rule: "CONN003", name: "outside", m: withConnectors(sink("orders-sink")), policy: Policy{Namespace: "pricing"},
			want: []wantFinding{{"connector orders-sink", ""}}},
		{rule: "CONN003", name: "inside", m: withConnectors(sink("pricing-sink")), policy: Policy{Namespace: "pricing"}},

		{rule: "CONN004", name: "literal password",
			m:    withConnectors(sink("pricing-sink", "connection.password", "hunter2", "connection.user", "pricing")),
			want: []wantFinding{{res, "connection.password"}}},
		{rule: "CONN004", name: "literal in jaas",
			m: withConnectors(sink("pricing-sink", "consumer.override.sasl.jaas.config",
				`org.apache.kafka.common.security.plain.PlainLoginModule required username="pricing" password="hunter2";`)),
			want: []wantFinding{{res, "consumer.override.sasl.jaas.config"}}},
		{rule: "CONN004", name: "credentials in urls",
			m: withConnectors(
				sink("pricing-sink", "connection.url", "jdbc:postgresql://db:5432/pricing?user=app&password=hunter2"),
				sink("pricing-mysql", "connection.url", "jdbc:mysql://app:hunter2@db/pricing"),
				sink("pricing-mssql", "connection.url", "jdbc:sqlserver://db;user=app;password=hunter2"),
				sink("pricing-mongo", "connection.uri", "mongodb://app:hunter2@mongo:27017/pricing"),
			),
			want: []wantFinding{{res, "connection.url"}, {"connector pricing-mysql", "connection.url"},
				{"connector pricing-mssql", "connection.url"}, {"connector pricing-mongo", "connection.uri"}}},
		{rule: "CONN004", name: "urls with references",
			m: withConnectors(
				sink("pricing-sink", "connection.url", "jdbc:postgresql://db:5432/pricing?user=app&password=${vault:secret/data/pricing/db:password}"),
				sink("pricing-mysql", "connection.url", "jdbc:mysql://app:${env:DB_PASSWORD}@db/pricing"),
				sink("pricing-mssql", "connection.url", "jdbc:sqlserver://db;user=app;password=${dir:/etc/secrets:db-password}"),
				sink("pricing-pg", "connection.url", "jdbc:postgresql://db:5432/pricing?user=app", "connection.password", "${file:/etc/kafka/db.properties:password}"),
			)},
		{rule: "CONN004", name: "settings about credentials",
			m: withConnectors(sink("pricing-sink",
				"value.converter", "io.confluent.connect.avro.AvroConverter",
				"value.converter.schema.registry.url", "https://registry:8081",
				"value.converter.basic.auth.credentials.source", "USER_INFO",
				"key.converter.basic.auth.credentials.source", "USER_INFO",
				"value.converter.basic.auth.user.info", "${vault:secret/data/pricing/registry:user-info}",
				"consumer.override.sasl.mechanism", "SCRAM-SHA-512",
				"consumer.override.security.protocol", "SASL_SSL"))},
		{rule: "CONN004", name: "user info beside its source",
			m: withConnectors(sink("pricing-sink",
				"value.converter.basic.auth.credentials.source", "USER_INFO",
				"value.converter.basic.auth.user.info", "pricing:hunter2")),
			want: []wantFinding{{res, "value.converter.basic.auth.user.info"}}},
		{rule: "CONN004", name: "references",
			m: withConnectors(sink("pricing-sink",
				"connection.password", "${vault:secret/data/pricing/db:password}",
				"ssl.key", "${file:/etc/kafka/secrets.properties:ssl.key}",
				"consumer.override.sasl.jaas.config",
				`org.apache.kafka.common.security.plain.PlainLoginModule required username="pricing" password="${vault:secret/data/pricing/kafka:password}";`,
				"key.converter", "org.apache.kafka.connect.storage.StringConverter"))},

		{rule: "CONN005", name: "confluent without url",
			m:    withConnectors(sink("pricing-sink", "value.converter", "io.confluent.connect.avro.AvroConverter")),
			want: []wantFinding{{res, "value.converter"}}},
		{rule: "CONN005", name: "apicurio without url",
			m: withConnectors(sink("pricing-sink", "key.converter", "io.apicurio.registry.utils.converter.AvroConverter",
				"key.converter.schema.registry.url", "http://registry:8081")),
			want: []wantFinding{{res, "key.converter"}}},
		{rule: "CONN005", name: "with urls",
			m: withConnectors(sink("pricing-sink",
				"value.converter", "io.confluent.connect.avro.AvroConverter",
				"value.converter.schema.registry.url", "http://registry:8081",
				"key.converter", "io.apicurio.registry.utils.converter.AvroConverter",
				"key.converter.apicurio.registry.url", "http://registry:8080/apis/registry/v2"))},

		{rule: "CONN006", name: "tolerance all without dlq",
			m: withConnectors(sink("pricing-sink", "errors.tolerance", "all")), want: []wantFinding{{res, "errors.tolerance"}}},
		{rule: "CONN006", name: "file sink by class",
			m: withConnectors(connect.Spec{Name: "pricing-sink", Config: map[string]string{
				"connector.class": "FileStreamSink", "topics.regex": "pricing\\..*", "errors.tolerance": "all"}}),
			want: []wantFinding{{res, "errors.tolerance"}}},
		{rule: "CONN006", name: "with dlq",
			m: withConnectors(sink("pricing-sink", "errors.tolerance", "all", "errors.deadletterqueue.topic.name", "pricing.orders.dlq.v1"))},
		{rule: "CONN006", name: "source tolerating all",
			m: withConnectors(fileSource("pricing.orders.v1"))},

		{rule: "CONN007", name: "unknown sink topic",
			m:    withConnectors(sink("pricing-sink", "topics", "pricing.orders.v1, pricing.ordres.v1")),
			want: []wantFinding{{res, "topics"}}},
		{rule: "CONN007", name: "unknown source topic",
			m: withConnectors(fileSource("pricing.lines.v1")), want: []wantFinding{{"connector pricing-file", "topic"}}},
		{rule: "CONN007", name: "mirror source topics are remote",
			m: withConnectors(connect.Spec{Name: "pricing-mirror", Config: map[string]string{
				"connector.class": "org.apache.kafka.connect.mirror.MirrorSourceConnector", "tasks.max": "1", "topics": "pricing\\..*"}})},
		{rule: "CONN007", name: "declared or existing",
			m:      withConnectors(sink("pricing-sink", "topics", "pricing.orders.v1,shared.fx.v1"), fileSource("shared.fx.v1")),
			policy: Policy{ExistingTopics: map[string]bool{"shared.fx.v1": true}}},

		{rule: "CONN008", name: "invalid regex",
			m: withConnectors(sink("pricing-sink", "topics", "", "topics.regex", "pricing\\.(orders")), want: []wantFinding{{res, "topics.regex"}}},
		{rule: "CONN008", name: "valid regex",
			m: withConnectors(sink("pricing-sink", "topics", "", "topics.regex", "pricing\\.(orders|refunds)\\.v1"))},

		{rule: "CONN009", name: "missing key",
			m: withConnectors(sink("pricing-sink", "connection.password", "${vault:secret/data/pricing/db}")), want: []wantFinding{{res, "connection.password"}}},
		{rule: "CONN009", name: "unclosed",
			m:    withConnectors(sink("pricing-sink", "connection.url", "jdbc:postgresql://db/pricing?user=${vault:secret/data/pricing/db:user")),
			want: []wantFinding{{res, "connection.url"}}},
		{rule: "CONN009", name: "well-formed",
			m: withConnectors(sink("pricing-sink", "connection.password", "${vault:secret/data/pricing/db:password}"))},

		{rule: "CONN010", name: "duplicate",
			m: withConnectors(sink("pricing-sink"), sink("pricing-sink")), want: []wantFinding{{res, ""}}},
		{rule: "CONN010", name: "unique",
			m: withConnectors(sink("pricing-sink"), sink("pricing-sink-2"))},

		{rule: "CONN011", name: "sink reads outside", policy: Policy{Namespace: "pricing."},
			m: withConnectors(
				sink("pricing-sink", "topics", "pricing.orders.v1, billing.invoices.v1", "errors.deadletterqueue.topic.name", "dlq"),
				sink("pricing-regex", "topics", "", "topics.regex", `.*\.orders\.v1`),
				sink("pricing-short", "topics", "", "topics.regex", `pric.*`),
				sink("pricing-fold", "topics", "", "topics.regex", `(?i)pricing\..*`),
			),
			want: []wantFinding{
				{res, "topics"}, {res, "errors.deadletterqueue.topic.name"},
				{"connector pricing-regex", "topics.regex"}, {"connector pricing-short", "topics.regex"}, {"connector pricing-fold", "topics.regex"},
			}},
		{rule: "CONN011", name: "sink reads inside", policy: Policy{Namespace: "pricing."},
			m: withConnectors(
				sink("pricing-sink", "topics", "pricing.orders.v1,${file:/etc/topics.properties:extra}",
					"errors.deadletterqueue.topic.name", "pricing.orders.dlq.v1"),
				sink("pricing-regex", "topics", "", "topics.regex", `^pricing\.(orders|refunds)\.v1$`),
				sink("pricing-alt", "topics", "", "topics.regex", `pricing\.orders\.v1|pricing\.refunds\.v1`),
				sink("pricing-class", "topics", "", "topics.regex", `pricing[.]orders.*`),
			)},
		{rule: "CONN011", name: "sources write outside", policy: Policy{Namespace: "pricing."},
			m: withConnectors(
				fileSource("orders.v1"),
				connect.Spec{Name: "pricing-datagen", Config: map[string]string{
					"connector.class": "io.confluent.kafka.connect.datagen.DatagenConnector", "kafka.topic": "test"}},
				connect.Spec{Name: "pricing-db", Config: map[string]string{
					"connector.class": "io.debezium.connector.postgresql.PostgresConnector", "topic.prefix": "db",
					"schema.history.internal.kafka.topic": "schema-changes.pricing"}},
			),
			want: []wantFinding{
				{"connector pricing-file", "topic"}, {"connector pricing-datagen", "kafka.topic"},
				{"connector pricing-db", "schema.history.internal.kafka.topic"}, {"connector pricing-db", "topic.prefix"},
			}},
		{rule: "CONN011", name: "sources write inside", policy: Policy{Namespace: "pricing."},
			m: withConnectors(
				fileSource("pricing.lines.v1"),
				connect.Spec{Name: "pricing-db", Config: map[string]string{
					"connector.class": "io.debezium.connector.postgresql.PostgresConnector", "topic.prefix": "pricing.db",
					"schema.history.internal.kafka.topic": "pricing.db.schema-changes"}},
			)},
		{rule: "CONN011", name: "mirror maker names remote topics", policy: Policy{Namespace: "pricing."},
			m: withConnectors(connect.Spec{Name: "pricing-mirror", Config: map[string]string{
				"connector.class": "org.apache.kafka.connect.mirror.MirrorSourceConnector", "topics": "orders\\..*"}})},
		{rule: "CONN011", name: "no namespace", m: withConnectors(sink("pricing-sink", "topics", "billing.invoices.v1"))},
	})
}

func TestRegexPrefix(t *testing.T) {
	for re, want := range map[string]string{
		`pricing\..*`:                      "pricing.",
		`^pricing\.(orders|refunds)\.v1$`:  "pricing.",
		`pricing\.orders\.v1`:              "pricing.orders.v1",
		`pricing\.orders|pricing\.refunds`: "pricing.",
		`(pricing\.a)|(pricing\.b)`:        "pricing.",
		`pricing[.]x`:                      "pricing.x",
		`(?:pricing)+\.x`:                  "pricing",
		`.*pricing`:                        "",
		`(?i)pricing`:                      "",
		`[pq]ricing`:                       "",
		`pricing(\.orders)?`:               "pricing",
		`\bpricing`:                        "pricing",
	} {
		parsed, err := syntax.Parse(re, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := regexPrefix(parsed); got != want {
			t.Errorf("regexPrefix(%s): got %q, want %q", re, got, want)
		}
	}
}

// TestRuleCredentialMessageRedacted checks that no finding of any rule
// repeats a literal secret, wherever it is written.
func TestRuleCredentialMessageRedacted(t *testing.T) {
	const secret = "s3cr3t-Value-42"
	m := withConnectors(sink("pricing-sink",
		"connection.password", secret,
		"value.converter.basic.auth.user.info", "pricing:"+secret,
		"consumer.override.sasl.jaas.config", `x.PlainLoginModule required username="u" password="`+secret+`";`,
		"aws.secret.access.key", secret+"${vault:",
	))
	got := Check(&Context{Manifest: &m, Locator: fakeLocator{}}, BuiltinRules(), nil)
	credential := 0
	for _, f := range got {
		if strings.Contains(f.Message, secret) || strings.Contains(f.Key, secret) || strings.Contains(f.Resource, secret) {
			t.Errorf("finding %s %s repeats the secret: %q", f.Rule, f.Key, f.Message)
		}
		if f.Rule == "CONN004" {
			credential++
		}
	}
	if credential != 4 {
		t.Errorf("got %d CONN004 findings, want 4: %+v", credential, got)
	}
}
