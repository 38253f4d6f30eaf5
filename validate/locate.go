package validate

import (
	"github.com/google/go-jsonnet/ast"
	"github.com/google/go-jsonnet/toolutils"
)

// locator is the Locator Evaluate builds from the AST of each manifest
// (jsonnet.SnippetToAST). For each resource it knows, from most to least
// precise:
//
//   - the expression of the resource itself, by structure: the decoder
//     says which element of which top-level array of which manifest the
//     resource is, and the array's expression (an array literal, through
//     locals, +, if and key+:) says which expression wrote that element,
//     whatever its name expression. An object literal gives the positions
//     of its fields and of the literal keys of its config (connectors)
//     or configs (topics); a call gives its call site, its named
//     arguments, the literal keys of its object arguments and of objects
//     added to it (sk.topic(...) + {configs+: {...}}), and, through the
//     function it calls, the keys that function writes: at the argument
//     a key's value is computed from (sk.fileSink(n, ts, '/tmp/out')
//     places "file" at '/tmp/out'), or where the key is written when the
//     function is the team's own (a manifest's or an imported library's,
//     not the bundled library's, which a team does not edit);
//   - an object literal or a call in the same manifest that names the
//     resource with a string literal (a field name, subject or principal,
//     or a call's first argument or name, principal or subject argument);
//   - the expression enclosing the resource when its own is not written
//     in the manifest: a comprehension whose body is only its variable,
//     an array taken from an imported library (the import's use), a
//     manifest that is an import, an if whose branches cannot be told
//     apart; its keys are looked up where the resource is written, by
//     reading the manifest through its imports;
//   - the start of the manifest it was decoded from.
//
// A key that is computed ([k]: v), or written in the bundled library
// with a value not computed from one argument (sk.topic's default
// cleanup.policy), is located at its resource. When two resources have
// the same kind and name, the first decoded is located. The schema a
// subject reads from a file is recorded too, for findings about its text
// (Context.inSchema).
//
// A locator is built by one Evaluate call and only read afterwards; reads
// are safe for concurrent use.
type locator struct {
	objects map[string]*resourceLoc // by kind and name
	calls   map[string]*resourceLoc // by name: the kind of a call is unknown
	items   map[string]*itemLoc     // by kind and name, from decoding
	top     map[string]map[string]Position
	asts    map[string]*manifestAST // by manifest
	// across are the manifests read through their imports, built when
	// an element is not written in its manifest.
	across  map[string]*manifestAST
	roots   map[string]ast.Node
	schemas map[string]string // .avsc by subject and file, as displayed
	display func(string) string
	// files reads imported files; nil: they are not read.
	files importedFiles
	// imported are the imported files' values inside their top-level
	// locals, by root, read once.
	imported map[ast.Node]importedValue
}

// importedValue is an imported file's value and the scope of its
// top-level locals.
type importedValue struct {
	node  ast.Node
	scope *scope
}

// resourceLoc is where one resource, and its fields and config keys, were
// written.
type resourceLoc struct {
	pos    Position
	fields map[string]Position
	keys   map[string]Position
	// text is the file a schema's text was read from with importstr, as
	// shown in positions.
	text string
}

func newResourceLoc(p Position) *resourceLoc {
	return &resourceLoc{pos: p, fields: map[string]Position{}, keys: map[string]Position{}}
}

// itemLoc is where one element of a top-level array was written.
type itemLoc struct {
	file string
	loc  *resourceLoc
	// exact is false when loc is an expression enclosing the element.
	exact bool
}

var _ Locator = (*locator)(nil)

// importedFiles is how the locator reads the files a manifest imports:
// through the evaluation's importer, so that it finds what the VM found.
type importedFiles interface {
	// parseImport returns the AST of the file imp imports, or false.
	parseImport(imp *ast.Import) (ast.Node, bool)
	// findImportStr returns the file imp reads, as shown in positions,
	// or false.
	findImportStr(imp *ast.ImportStr) (string, bool)
}

