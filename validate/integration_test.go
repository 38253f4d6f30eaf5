package validate_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/schema"
	"github.com/streamkit/streamkit/secrets"
	"github.com/streamkit/streamkit/topics"
	"github.com/streamkit/streamkit/validate"
)

const brokenManifest = `local sk = import 'streamkit.libsonnet';
local ns = std.extVar('ns');
{
  topics: [sk.topic(ns + 'orders', partitions=1, replication=1)],
  schemas: [{
    subject: ns + 'orders-value',
    schema: importstr 'order-v3.avsc',
  }],
  connectors: [
    {
      name: ns + 'file-source',
      config: {
        'connector.class': 'org.apache.kafka.connect.file.FileStreamSourceConnector',
        'tasks.max': '1',
        file: '/dev/null',
        topic: ns + 'orders',
        'batch.size': 'lots',
        'batch.sise': '10',
      },
    },
    {
      name: ns + 'file-sink',
      config: {
        'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
        'tasks.max': '1',
        topics: ns + 'orders',
        file: '/tmp/` + "streamkit-validate-it" + `.txt',
        'db.password': '${vault:secret/data/' + ns + 'missing:password}',
      },
    },
    {
      // Reads a topic of the namespace that is on the cluster, not in
      // the manifests: CONN007 passes because Live.Topics lists the
      // cluster's topics.
      name: ns + 'check-sink',
      config: {
        'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
        'tasks.max': '1',
        topics: ns + 'on-cluster',
        file: '/tmp/streamkit-validate-check.txt',
      },
    },
  ],
}
`

const (
	orderV1 = `{"type":"record","name":"Order","namespace":"retail","fields":[{"name":"id","type":"string"}]}`
	orderV3 = `{"type":"record","name":"Order","namespace":"retail","fields":[{"name":"id","type":"string"},{"name":"store","type":"string"}]}`
	orderV2 = `{"type":"record","name":"Order","namespace":"retail","fields":[{"name":"id","type":"string"},{"name":"store","type":"string","default":"web"}]}`
)

