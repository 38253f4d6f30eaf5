package validate

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	jsonnet "github.com/google/go-jsonnet"
	"github.com/google/go-jsonnet/ast"
)

// LibraryName is the import path of the bundled library:
// import 'streamkit.libsonnet'.
const LibraryName = "streamkit.libsonnet"

//go:embed lib/streamkit.libsonnet
var library string

// Library returns the source of the bundled streamkit.libsonnet.
func Library() string { return library }

// The rule IDs of the findings Evaluate reports itself; the rules over the
// decoded Manifest have their own.
const (
	// RuleSyntax is a jsonnet file that does not parse or does not pass
	// go-jsonnet's static checks (e.g. an unknown variable).
	RuleSyntax = "JSONNET001"
	// RuleRuntime is a jsonnet runtime error: error "...", a failed
	// assert, a missing import, a type error, too deep a recursion.
	RuleRuntime = "JSONNET002"
	// RuleUnknownKey is a top-level manifest key streamkit does not know
	// (a warning: a typo drops resources silently).
	RuleUnknownKey = "MANIFEST001"
	// RuleWrongType is a value of the wrong JSON type, e.g. partitions
	// written "3".
	RuleWrongType = "MANIFEST002"
	// RuleUnknownField is a field of a resource that its type does not
	// have (a warning).
	RuleUnknownField = "MANIFEST003"
	// RuleSchemaFile is a schema whose file cannot be read.
	RuleSchemaFile = "MANIFEST004"
)

// DefaultMaxStack is the jsonnet stack depth Options.MaxStack defaults to.
const DefaultMaxStack = 500

// Options say which manifests Evaluate reads and how.
type Options struct {
	// Dir is the team's repository: every *.jsonnet file under it,
	// recursively, in lexical order, is a manifest. Positions are
	// reported relative to Dir.
	Dir string
	// Files are the manifests when Dir is empty, in the order given.
	Files []string
	// ExtVars are the jsonnet external variables (std.extVar), e.g.
	// "env" and "team".
	ExtVars map[string]string
	// ImportPaths are searched, after the importing file's folder, for
	// an import that is not the bundled streamkit.libsonnet.
	ImportPaths []string
	// MaxStack bounds jsonnet's stack depth; the default is
	// DefaultMaxStack (500).
	MaxStack int
}

// Result is what Evaluate found: the merged manifest and the problems.
// A Result is not modified by Evaluate once returned; it is safe for
// concurrent reads.
type Result struct {
	// Manifest is every file's resources, in file order.
	Manifest Manifest
	// Findings are the problems found while evaluating and decoding.
	Findings []Finding
	// Locator says where the resources of Manifest were written.
	Locator Locator
	// Files are the manifests evaluated, as reported in positions.
	Files []string
}

// OK reports whether no finding is an Error.
func (r *Result) OK() bool {
	for _, f := range r.Findings {
		if f.Severity >= Error {
			return false
		}
	}
	return true
}

// Evaluate evaluates every manifest, one after the other with one jsonnet
// VM of its own (which caches imports across files), decodes them into one
// Manifest and reports the problems as findings. Syntax and
// runtime errors of the jsonnet, and a manifest that does not decode, are
// findings at the file:line:col they come from; Evaluate returns an error
// only when a file cannot be listed or read, or when ctx ends (ctx.Err()
// as it is, with a nil Result). A single
// file's evaluation cannot be cancelled (go-jsonnet has no hook for it):
// ctx is checked between files, and MaxStack bounds the recursion.
//
// Evaluate is safe to call from several goroutines at once: each call has
// its own VM.
func Evaluate(ctx context.Context, opts Options) (*Result, error) {
	return evaluate(ctx, opts, nil)
}

// evaluate is Evaluate with a hook called after each file, for tests.
func evaluate(ctx context.Context, opts Options, afterFile func(file string)) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	files, err := manifestFiles(opts)
	if err != nil {
		return nil, err
	}
	imp := newImporter(opts.ImportPaths)
	vm := jsonnet.MakeVM()
	vm.MaxStack = opts.MaxStack
	if vm.MaxStack <= 0 {
		vm.MaxStack = DefaultMaxStack
	}
	vm.Importer(imp)
	for k, v := range opts.ExtVars {
		vm.ExtVar(k, v)
	}

	ev := &evaluation{dir: opts.Dir, imp: imp, asts: map[string]ast.Node{}}
	ev.loc = newLocator(ev.display, ev)
	res := &Result{Locator: ev.loc}
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		src, err := imp.read(path)
		if err != nil {
			return nil, fmt.Errorf("read manifest: %w", err)
		}
		name := ev.display(path)
		res.Files = append(res.Files, name)
		ev.file(vm, path, name, src, &res.Manifest)
		if afterFile != nil {
			afterFile(name)
		}
	}
	res.Findings = ev.findings
	return res, nil
}