// newLocator returns a locator that shows file names with display and
// reads imported files with files (nil: imports are not read).
func newLocator(display func(string) string, files importedFiles) *locator {
	if display == nil {
		display = func(s string) string { return s }
	}
	return &locator{
		objects:  map[string]*resourceLoc{},
		calls:    map[string]*resourceLoc{},
		items:    map[string]*itemLoc{},
		top:      map[string]map[string]Position{},
		asts:     map[string]*manifestAST{},
		across:   map[string]*manifestAST{},
		roots:    map[string]ast.Node{},
		schemas:  map[string]string{},
		display:  display,
		files:    files,
		imported: map[ast.Node]importedValue{},
	}
}

// importValue returns the value of the file imp imports inside its
// top-level locals, and their scope, for the resolver.
func (l *locator) importValue(imp *ast.Import) (ast.Node, *scope, bool) {
	if l.files == nil {
		return nil, nil, false
	}
	root, ok := l.files.parseImport(imp)
	if !ok {
		return nil, nil, false
	}
	v, ok := l.imported[root]
	if !ok {
		v = importedValue{node: root, scope: newScope()}
		for range maxResolve {
			local, ok := v.node.(*ast.Local)
			if !ok {
				break
			}
			v.node, v.scope = local.Body, v.scope.withLocals(local.Binds)
		}
		l.imported[root] = v
	}
	return v.node, v.scope, true
}

func locKey(kind, name string) string { return kind + "\x00" + name }

// candidates are the places known for a resource, best first.
func (l *locator) candidates(kind, name string) []*resourceLoc {
	var out []*resourceLoc
	it := l.items[locKey(kind, name)]
	if it != nil && it.exact {
		out = append(out, it.loc)
	}
	// A literal elsewhere than the manifest the resource came from is
	// another resource's, or an argument that happens to be equal.
	inFile := func(r *resourceLoc) bool { return it == nil || r.pos.File == it.file }
	if r := l.objects[locKey(kind, name)]; r != nil && inFile(r) {
		out = append(out, r)
	}
	if r := l.calls[name]; r != nil && inFile(r) {
		out = append(out, r)
	}
	if it != nil && !it.exact {
		out = append(out, it.loc)
	}
	return out
}

// Resource implements Locator.
func (l *locator) Resource(kind, name string) Position {
	if c := l.candidates(kind, name); len(c) > 0 {
		return c[0].pos
	}
	if it := l.items[locKey(kind, name)]; it != nil {
		return Position{File: it.file, Line: 1, Column: 1}
	}
	return Position{}
}

// Key implements Locator: for topics and connectors key is a config key,
// or a field (partitions) when no config key has that name; otherwise a
// field.
func (l *locator) Key(kind, name, key string) Position {
	if kind == "topic" || kind == "connector" {
		return l.find(kind, name, key, func(r *resourceLoc) map[string]Position {
			if _, ok := r.keys[key]; ok {
				return r.keys
			}
			return r.fields
		})
	}
	return l.field(kind, name, key)
}

// field is the position of a field of a resource, whatever its kind.
func (l *locator) field(kind, name, field string) Position {
	return l.find(kind, name, field, func(r *resourceLoc) map[string]Position { return r.fields })
}

func (l *locator) find(kind, name, key string, in func(*resourceLoc) map[string]Position) Position {
	for _, r := range l.candidates(kind, name) {
		if p, ok := in(r)[key]; ok {
			return p
		}
	}
	return l.Resource(kind, name)
}

// topKey is the position of a top-level key of a manifest.
func (l *locator) topKey(file, key string) Position {
	if p, ok := l.top[file][key]; ok {
		return p
	}
	return Position{File: file, Line: 1, Column: 1}
}

