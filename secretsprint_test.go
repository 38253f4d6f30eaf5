package streamkit_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/internal/backoff"
	"github.com/streamkit/streamkit/internal/configdiff"
	"github.com/streamkit/streamkit/internal/kafkaauth"
	"github.com/streamkit/streamkit/internal/vaultfake"
	"github.com/streamkit/streamkit/internal/vaultref"
	"github.com/streamkit/streamkit/metrics"
	"github.com/streamkit/streamkit/metrics/platform"
	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/platformtest/containers"
	"github.com/streamkit/streamkit/platformtest/embedded"
	"github.com/streamkit/streamkit/schema"
	"github.com/streamkit/streamkit/secrets"
	"github.com/streamkit/streamkit/secrets/materialize"
	"github.com/streamkit/streamkit/topics"
	"github.com/streamkit/streamkit/validate"
)

// This file checks issue 13's promise that secrets never print: every
// exported type of every library package is printed loaded with
// credentials, with every fmt verb, as JSON and through slog, and no
// credential may show. The test fails, too, when an exported type has
// neither a sample nor an exemption, so a type added later is not
// forgotten.

const module = "github.com/streamkit/streamkit"

// canaryMark is in every secret the samples hold and in nothing else, so
// that finding it in an output is finding a leak.
const canaryMark = "CANARY"

// canary returns a distinctive secret; what says which one leaked.
func canary(what string) string { return "s3cr3t-" + canaryMark + "-" + what }

// exempt are the exported types without a sample, each with why none is
// needed: it cannot hold a credential, or it is not streamkit's type.
var exempt = map[string]string{
	"topics.ActionMode":                "int enum (dry run, execute)",
	"topics.TeamRole":                  "string enum set only from its constants (owner, deployer, service, reader)",
	"internal/runloop.Guard":           "a flag that says whether a Run is active: holds nothing else",
	"connect.Action":                   "string enum set only from its four constants (create, update, delete, unchanged)",
	"connect.HealEventKind":            "int enum",
	"connect.InitialState":             "string enum set only from its constants (RUNNING, PAUSED, STOPPED)",
	"internal/avrocodec.Schema":        "alias of hamba/avro's avro.Schema, a parsed Avro schema: not a type streamkit declares, and no credential",
	"internal/avrocodec.NamedSchema":   "alias of hamba/avro's avro.NamedSchema, as internal/avrocodec.Schema",
	"internal/vaultfake.Clock":         "test support that only tests import: a settable clock",
	"internal/vaultfake.Fault":         "test support that only tests import: a fake Vault whose only secrets are its own fixed fakes",
	"internal/vaultfake.KV2Secret":     "test support that only tests import: a fake Vault whose only secrets are its own fixed fakes",
	"internal/vaultfake.Log":           "test support that only tests import: a log buffer that feeds the fake Vault's leak check",
	"internal/vaultfake.Mount":         "test support that only tests import: a fake Vault mount (path, type, KV version), no credential",
	"internal/vaultfake.Request":       "test support that only tests import: a fake Vault whose only secrets are its own fixed fakes",
	"internal/vaultfake.Server":        "test support that only tests import: a fake Vault whose only secrets are its own fixed fakes",
	"internal/vaultfake.TB":            "interface: the part of testing.TB the fake Vault uses",
	"internal/vaultfake.Token":         "test support that only tests import: a fake Vault whose only secrets are its own fixed fakes",
	"metrics/platform.AlertState":      "string enum set only from its constants (firing, resolved)",
	"metrics/platform.ForecastMethod":  "int enum",
	"metrics/platform.LagStatus":       "int enum",
	"platformtest.Backend":             "int enum",
	"platformtest.Component":           "int enum",
	"platformtest.Option":              "sealed interface of options; its constructors take components and a timeout, no credential",
	"platformtest/containers.Option":   "sealed interface of options; its constructors take components, a timeout, a logger, image names and labels, no credential",
	"platformtest/embedded.Option":     "sealed interface of options; its constructors take components, a timeout, a broker count, a kfake cluster and an srfake registry, no credential",
	"validate.DataPolicy":              "classification levels and cluster names: no credential",
	"validate.ClusterPolicy":           "classification levels and a TLS flag: no credential",
	"secrets.CertificateSourceOptions": "a renewal point, retry bounds and a callback: no credential",
	"schema.CompatibilityLevel":        "string enum set only from its constants (BACKWARD, FORWARD, ...)",
	"schema.Observer":                  "interface of metric callbacks; this module's implementation, metrics.ClientMetrics, is sampled",
	"schema.Part":                      "int enum (key or value)",
	"schema.SubjectAction":             "string enum set only from its constants (create, update, delete, unchanged, refused, drift)",
	"schema.SubjectPlanOptions":        "a namespace and a prune flag: no credential",
	"schema.SubjectApplyOptions":       "a force flag: no credential",
	"schema.SubjectStrategy":           "func type: fmt prints a func as its address and JSON refuses it; it computes subject names, no credential",
	"schema.Handler":                   "func type: the team's own record handler; fmt prints a func as its address and JSON refuses it",
	"schema.Transform":                 "func type: the team's own transform; fmt prints a func as its address and JSON refuses it",
	"schema.KeyedHandler":              "func type: the team's own record handler; fmt prints a func as its address and JSON refuses it",
	"secrets/materialize.EventKind":    "string enum set only from its constants (written, restarted, failed)",
	"topics.Action":                    "string enum set only from its constants (create, update, delete, unchanged, refused)",
	"topics.Role":                      "string enum set only from its constants (producer, consumer, admin)",
	"validate.Severity":                "int enum",

	"internal/avrocodec.Decimal":       "a decimal logical type's precision and scale: two ints, no credential",
	"internal/avrocodec.DecimalChange": "where a decimal is in a schema and its two Decimals: no credential",
}

// jsonWire are the types whose JSON encoding is a document of the Connect
// REST API, what a worker sends, which a program standing in for a worker
// (a fake in a test, a proxy) encodes: it is left whole (see
// connect/format.go). json.Marshal is not checked for them; fmt and slog,
// which they redact for, are.
var jsonWire = map[string]string{
	"connect.ConnectorInfo": "GET /connectors/{name}",
	"connect.Connector":     "GET /connectors?expand=info&expand=status",
	"connect.Task":          "GET /connectors/{name}/tasks",
	"connect.Validation":    "PUT /connector-plugins/{class}/config/validate",
	"connect.ConfigCheck":   "an entry of PUT /connector-plugins/{class}/config/validate",
}

// sample is one value to print. typ is the exported type it stands for,
// as "<package dir>.<Name>"; it is empty for an extra sample, such as an
// error a constructor or a request returns, that belongs to no declared
// type.
type sample struct {
	typ  string
	name string // says how the value was made, for failure messages
	v    any
}