// file evaluates and decodes one manifest into m.
func (ev *evaluation) file(vm *jsonnet.VM, path, name string, src []byte, m *Manifest) {
	node, err := jsonnet.SnippetToAST(path, string(src))
	if err != nil {
		ev.jsonnetError(RuleSyntax, name, err)
		return
	}
	ev.loc.addFile(name, node)
	out, err := vm.Evaluate(node)
	if err != nil {
		ev.jsonnetError(RuleRuntime, name, err)
		return
	}
	ev.decode(name, filepath.Dir(path), []byte(out), m)
}

// evaluation is the state of one Evaluate call.
type evaluation struct {
	dir      string
	imp      *importer
	loc      *locator
	findings []Finding
	// asts are the imported files the locator read, by where they were
	// found; nil for one that does not parse.
	asts map[string]ast.Node
}

// parseImport returns the AST of the file imp imports, for the locator,
// or false when it cannot be found or parsed. It reads through the
// importer, so it finds what the VM found.
func (ev *evaluation) parseImport(imp *ast.Import) (ast.Node, bool) {
	if imp.File == nil {
		return nil, false
	}
	contents, foundAt, err := ev.imp.Import(imp.LocRange.FileName, imp.File.Value)
	if err != nil {
		return nil, false
	}
	node, ok := ev.asts[foundAt]
	if !ok {
		node, err = jsonnet.SnippetToAST(foundAt, contents.String())
		if err != nil {
			node = nil
		}
		ev.asts[foundAt] = node
	}
	return node, node != nil
}

// findImportStr returns the file imp reads, as shown in positions, for
// the locator, or false when it cannot be found.
func (ev *evaluation) findImportStr(imp *ast.ImportStr) (string, bool) {
	if imp.File == nil {
		return "", false
	}
	_, foundAt, err := ev.imp.Import(imp.LocRange.FileName, imp.File.Value)
	if err != nil {
		return "", false
	}
	return ev.display(foundAt), true
}

func (ev *evaluation) add(f Finding) { ev.findings = append(ev.findings, f) }

// display is how path is shown in positions: relative to Options.Dir when
// it is inside it, slash-separated.
func (ev *evaluation) display(path string) string {
	if path == LibraryName || ev.dir == "" {
		return filepath.ToSlash(path)
	}
	if rel, err := filepath.Rel(ev.dir, path); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(path)
}

// jsonnetError turns a go-jsonnet error into a finding at the place it
// names, keeping go-jsonnet's own location rather than parsing its text.
func (ev *evaluation) jsonnetError(rule, file string, err error) {
	f := Finding{Rule: rule, Severity: Error, Pos: Position{File: file, Line: 1, Column: 1}}
	var rt jsonnet.RuntimeError
	var static interface{ Loc() ast.LocationRange }
	switch {
	case errors.As(err, &rt) && ev.imp.staticError(rt.Msg) != nil:
		// An imported file that does not parse: go-jsonnet reports it
		// as a runtime error at the import, with the static error's
		// text; the importer kept the static error itself.
		se := ev.imp.staticError(rt.Msg)
		f.Rule = RuleSyntax
		f.Message = staticMessage(se)
		if errors.As(se, &static) {
			if loc := static.Loc(); loc.FileName != "" && loc.Begin.Line > 0 {
				f.Pos = ev.position(loc)
			}
		}
	case errors.As(err, &rt):
		f.Rule = RuleRuntime
		f.Message = rt.Msg
		if loc, ok := ev.traceLocation(rt.StackTrace); ok {
			f.Pos = loc
		}
	case errors.As(err, &static):
		f.Rule = RuleSyntax
		f.Message = staticMessage(err)
		if loc := static.Loc(); loc.FileName != "" && loc.Begin.Line > 0 {
			f.Pos = ev.position(loc)
		}
	default:
		// A crash inside go-jsonnet (it recovers its own panics into a
		// plain error): keep the first line only, the rest is a Go stack.
		msg, _, _ := strings.Cut(err.Error(), "\n")
		f.Message = msg
	}
	ev.add(f)
}

// staticMessage is a static error's message without the location prefix
// go-jsonnet puts in Error() ("file:2:6-7 Unexpected: ..."): the finding
// carries the location.
func staticMessage(err error) string {
	msg := err.Error()
	var static interface{ Loc() ast.LocationRange }
	if errors.As(err, &static) {
		loc := static.Loc()
		if loc.IsSet() {
			return strings.TrimPrefix(msg, loc.String()+" ")
		}
	}
	return strings.TrimPrefix(msg, " ")
}

