// Package examples_test checks the promises the examples make: a team
// copies examples/gitops (the team repository template, run by the
// streamkit binary) or examples/integration (a Go module) into a
// repository of its own, and it validates, or builds and vets, there
// without touching anything but names (copy_test.go); and no example's
// binary links test support or Docker, so a service copied from one does
// not either (deps_test.go).
package examples_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestTemplatesWorkWhenCopied(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two modules")
	}
	_, here, _, _ := runtime.Caller(0)
	repo := filepath.Dir(filepath.Dir(here))
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("gitops", func(t *testing.T) {
		// The template is a repository of manifests and a team file, run
		// by the streamkit binary its CI installs; no Go of its own.
		bin := filepath.Join(t.TempDir(), "streamkit")
		run(t, repo, "go", "build", "-o", bin, "./cmd/streamkit")
		dir := filepath.Join(t.TempDir(), "team-gitops")
		if err := os.CopyFS(dir, os.DirFS(filepath.Join(repo, "examples", "gitops"))); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, ".github", "workflows", "streamkit.yml")); err != nil {
			t.Fatalf("the template's CI workflow: %v", err)
		}
		out := run(t, dir, bin, "validate")
		if !strings.Contains(out, "validation: ok") {
			t.Fatalf("validate in the copy:\n%s", out)
		}
	})
	t.Run("integration", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "team-integration")
		if err := os.CopyFS(dir, os.DirFS(filepath.Join(repo, "examples", "integration"))); err != nil {
			t.Fatal(err)
		}
		// The team's own module, with streamkit as a dependency; the
		// replace stands in for the published version.
		mod := "module example.com/team/integration\n\ngo 1.26.0\n\n" +
			"require github.com/streamkit/streamkit v0.0.0\n\n" +
			"replace github.com/streamkit/streamkit => " + repo + "\n"
		write(t, filepath.Join(dir, "go.mod"), mod)
		write(t, filepath.Join(dir, "go.sum"), string(sum))
		run(t, dir, "go", "vet", "./...")
	})
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// run runs a command in dir, free of the platform's variables so that
// the template validates offline, and returns its output.
func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STREAMKIT_") && !strings.HasPrefix(kv, "VAULT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}
