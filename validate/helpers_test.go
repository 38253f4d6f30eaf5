package validate

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// golden compares got with testdata/golden/name.golden, or rewrites it
// with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (run go test -update to accept):\ngot:\n%s\nwant:\n%s", name, path, got, want)
	}
}

// evaluateDir evaluates the manifests under dir with the test's ext vars.
func evaluateDir(t *testing.T, dir string) *Result {
	t.Helper()
	res, err := Evaluate(context.Background(), Options{
		Dir:     dir,
		ExtVars: map[string]string{"env": "prod", "team": "pricing"},
	})
	if err != nil {
		t.Fatalf("Evaluate(%s): %v", dir, err)
	}
	return res
}
