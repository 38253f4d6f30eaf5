package validate

import (
	"github.com/google/go-jsonnet/ast"
	"github.com/google/go-jsonnet/toolutils"
)

// locator is the Locator Evaluate builds from the AST of each manifest
// (jsonnet.SnippetToAST). It knows, from most to least precise:
//
//   - object literals that look like a resource: a field name (topics,
//     connectors), subject (schemas) or principal (acls) whose value is a
//     string literal, with the positions of their literal fields and of the
//     literal keys of their config (connectors) or configs (topics) object;
//   - calls whose first argument, or argument name/principal/subject, is a
//     string literal, e.g. sk.topic('pricing.orders.v1', configs={...}),
//     with the positions of their named arguments and of the literal keys
//     of object-literal arguments and of an object added to the call
//     (sk.topic('x') + {configs+: {...}});
//   - the manifest a resource was decoded from.
//
// Its limits: a name that is computed ('pricing.' + name) or built inside
// an imported template from the template's arguments is not a literal, so
// such a resource is located at its call site when the call passes the
// name literally, and otherwise at the start of its manifest. A key
// written inside a template, or computed ([k]: v), is located at its
// resource. Imported files are not searched. When a name is written
// literally more than once, the first place, in file order, wins.
//
// A locator is built by one Evaluate call and only read afterwards; reads
// are safe for concurrent use.
type locator struct {
	objects map[string]*resourceLoc // by kind and name
	calls   map[string]*resourceLoc // by name: the kind of a call is unknown
	files   map[string]string       // manifest by kind and name, from decoding
	top     map[string]map[string]Position
}

// resourceLoc is where one resource, and its fields and config keys, were
// written.
type resourceLoc struct {
	pos    Position
	fields map[string]Position
	keys   map[string]Position
}

var _ Locator = (*locator)(nil)

func newLocator() *locator {
	return &locator{
		objects: map[string]*resourceLoc{},
		calls:   map[string]*resourceLoc{},
		files:   map[string]string{},
		top:     map[string]map[string]Position{},
	}
}

func locKey(kind, name string) string { return kind + "\x00" + name }

// Resource implements Locator.
func (l *locator) Resource(kind, name string) Position {
	if r := l.objects[locKey(kind, name)]; r != nil {
		return r.pos
	}
	if r := l.calls[name]; r != nil {
		return r.pos
	}
	if f, ok := l.files[locKey(kind, name)]; ok {
		return Position{File: f, Line: 1, Column: 1}
	}
	return Position{}
}

// Key implements Locator: for topics and connectors key is a config key,
// otherwise a field.
func (l *locator) Key(kind, name, key string) Position {
	if kind == "topic" || kind == "connector" {
		return l.find(kind, name, key, func(r *resourceLoc) map[string]Position { return r.keys })
	}
	return l.field(kind, name, key)
}

// field is the position of a field of a resource, whatever its kind.
func (l *locator) field(kind, name, field string) Position {
	return l.find(kind, name, field, func(r *resourceLoc) map[string]Position { return r.fields })
}

func (l *locator) find(kind, name, key string, in func(*resourceLoc) map[string]Position) Position {
	if r := l.objects[locKey(kind, name)]; r != nil {
		if p, ok := in(r)[key]; ok {
			return p
		}
	}
	if r := l.calls[name]; r != nil {
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

// decoded records that the resource was decoded from file.
func (l *locator) decoded(kind, name, file string) {
	k := locKey(kind, name)
	if _, ok := l.files[k]; !ok {
		l.files[k] = file
	}
}

// addFile records the resources written in the AST of one manifest.
func (l *locator) addFile(file string, root ast.Node, display func(string) string) {
	pos := func(loc ast.LocationRange) Position {
		f := file
		if loc.FileName != "" {
			f = display(loc.FileName)
		}
		return Position{File: f, Line: loc.Begin.Line, Column: loc.Begin.Column}
	}

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
func isStd(target ast.Node) bool {
	idx, ok := target.(*ast.Index)
	if !ok {
		return false
	}
	v, ok := idx.Target.(*ast.Var)
	return ok && v.Id == "std"
}

func setOnce(m map[string]Position, k string, p Position) {
	if _, ok := m[k]; !ok {
		m[k] = p
	}
}
