package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/platformtest"
)

// offline is an environment with no platform, whatever the test process's
// own environment says.
func offline(string) string { return "" }

// gitops runs the program with args and returns its exit code and output.
func gitops(t *testing.T, ctx context.Context, env func(string) string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, env, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// copyManifests copies manifests/ into a temporary folder and returns it.
func copyManifests(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir("manifests")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("manifests", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestValidateManifests(t *testing.T) {
	for _, format := range []string{"text", "json", "github"} {
		t.Run(format, func(t *testing.T) {
			code, out, errOut := gitops(t, context.Background(), offline, "validate", "-format", format)
			if code != exitOK {
				t.Fatalf("got exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitOK, out, errOut)
			}
			if format == "json" && !strings.Contains(out, `"ok":true`) {
				t.Errorf("json output lacks \"ok\":true:\n%s", out)
			}
		})
	}
}

// TestValidateBroken: a literal password in a connector is an error
// finding at the line it was written, and the exit code is 1.
func TestValidateBroken(t *testing.T) {
	dir := copyManifests(t)
	leak := `// A sink someone wrote by hand, with the password pasted in.
{
  connectors: [
    {
      name: 'pricing.leaky-sink',
      config: {
        'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
        'tasks.max': '1',
        topics: 'pricing.prices.v1',
        file: '/tmp/leaky.txt',
        'database.password': 'hunter2',
      },
    },
  ],
}
`
	if err := os.WriteFile(filepath.Join(dir, "leaky.jsonnet"), []byte(leak), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		format string
		want   *regexp.Regexp
	}{
		{"text", regexp.MustCompile(`(?m)^leaky\.jsonnet:11:9: error CONN004: .*pricing\.leaky-sink`)},
		{"github", regexp.MustCompile(`(?m)^::error file=leaky\.jsonnet,line=11,col=9,title=CONN004::`)},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			code, out, errOut := gitops(t, context.Background(), offline, "validate", "-manifests", dir, "-format", tt.format)
			if code != exitFindings {
				t.Fatalf("got exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitFindings, out, errOut)
			}
			if !tt.want.MatchString(out) {
				t.Errorf("output lacks a line matching %s:\n%s", tt.want, out)
			}
			if strings.Contains(out, "hunter2") {
				t.Errorf("output prints the password:\n%s", out)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", nil, "missing subcommand"},
		{"unknown subcommand", []string{"deploy"}, `unknown subcommand "deploy"`},
		{"bad format", []string{"validate", "-format", "xml"}, `unknown format "xml"`},
		{"bad ext var", []string{"validate", "-ext-var", "ns"}, "want k=v"},
		{"namespace disagrees", []string{"validate", "-namespace", "a.", "-ext-var", "ns=b."}, "disagree"},
		{"prune on validate", []string{"validate", "-prune"}, "-prune"},
		{"plan without platform", []string{"plan"}, EnvBrokers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := gitops(t, context.Background(), offline, tt.args...)
			if code != exitError {
				t.Fatalf("got exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitError, out, errOut)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, errOut)
			}
		})
	}
}

// TestIntegrationGitops applies the manifests to a namespace of its own,
// sees a second plan with nothing to do, then prunes one topic that a
// copy of the manifests no longer lists.
func TestIntegrationGitops(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka, platformtest.SchemaRegistry, platformtest.Connect)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env := func(k string) string {
		switch k {
		case EnvBrokers:
			return strings.Join(p.Brokers, ",")
		case EnvConnectURL:
			return p.ConnectURL
		case EnvSchemaRegistryURL:
			return p.SchemaRegistryURL
		}
		return ""
	}
	ns := platformtest.UniqueName("gitops") + "."
	dataDir := t.TempDir() // the worker runs on this machine
	t.Cleanup(func() { cleanup(t, p, ns) })
	common := []string{"-ext-var", "ns=" + ns, "-ext-var", "data_dir=" + dataDir}

	code, out, errOut := gitops(t, ctx, env, append([]string{"apply"}, common...)...)
	if code != exitOK {
		t.Fatalf("apply: got exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"topics: created [" + ns + "audit.v1 " + ns + "prices.v1 " + ns + "quotes.v1]",
		"schema " + ns + "prices.v1-value: id ",
		"acls: created 8, deleted 0",
		"connectors: created [" + ns + "prices-sink " + ns + "quotes-source]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}

	code, out, errOut = gitops(t, ctx, env, append([]string{"plan", "-format", "json"}, common...)...)
	if code != exitOK {
		t.Fatalf("second plan: got exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !json.Valid([]byte(out)) || !strings.Contains(out, `"topics":`) || !strings.Contains(out, `"connectors":`) {
		t.Errorf("json plan is not one object with the plans:\n%s", out)
	}
	code, out, errOut = gitops(t, ctx, env, append([]string{"plan"}, common...)...)
	if code != exitOK {
		t.Fatalf("second plan: got exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"0 to create, 0 to update, 0 to delete, 3 unchanged, 0 refused",
		"0 to create, 0 to delete, 8 unchanged",
		"0 to create, 0 to update, 0 to delete, 2 unchanged",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("second plan lacks %q:\n%s", want, out)
		}
	}

	// A copy of the manifests without the audit topic: apply -prune
	// deletes that topic and nothing else.
	dir := copyManifests(t)
	topicsFile := filepath.Join(dir, "topics.jsonnet")
	b, err := os.ReadFile(topicsFile)
	if err != nil {
		t.Fatal(err)
	}
	audit := regexp.MustCompile(`(?m)^\s*p\.event\('audit'.*\n`)
	if !audit.Match(b) {
		t.Fatalf("topics.jsonnet has no audit topic line:\n%s", b)
	}
	if err := os.WriteFile(topicsFile, audit.ReplaceAll(b, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = gitops(t, ctx, env, append([]string{"apply", "-prune", "-manifests", dir}, common...)...)
	if code != exitOK {
		t.Fatalf("apply -prune: got exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"topics: created [], updated [], deleted [" + ns + "audit.v1]",
		"acls: created 0, deleted 0",
		"connectors: created [], updated [], deleted []",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("apply -prune output lacks %q:\n%s", want, out)
		}
	}
	adm, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	td, err := kadm.NewClient(adm).ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"prices.v1", "quotes.v1"} {
		if !td.Has(ns + name) {
			t.Errorf("topic %s%s is gone after the prune", ns, name)
		}
	}
}

// cleanup removes what the integration test created in namespace ns.
func cleanup(t *testing.T, p platformtest.Platform, ns string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if c, err := connect.New(connect.WithURLs(p.ConnectURL)); err == nil {
		for _, name := range []string{"prices-sink", "quotes-source"} {
			if err := c.Delete(ctx, ns+name); err != nil {
				t.Logf("cleanup: delete connector %s%s: %v", ns, name, err)
			}
		}
	}
	if cl, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...)); err == nil {
		adm := kadm.NewClient(cl)
		if _, err := adm.DeleteTopics(ctx, ns+"prices.v1", ns+"quotes.v1", ns+"audit.v1"); err != nil {
			t.Logf("cleanup: delete topics: %v", err)
		}
		acls := kadm.NewACLs().AnyResource().Allow("User:"+ns+"publisher", "User:"+ns+"billing").AllowHosts().
			Operations(kadm.OpAny).ResourcePatternType(kadm.ACLPatternAny)
		if _, err := adm.DeleteACLs(ctx, acls); err != nil {
			t.Logf("cleanup: delete acls: %v", err)
		}
		cl.Close()
	}
	if rc, err := sr.NewClient(sr.URLs(p.SchemaRegistryURL)); err == nil {
		subject := ns + "prices.v1-value"
		if _, err := rc.DeleteSubject(ctx, subject, sr.SoftDelete); err != nil {
			t.Logf("cleanup: delete subject %s: %v", subject, err)
		}
		if _, err := rc.DeleteSubject(ctx, subject, sr.HardDelete); err != nil {
			t.Logf("cleanup: hard-delete subject %s: %v", subject, err)
		}
	}
}
