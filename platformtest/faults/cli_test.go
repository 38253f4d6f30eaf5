package faults

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamkit/streamkit/platformtest"
)

// TestFaultCLIConnectDown runs a team's `streamkit apply` while its
// Connect worker is stopped. Validation cannot ask the worker about the
// connectors, so apply writes nothing (no topic, subject or grant of half
// a deploy), exits 2 (an unreachable platform, not findings) and says
// which check could not run; once the worker is back, the same command
// applies everything and the next plan is empty.
func TestFaultCLIConnectDown(t *testing.T) {
	p := requireFaults(t, platformtest.Kafka, platformtest.SchemaRegistry, platformtest.Connect)
	ctx := suiteCtx(t, 4*time.Minute)
	ns := platformtest.UniqueName("fault-cli") + "."

	bin := buildCLI(t)
	repo := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		path := filepath.Join(repo, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".git/HEAD", "ref: refs/heads/main\n")
	write("team.jsonnet", "{ namespace: '"+ns+"', services: ['publisher'] }\n")
	write("manifests/team.libsonnet", `local ns = std.extVar('ns');
{
  name(short):: ns + short,
}
`)
	write("manifests/deploy.jsonnet", `local sk = import 'streamkit.libsonnet';
local p = import 'team.libsonnet';
{
  topics: [sk.topic(p.name('quotes.v1'), partitions=3)],
  schemas: [{ subject: p.name('quotes.v1-value'), compatibility: 'BACKWARD', schema: importstr 'quote.avsc' }],
  acls: [sk.producer('User:' + p.name('publisher'), [p.name('quotes.v1')])],
  connectors: [sk.fileSink(p.name('quotes-sink'), [p.name('quotes.v1')], '/tmp/' + p.name('quotes.txt'))],
}
`)
	write("manifests/quote.avsc", `{"type": "record", "name": "Quote", "namespace": "fault", "doc": "A quote.",
 "fields": [{"name": "sku", "type": "string", "doc": "The item."}]}
`)
	env := append(os.Environ(),
		"STREAMKIT_BROKERS="+strings.Join(p.Brokers, ","),
		"STREAMKIT_CONNECT_URL="+p.ConnectURL,
		"STREAMKIT_SCHEMA_REGISTRY_URL="+p.SchemaRegistryURL,
		"VAULT_ADDR=", "STREAMKIT_CONNECT_SECRETS_DIR=")
	streamkit := func(args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir, cmd.Env = repo, env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			return ee.ExitCode(), stdout.String(), stderr.String()
		case err != nil:
			t.Fatalf("streamkit %v: %v", args, err)
		}
		return 0, stdout.String(), stderr.String()
	}
	t.Cleanup(func() {
		if !running("connect") {
			if out, err := exec.Command(script, "start", "connect").CombinedOutput(); err != nil {
				t.Errorf("restore connect: %v\n%s", err, out)
			}
		}
		write("manifests/deploy.jsonnet", "{}\n")
		if code, out, errOut := streamkit("apply", "-prune", "-force"); code != 0 {
			t.Errorf("cleanup: apply -prune -force: exit %d\n%s\n%s", code, out, errOut)
		}
	})

	control(t, "stop", "connect")
	start := time.Now()
	code, out, errOut := streamkit("apply")
	t.Logf("apply with the worker stopped: exit %d after %s", code, time.Since(start).Round(100*time.Millisecond))
	if code != 2 || !strings.Contains(out, "LIVE000") || strings.Contains(out, "applied") {
		t.Fatalf("apply with the worker stopped: exit %d\n%s\n%s", code, out, errOut)
	}
	topics, err := p.Clients.Admin.ListTopics(ctx, ns+"quotes.v1")
	if err != nil {
		t.Fatal(err)
	}
	if topics.Has(ns + "quotes.v1") {
		t.Fatal("a refused apply created the topic: half a deploy")
	}
	if _, err := p.Clients.Registry.Latest(ctx, ns+"quotes.v1-value"); err == nil {
		t.Fatal("a refused apply registered the schema: half a deploy")
	}

	control(t, "start", "connect")
	if code, out, errOut := streamkit("apply"); code != 0 || !strings.Contains(out, "applied connectors: created "+ns+"quotes-sink") {
		t.Fatalf("apply with the worker back: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := streamkit("plan"); code != 0 || !strings.Contains(out, "plan: 0 to create, 0 to update, 0 to delete, 6 unchanged") {
		t.Fatalf("plan after the apply: exit %d\n%s\n%s", code, out, errOut)
	}
}