func TestSecretsNeverPrint(t *testing.T) {
	declared := exportedTypes(t)
	all := samples(t)

	t.Run("complete", func(t *testing.T) {
		sampled := map[string]bool{}
		for _, s := range all {
			if s.typ == "" {
				continue
			}
			sampled[s.typ] = true
			kind, ok := declared[s.typ]
			if !ok {
				t.Errorf("sample %q is for %s, which is not an exported type of the module", s.name, s.typ)
				continue
			}
			if kind == "interface" || kind == "alias" {
				continue
			}
			if got := typeName(s.v); got != s.typ {
				t.Errorf("sample %q is a %s, want %s", s.name, got, s.typ)
			}
		}
		for _, name := range sortedKeys(declared) {
			if !sampled[name] && exempt[name] == "" {
				t.Errorf("exported type %s has no sample and no exemption: add a sample loaded with canary secrets to samples in secretsprint_test.go, or an exemption with its reason", name)
			}
		}
		for _, name := range sortedKeys(exempt) {
			switch {
			case declared[name] == "":
				t.Errorf("exemption for %s, which is not an exported type of the module", name)
			case sampled[name]:
				t.Errorf("%s is both sampled and exempt", name)
			}
		}
		for _, name := range sortedKeys(jsonWire) {
			if !sampled[name] {
				t.Errorf("JSON exemption for %s, which has no sample", name)
			}
		}
	})

	t.Run("detects", func(t *testing.T) {
		// The check itself: a raw credential must be found in every form.
		raw := map[string]string{"database.password": canary("control")}
		for _, r := range renderings(raw, true) {
			if !strings.Contains(r.out, canaryMark) {
				t.Errorf("a raw secret printed with %s is not found in %q", r.how, r.out)
			}
		}
	})

	for _, s := range all {
		name := s.typ
		if name == "" {
			name = "extra"
		}
		t.Run(name+"/"+s.name, func(t *testing.T) {
			var leaks []string
			var example rendering
			for _, r := range renderings(s.v, jsonWire[s.typ] == "") {
				if strings.Contains(r.out, canaryMark) {
					if leaks = append(leaks, r.how); len(leaks) == 1 {
						example = r
					}
				}
			}
			if len(leaks) > 0 {
				t.Errorf("%s (%s) shows a secret printed with %s; %s prints\n%s",
					name, s.name, strings.Join(leaks, ", "), example.how, excerpt(example.out))
			}
		})
	}
}

