package streamkit_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// layers are streamkit's packages by layer, as doc.go states them: a
// package imports only packages of layers below its own. Patterns end in
// "/..." for a package and those under it.
var layers = []struct {
	name     string
	packages []string
}{
	{"0 plumbing", []string{"internal/..."}},
	{"1 clients", []string{"connect", "topics", "schema", "secrets", "metrics"}},
	{"2 composers", []string{"validate", "metrics/platform", "secrets/materialize"}},
	{"3 programs and test support", []string{".", "cmd/...", "platformtest/...", "examples/...", "scripts/..."}},
}

// testSupport are third-party packages (and std's testing) that only test
// support may link: no program, example or library package.
var testSupport = regexp.MustCompile(`^(github\.com/testcontainers/|github\.com/moby/|github\.com/docker/|testing$|github\.com/streamkit/streamkit/internal/(platformenv|vaultfake)$)`)

// fakes are franz-go's in-process Kafka and registry: test support, and
// the embedded default of the examples (DESIGN.md), but no library's.
var fakes = regexp.MustCompile(`^github\.com/twmb/franz-go/pkg/(kfake|sr/srfake)`)

type goPackage struct {
	path     string
	standard bool
	imports  []string
}

// listPackages returns every package the module's packages depend on,
// without test files, by import path.
func listPackages(t *testing.T) (map[string]*goPackage, string) {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}|{{.Standard}}|{{join .Imports \",\"}}", "./...").Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list: %v\n%s", err, stderr)
	}
	mod, err := exec.Command("go", "list", "-m").Output()
	if err != nil {
		t.Fatal(err)
	}
	module := strings.TrimSpace(string(mod))
	pkgs := map[string]*goPackage{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), "|", 3)
		p := &goPackage{path: f[0], standard: f[1] == "true"}
		if f[2] != "" {
			p.imports = strings.Split(f[2], ",")
		}
		pkgs[p.path] = p
	}
	return pkgs, module
}

// deps returns the transitive imports of path, sorted.
func deps(pkgs map[string]*goPackage, path string) []string {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(p string) {
		for _, i := range pkgs[p].imports {
			if !seen[i] && pkgs[i] != nil {
				seen[i] = true
				walk(i)
			}
		}
	}
	walk(path)
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// layerOf returns the layer of a streamkit package, relative to the
// module ("." for the root), or -1 when none claims it.
func layerOf(rel string) int {
	best, bestLen := -1, -1
	for i, l := range layers {
		for _, pat := range l.packages {
			base, tree := strings.CutSuffix(pat, "/...")
			if rel == base || tree && strings.HasPrefix(rel, base+"/") {
				if len(base) > bestLen {
					best, bestLen = i, len(base)
				}
			}
		}
	}
	return best
}

func rel(module, path string) (string, bool) {
	if path == module {
		return ".", true
	}
	r, ok := strings.CutPrefix(path, module+"/")
	return r, ok
}

// TestLayers holds doc.go's layers: every streamkit package belongs to a
// layer and imports only packages of lower layers (test support and the
// programs may use their own helpers and the layers below), and no
// package but test support links testcontainers, Docker, the fakes or
// package testing.
func TestLayers(t *testing.T) {
	pkgs, module := listPackages(t)
	for path, p := range pkgs {
		r, ok := rel(module, path)
		if !ok {
			continue
		}
		l := layerOf(r)
		if l < 0 {
			t.Errorf("%s belongs to no layer: add it to layers in layers_test.go and doc.go", r)
			continue
		}
		for _, imp := range p.imports {
			ir, ok := rel(module, imp)
			if !ok {
				continue
			}
			il := layerOf(ir)
			switch {
			case il < l:
			case il == l && l == len(layers)-1 && strings.HasPrefix(ir, "platformtest"):
				// Test support builds on its own core.
			case il == l && l == 0:
				// Plumbing may share plumbing.
			default:
				t.Errorf("%s (layer %s) imports %s (layer %s): a package imports only lower layers",
					r, layers[l].name, ir, layers[max(il, 0)].name)
			}
		}
		if strings.HasPrefix(r, "platformtest") || r == "internal/platformenv" || r == "internal/vaultfake" {
			// Test support, and the plumbing only test support imports,
			// which testSupport keeps out of everything else.
			continue
		}
		for _, d := range deps(pkgs, path) {
			if testSupport.MatchString(d) || fakes.MatchString(d) && !strings.HasPrefix(r, "examples/") {
				t.Errorf("%s links %s: only platformtest may", r, d)
				break
			}
		}
	}
}

// thirdParty counts the packages path links that are neither the
// standard library's nor streamkit's.
func thirdParty(pkgs map[string]*goPackage, module, path string) int {
	n := 0
	for _, d := range deps(pkgs, path) {
		if _, ours := rel(module, d); !ours && !pkgs[d].standard {
			n++
		}
	}
	return n
}

// TestDependencyCounts: a service that imports only schema, only secrets
// or only metrics (the client hooks) compiles no other streamkit package
// but plumbing, and the third-party packages each of these, each example
// program and each command links are the README's figures.
func TestDependencyCounts(t *testing.T) {
	pkgs, module := listPackages(t)
	for _, lone := range []string{"schema", "secrets", "metrics", "connect", "topics"} {
		for _, d := range deps(pkgs, module+"/"+lone) {
			if r, ours := rel(module, d); ours && !strings.HasPrefix(r, "internal/") {
				t.Errorf("%s compiles %s: a service importing only %s must not", lone, r, lone)
			}
		}
	}

	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	// | `schema` | 9 |
	row := regexp.MustCompile("(?m)^\\| `([a-z/]+)` \\| ([0-9]+) \\|")
	stated := map[string]int{}
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		stated[m[1]], _ = strconv.Atoi(m[2])
	}
	var want []string
	for path := range pkgs {
		r, ok := rel(module, path)
		if ok && (slices.Contains([]string{"schema", "secrets", "metrics", "connect", "topics", "validate"}, r) ||
			(strings.HasPrefix(r, "examples/") || strings.HasPrefix(r, "cmd/")) && len(strings.Split(r, "/")) == 2) {
			want = append(want, r)
		}
	}
	sort.Strings(want)
	var table strings.Builder
	for _, r := range want {
		n := thirdParty(pkgs, module, module+"/"+r)
		fmt.Fprintf(&table, "| `%s` | %d |\n", r, n)
		if got, ok := stated[r]; !ok || got != n {
			if ok {
				t.Errorf("README: %s links %d third-party packages, the README says %d", r, n, got)
			} else {
				t.Errorf("README: %s links %d third-party packages and has no row in the dependency table", r, n)
			}
		}
	}
	for r := range stated {
		if !slices.Contains(want, r) {
			t.Errorf("README: the dependency table has a row for %s, which is not a package or program it covers", r)
		}
	}
	if t.Failed() {
		t.Logf("the README's dependency table should read:\n%s", table.String())
	}
}
