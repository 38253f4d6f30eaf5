package examples_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// forbidden are the packages no example binary may link: test support and
// Docker. A team copies these programs into services; the embedded
// default of quickstart, producer and consumer uses franz-go's kfake and
// srfake directly, which link neither.
var forbidden = []string{
	"testing", // and testing/...
	"github.com/testcontainers/",
	"github.com/moby/",
	"github.com/docker/",
	"github.com/streamkit/streamkit/platformtest",
	"github.com/streamkit/streamkit/internal/platformenv",
}

func isForbidden(pkg string) bool {
	for _, f := range forbidden {
		if pkg == f || strings.HasPrefix(pkg, strings.TrimSuffix(f, "/")+"/") {
			return true
		}
	}
	return false
}

// TestBinariesLinkNoTestSupport lists what each example's binary links
// (go list -deps, test files excluded) and fails on a forbidden package,
// naming the chain of imports that brings it in.
func TestBinariesLinkNoTestSupport(t *testing.T) {
	_, here, _, _ := runtime.Caller(0)
	dir := filepath.Dir(here)
	out := goList(t, dir, "-f", `{{if eq .Name "main"}}{{.ImportPath}}{{end}}`, "./...")
	mains := strings.Fields(out)
	for _, want := range []string{"consumer", "healer", "integration", "producer", "quickstart"} {
		if !slices.Contains(mains, "github.com/streamkit/streamkit/examples/"+want) {
			t.Errorf("go list found no example %s among %v", want, mains)
		}
	}
	for _, main := range mains {
		t.Run(strings.TrimPrefix(main, "github.com/streamkit/streamkit/examples/"), func(t *testing.T) {
			imports := map[string][]string{}
			for _, line := range strings.Split(strings.TrimSpace(goList(t, dir, "-deps", "-f", `{{.ImportPath}} {{join .Imports " "}}`, main)), "\n") {
				f := strings.Fields(line)
				imports[f[0]] = f[1:]
			}
			// Report where forbidden packages enter, each once with the
			// chain that brings it in, not everything they pull after them.
			var bad, entries []string
			for pkg, imps := range imports {
				if isForbidden(pkg) {
					bad = append(bad, pkg)
					continue
				}
				for _, i := range imps {
					if isForbidden(i) && !slices.Contains(entries, i) {
						entries = append(entries, i)
					}
				}
			}
			if len(bad) == 0 {
				return
			}
			slices.Sort(entries)
			t.Errorf("links %d forbidden packages (test support or Docker); they enter through:", len(bad))
			for _, pkg := range entries {
				t.Errorf("  %s", strings.Join(importChain(imports, main, pkg), " -> "))
			}
		})
	}
}

// importChain is a shortest chain of imports from main to pkg.
func importChain(imports map[string][]string, main, pkg string) []string {
	prev := map[string]string{main: ""}
	queue := []string{main}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == pkg {
			var chain []string
			for ; p != ""; p = prev[p] {
				chain = append(chain, p)
			}
			slices.Reverse(chain)
			return chain
		}
		for _, i := range imports[p] {
			if _, seen := prev[i]; !seen {
				prev[i] = p
				queue = append(queue, i)
			}
		}
	}
	return []string{main, "?", pkg}
}

func goList(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg += "\n" + string(ee.Stderr)
		}
		t.Fatalf("go list %s: %s", strings.Join(args, " "), msg)
	}
	return string(out)
}
