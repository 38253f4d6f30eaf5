// Package examples_test checks the promises the examples make: a team
// copies examples/gitops or examples/integration into a repository of its
// own, and it builds, vets and (for gitops) validates its manifests there
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
	for _, name := range []string{"gitops", "integration"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "team-"+name)
			if err := os.CopyFS(dir, os.DirFS(filepath.Join(repo, "examples", name))); err != nil {
				t.Fatal(err)
			}
			// The team's own module, with streamkit as a dependency; the
			// replace stands in for the published version.
			mod := "module example.com/team/" + name + "\n\ngo 1.26.0\n\n" +
				"require github.com/streamkit/streamkit v0.0.0\n\n" +
				"replace github.com/streamkit/streamkit => " + repo + "\n"
			write(t, filepath.Join(dir, "go.mod"), mod)
			write(t, filepath.Join(dir, "go.sum"), string(sum))
			run(t, dir, "go", "vet", "./...")
			if name == "gitops" {
				out := run(t, dir, "go", "run", ".", "validate")
				if !strings.Contains(out, "validation: ok") {
					t.Fatalf("validate in the copy:\n%s", out)
				}
			}
		})
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// run runs a go command in dir, free of the platform's variables so that
// gitops validates offline, and returns its output.
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