// traceLocation picks the frame a team should look at: the innermost
// frame in one of the team's files. A frame in the bundled library is
// used only when no frame is in a team file: the call into the library
// is what the team wrote.
func (ev *evaluation) traceLocation(trace []jsonnet.TraceFrame) (Position, bool) {
	var lib *ast.LocationRange
	for i := len(trace) - 1; i >= 0; i-- {
		loc := trace[i].Loc
		if loc.FileName == "" || loc.Begin.Line == 0 {
			continue
		}
		if loc.FileName == LibraryName {
			if lib == nil {
				lib = &trace[i].Loc
			}
			continue
		}
		return ev.position(loc), true
	}
	if lib != nil {
		return ev.position(*lib), true
	}
	return Position{}, false
}

func (ev *evaluation) position(loc ast.LocationRange) Position {
	return Position{File: ev.display(loc.FileName), Line: loc.Begin.Line, Column: loc.Begin.Column}
}

// manifestFiles lists the manifests of opts.
func manifestFiles(opts Options) ([]string, error) {
	if opts.Dir == "" {
		if len(opts.Files) == 0 {
			return nil, errors.New("evaluate: neither Dir nor Files is set")
		}
		return opts.Files, nil
	}
	var files []string
	err := filepath.WalkDir(opts.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".jsonnet") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list manifests: %w", err)
	}
	sort.Strings(files)
	return files, nil
}

// importer serves the bundled library by name and otherwise looks for an
// import in the importing file's folder, then in the import paths. It
// caches what it finds, hits and misses, so that the same (from, path)
// always gives the same answer, as go-jsonnet requires. It belongs to one
// VM and is not safe for concurrent use.
type importer struct {
	paths []string
	// contents by foundAt.
	contents map[string]jsonnet.Contents
	// found maps dir+"\x00"+path to foundAt, "" for a miss.
	found map[string]string
	// static are the static errors of the imported files, by foundAt.
	static map[string]error
}

// staticError returns the static error of an imported file whose text is
// msg, or nil.
func (imp *importer) staticError(msg string) error {
	for _, err := range imp.static {
		if err.Error() == msg {
			return err
		}
	}
	return nil
}

func newImporter(paths []string) *importer {
	return &importer{
		paths:    paths,
		contents: map[string]jsonnet.Contents{LibraryName: jsonnet.MakeContents(library)},
		found:    map[string]string{},
		static:   map[string]error{},
	}
}

// read returns a manifest's source, from the cache when another manifest
// imported it already, and caches it otherwise: whichever way a file is
// reached first, it is read once.
func (imp *importer) read(path string) ([]byte, error) {
	if c, ok := imp.contents[path]; ok {
		return []byte(c.String()), nil
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	imp.contents[path] = jsonnet.MakeContents(string(src))
	return src, nil
}

func (imp *importer) Import(importedFrom, importedPath string) (jsonnet.Contents, string, error) {
	if importedPath == LibraryName {
		return imp.contents[LibraryName], LibraryName, nil
	}
	dir := ""
	if importedFrom != "" && importedFrom != LibraryName {
		dir = filepath.Dir(importedFrom)
	}
	key := dir + "\x00" + importedPath
	if foundAt, ok := imp.found[key]; ok {
		if foundAt == "" {
			return jsonnet.Contents{}, "", fmt.Errorf("couldn't open import %q: not found in %s", importedPath, imp.searched(dir))
		}
		return imp.contents[foundAt], foundAt, nil
	}
	var candidates []string
	if filepath.IsAbs(importedPath) {
		candidates = []string{importedPath}
	} else {
		if dir != "" {
			candidates = append(candidates, filepath.Join(dir, importedPath))
		}
		for _, p := range imp.paths {
			candidates = append(candidates, filepath.Join(p, importedPath))
		}
	}
	for _, c := range candidates {
		if contents, ok := imp.contents[c]; ok {
			imp.found[key] = c
			return contents, c, nil
		}
		data, err := os.ReadFile(c)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return jsonnet.Contents{}, "", fmt.Errorf("import %q: %w", importedPath, err)
		}
		contents := jsonnet.MakeContents(string(data))
		imp.contents[c] = contents
		if !strings.HasSuffix(c, ".json") {
			// go-jsonnet flattens an imported file's static error into
			// a runtime error's text: parse it here too to keep it.
			if _, err := jsonnet.SnippetToAST(c, contents.String()); err != nil {
				imp.static[c] = err
			}
		}
		imp.found[key] = c
		return contents, c, nil
	}
	imp.found[key] = ""
	return jsonnet.Contents{}, "", fmt.Errorf("couldn't open import %q: not found in %s", importedPath, imp.searched(dir))
}

func (imp *importer) searched(dir string) string {
	var where []string
	if dir != "" {
		where = append(where, dir)
	}
	where = append(where, imp.paths...)
	if len(where) == 0 {
		return "no import path"
	}
	return strings.Join(where, ", ")
}