// item returns where element i of the n elements of the top-level key of
// file was written.
func (l *locator) item(file, key string, i, n int) *itemLoc {
	it := &itemLoc{file: file, loc: newResourceLoc(l.topKey(file, key))}
	m := l.asts[file]
	if m == nil {
		return it
	}
	e, ok := m.element(key, i, n)
	if !ok {
		return it
	}
	if p, ok := l.position(*e.node.Loc()); ok {
		it.loc.pos = p
	}
	templates := &collector{l: l, r: it.loc, templates: true, res: resolver{imports: l.importValue, params: true}}
	if !e.exact {
		// Not written in the manifest: located at the expression that
		// encloses it, with the keys written where it was, in an
		// imported file.
		if l.across[file] == nil {
			l.across[file] = newManifestAST(l.roots[file], resolver{imports: l.importValue})
		}
		if e, ok := l.across[file].element(key, i, n); ok && e.exact {
			templates.collect(e.node, e.scope, 0)
		}
		return it
	}
	it.exact = true
	// What the manifest writes first, then what the templates it calls
	// write: a key given at the call overrides the template's.
	(&collector{l: l, r: it.loc}).collect(e.node, e.scope, 0)
	templates.collect(e.node, e.scope, 0)
	return it
}

// decoded records that the resource of kind named name is it.
func (l *locator) decoded(kind, name string, it *itemLoc) {
	k := locKey(kind, name)
	if _, ok := l.items[k]; !ok {
		l.items[k] = it
	}
}

// position is where loc begins, or false when it is not set or is in the
// bundled library, which a team does not edit.
func (l *locator) position(loc ast.LocationRange) (Position, bool) {
	if loc.Begin.Line == 0 || loc.FileName == "" || loc.FileName == LibraryName {
		return Position{}, false
	}
	return Position{File: l.display(loc.FileName), Line: loc.Begin.Line, Column: loc.Begin.Column}, true
}

// addFile records the resources written in the AST of one manifest.
func (l *locator) addFile(file string, root ast.Node) {
	pos := func(loc ast.LocationRange) Position {
		f := file
		if loc.FileName != "" {
			f = l.display(loc.FileName)
		}
		return Position{File: f, Line: loc.Begin.Line, Column: loc.Begin.Column}
	}
	l.asts[file] = newManifestAST(root, resolver{})
	l.roots[file] = root

	top := map[string]Position{}
	for _, obj := range objectsOf(root) {
		for _, f := range obj.Fields {
			if name, ok := literal(f.Name); ok {
				if _, seen := top[name]; !seen {
					top[name] = pos(f.LocRange)
				}
			}
		}
	}
	l.top[file] = top

	var walk func(n ast.Node)
	walk = func(n ast.Node) {
		switch n := n.(type) {
		case nil:
			return
		case *ast.DesugaredObject:
			l.addObject(n, pos)
		case *ast.Apply:
			l.addCall(n, nil, pos)
		case *ast.Binary:
			if app, ok := n.Left.(*ast.Apply); ok && n.Op == ast.BopPlus {
				l.addCall(app, n.Right, pos)
			}
		}
		for _, c := range toolutils.Children(n) {
			walk(c)
		}
	}
	walk(root)
}

// addObject records obj if it looks like a resource.
func (l *locator) addObject(obj *ast.DesugaredObject, pos func(ast.LocationRange) Position) {
	values := map[string]ast.Node{}
	for _, f := range obj.Fields {
		if name, ok := literal(f.Name); ok {
			values[name] = f.Body
		}
	}
	var kinds []string
	var name string
	if v, ok := literal(values["principal"]); ok {
		name = v
		if _, binding := values["operation"]; binding {
			kinds = []string{"binding"}
		} else {
			kinds = []string{"acl"}
		}
	} else if v, ok := literal(values["subject"]); ok {
		name, kinds = v, []string{"schema"}
	} else if v, ok := literal(values["name"]); ok {
		name = v
		_, config := values["config"]
		_, configs := values["configs"]
		_, partitions := values["partitions"]
		switch {
		case config:
			kinds = []string{"connector"}
		case configs || partitions:
			kinds = []string{"topic"}
		default:
			kinds = []string{"topic", "connector"}
		}
	} else {
		return
	}
	r := &resourceLoc{pos: pos(obj.LocRange), fields: map[string]Position{}, keys: map[string]Position{}}
	addFields(r, obj, pos)
	for _, kind := range kinds {
		if _, seen := l.objects[locKey(kind, name)]; !seen {
			l.objects[locKey(kind, name)] = r
		}
	}
}

