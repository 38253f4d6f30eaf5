package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// root is the module root, from this package's folder.
var root = filepath.Join("..", "..")

// TestGenerated fails when a generated file differs from what envgen
// writes now: the contract changed without make generate, or someone
// edited a generated file.
func TestGenerated(t *testing.T) {
	t.Chdir(root)
	files, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		got, err := os.ReadFile(f.path)
		if err != nil {
			t.Errorf("%v: run make generate", err)
			continue
		}
		if !bytes.Equal(got, f.content) {
			t.Errorf("%s is stale: run make generate (scripts/envgen/contract.go is its source)", f.path)
		}
	}
}

// TestContract checks the table itself: names are unique, a printed
// variable has a value, and a constant is in one place only.
func TestContract(t *testing.T) {
	seen := map[string]bool{}
	consts := map[Const]bool{}
	for _, v := range variables {
		if seen[v.Name] {
			t.Errorf("%s is in the contract twice", v.Name)
		}
		seen[v.Name] = true
		if !regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`).MatchString(v.Name) {
			t.Errorf("%q is not a variable name", v.Name)
		}
		if (v.Script == "") != (v.Value == "") || !slices.Contains([]string{"", "platform", "containers"}, v.Script) {
			t.Errorf("%s: Script %q with Value %q: a printed variable needs both, of platform or containers", v.Name, v.Script, v.Value)
		}
		if v.Doc == "" {
			t.Errorf("%s has no doc", v.Name)
		}
		for _, c := range v.Go {
			c.Generated = false
			if consts[c] {
				t.Errorf("%s.%s is in the contract twice", c.Pkg, c.Name)
			}
			consts[c] = true
		}
	}
}

// TestDeclared checks every constant the contract names, generated or
// declared by hand (in test files too): it exists in its package and its
// value is the variable's name, or the label.
func TestDeclared(t *testing.T) {
	check := func(c Const, want string) {
		t.Helper()
		got, err := constValue(filepath.Join(root, filepath.FromSlash(c.Pkg)), c.Name)
		if err != nil {
			t.Errorf("%s.%s: %v", c.Pkg, c.Name, err)
		} else if got != want {
			t.Errorf("%s.%s is %q; the contract (scripts/envgen/contract.go) says %q", c.Pkg, c.Name, got, want)
		}
	}
	for _, v := range variables {
		for _, c := range v.Go {
			check(c, v.Name)
		}
	}
	for _, l := range labels {
		for _, c := range l.Go {
			check(c, l.Value)
		}
	}
}

// name matches what can only be one of streamkit's variables.
var name = regexp.MustCompile(`\bSTREAMKIT_[A-Z0-9_]*[A-Z0-9]\b`)

// TestNamesInContract: every STREAMKIT_* name in the Go sources outside
// tests, the scripts, the Makefile and the Markdown files is in the
// contract, and every variable of the contract is used somewhere but in
// the contract and what is generated from it. Tests may have variables of
// their own (a child process's switch).
func TestNamesInContract(t *testing.T) {
	contract := map[string]bool{}
	for _, v := range variables {
		contract[v.Name] = false
	}
	generated := map[string]bool{filepath.FromSlash(envScript): true}
	for _, p := range packages {
		generated[filepath.Join(filepath.FromSlash(p.Pkg), "env.go")] = true
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		slash := filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") && d.Name() != ".ci" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		scanned := strings.HasSuffix(slash, ".go") && !strings.HasSuffix(slash, "_test.go") ||
			strings.HasSuffix(slash, ".md") || slash == "Makefile" ||
			strings.HasPrefix(slash, "scripts/") || strings.HasPrefix(slash, ".ci/")
		if !scanned {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		source := generated[rel] || strings.HasPrefix(slash, "scripts/envgen/")
		for _, n := range name.FindAllString(string(src), -1) {
			used, ok := contract[n]
			if !ok {
				t.Errorf("%s: %s is not in the environment contract: add it to scripts/envgen/contract.go", slash, n)
				contract[n] = true // once
				continue
			}
			contract[n] = used || !source
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range variables {
		if strings.HasPrefix(v.Name, "STREAMKIT_") && !contract[v.Name] && !slices.ContainsFunc(v.Go, func(c Const) bool { return c.Generated }) {
			t.Errorf("%s is in the contract but nothing uses it: remove it from scripts/envgen/contract.go", v.Name)
		}
	}
}

// TestScriptsPrintContract runs scripts/platform env and scripts/containers
// env with an empty state folder: each prints its variables of the
// contract, in its order (scripts/containers adds testcontainers-go's).
func TestScriptsPrintContract(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	for _, script := range []string{"platform", "containers"} {
		cmd := exec.Command(filepath.Join(root, "scripts", script), "env")
		cmd.Env = append(os.Environ(), "STREAMKIT_STATE="+t.TempDir())
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Errorf("scripts/%s env: %v\n%s", script, err, stderr.Bytes())
			continue
		}
		var got, want []string
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			k, _, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
			if !ok || !strings.HasPrefix(line, "export ") {
				t.Errorf("scripts/%s env printed %q, want export lines", script, line)
			}
			if !strings.HasPrefix(k, "TESTCONTAINERS_") {
				got = append(got, k)
			}
		}
		for _, v := range variables {
			if v.Script == script {
				want = append(want, v.Name)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("scripts/%s env printed %v, want %v", script, got, want)
		}
	}
}

// version matches a pin of scripts/lib.sh: KAFKA_VERSION=${STREAMKIT_KAFKA_VERSION:-4.3.1}.
var version = regexp.MustCompile(`(?m)^([A-Z_]+)_VERSION=\$\{STREAMKIT_([A-Z_]+)_VERSION:-([^}]+)\}$`)

// TestVersions: the versions scripts/lib.sh pins are the tags of
// platformtest/containers' default images and the Maven poms' defaults.
func TestVersions(t *testing.T) {
	lib, err := os.ReadFile(filepath.Join(root, "scripts", "lib.sh"))
	if err != nil {
		t.Fatal(err)
	}
	pins := map[string]string{}
	for _, m := range version.FindAllStringSubmatch(string(lib), -1) {
		if m[1] != m[2] {
			t.Errorf("scripts/lib.sh: %s_VERSION reads STREAMKIT_%s_VERSION", m[1], m[2])
		}
		pins[m[1]] = m[3]
	}
	containers := filepath.Join(root, "platformtest", "containers")
	for pin, image := range map[string]string{
		"KAFKA":    "DefaultKafkaImage",
		"APICURIO": "DefaultSchemaRegistryImage",
		"OPENBAO":  "DefaultVaultImage",
	} {
		ref, err := constValue(containers, image)
		if err != nil {
			t.Errorf("platformtest/containers.%s: %v", image, err)
			continue
		}
		if _, tag, _ := strings.Cut(ref, ":"); pins[pin] == "" || tag != pins[pin] {
			t.Errorf("platformtest/containers.%s is %s; scripts/lib.sh pins %s_VERSION %q", image, ref, pin, pins[pin])
		}
	}
	for pin, pom := range map[string]string{"KAFKA": "kafka", "DEBEZIUM": "debezium", "APICURIO_CONVERTER": "apicurio-converter", "DEBEZIUM_JDBC": "debezium-jdbc"} {
		src, err := os.ReadFile(filepath.Join(root, "platform", "maven", pom, "pom.xml"))
		if err != nil {
			t.Error(err)
			continue
		}
		var got string
		if m := regexp.MustCompile(`<` + pom + `\.version>([^<]+)<`).FindSubmatch(src); m != nil {
			got = string(m[1])
		}
		if got == "" || got != pins[pin] {
			t.Errorf("platform/maven/%s/pom.xml: %s.version is %q; scripts/lib.sh pins %s_VERSION %q", pom, pom, got, pin, pins[pin])
		}
	}
}

// constValue returns the value of the string constant name declared in
// dir's Go files, test files included.
func constValue(dir, name string) (string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return "", err
	}
	fset := token.NewFileSet()
	for _, p := range paths {
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return "", err
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if n.Name != name {
						continue
					}
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							return strconv.Unquote(lit.Value)
						}
					}
					return "", fmt.Errorf("not a string literal in %s", p)
				}
			}
		}
	}
	return "", fmt.Errorf("not declared in %s", dir)
}
