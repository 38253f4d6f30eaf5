package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The tests run the built binary, as CI and a team do: its exit codes and
// its output are the contract.

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// binary is the streamkit binary TestMain builds.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "streamkit-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "streamkit")
	// -buildvcs=false: the version is "(devel)" in every checkout, so the
	// golden SARIF files do not depend on the commit.
	if out, err := exec.Command("go", "build", "-buildvcs=false", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build streamkit: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// streamkit runs the binary in dir with env and nothing else of the test
// process's environment (no platform unless env names one).
func streamkit(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	code := 0
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run streamkit %v: %v", args, err)
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// newRepo copies the team template (examples/gitops) into a new git
// repository at sub (e.g. "teams/pricing") and returns the repository root
// and the team's folder.
func newRepo(t *testing.T, sub string) (root, team string) {
	t.Helper()
	root = t.TempDir()
	team = filepath.Join(root, sub)
	if err := os.CopyFS(team, os.DirFS("../../examples/gitops")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root, team
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		writeFile(t, path, got)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestVersion(t *testing.T) {
	r := streamkit(t, t.TempDir(), nil, "version")
	if r.code != exitOK || !regexp.MustCompile(`^streamkit \S+.* go1\.`).MatchString(r.stdout) {
		t.Fatalf("version: %v", r)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	_, dir := newRepo(t, ".")
	writeFile(t, filepath.Join(dir, "typo.jsonnet"), `{ namespace: 'pricing.', manifest: 'manifests' }`)
	writeFile(t, filepath.Join(dir, "nons.jsonnet"), `{ manifests: 'manifests' }`)
	writeFile(t, filepath.Join(dir, "badrule.jsonnet"), `{ namespace: 'pricing.', policy: { rules: { CONN004: 'loud' } } }`)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "missing command"},
		{"unknown command", []string{"deploy"}, `unknown command "deploy"`},
		{"unknown flag", []string{"validate", "-manifests", "x"}, "flag provided but not defined: -manifests"},
		{"bad format", []string{"validate", "-format", "xml"}, `unknown format "xml"`},
		{"prune on validate", []string{"validate", "-prune"}, "-prune"},
		{"force without prune", []string{"apply", "-force"}, "-force only applies with -prune"},
		{"restart without a name", []string{"restart"}, "restart takes one connector name"},
		{"extra arguments", []string{"plan", "now"}, `unexpected arguments ["now"]`},
		{"sarif status", []string{"status", "-format", "sarif"}, "-format sarif is for validate, plan and apply"},
		{"no team file", []string{"validate", "-team", "missing.jsonnet"}, "team file missing.jsonnet not found"},
		{"team file typo", []string{"validate", "-team", "typo.jsonnet"}, `unknown field "manifest"`},
		{"team file without namespace", []string{"validate", "-team", "nons.jsonnet"}, "namespace is required"},
		{"team file bad severity", []string{"validate", "-team", "badrule.jsonnet"}, `policy.rules.CONN004: severity "loud"`},
		{"plan without a platform", []string{"plan"}, "plan and apply need STREAMKIT_BROKERS, STREAMKIT_SCHEMA_REGISTRY_URL, STREAMKIT_CONNECT_URL"},
		{"status without a platform", []string{"status"}, "status needs STREAMKIT_CONNECT_URL or STREAMKIT_BROKERS"},
		{"restart outside the namespace", []string{"restart", "billing.db-source"}, `connector "billing.db-source" is outside the namespace "pricing."`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := streamkit(t, dir, nil, tt.args...)
			if r.code != exitError || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("want exit 2 and %q on stderr, got %v", tt.want, r)
			}
		})
	}
	if r := streamkit(t, dir, nil, "-h"); r.code != exitOK || !strings.Contains(r.stderr, "exit codes: 0 clean") {
		t.Errorf("-h: %v", r)
	}
}

// The template validates clean offline in every format.
func TestValidateTemplate(t *testing.T) {
	_, dir := newRepo(t, ".")
	for _, format := range []string{"text", "json", "github", "sarif"} {
		t.Run(format, func(t *testing.T) {
			r := streamkit(t, dir, nil, "validate", "-format", format)
			if r.code != exitOK {
				t.Fatalf("validate: %v", r)
			}
			switch format {
			case "json":
				if !strings.Contains(r.stdout, `"ok": true`) || !json.Valid([]byte(r.stdout)) {
					t.Errorf("json: %s", r.stdout)
				}
			case "sarif":
				if !strings.Contains(r.stdout, `"results": []`) {
					t.Errorf("sarif with results: %s", r.stdout)
				}
			default:
				if !strings.Contains(r.stdout, "validation: ok (4 files)") {
					t.Errorf("%s: %s", format, r.stdout)
				}
			}
		})
	}
}

// leaky is a connector someone wrote by hand with the password pasted in,
// and a grant to another team's service account.
const leaky = `// A sink someone wrote by hand.
local p = import 'pricing.libsonnet';
{
  connectors: [
    {
      name: p.name('leaky-sink'),
      config: {
        'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
        'tasks.max': '1',
        topics: p.name('prices.v1'),
        file: '/tmp/leaky.txt',
        'database.password': 'hunter2',
      },
    },
  ],
  acls: [
    { principal: 'User:pricing.reports', role: 'consumer', topics: [p.name('prices.v1')], groups: [p.name('reports')] },
  ],
}
`

// Findings land on the line the team wrote, with paths relative to the
// repository root (where GitHub and code scanning resolve them), in every
// format; the exit code is 1 and the password is never printed.
func TestValidateFindingsGolden(t *testing.T) {
	root, dir := newRepo(t, "teams/pricing")
	writeFile(t, filepath.Join(dir, "manifests", "leaky.jsonnet"), leaky)
	for _, format := range []string{"text", "json", "github", "sarif"} {
		t.Run(format, func(t *testing.T) {
			r := streamkit(t, dir, nil, "validate", "-format", format)
			if r.code != exitFindings {
				t.Fatalf("want exit 1: %v", r)
			}
			if strings.Contains(r.stdout+r.stderr, "hunter2") {
				t.Fatalf("the password is printed: %v", r)
			}
			golden(t, "findings."+format, r.stdout)
		})
	}
	// From the repository root with -team, the positions are the same.
	a := streamkit(t, root, nil, "validate", "-team", "teams/pricing/team.jsonnet")
	b := streamkit(t, dir, nil, "validate")
	if a.stdout != b.stdout || !strings.Contains(a.stdout, "teams/pricing/manifests/leaky.jsonnet:12:") {
		t.Errorf("from the root:\n%s\nfrom the team folder:\n%s", a.stdout, b.stdout)
	}
}

// A platform that does not answer is exit 2, not a clean validation and not
// findings: CI can tell an outage from a mistake.
func TestUnreachablePlatformExits2(t *testing.T) {
	_, dir := newRepo(t, ".")
	env := []string{
		EnvBrokers + "=127.0.0.1:1",
		EnvConnectURL + "=http://127.0.0.1:1",
		EnvSchemaRegistryURL + "=http://127.0.0.1:1",
	}
	r := streamkit(t, dir, env, "validate")
	if r.code != exitError || !strings.Contains(r.stdout, "LIVE000") {
		t.Fatalf("validate: %v", r)
	}
	r = streamkit(t, dir, env, "apply")
	if r.code != exitError || !strings.Contains(r.stderr, "apply refused") && !strings.Contains(r.stderr, "plan") {
		t.Fatalf("apply: %v", r)
	}
}