// exportedTypes returns every exported type declared in the module's
// library packages, by "<package dir>.<Name>", with its kind: "struct",
// "interface", "func", "alias" or "other". It reads the source with
// go/parser: reflection cannot list a package's types.
func exportedTypes(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch name := d.Name(); {
			case path == ".":
			case name == "testdata", name == "examples", name == "cmd", name == "scripts",
				strings.HasPrefix(name, "."), strings.HasPrefix(name, "_"):
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if f.Name.Name == "main" {
			return nil
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if dir == "." {
			dir = f.Name.Name
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.TYPE {
				continue
			}
			for _, spec := range g.Specs {
				ts := spec.(*ast.TypeSpec)
				if !ts.Name.IsExported() {
					continue
				}
				kind := "other"
				switch ts.Type.(type) {
				case *ast.StructType:
					kind = "struct"
				case *ast.InterfaceType:
					kind = "interface"
				case *ast.FuncType:
					kind = "func"
				}
				if ts.Assign.IsValid() {
					kind = "alias"
				}
				out[dir+"."+ts.Name.Name] = kind
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("found no exported type: run the test from the module root")
	}
	return out
}

// typeName names v's type as exportedTypes does, through one pointer and
// without type arguments.
func typeName(v any) string {
	rt := reflect.TypeOf(v)
	if rt == nil {
		return "<nil>"
	}
	if rt.Kind() == reflect.Pointer {
		rt = rt.Elem()
	}
	name, _, _ := strings.Cut(rt.Name(), "[")
	return strings.TrimPrefix(strings.TrimPrefix(rt.PkgPath(), module), "/") + "." + name
}

type rendering struct{ how, out string }

// renderings prints v in every way a program may: fmt's verbs, JSON, and
// slog's text and JSON handlers with v as a key-value argument and as
// slog.Any; JSON only when withJSON is set. A value that is not a pointer
// is printed through a pointer to a copy as well, since methods on pointer
// receivers apply only there.
func renderings(v any, withJSON bool) []rendering {
	var out []rendering
	add := func(prefix string, v any) {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			out = append(out, rendering{prefix + "fmt " + verb, safely(func() string { return fmt.Sprintf(verb, v) })})
		}
		out = append(out, rendering{prefix + "fmt.Sprint", safely(func() string { return fmt.Sprint(v) })})
		if withJSON {
			out = append(out, rendering{prefix + "json.Marshal", safely(func() string {
				b, err := json.Marshal(v)
				if err != nil {
					return "error: " + err.Error()
				}
				return string(b)
			})})
		}
		for _, h := range []struct {
			name string
			new  func(*bytes.Buffer) slog.Handler
		}{
			{"text", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
			{"JSON", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
		} {
			out = append(out, rendering{prefix + "slog " + h.name + " key-value", safely(func() string {
				var b bytes.Buffer
				slog.New(h.new(&b)).Info("sample", "value", v)
				return b.String()
			})})
			out = append(out, rendering{prefix + "slog " + h.name + " slog.Any", safely(func() string {
				var b bytes.Buffer
				slog.New(h.new(&b)).LogAttrs(context.Background(), slog.LevelInfo, "sample", slog.Any("value", v))
				return b.String()
			})})
		}
	}
	add("", v)
	if rv := reflect.ValueOf(v); rv.IsValid() && rv.Kind() != reflect.Pointer {
		p := reflect.New(rv.Type())
		p.Elem().Set(rv)
		add("pointer, ", p.Interface())
	}
	return out
}

// excerpt is the part of s around its first secret.
func excerpt(s string) string {
	i := strings.Index(s, canaryMark)
	from, to := max(0, i-200), min(len(s), i+200)
	return "..." + s[from:to] + "..."
}

// safely returns what f prints, or its panic, which may hold a secret too.
func safely(f func() string) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprint("panic: ", r)
		}
	}()
	return f()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// connectorConfig is a connector config as a team writes one, with a
// literal credential in every place one goes, and a Vault reference, which
// names a secret without holding it.
func connectorConfig(name string) map[string]string {
	return map[string]string{
		"name":                  name,
		"connector.class":       "io.debezium.connector.postgresql.PostgresConnector",
		"tasks.max":             "1",
		"database.hostname":     "db.internal",
		"database.user":         "app",
		"database.password":     canary("database.password"),
		"database.dbname":       "orders",
		"topic.prefix":          "pricing",
		"ssl.keystore.password": canary("ssl.keystore.password"),
		"ssl.key.password":      canary("ssl.key.password"),
		"aws.secret.access.key": canary("aws.secret.access.key"),
		"snowflake.private.key": canary("snowflake.private.key"),
		"api.token":             canary("api.token"),
		"producer.override.sasl.jaas.config": `org.apache.kafka.common.security.scram.ScramLoginModule required username="app" password="` +
			canary("jaas") + `";`,
		"value.converter":                      "io.confluent.connect.avro.AvroConverter",
		"value.converter.schema.registry.url":  "http://registry.internal:8081",
		"value.converter.basic.auth.user.info": "app:" + canary("basic.auth.user.info"),
		"database.sslpassword":                 "${vault:secret/data/pricing/db:sslpassword}",
		"mongodb.connection.string":            "mongodb://app:" + canary("mongodb-uri") + "@mongo-1:27017,mongo-2:27017/orders",
		"connection.url":                       "jdbc:postgresql://db.internal:5432/orders?user=app&password=" + canary("jdbc-url") + "&ssl=true",
	}
}

// fakeConnect answers the Connect REST API for one connector,
// pricing-db, whose stored config holds credentials. Anything else is 404.
func fakeConnect(t *testing.T) *httptest.Server {
	t.Helper()
	stored := connectorConfig("pricing-db")
	info := map[string]any{"name": "pricing-db", "config": stored, "type": "source",
		"tasks": []map[string]any{{"connector": "pricing-db", "task": 0}}}
	status := map[string]any{"name": "pricing-db", "type": "source",
		"connector": map[string]any{"state": "RUNNING", "worker_id": "w1:8083"},
		"tasks":     []map[string]any{{"id": 0, "state": "FAILED", "worker_id": "w1:8083", "trace": "org.postgresql.util.PSQLException: FATAL: password authentication failed for user \"app\""}}}
	hidden := "[hidden]"
	check := func(name string, value *string) map[string]any {
		return map[string]any{
			"definition": map[string]any{"name": name, "type": "STRING", "required": false, "default_value": nil, "importance": "HIGH", "documentation": "..."},
			"value":      map[string]any{"name": name, "value": value, "recommended_values": []string{}, "errors": []string{"Invalid value"}, "visible": true},
		}
	}
	jaas := stored["producer.override.sasl.jaas.config"]
	userInfo := stored["value.converter.basic.auth.user.info"]
	validation := map[string]any{"name": stored["connector.class"], "error_count": 2, "groups": []string{"Common"},
		"configs": []any{check("database.password", &hidden), check("producer.override.sasl.jaas.config", &jaas),
			check("value.converter.basic.auth.user.info", &userInfo)}}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pass, ok := r.BasicAuth(); !ok || pass != canary("connect-basic-auth") {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error_code":401,"message":"Unauthorized"}`))
			return
		}
		var body any
		switch {
		case r.URL.Path == "/":
			body = map[string]any{"version": "4.1.0", "commit": "abc", "kafka_cluster_id": "c1"}
		case r.URL.Path == "/connectors" && r.URL.Query().Has("expand"):
			body = map[string]any{"pricing-db": map[string]any{"info": info, "status": status}}
		case r.URL.Path == "/connectors/pricing-db":
			body = info
		case r.URL.Path == "/connectors/pricing-db/status":
			body = status
		case r.URL.Path == "/connectors/pricing-db/tasks":
			body = []any{map[string]any{"id": map[string]any{"connector": "pricing-db", "task": 0}, "config": stored}}
		case r.URL.Path == "/connectors/pricing-db/offsets":
			body = map[string]any{"offsets": []any{map[string]any{"partition": map[string]any{"server": "pricing"}, "offset": map[string]any{"lsn": 42}}}}
		case strings.HasSuffix(r.URL.Path, "/config/validate"):
			body = validation
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error_code":404,"message":"Connector ` + strings.TrimPrefix(r.URL.Path, "/connectors/") + ` not found"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// fakeVault answers token and AppRole logins, which hand out a token that
// is a canary, and reads of one KV v2 secret holding credentials.
func fakeVault(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body any
		switch r.URL.Path {
		case "/v1/auth/token/lookup-self":
			if r.Header.Get("X-Vault-Token") == "" {
				w.WriteHeader(http.StatusForbidden)
				_, _ = w.Write([]byte(`{"errors":["permission denied"]}`))
				return
			}
			body = map[string]any{"data": map[string]any{"renewable": true, "ttl": 3600}}
		case "/v1/auth/approle/login":
			body = map[string]any{"auth": map[string]any{"client_token": canary("approle-issued-token"), "accessor": "acc",
				"renewable": true, "lease_duration": 3600, "policies": []string{"pricing"}}}
		case "/v1/secret/data/pricing/kafka":
			body = map[string]any{"data": map[string]any{
				"data":     map[string]any{"username": "pricing-svc", "password": canary("kafka-password"), "cert": map[string]any{"key": canary("nested-key")}},
				"metadata": map[string]any{"version": 3, "created_time": "2026-01-02T03:04:05Z"}}}
		case "/v1/secret/metadata/pricing/kafka":
			body = map[string]any{"data": map[string]any{"current_version": 3, "updated_time": "2026-01-02T03:04:05Z"}}
		case "/v1/database/creds/app":
			body = map[string]any{"lease_id": "database/creds/app/l1", "lease_duration": 3600, "renewable": true,
				"data": map[string]any{"username": "v-app-1", "password": canary("dynamic-password")}}
		default:
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"errors":["1 error occurred:\n\t* permission denied\n\n"]}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// must returns a function that returns its value, failing the test on
// its error: must[T](t)(f()).
func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// kafkaClient is a franz-go client that authenticates with SASL/PLAIN and
// a canary password. It dials nothing until it is used.
func kafkaClient(t *testing.T) *kgo.Client {
	t.Helper()
	cl := must[*kgo.Client](t)(kgo.NewClient(saslOpts(t)...))
	t.Cleanup(cl.Close)
	return cl
}

// saslOpts are a franz-go client's options for a broker that nothing
// listens on, with SASL/PLAIN and a canary password.
func saslOpts(t *testing.T) []kgo.Opt {
	return []kgo.Opt{kgo.SeedBrokers(closedAddr(t)),
		kgo.SASL(plain.Auth{User: "pricing-svc", Pass: canary("kafka-sasl")}.AsMechanism())}
}

// order is what the schema samples produce and consume.
type order struct {
	ID    string  `avro:"id"`
	Total float64 `avro:"total"`
}

// errorOf returns the error f returns, failing the test when there is none.
func errorOf(t *testing.T, f func() error) error {
	t.Helper()
	err := f()
	if err == nil {
		t.Fatal("got nil error, want one")
	}
	return err
}

// as returns err's first error of type E, failing the test when there is
// none.
func as[E error](t *testing.T, err error) E {
	t.Helper()
	var e E
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want a %T in it", err, e)
	}
	return e
}

// samples builds a value of every exported type that is not exempt, loaded
// with canaries the way a program loads it with credentials: clients
// through their constructors and options, the rest from what those
// clients return, and literals where nothing returns one.
func samples(t *testing.T) []sample {
	f := &fixtures{t: t, ctx: context.Background(), down: closedAddr(t)}
	for _, build := range []func(){f.connect, f.secrets, f.schema, f.topics, f.metrics, f.platformtest, f.validate, f.internal} {
		build()
	}
	return f.out
}

// fixtures holds the samples so far and what later ones are built on.
type fixtures struct {
	t    *testing.T
	ctx  context.Context
	down string // an address nothing listens on
	out  []sample

	cc       *connect.Client // on a fake worker, with basic auth
	info     connect.ConnectorInfo
	status   connect.Status
	desired  []connect.Spec
	notFound error           // a worker's 404
	vc       *secrets.Client // on a fake Vault, with a token
	denied   error           // Vault's 403
	reg      *schema.Registry
	kc       *kgo.Client
	tc       *topics.Client
}

func (f *fixtures) add(typ, name string, v any) {
	f.out = append(f.out, sample{typ: typ, name: name, v: v})
}

// connect: clients built with credentials in both ways, and what a
// worker whose configs hold credentials answers.
func (f *fixtures) connect() {
	t, ctx, add := f.t, f.ctx, f.add
	cs := fakeConnect(t)
	workerHost := strings.TrimPrefix(cs.URL, "http://")
	cc := must[*connect.Client](t)(connect.New(connect.WithURLs("http://app:"+canary("connect-basic-auth")+"@"+workerHost), connect.WithRetries(1)))
	add("connect.Client", "WithURLs with user:password@", cc)
	add("connect.Client", "WithBasicAuth", must[*connect.Client](t)(connect.New(connect.WithURLs(cs.URL),
		connect.WithBasicAuth("app", canary("connect-basic-auth")), connect.WithRetries(1))))
	add("connect.ClientOpt", "WithBasicAuth", connect.WithBasicAuth("app", canary("opt-basic-auth")))
	add("connect.Opt", "WithLogger", connect.WithLogger(slog.Default()))
	add("connect.ClientOpt", "WithURLs with user:password@", connect.WithURLs("http://app:"+canary("opt-url")+"@connect.internal:8083"))
	add("", "connect.New error for an invalid URL with a password", errorOf(t, func() error {
		_, err := connect.New(connect.WithURLs("ftp://app:" + canary("invalid-url") + "@connect.internal:8083"))
		return err
	}))
	add("", "connect request error from a worker URL with a password", errorOf(t, func() error {
		c, err := connect.New(connect.WithURLs("http://app:"+canary("down-url")+"@"+f.down), connect.WithRetries(1))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Info(ctx)
		return err
	}))
	add("connect.WorkerInfo", "Info", must[connect.WorkerInfo](t)(cc.Info(ctx)))
	add("connect.Plugin", "literal", connect.Plugin{Class: "io.debezium.connector.postgresql.PostgresConnector", Type: "source", Version: "3.1"})
	info := must[connect.ConnectorInfo](t)(cc.Get(ctx, "pricing-db"))
	add("connect.ConnectorInfo", "Get", info)
	add("connect.TaskID", "Get", info.Tasks[0])
	add("connect.Connector", "List", must[map[string]connect.Connector](t)(cc.List(ctx))["pricing-db"])
	status := must[connect.Status](t)(cc.Status(ctx, "pricing-db"))
	add("connect.Status", "Status", status)
	add("connect.Instance", "Status", status.Connector)
	add("connect.TaskState", "Status", status.Tasks[0])
	add("connect.Task", "Tasks", must[[]connect.Task](t)(cc.Tasks(ctx, "pricing-db"))[0])
	add("connect.Offset", "Offsets", must[[]connect.Offset](t)(cc.Offsets(ctx, "pricing-db"))[0])
	validation := must[*connect.Validation](t)(cc.Validate(ctx, "io.debezium.connector.postgresql.PostgresConnector", connectorConfig("pricing-db")))
	add("connect.Validation", "Validate", validation)
	for _, c := range validation.Configs {
		add("connect.ConfigCheck", "Validate "+c.Value.Name, c)
	}
	notFound := errorOf(t, func() error { _, err := cc.Get(ctx, "pricing-missing"); return err })
	add("connect.APIError", "Get of a missing connector", as[*connect.APIError](t, notFound))
	add("connect.APIError", "a worker that refuses the credentials", as[*connect.APIError](t, errorOf(t, func() error {
		c, err := connect.New(connect.WithURLs(cs.URL), connect.WithBasicAuth("app", canary("wrong-password")), connect.WithRetries(1))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Info(ctx)
		return err
	})))

	desired := []connect.Spec{
		{Name: "pricing-db", Config: connectorConfig("pricing-db")},
		{Name: "pricing-db-2", Config: connectorConfig("pricing-db-2"), State: connect.StatePaused},
	}
	desired[0].Config["database.password"] = canary("rotated-database.password")
	desired[0].Config["producer.override.sasl.jaas.config"] = "${vault:secret/data/pricing/kafka:jaas}"
	add("connect.Spec", "literal", desired[0])
	add("connect.PlanOptions", "literal", connect.PlanOptions{Namespace: "pricing-", Prune: true})
	plan := must[*connect.Plan](t)(cc.Plan(ctx, desired, connect.PlanOptions{Namespace: "pricing-"}))
	add("connect.Plan", "Plan", plan)
	add("connect.Plan", "Plan, dereferenced", *plan)
	for _, ch := range plan.Changes {
		add("connect.Change", "Plan "+string(ch.Action), ch)
		for _, k := range ch.Keys {
			add("connect.KeyChange", "Plan "+string(ch.Action)+" "+k.Key, k)
		}
	}
	applyErr := errorOf(t, func() error { _, err := cc.Apply(ctx, plan, connect.ApplyOptions{}); return err })
	add("", "Apply error", applyErr)
	add("connect.ValidationError", "Apply", as[*connect.ValidationError](t, applyErr))
	add("connect.ApplyOptions", "literal", connect.ApplyOptions{Wait: time.Minute, PollInterval: time.Second})
	add("connect.ApplyResult", "literal", connect.ApplyResult{Created: []string{"pricing-db-2"}, Updated: []string{"pricing-db"}})
	add("connect.StateError", "literal", &connect.StateError{Connectors: map[string]string{"pricing-db": status.Tasks[0].Trace}})
	add("connect.RestartOptions", "literal", connect.RestartOptions{IncludeTasks: true, OnlyFailed: true})
	add("connect.Restart", "literal", connect.Restart{Connector: "pricing-db", Tasks: []int{0}})
	add("connect.HealEvent", "literal with a request error", connect.HealEvent{Time: time.Now(), Connector: "pricing-db",
		Kind: connect.HealRestartFailed, Tasks: []int{0}, Attempt: 2, Trace: status.Tasks[0].Trace, Err: notFound})
	add("connect.HealerOpt", "WithNamespace", connect.WithNamespace("pricing-"))
	add("connect.Healer", "NewHealer", must[*connect.Healer](t)(connect.NewHealer(cc, connect.WithNamespace("pricing-"))))
	f.cc, f.info, f.status, f.desired, f.notFound = cc, info, status, desired, notFound
}

// secrets: clients logged in with a token and with AppRole, and what
// they read from a Vault that holds credentials.
func (f *fixtures) secrets() {
	t, ctx, add, cc := f.t, f.ctx, f.add, f.cc
	vs := fakeVault(t)
	vc := must[*secrets.Client](t)(secrets.New(ctx, secrets.WithAddress(vs.URL), secrets.WithToken(secrets.NewValue(canary("vault-token")))))
	add("secrets.Client", "WithToken", vc)
	approle := secrets.AppRoleAuth(canary("role-id"), secrets.SecretIDValue(secrets.NewValue(canary("secret-id"))), "")
	add("secrets.Client", "AppRoleAuth", must[*secrets.Client](t)(secrets.New(ctx, secrets.WithAddress(vs.URL), secrets.WithAuth(approle))))
	add("secrets.Opt", "WithToken", secrets.WithToken(secrets.NewValue(canary("opt-token"))))
	add("secrets.Opt", "WithAuth", secrets.WithAuth(approle))
	add("secrets.Auth", "TokenAuth", secrets.TokenAuth(secrets.NewValue(canary("auth-token"))))
	add("secrets.Auth", "AppRoleAuth", approle)
	add("secrets.Auth", "AppRoleAuth wrapped", secrets.AppRoleAuth(canary("role-id"), secrets.SecretIDWrapped(secrets.NewValue(canary("wrapping-token"))), ""))
	add("secrets.Auth", "KubernetesAuth", secrets.KubernetesAuth("pricing", "", ""))
	add("secrets.SecretID", "SecretIDValue", secrets.SecretIDValue(secrets.NewValue(canary("secret-id"))))
	add("secrets.SecretID", "SecretIDWrapped", secrets.SecretIDWrapped(secrets.NewValue(canary("wrapping-token"))))
	add("secrets.SecretID", "SecretIDFromFile", secrets.SecretIDFromFile("/run/secrets/secret-id"))
	add("", "secrets.New error for an address with a password", errorOf(t, func() error {
		_, err := secrets.New(ctx, secrets.WithAddress("http://app:"+canary("vault-url")+"@"+f.down), secrets.WithToken(secrets.NewValue(canary("vault-token"))))
		return err
	}))
	ref := must[secrets.Ref](t)(secrets.ParseRef("${vault:secret/data/pricing/kafka:password}"))
	add("secrets.Ref", "ParseRef", ref)
	add("internal/vaultref.Ref", "Parse", must[vaultref.Ref](t)(vaultref.Parse("${vault:secret/data/pricing/kafka:password}")))
	add("secrets.Value", "Read", must[secrets.Value](t)(vc.Read(ctx, ref)))
	add("secrets.Secret", "ReadKV2", must[*secrets.Secret](t)(vc.ReadKV2(ctx, "secret", "pricing/kafka", 0)))
	add("secrets.Secret", "ReadKV1 of a dynamic secret", must[*secrets.Secret](t)(vc.ReadKV1(ctx, "database", "creds/app")))
	add("secrets.Metadata", "KV2Metadata", must[secrets.Metadata](t)(vc.KV2Metadata(ctx, "secret", "pricing/kafka")))
	denied := errorOf(t, func() error { _, err := vc.ReadKV2(ctx, "secret", "payments/db", 0); return err })
	add("secrets.VaultError", "ReadKV2 denied", as[*secrets.VaultError](t, denied))
	creds := vc.Credentials("secret/data/pricing/kafka", "username", "password", time.Hour, time.Hour)
	if _, _, err := creds.Get(ctx); err != nil {
		t.Fatal(err)
	}
	add("secrets.Credentials", "Credentials after Get", creds)
	add("secrets.CertificateRequest", "literal", secrets.CertificateRequest{Mount: "pki", Role: "kafka-client", CommonName: "pricing", TTL: time.Minute})
	pkiVault := vaultfake.NewServer(t)
	pkiVault.Set(func(f *vaultfake.Server) { f.PKIRoles = map[string]time.Duration{"kafka-client": time.Hour} })
	pkiClient := must[*secrets.Client](t)(secrets.New(ctx, secrets.WithAddress(pkiVault.Addr()), secrets.WithToken(secrets.NewValue(vaultfake.RootToken))))
	source := must[*secrets.CertificateSource](t)(secrets.NewCertificateSource(ctx, pkiClient,
		secrets.CertificateRequest{Mount: "pki", Role: "kafka-client", CommonName: "pricing"}, secrets.CertificateSourceOptions{}))
	add("secrets.CertificateSource", "NewCertificateSource", source)
	add("secrets.IssuedCertificate", "CertificateSource.Current", source.Current())
	add("secrets.IssuedCertificate", "literal with a key, by value", secrets.IssuedCertificate{SerialNumber: "01:03",
		TLS: tls.Certificate{Certificate: [][]byte{[]byte(canary("pki-cert-der-value"))}, PrivateKey: canary("pki-private-key-value")}})
	add("secrets.IssuedCertificate", "literal with a key", &secrets.IssuedCertificate{SerialNumber: "01:02",
		TLS: tls.Certificate{Certificate: [][]byte{[]byte(canary("pki-cert-der"))}, PrivateKey: canary("pki-private-key")}})
	add("secrets/materialize.Opt", "WithInterval", materialize.WithInterval(time.Minute))
	add("secrets/materialize.Materializer", "New", must[*materialize.Materializer](t)(materialize.New(vc, cc, t.TempDir())))
	add("secrets/materialize.Event", "literal with an error", materialize.Event{Kind: materialize.Failed,
		Path: ref.Path, Keys: []string{"password"}, Version: 3, Connector: "pricing-db", Err: denied})
	check := secrets.PreflightCheck{Connector: "pricing-db", ConfigKey: "database.password", Ref: ref, Problem: "permission denied", Err: denied}
	add("secrets.PreflightCheck", "literal", check)
	add("secrets.PreflightReport", "literal", &secrets.PreflightReport{Checks: []secrets.PreflightCheck{check}})
	f.vc, f.denied = vc, denied
}

// schema: a registry client with basic auth, and what is built on it.
func (f *fixtures) schema() {
	t, ctx, add := f.t, f.ctx, f.add
	auth := base64.StdEncoding.EncodeToString([]byte("app:" + canary("registry-basic-auth")))
	fr := srfake.New(srfake.WithAuth("Basic " + auth))
	t.Cleanup(fr.Close)
	reg := must[*schema.Registry](t)(schema.NewRegistryFromOptions(sr.URLs(fr.URL()), sr.BasicAuth("app", canary("registry-basic-auth"))))
	add("schema.Registry", "sr.BasicAuth", reg)
	add("schema.Registry", "sr.BearerToken", must[*schema.Registry](t)(schema.NewRegistryFromOptions(sr.URLs(fr.URL()), sr.BearerToken(canary("registry-bearer-token")))))
	regHost := strings.TrimPrefix(fr.URL(), "http://")
	add("schema.Registry", "URL with user:password@", must[*schema.Registry](t)(schema.NewRegistryFromOptions(sr.URLs("http://app:"+canary("registry-url")+"@"+regHost))))
	add("", "registry request error from a URL with a password", errorOf(t, func() error {
		r, err := schema.NewRegistryFromOptions(sr.URLs("http://app:"+canary("registry-down-url")+"@"+f.down), sr.BasicAuth("app", canary("registry-basic-auth")))
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.SchemaByID(ctx, 1)
		return err
	}))
	add("schema.RegistryError", "SchemaByID of a missing ID", as[*schema.RegistryError](t, errorOf(t, func() error {
		_, err := reg.SchemaByID(ctx, 999)
		return err
	})))
	orderSchema := must[*schema.Schema](t)(schema.Derive[order]("pricing"))
	add("schema.Schema", "Derive", orderSchema)
	add("schema.SubjectVersion", "literal", schema.SubjectVersion{Subject: "pricing.orders.v1-value", Version: 1, ID: 1, Schema: orderSchema})
	add("schema.SubjectSpec", "literal", schema.SubjectSpec{Subject: "pricing.orders.v1-value", Schema: orderSchema, Compatibility: schema.Full})
	subjectChange := schema.SubjectChange{Action: schema.SubjectUpdate, Subject: "pricing.orders.v1-value", Latest: 1, LatestID: 1,
		NewVersion: true, Diff: []string{"+ field note: string"}, FromLevel: schema.Backward, ToLevel: schema.Full}
	add("schema.SubjectChange", "literal", subjectChange)
	add("schema.SubjectPlan", "literal", &schema.SubjectPlan{Namespace: "pricing.", Changes: []schema.SubjectChange{subjectChange}})
	add("schema.SubjectApplyResult", "literal", &schema.SubjectApplyResult{Registered: map[string]int{"pricing.orders.v1-value": 2}})
	add("schema.ClientOpt", "WithClientOpts with SASL", schema.WithClientOpts(saslOpts(t)...))
	add("schema.ProducerOpt", "WithClientOpts with SASL", schema.ProducerOpt(schema.WithClientOpts(saslOpts(t)...)))
	add("schema.ConsumerOpt", "OnInvalid", schema.OnInvalid(schema.DeadLetter("pricing.orders.v1.dlq")))
	add("schema.Opt", "WithSchema", schema.WithSchema(orderSchema))
	add("schema.SerdeOpt", "ForKeys", schema.ForKeys())
	add("schema.WriteOpt", "WithRegistration", schema.WithRegistration(schema.PinnedID(7)))
	add("schema.ReadOpt", "AnyRecordName", schema.AnyRecordName())
	add("schema.Registration", "PinnedID", schema.PinnedID(7))
	add("schema.InvalidPolicy", "DeadLetter", schema.DeadLetter("pricing.orders.v1.dlq"))
	add("schema.Serde", "NewSerde", must[*schema.Serde[order]](t)(schema.NewSerde[order](reg)))
	producer := must[*schema.Producer[order]](t)(schema.NewProducer[order](ctx, reg, "pricing.orders.v1", schema.WithClientOpts(saslOpts(t)...)))
	t.Cleanup(func() { _ = producer.Close(context.Background()) })
	add("schema.Producer", "NewProducer with SASL", producer)
	consumer := must[*schema.Consumer[order]](t)(schema.NewConsumer[order](ctx, reg, "pricing", []string{"pricing.orders.v1"}, schema.WithClientOpts(saslOpts(t)...)))
	t.Cleanup(func() { _ = consumer.Close(context.Background()) })
	add("schema.Consumer", "NewConsumer with SASL", consumer)
	keyed := must[*schema.KeyedProducer[string, order]](t)(schema.NewKeyedProducer[string, order](ctx, reg, "pricing.orders.v1", schema.StringKeys(), schema.WithClientOpts(saslOpts(t)...)))
	t.Cleanup(func() { _ = keyed.Close(context.Background()) })
	add("schema.KeyedProducer", "NewKeyedProducer with SASL", keyed)
	add("schema.KeyCodec", "AvroKeys on a registry with basic auth", must[schema.KeyCodec[order]](t)(schema.AvroKeys[order](reg)))
	add("schema.KeyedMessage", "literal", schema.KeyedMessage[string, order]{Key: "o1", Value: order{ID: "o1", Total: 9.5}})
	add("schema.KeyError", "literal", &schema.KeyError{Topic: "pricing.orders.v1", Offset: 42, Err: schema.ErrNullKey})
	// A pipeline checks its output topic before it returns: a cluster of
	// its own, with SASL.
	cluster := must[*kfake.Cluster](t)(kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(),
		kfake.Superuser("PLAIN", "pricing-svc", canary("kafka-sasl")), kfake.SeedTopics(1, "pricing.orders.v1", "pricing.prices.v1")))
	t.Cleanup(cluster.Close)
	pipelineOpts := schema.WithPipelineClientOpts(kgo.SeedBrokers(cluster.ListenAddrs()...),
		kgo.SASL(plain.Auth{User: "pricing-svc", Pass: canary("kafka-sasl")}.AsMechanism()))
	add("schema.PipelineOpt", "WithPipelineClientOpts with SASL", pipelineOpts)
	pipeline := must[*schema.Pipeline[order, order]](t)(schema.NewPipeline[order, order](ctx, reg, "pricing", []string{"pricing.orders.v1"}, "pricing.prices.v1",
		schema.WithTransactionalID("pricing-1"), schema.WithOutputRegistration(schema.AutoRegister()), pipelineOpts))
	t.Cleanup(pipeline.Close)
	add("schema.Pipeline", "NewPipeline with SASL", pipeline)
	add("schema.PipelineStats", "literal", schema.PipelineStats{Transactions: 3, Consumed: 30, Produced: 29, DeadLettered: 1})
	// kfake closes a connection whose SASL login fails instead of
	// answering SaslAuthenticationFailed, so the error a real broker gives
	// is built here.
	add("schema.AuthError", "literal with the broker's error", &schema.AuthError{Broker: "kafka-1.internal:9094", Err: kerr.SaslAuthenticationFailed})
	add("topics.AuthError", "literal with the broker's error", &topics.AuthError{Broker: "kafka-1.internal:9094", Err: kerr.SaslAuthenticationFailed})
	add("internal/kafkaauth.Error", "literal with the broker's error", &kafkaauth.Error{Broker: "kafka-1.internal:9094", Err: kerr.SaslAuthenticationFailed})
	authWatch := kafkaauth.NewWatch()
	authWatch.OnBrokerConnect(kgo.BrokerMetadata{Host: "kafka-1.internal", Port: 9094}, 0, nil,
		kerr.SaslAuthenticationFailed)
	add("internal/kafkaauth.Watch", "after a failed login", authWatch)
	add("schema.HoldError", "literal holding on a registry that refuses the credentials", &schema.HoldError{Topic: "pricing.orders.v1", Offset: 42,
		Attempt: 3, Retry: time.Second, Err: errorOf(t, func() error {
			r, err := schema.NewRegistryFromOptions(sr.URLs("http://app:"+canary("registry-url")+"@"+regHost), sr.BasicAuth("app", canary("wrong-registry-password")))
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.SchemaByID(ctx, 1)
			return err
		})})
	add("schema.Record", "literal", schema.Record[order]{Topic: "pricing.orders.v1", Key: []byte("o1"), Value: order{ID: "o1", Total: 9.5}})
	add("schema.Message", "literal", schema.Message[order]{Key: []byte("o1"), Value: order{ID: "o1", Total: 9.5}})
	add("schema.ConsumerStats", "literal", schema.ConsumerStats{Decoded: 3, Skipped: 1})
	add("schema.IncompatibleError", "literal", &schema.IncompatibleError{Subject: "pricing.orders.v1-value", Level: schema.Backward, Messages: []string{"field total removed"}})
	add("schema.DecodeError", "literal", &schema.DecodeError{Topic: "pricing.orders.v1", SchemaID: 999, Err: schema.ErrUnknownSchemaID})
	add("schema.HandlerError", "literal wrapping a registry that refuses the credentials", &schema.HandlerError{Topic: "pricing.orders.v1", Offset: 42,
		Attempts: 4, Err: errorOf(t, func() error {
			r, err := schema.NewRegistryFromOptions(sr.URLs("http://app:"+canary("handler-registry-url")+"@"+regHost), sr.BasicAuth("app", canary("handler-registry-password")))
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.SchemaByID(ctx, 1)
			return err
		})})
	add("schema.TypeMismatchError", "literal", &schema.TypeMismatchError{Type: "main.Order", Schema: "schema retail.Order 01f61507", Messages: []string{"store: in the Go type and not in the schema"}})
	add("schema.DeadLetterInfo", "literal", schema.DeadLetterInfo{Topic: "pricing.orders.v1", Offset: 42, SchemaID: 7, Stage: schema.StageHandle, Attempts: 4, Error: "price service: unavailable"})
	add("schema.RetryTopic", "literal", schema.RetryTopic{Topic: "pricing.orders.v1.retry-1m", Delay: time.Minute})
	add("schema.RetryInfo", "literal", schema.RetryInfo{Topic: "pricing.orders.v1", Offset: 42, Attempts: 4, Error: "price service: unavailable"})
	f.reg = reg
}

// topics: a client that authenticates with SASL; the rest is topic
// data, which holds no credential.
func (f *fixtures) topics() {
	t, add := f.t, f.add
	notFound := f.notFound
	tc := must[*topics.Client](t)(topics.NewFromOptions(saslOpts(t)))
	t.Cleanup(tc.Close)
	add("topics.Client", "NewFromOptions with SASL", tc)
	add("topics.Opt", "WithLogger", topics.WithLogger(slog.New(slog.DiscardHandler)))
	spec := topics.Spec{Name: "pricing.orders.v1", Partitions: 6, ReplicationFactor: 3, Configs: map[string]string{"retention.ms": "604800000"}}
	add("topics.Spec", "literal", spec)
	add("topics.PlanOptions", "literal", topics.PlanOptions{Namespace: "pricing.", Prune: true, RecentWrites: time.Hour})
	retention := "86400000"
	cfgChange := topics.ConfigChange{Key: "retention.ms", New: &retention}
	change := topics.Change{Action: topics.Update, Topic: "pricing.orders.v1", Configs: []topics.ConfigChange{cfgChange}}
	add("topics.ConfigChange", "literal", cfgChange)
	add("topics.Change", "literal", change)
	add("topics.Plan", "literal", &topics.Plan{Namespace: "pricing.", Changes: []topics.Change{change}})
	add("topics.Policy", "literal", topics.Policy{NamePattern: `^pricing\.`, MinPartitions: 1, MaxPartitions: 12, CleanupPolicies: []string{"delete"}})
	add("topics.PolicyError", "literal", &topics.PolicyError{Violations: map[string][]string{"pricing.x": {"too few partitions"}}})
	grant := topics.Grant{Principal: "User:pricing-svc", Role: topics.RoleConsumer, Topics: []string{"pricing.*"}, Groups: []string{"pricing"}}
	binding := topics.Binding{Principal: "User:pricing-svc", Host: "*", Resource: "topic", Name: "pricing.", Pattern: "prefixed", Operation: "read", Permission: "allow"}
	add("topics.Grant", "literal", grant)
	add("topics.Binding", "literal", binding)
	add("topics.ACLPlan", "literal", &topics.ACLPlan{Namespace: "pricing.", Create: []topics.Binding{binding}})
	add("topics.ApplyOptions", "literal", topics.ApplyOptions{Force: true, Wait: time.Minute})
	add("topics.ApplyResult", "literal", topics.ApplyResult{Created: []string{"pricing.orders.v1"}})
	hkOpts := topics.HousekeepingOptions{IdleAfter: time.Hour, MaxRetention: 24 * time.Hour, PricePerGBMonth: 0.1, Prefix: "pricing."}
	add("topics.HousekeepingOptions", "literal", hkOpts)
	idle := topics.IdleTopic{Topic: "pricing.old", Newest: time.Now(), IdleFor: time.Hour}
	inactive := topics.InactiveGroup{Group: "pricing-old", State: "Empty", Topics: []string{"pricing.old"}}
	long := topics.LongRetention{Topic: "pricing.audit", RetentionMS: -1, CleanupPolicy: "delete"}
	storage := topics.TopicStorage{Topic: "pricing.orders.v1", Partitions: 6, Bytes: 1 << 30}
	brokerStorage := topics.BrokerStorage{Broker: 1, Bytes: 1 << 30}
	add("topics.IdleTopic", "literal", idle)
	add("topics.InactiveGroup", "literal", inactive)
	add("topics.LongRetention", "literal", long)
	add("topics.TopicStorage", "literal", storage)
	add("topics.BrokerStorage", "literal", brokerStorage)
	add("topics.HousekeepingReport", "literal", &topics.HousekeepingReport{Time: time.Now(), Options: hkOpts, IdleTopics: []topics.IdleTopic{idle},
		EmptyGroups: []topics.InactiveGroup{inactive}, OverRetention: []topics.LongRetention{long}, Storage: []topics.TopicStorage{storage}, Brokers: []topics.BrokerStorage{brokerStorage}})
	audit := topics.AuditEntry{Time: time.Now(), Action: "delete-topic", Target: "pricing.old", Err: notFound}
	add("topics.AuditEntry", "literal", audit)
	add("topics.HousekeepingError", "literal", &topics.HousekeepingError{Action: "delete-topic", Attempted: 2, Failed: []topics.AuditEntry{audit}})
	pl := topics.PartitionLag{Topic: "pricing.orders.v1", Partition: 0, Committed: 10, End: 20, Lag: 10, ClientID: "pricing-svc", Host: "/10.0.0.1"}
	tl := topics.TopicLag{Topic: "pricing.orders.v1", Lag: 10, Partitions: []topics.PartitionLag{pl}}
	gl := topics.GroupLag{Group: "pricing", State: "Stable", Members: 1, Lag: 10, Topics: []topics.TopicLag{tl}}
	add("topics.PartitionLag", "literal", pl)
	add("topics.TopicLag", "literal", tl)
	add("topics.GroupLag", "literal", gl)
	add("topics.LagReport", "literal", &topics.LagReport{Time: time.Now(), Groups: []topics.GroupLag{gl}})
	f.tc = tc
}

// metrics: collectors and alerters built on clients with credentials;
// the rest is measurements.
func (f *fixtures) metrics() {
	t, add := f.t, f.add
	cc, status := f.cc, f.status
	kc := kafkaClient(t)
	add("metrics/platform.CollectorOpt", "WithConnect", platform.WithConnect(cc))
	add("metrics/platform.Opt", "WithLogger", platform.WithLogger(slog.Default()))
	add("metrics/platform.Collector", "NewCollector with Kafka and Connect clients", must[*platform.Collector](t)(platform.NewCollector(kc, platform.WithConnect(cc))))
	add("metrics.ClientOpt", "ClientNamespace", metrics.ClientNamespace("pricing"))
	add("metrics.ClientMetrics", "NewClientMetrics", must[*metrics.ClientMetrics](t)(metrics.NewClientMetrics()))
	rule := platform.LagRecordsAbove(1000, time.Minute)
	add("metrics/platform.AlertRule", "LagRecordsAbove", rule)
	add("metrics/platform.AlerterOpt", "WithEventTopic", platform.WithEventTopic(kc, "pricing.alerts"))
	add("metrics/platform.Alerter", "NewAlerter with a Kafka client", must[*platform.Alerter](t)(platform.NewAlerter([]platform.AlertRule{rule}, platform.WithEventTopic(kc, "pricing.alerts"))))
	add("metrics/platform.AlertInstance", "literal", platform.AlertInstance{Subject: "group pricing", Value: 2000, Message: "lag 2000 records"})
	add("metrics/platform.AlertEvent", "literal", platform.AlertEvent{Time: time.Now(), Rule: "lag", Subject: "group pricing", Value: 2000, Message: "lag 2000 records"})
	add("metrics/platform.LagEvaluator", "NewLagEvaluator", platform.NewLagEvaluator(5))
	mpl := platform.PartitionLag{Topic: "pricing.orders.v1", Committed: 10, End: 20, Lag: 10}
	gs := platform.GroupSnapshot{Group: "pricing", State: "Stable", Members: 1, Lag: 10, Partitions: []platform.PartitionLag{mpl}}
	ts := platform.TopicSnapshot{Topic: "pricing.orders.v1", EndOffsets: 20, Partitions: 6}
	bs := platform.BrokerSnapshot{Broker: 1, Bytes: 1 << 30, LogDirs: map[string]int64{"/var/lib/kafka": 1 << 30}}
	cns := platform.ConnectorSnapshot{Name: "pricing-db", State: "RUNNING", Tasks: 1, FailedTasks: 1, Trace: status.Tasks[0].Trace}
	add("metrics/platform.PartitionLag", "literal", mpl)
	add("metrics/platform.GroupSnapshot", "literal", gs)
	add("metrics/platform.TopicSnapshot", "literal", ts)
	add("metrics/platform.BrokerSnapshot", "literal", bs)
	add("metrics/platform.ConnectorSnapshot", "literal", cns)
	add("metrics/platform.Snapshot", "literal", platform.Snapshot{Time: time.Now(), Groups: []platform.GroupSnapshot{gs}, Topics: []platform.TopicSnapshot{ts},
		Brokers: []platform.BrokerSnapshot{bs}, Connectors: []platform.ConnectorSnapshot{cns}})
	add("metrics/platform.CapacityOptions", "literal", platform.CapacityOptions{Window: 10, Horizon: 24 * time.Hour, TopicBudgetBytes: map[string]int64{"pricing.orders.v1": 1 << 40}})
	tcap := platform.TopicCapacity{Topic: "pricing.orders.v1", Bytes: 1 << 30, Partitions: 6}
	bcap := platform.BrokerCapacity{Broker: 1, Bytes: 1 << 30}
	add("metrics/platform.TopicCapacity", "literal", tcap)
	add("metrics/platform.BrokerCapacity", "literal", bcap)
	add("metrics/platform.Capacity", "literal", platform.Capacity{Time: time.Now(), Method: "linear", Topics: []platform.TopicCapacity{tcap}, Brokers: []platform.BrokerCapacity{bcap}})
	f.kc = kc
}

// platformtest: a platform read from the environment, every credential
// in it a canary.
func (f *fixtures) platformtest() {
	t, add := f.t, f.add
	cc, vc, reg, denied := f.cc, f.vc, f.reg, f.denied
	for env, v := range map[string]string{
		platformtest.EnvBrokers: "127.0.0.1:9092", platformtest.EnvVaultAddr: "http://vault.internal:8200",
		platformtest.EnvVaultToken: canary("platform-vault-token"), platformtest.EnvSASLBrokers: "127.0.0.1:9094",
		platformtest.EnvKafkaAdminUser: "admin", platformtest.EnvKafkaAdminPassword: canary("platform-kafka-admin-password"),
		platformtest.EnvPostgresHost: "127.0.0.1", platformtest.EnvPostgresPort: "5433", platformtest.EnvPostgresUser: "postgres",
		platformtest.EnvPostgresPassword: canary("platform-postgres-password"), platformtest.EnvPostgresDB: "streamkit",
		platformtest.EnvSchemaRegistryTLSURL: "https://registry.internal:8091/apis/ccompat/v7", platformtest.EnvSchemaRegistryUser: "streamkit",
		platformtest.EnvSchemaRegistryPassword: canary("platform-registry-password"), platformtest.EnvConnectTLSURL: "https://connect.internal:8483",
		platformtest.EnvConnectUser: "streamkit", platformtest.EnvConnectPassword: canary("platform-connect-password"),
	} {
		t.Setenv(env, v)
	}
	clients := &platformtest.Clients{Kafka: f.kc, Registry: reg, Connect: cc, Vault: vc}
	p := platformtest.FromEnvironment()
	p.Clients = clients
	add("platformtest.Platform", "FromEnvironment", p)
	started := embedded.StartT(t)
	started.VaultToken, started.KafkaAdminPassword, started.PostgresPassword = p.VaultToken, p.KafkaAdminPassword, p.PostgresPassword
	started.SchemaRegistryPassword, started.ConnectPassword = p.SchemaRegistryPassword, p.ConnectPassword
	add("platformtest.Platform", "embedded.StartT, with credentials set", started)
	add("platformtest.Clients", "literal", clients)
	add("platformtest/containers.Error", "literal", &containers.Error{Component: platformtest.Vault, Image: "hashicorp/vault:1.20",
		Err: denied, Logs: "==> Vault server started!"})
}

// validate: a team's repository whose connector holds literal
// credentials, evaluated and checked.
func (f *fixtures) validate() {
	t, ctx, add := f.t, f.ctx, f.add
	cc, vc, reg := f.cc, f.vc, f.reg
	repo := t.TempDir()
	manifest := must[[]byte](t)(json.Marshal(map[string]any{"connectors": []any{map[string]any{"name": "pricing-db", "config": connectorConfig("pricing-db")}}}))
	if err := os.WriteFile(filepath.Join(repo, "pricing.jsonnet"), manifest, 0o600); err != nil {
		t.Fatal(err)
	}
	vopts := validate.Options{Dir: repo, ExtVars: map[string]string{"env": "prod", "team": "pricing"}, MaxStack: 100}
	policy := validate.Policy{Namespace: "pricing", MinTasks: 1, MaxTasks: 4, ExistingTopics: map[string]bool{"pricing.orders.v1": true}}
	secure := validate.LiveConnect{Connect: cc, Deliver: func(_ context.Context, specs []connect.Spec) ([]connect.Spec, error) { return specs, nil }}
	live := &validate.Live{Connect: cc, Registry: reg, Vault: vc, Topics: f.tc, Clusters: map[string]validate.LiveConnect{"secure": secure}}
	res := must[*validate.Result](t)(validate.Validate(ctx, vopts, validate.Config{Policy: policy}))
	if len(res.Manifest.Connectors) != 1 || len(res.Findings) == 0 {
		t.Fatalf("validate found %d connectors and %d findings, want 1 and some", len(res.Manifest.Connectors), len(res.Findings))
	}
	add("validate.Options", "literal", vopts)
	add("validate.Result", "Validate", res)
	add("validate.Manifest", "Validate", res.Manifest)
	add("validate.Finding", "Validate", res.Findings[0])
	add("validate.Position", "Validate", res.Findings[0].Pos)
	add("validate.Locator", "Validate", res.Locator)
	add("validate.SchemaSpec", "literal", validate.SchemaSpec{Subject: "pricing.orders.v1-value", File: "orders.avsc"})
	add("validate.Policy", "literal", policy)
	add("validate.Rule", "BuiltinRules", validate.BuiltinRules()[0])
	add("validate.Context", "with the evaluated manifest", &validate.Context{Manifest: &res.Manifest, Locator: res.Locator, Policy: policy})
	add("validate.Live", "literal with clients", live)
	add("validate.LiveConnect", "literal with a client", secure)
	add("validate.Config", "literal with Live", validate.Config{Policy: policy, Live: live, Overrides: map[string]validate.Severity{"CONN004": validate.Warning}})
}

// internal: shared plumbing.
func (f *fixtures) internal() {
	add := f.add
	info, desired := f.info, f.desired
	add("internal/backoff.Policy", "literal", backoff.Policy{Min: time.Second, Max: time.Minute})
	for _, e := range configdiff.Diff(info.Config, desired[0].Config, true) {
		add("internal/configdiff.Entry", "Diff "+e.Key, e)
	}
}