// TestIntegrationValidateLive validates a team repository against the real
// platform: the worker's rejection of a key, the registry's refusal of a
// schema and a dangling Vault reference are findings at the team's lines;
// the repaired repository then plans and applies cleanly.
func TestIntegrationValidateLive(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka, platformtest.Connect, platformtest.SchemaRegistry, platformtest.Vault)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := platformtest.UniqueName("val") + "-"

	reg, err := schema.NewRegistryFromOptions(sr.URLs(p.SchemaRegistryURL))
	if err != nil {
		t.Fatal(err)
	}
	v1, _ := schema.Parse(orderV1)
	if _, err := reg.Register(ctx, ns+"orders-value", v1); err != nil {
		t.Fatal(err)
	}
	cc, err := connect.New(connect.WithURLs(p.ConnectURL))
	if err != nil {
		t.Fatal(err)
	}
	vault, err := secrets.New(ctx, secrets.WithAddress(p.VaultAddr), secrets.WithToken(secrets.NewValue(p.VaultToken)))
	if err != nil {
		t.Fatal(err)
	}
	tc, err := topics.NewFromOptions([]kgo.Opt{kgo.SeedBrokers(p.Brokers...)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)
	live := &validate.Live{Connect: cc, Registry: reg, Vault: vault, Topics: tc}
	if _, err := tc.Admin().CreateTopic(ctx, 1, 1, nil, ns+"on-cluster"); err != nil {
		t.Fatal(err)
	}
	// Each of the brokers learns of a new topic a moment apart: wait until
	// the ones asked know it.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		listed, lerr := tc.Admin().ListTopics(ctx, ns+"on-cluster")
		ends, eerr := tc.Admin().ListEndOffsets(ctx, ns+"on-cluster")
		if lerr == nil && eerr == nil && listed.Has(ns+"on-cluster") && ends.Error() == nil || time.Now().After(deadline) {
			break
		}
	}
	t.Cleanup(func() {
		if _, err := tc.Admin().DeleteTopics(context.Background(), ns+"on-cluster"); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})

	repo := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(repo, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Names written literally, as many teams write them; a computed
	// name is located by its place in the manifest as well.
	manifest := strings.ReplaceAll(brokenManifest, "ns + '", "'"+ns)
	write("main.jsonnet", manifest)
	write("order-v3.avsc", orderV3)
	opts := validate.Options{Dir: repo, ExtVars: map[string]string{"ns": ns}}
	cfg := validate.Config{Policy: validate.Policy{Namespace: ns}, Live: live}

	res, err := validate.Validate(ctx, opts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() {
		t.Fatalf("broken repository passed:\n%s", res.Text())
	}
	lineOf := func(s string) int {
		for i, l := range strings.Split(manifest, "\n") {
			if strings.Contains(l, s) {
				return i + 1
			}
		}
		t.Fatalf("%q not in the manifest", s)
		return 0
	}
	want := map[string]struct {
		file string
		line int
		text string
	}{
		validate.RuleWorker: {"main.jsonnet", lineOf("'batch.size'"), "batch.size"},
		// The schema's text is read with importstr: the refusal is in
		// the .avsc (one line).
		validate.RuleRegistry:      {"order-v3.avsc", 1, "store"},
		validate.RuleVault:         {"main.jsonnet", lineOf("'db.password'"), "missing"},
		validate.RuleUnknownConfig: {"main.jsonnet", lineOf("'batch.sise'"), "batch.sise"},
	}
	for rule, w := range want {
		var found *validate.Finding
		for i := range res.Findings {
			if res.Findings[i].Rule == rule && strings.Contains(res.Findings[i].Message, w.text) {
				found = &res.Findings[i]
			}
		}
		if found == nil {
			t.Fatalf("no %s finding:\n%s", rule, res.Text())
		}
		if found.Pos.File != w.file || found.Pos.Line != w.line || !strings.Contains(found.Message, w.text) {
			t.Errorf("%s: got %s %q, want %s line %d mentioning %q", rule, found.Pos, found.Message, w.file, w.line, w.text)
		}
	}

	// Repaired: a compatible schema, a valid key, a secret that exists.
	if _, err := vault.API().KVv2("secret").Put(ctx, ns+"missing", map[string]any{"password": "s3cret-value"}); err != nil {
		t.Fatal(err)
	}
	write("main.jsonnet", strings.Replace(manifest, "'batch.size': 'lots'", "'batch.size': '100'", 1))
	write("order-v3.avsc", orderV2)
	res, err = validate.Validate(ctx, opts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() {
		t.Fatalf("repaired repository fails:\n%s", res.Text())
	}
	if strings.Contains(res.Text()+string(mustJSON(t, res)), "s3cret-value") {
		t.Fatal("a secret value appears in the report")
	}

	// The validated desired state plans and applies through topics and
	// connect.
	tplan, err := tc.Plan(ctx, res.Manifest.Topics, topics.PlanOptions{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tc.Apply(ctx, tplan, topics.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if p, err := cc.Plan(ctx, nil, connect.PlanOptions{Namespace: ns, Prune: true}); err == nil {
			_, _ = cc.Apply(ctx, p, connect.ApplyOptions{Wait: -1})
		}
		if p, err := tc.Plan(ctx, nil, topics.PlanOptions{Namespace: ns, Prune: true}); err == nil {
			_, _ = tc.Apply(ctx, p, topics.ApplyOptions{Force: true})
		}
	})
	// The sink's password stays a placeholder: this worker has no vault
	// provider, so the test deploys the source only.
	cplan, err := cc.Plan(ctx, res.Manifest.Connectors[:1], connect.PlanOptions{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Apply(ctx, cplan, connect.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, again := range []interface{ Empty() bool }{mustTopicsPlan(t, ctx, tc, res, ns), mustConnectPlan(t, ctx, cc, res, ns)} {
		if !again.Empty() {
			t.Fatalf("second plan not empty: %v", again)
		}
	}
}

func mustJSON(t *testing.T, res *validate.Result) []byte {
	t.Helper()
	b, err := res.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustTopicsPlan(t *testing.T, ctx context.Context, tc *topics.Client, res *validate.Result, ns string) *topics.Plan {
	t.Helper()
	p, err := tc.Plan(ctx, res.Manifest.Topics, topics.PlanOptions{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustConnectPlan(t *testing.T, ctx context.Context, cc *connect.Client, res *validate.Result, ns string) *connect.Plan {
	t.Helper()
	p, err := cc.Plan(ctx, res.Manifest.Connectors[:1], connect.PlanOptions{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