// addCall records a call that names a resource with a literal, and the
// object added to its result, if any.
func (l *locator) addCall(app *ast.Apply, plus ast.Node, pos func(ast.LocationRange) Position) {
	if isStd(app.Target) {
		return
	}
	name, ok := "", false
	if len(app.Arguments.Positional) > 0 {
		name, ok = literal(app.Arguments.Positional[0].Expr)
	}
	for _, a := range app.Arguments.Named {
		switch a.Name {
		case "name", "principal", "subject":
			if v, isLit := literal(a.Arg); isLit && !ok {
				name, ok = v, true
			}
		}
	}
	if !ok {
		return
	}
	r := l.calls[name]
	if r == nil {
		r = &resourceLoc{pos: pos(app.LocRange), fields: map[string]Position{}, keys: map[string]Position{}}
		l.calls[name] = r
	}
	if plus == nil {
		for _, a := range app.Arguments.Named {
			p := pos(*a.Arg.Loc())
			setOnce(r.fields, string(a.Name), p)
			if a.Name == "replication" {
				setOnce(r.fields, "replication_factor", p)
			}
		}
		var args []ast.Node
		for _, a := range app.Arguments.Positional {
			args = append(args, a.Expr)
		}
		for _, a := range app.Arguments.Named {
			args = append(args, a.Arg)
		}
		for _, a := range args {
			for _, obj := range objectsOf(a) {
				for _, f := range obj.Fields {
					if k, isLit := literal(f.Name); isLit {
						setOnce(r.keys, k, pos(f.LocRange))
					}
				}
			}
		}
		return
	}
	for _, obj := range objectsOf(plus) {
		addFields(r, obj, pos)
	}
}

// addFields records the literal fields of obj, and the literal keys of
// its config or configs object, in r.
func addFields(r *resourceLoc, obj *ast.DesugaredObject, pos func(ast.LocationRange) Position) {
	for _, f := range obj.Fields {
		name, ok := literal(f.Name)
		if !ok {
			continue
		}
		setOnce(r.fields, name, pos(f.LocRange))
		if name != "config" && name != "configs" {
			continue
		}
		for _, cfg := range objectsOf(f.Body) {
			for _, cf := range cfg.Fields {
				if k, ok := literal(cf.Name); ok {
					setOnce(r.keys, k, pos(cf.LocRange))
				}
			}
		}
	}
}

// objectsOf returns the object literals n evaluates to, or is the sum of,
// looking through locals, conditionals and +: the shapes a manifest, a
// config and a desugared `configs+: {...}` take.
func objectsOf(n ast.Node) []*ast.DesugaredObject {
	switch n := n.(type) {
	case *ast.DesugaredObject:
		return []*ast.DesugaredObject{n}
	case *ast.Local:
		return objectsOf(n.Body)
	case *ast.Binary:
		if n.Op == ast.BopPlus {
			return append(objectsOf(n.Left), objectsOf(n.Right)...)
		}
	case *ast.Conditional:
		return append(objectsOf(n.BranchTrue), objectsOf(n.BranchFalse)...)
	case *ast.Parens:
		return objectsOf(n.Inner)
	}
	return nil
}

// literal is the value of a string literal node.
func literal(n ast.Node) (string, bool) {
	if s, ok := n.(*ast.LiteralString); ok {
		return s.Value, true
	}
	return "", false
}

// isStd reports whether target is a function of the standard library.
func isStd(target ast.Node) bool { return stdFunction(target) != "" }

func setOnce(m map[string]Position, k string, p Position) {
	if _, ok := m[k]; !ok {
		m[k] = p
	}
}
