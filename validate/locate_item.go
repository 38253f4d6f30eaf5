package validate

import (
	"github.com/google/go-jsonnet/ast"
	"github.com/google/go-jsonnet/toolutils"
)

// This file locates a resource by where it sits in its manifest rather
// than by its name: the decoder knows that a resource is element i of the
// top-level array "connectors" of a file, and the array's expression in
// the AST says which expression produced element i. That expression is
// then read for the positions of the resource's fields and config keys,
// first as written in the manifest, then through the templates it calls
// (a function of the manifest, of an imported team library or of the
// bundled library), mapping a template's parameters back to the
// arguments of the call.

// Bounds on following definitions: how many names, indexes and calls one
// lookup follows, so that a recursive definition cannot loop.
const (
	maxResolve  = 32
	maxTemplate = 6
	maxCollect  = 256
)

// scope is what the names of an expression refer to.
type scope struct {
	parent *scope
	vars   map[ast.Identifier]*binding
	// self is the object `self` refers to, and outer the scope that
	// object was written in.
	self  *ast.DesugaredObject
	outer *scope
}

// binding is what a name is bound to.
type binding struct {
	node  ast.Node // nil: unknown, e.g. a comprehension's variable
	scope *scope
	// param marks a parameter of a template being expanded: node is
	// the call's argument in the caller's scope, or the default.
	param bool
}

func newScope() *scope { return &scope{} }

func (sc *scope) lookup(id ast.Identifier) *binding {
	for s := sc; s != nil; s = s.parent {
		if b, ok := s.vars[id]; ok {
			return b
		}
	}
	return nil
}

// child is a scope inside sc; its vars are allocated when bound.
func (sc *scope) child() *scope {
	return &scope{parent: sc, self: sc.self, outer: sc.outer}
}

func (sc *scope) bind(id ast.Identifier, b *binding) {
	if sc.vars == nil {
		sc.vars = map[ast.Identifier]*binding{}
	}
	sc.vars[id] = b
}

// withLocals is sc with binds in scope; binds see each other, as in
// jsonnet.
func (sc *scope) withLocals(binds ast.LocalBinds) *scope {
	if len(binds) == 0 {
		return sc
	}
	n := sc.child()
	for _, b := range binds {
		var body ast.Node = b.Body
		if b.Fun != nil {
			body = b.Fun
		}
		n.bind(b.Variable, &binding{node: body, scope: n})
	}
	return n
}

// withObject is the scope of the fields of obj, written in sc: its
// locals, and self.
func (sc *scope) withObject(obj *ast.DesugaredObject) *scope {
	n := sc.child()
	n.self, n.outer = obj, sc
	return n.withLocals(obj.Locals)
}

// shadow is sc with the parameters of fn unknown, for reading fn's body
// without its arguments (a comprehension's variable).
func (sc *scope) shadow(fn *ast.Function) *scope {
	n := sc.child()
	for _, p := range fn.Parameters {
		n.bind(p.Name, &binding{})
	}
	return n
}

// withArgs is the scope of the body of template fn, written in fsc, called
// by app in the caller's scope csc: each parameter is bound to its
// argument or, without one, to its default.
func (fsc *scope) withArgs(fn *ast.Function, app *ast.Apply, csc *scope) *scope {
	n := fsc.child()
	for k, p := range fn.Parameters {
		b := &binding{param: true}
		if k < len(app.Arguments.Positional) {
			b.node, b.scope = app.Arguments.Positional[k].Expr, csc
		}
		for _, a := range app.Arguments.Named {
			if a.Name == p.Name {
				b.node, b.scope = a.Arg, csc
			}
		}
		if b.node == nil && p.DefaultArg != nil {
			b.node, b.scope = p.DefaultArg, n
		}
		n.bind(p.Name, b)
	}
	return n
}

// sumTerms returns the terms of a + b + c, left to right.
func sumTerms(n ast.Node) []ast.Node {
	if b, ok := n.(*ast.Binary); ok && b.Op == ast.BopPlus {
		return append(sumTerms(b.Left), sumTerms(b.Right)...)
	}
	return []ast.Node{n}
}

// resolver follows names to what they stand for: locals, fields of object
// literals indexed with a literal, and, when imports is set, imported
// files. It stops at what it cannot follow without evaluating: a call, a
// computed index, a parameter (unless params is set).
type resolver struct {
	// imports returns an imported file's value inside its top-level
	// locals, and their scope; nil keeps to the manifest.
	imports func(*ast.Import) (ast.Node, *scope, bool)
	// params follows a template's parameters to their arguments.
	params bool
}

// resolve follows n to the expression it stands for.
func (r resolver) resolve(n ast.Node, sc *scope) (ast.Node, *scope) {
	for range maxResolve {
		switch t := n.(type) {
		case *ast.Local:
			n, sc = t.Body, sc.withLocals(t.Binds)
			continue
		case *ast.Parens:
			n = t.Inner
			continue
		case *ast.Var:
			b := sc.lookup(t.Id)
			if b == nil || b.node == nil || (b.param && !r.params) {
				return n, sc
			}
			n, sc = b.node, b.scope
			continue
		case *ast.Index:
			obj, osc := r.object(t.Target, sc)
			if obj == nil {
				return n, sc
			}
			body, ok := fieldBody(obj, t.Index)
			if !ok {
				return n, sc
			}
			n, sc = body, osc.withObject(obj)
			continue
		case *ast.Import:
			if r.imports == nil {
				return n, sc
			}
			value, vsc, ok := r.imports(t)
			if !ok {
				return n, sc
			}
			n, sc = value, vsc
			continue
		}
		return n, sc
	}
	return n, sc
}

// object is the object literal n stands for and the scope it was written
// in, or nil.
func (r resolver) object(n ast.Node, sc *scope) (*ast.DesugaredObject, *scope) {
	if _, ok := n.(*ast.Self); ok {
		return sc.self, sc.outer
	}
	n, sc = r.resolve(n, sc)
	if obj, ok := n.(*ast.DesugaredObject); ok {
		return obj, sc
	}
	return nil, nil
}

// function is the function n stands for and the scope it was written in,
// or nil.
func (r resolver) function(n ast.Node, sc *scope) (*ast.Function, *scope) {
	n, sc = r.resolve(n, sc)
	if fn, ok := n.(*ast.Function); ok {
		return fn, sc
	}
	return nil, nil
}

// topDef is one definition of a top-level key: a manifest that is a sum
// of objects may define a key in several of them, and `key+:` adds to the
// definitions before it.
type topDef struct {
	field *ast.DesugaredObjectField
	scope *scope
	// unseen counts the terms of the top-level sum before this
	// definition that the locator cannot see into.
	unseen int
}

// manifestAST is the AST of one manifest, read for the expression of each
// top-level key.
type manifestAST struct {
	// res is how names are followed: within the manifest, for positions
	// in it, or into imported files, for the keys written there.
	res  resolver
	defs map[string][]topDef
	// unseen are the terms of the top-level sum the locator cannot see
	// into (an import, a call, an if), in order: they may define a key
	// too.
	unseen []ast.Node
}

// newManifestAST collects the top-level definitions of root, following
// names with res.
func newManifestAST(root ast.Node, res resolver) *manifestAST {
	m := &manifestAST{res: res, defs: map[string][]topDef{}}
	var visit func(n ast.Node, sc *scope, depth int)
	visit = func(n ast.Node, sc *scope, depth int) {
		if depth > maxResolve {
			m.unseen = append(m.unseen, n)
			return
		}
		switch n := n.(type) {
		case *ast.DesugaredObject:
			osc := sc.withObject(n)
			for i := range n.Fields {
				f := &n.Fields[i]
				if name, ok := literal(f.Name); ok {
					m.defs[name] = append(m.defs[name], topDef{field: f, scope: osc, unseen: len(m.unseen)})
				}
			}
		case *ast.Local:
			visit(n.Body, sc.withLocals(n.Binds), depth+1)
		case *ast.Binary:
			if n.Op != ast.BopPlus {
				m.unseen = append(m.unseen, n)
				return
			}
			visit(n.Left, sc, depth+1)
			visit(n.Right, sc, depth+1)
		default:
			// A name, an import, an index: followed as far as res goes.
			// A conditional, a call: which objects it adds is not known
			// without evaluating.
			if obj, osc := res.object(n, sc); obj != nil {
				visit(obj, osc, depth+1)
				return
			}
			m.unseen = append(m.unseen, n)
		}
	}
	visit(root, newScope(), 0)
	return m
}

// element is the expression that produced one element of a top-level
// array.
type element struct {
	node  ast.Node
	scope *scope
	// exact is true when node is the element's own expression (or the
	// body of the comprehension that produced it), false when it is an
	// expression enclosing several elements.
	exact bool
}

// element returns the expression of element i of the n elements that the
// top-level key evaluated to.
func (m *manifestAST) element(key string, i, n int) (element, bool) {
	defs := m.defs[key]
	if len(defs) == 0 {
		if len(m.unseen) > 0 {
			// The key comes from a term the locator cannot see into.
			return element{node: m.unseen[len(m.unseen)-1], scope: newScope()}, true
		}
		return element{}, false
	}
	if last := defs[len(defs)-1]; last.unseen < len(m.unseen) {
		// A term after the last definition may replace it.
		return element{node: m.unseen[len(m.unseen)-1], scope: last.scope}, true
	}
	w := &arrayWalk{m: m, key: key}
	return w.def(len(defs)-1, i, n), true
}

// arrayWalk finds an element through the definitions of one top-level key.
type arrayWalk struct {
	m     *manifestAST
	key   string
	steps int
}

// def is element i of the n elements of the value of definition j.
func (w *arrayWalk) def(j, i, n int) element {
	d := w.m.defs[w.key][j]
	if !d.field.PlusSuper {
		return w.at(d.field.Body, d.scope, j, i, n)
	}
	// key+: [...] is the key's value so far followed by this array.
	prev := w.superLen(j)
	right := w.length(d.field.Body, d.scope, j)
	switch {
	case prev >= 0 && i < prev:
		return w.def(j-1, i, prev)
	case prev >= 0:
		return w.at(d.field.Body, d.scope, j, i-prev, n-prev)
	case right >= 0 && i >= n-right:
		return w.at(d.field.Body, d.scope, j, i-(n-right), right)
	case right >= 0 && j > 0 && d.unseen == w.m.defs[w.key][j-1].unseen:
		return w.def(j-1, i, n-right)
	case right >= 0 && i < n-right && d.unseen > 0:
		// Before this array, from a term the locator cannot see into.
		return element{node: w.m.unseen[d.unseen-1], scope: d.scope}
	}
	return element{node: d.field.Body, scope: d.scope}
}

// superLen is the length of the key's value before definition j, or -1.
func (w *arrayWalk) superLen(j int) int {
	if w.m.defs[w.key][j].unseen > 0 && (j == 0 || w.m.defs[w.key][j-1].unseen < w.m.defs[w.key][j].unseen) {
		// An unseen term between may have defined the key.
		return -1
	}
	if j == 0 {
		return 0
	}
	d := w.m.defs[w.key][j-1]
	l := w.length(d.field.Body, d.scope, j-1)
	if !d.field.PlusSuper || l < 0 {
		return l
	}
	if prev := w.superLen(j - 1); prev >= 0 {
		return prev + l
	}
	return -1
}

// at is element i of the n elements of array expression a.
func (w *arrayWalk) at(a ast.Node, sc *scope, j, i, n int) element {
	w.steps++
	if w.steps > maxCollect {
		return element{node: a, scope: sc}
	}
	a, sc = w.m.res.resolve(a, sc)
	switch a := a.(type) {
	case *ast.Array:
		if len(a.Elements) != n || i < 0 || i >= n {
			return element{node: a, scope: sc}
		}
		e, esc := w.m.res.resolve(a.Elements[i].Expr, sc)
		switch e.(type) {
		case *ast.Var, *ast.Index, *ast.Import:
			// Not followed (a parameter, an imported value): the
			// element as written.
			e, esc = a.Elements[i].Expr, sc
		}
		return element{node: e, scope: esc, exact: true}
	case *ast.Binary:
		if a.Op != ast.BopPlus {
			break
		}
		// a + b + c: the terms before and after i whose lengths are
		// known place it; one term of unknown length takes what the
		// others leave.
		terms := sumTerms(a)
		lens := make([]int, len(terms))
		unknown, known := 0, 0
		for k, t := range terms {
			lens[k] = w.length(t, sc, j)
			if lens[k] < 0 {
				unknown++
			} else {
				known += lens[k]
			}
		}
		if unknown == 1 && known <= n {
			for k := range lens {
				if lens[k] < 0 {
					lens[k] = n - known
				}
			}
		}
		start := 0
		for k := range terms {
			if lens[k] < 0 {
				break
			}
			if i < start+lens[k] {
				return w.at(terms[k], sc, j, i-start, lens[k])
			}
			start += lens[k]
		}
		end := n
		for k := len(terms) - 1; k >= 0; k-- {
			if lens[k] < 0 {
				break
			}
			if i >= end-lens[k] {
				return w.at(terms[k], sc, j, i-(end-lens[k]), lens[k])
			}
			end -= lens[k]
		}
	case *ast.Conditional:
		t, f := w.length(a.BranchTrue, sc, j), w.length(a.BranchFalse, sc, j)
		fits := func(l int) bool { return l < 0 || l == n }
		switch {
		case fits(t) && !fits(f):
			return w.at(a.BranchTrue, sc, j, i, n)
		case fits(f) && !fits(t):
			return w.at(a.BranchFalse, sc, j, i, n)
		}
	case *ast.SuperIndex:
		if k, ok := literal(a.Index); ok && k == w.key && j > 0 {
			return w.def(j-1, i, n)
		}
	case *ast.Apply:
		if body, bsc, ok := comprehensionBody(a, sc); ok {
			return element{node: body, scope: bsc, exact: true}
		}
	}
	return element{node: a, scope: sc}
}

// length is the number of elements of array expression a, or -1 when it
// is not known without evaluating.
func (w *arrayWalk) length(a ast.Node, sc *scope, j int) int {
	w.steps++
	if w.steps > maxCollect {
		return -1
	}
	a, sc = w.m.res.resolve(a, sc)
	switch a := a.(type) {
	case *ast.Array:
		return len(a.Elements)
	case *ast.Binary:
		if a.Op == ast.BopPlus {
			l, r := w.length(a.Left, sc, j), w.length(a.Right, sc, j)
			if l >= 0 && r >= 0 {
				return l + r
			}
		}
	case *ast.Apply:
		// A comprehension without an if over an array of known length.
		fn := stdFunction(a.Target)
		if (fn != "$flatMapArray" && fn != "map") || len(a.Arguments.Positional) != 2 {
			break
		}
		lambda, ok := a.Arguments.Positional[0].Expr.(*ast.Function)
		if !ok {
			break
		}
		over := w.length(a.Arguments.Positional[1].Expr, sc, j)
		if over < 0 || fn == "map" {
			return over
		}
		each := w.length(lambda.Body, sc.shadow(lambda), j)
		if each < 0 {
			return -1
		}
		return over * each
	case *ast.Conditional:
		t, f := w.length(a.BranchTrue, sc, j), w.length(a.BranchFalse, sc, j)
		if t == f {
			return t
		}
	case *ast.SuperIndex:
		if k, ok := literal(a.Index); ok && k == w.key {
			return w.superLen(j)
		}
	}
	return -1
}

// fieldBody is the body of obj's field named by the string literal index.
func fieldBody(obj *ast.DesugaredObject, index ast.Node) (ast.Node, bool) {
	name, ok := literal(index)
	if !ok {
		return nil, false
	}
	for i := len(obj.Fields) - 1; i >= 0; i-- {
		if k, ok := literal(obj.Fields[i].Name); ok && k == name && !obj.Fields[i].PlusSuper {
			return obj.Fields[i].Body, true
		}
	}
	return nil, false
}

// comprehensionBody is the expression with which a comprehension,
// [e for x in xs] (desugared into std.$flatMapArray) or
// std.map(function(x) e, xs), produces each element; false when that is
// only the comprehension's variable.
func comprehensionBody(app *ast.Apply, sc *scope) (ast.Node, *scope, bool) {
	fn := stdFunction(app.Target)
	if (fn != "$flatMapArray" && fn != "map") || len(app.Arguments.Positional) != 2 {
		return nil, nil, false
	}
	lambda, ok := app.Arguments.Positional[0].Expr.(*ast.Function)
	if !ok {
		return nil, nil, false
	}
	body, bsc := lambda.Body, sc.shadow(lambda)
	if fn == "$flatMapArray" {
		// The desugarer wraps the element in an array, in a conditional
		// for an if clause, or nests the comprehension of an inner for.
		for range maxResolve {
			if c, ok := body.(*ast.Conditional); ok {
				if arr, ok := c.BranchFalse.(*ast.Array); ok && len(arr.Elements) == 0 {
					body = c.BranchTrue
					continue
				}
			}
			break
		}
		switch b := body.(type) {
		case *ast.Apply:
			return comprehensionBody(b, bsc)
		case *ast.Array:
			if len(b.Elements) != 1 {
				return nil, nil, false
			}
			body = b.Elements[0].Expr
		default:
			return nil, nil, false
		}
	}
	if v, ok := body.(*ast.Var); ok {
		if b := bsc.lookup(v.Id); b == nil || b.node == nil {
			return nil, nil, false
		}
	}
	return body, bsc, true
}

// stdFunction is the name of the standard library function target is, or
// "".
func stdFunction(target ast.Node) string {
	idx, ok := target.(*ast.Index)
	if !ok {
		return ""
	}
	v, ok := idx.Target.(*ast.Var)
	if !ok || (v.Id != "std" && v.Id != "$std") {
		return ""
	}
	name, _ := literal(idx.Index)
	return name
}

// paramsIn returns the template parameters n, in scope sc, is computed
// from, in order of appearance, without repeats, through the locals it
// uses. It does not look into functions, whose parameters may shadow.
func paramsIn(n ast.Node, sc *scope) []*binding {
	var out []*binding
	seen := map[*binding]bool{}
	steps := 0
	var walk func(n ast.Node, sc *scope)
	walk = func(n ast.Node, sc *scope) {
		steps++
		if steps > maxCollect {
			return
		}
		switch t := n.(type) {
		case nil, *ast.Function:
			return
		case *ast.Local:
			sc = sc.withLocals(t.Binds)
		case *ast.Var:
			b := sc.lookup(t.Id)
			if b == nil || b.node == nil || seen[b] {
				return
			}
			seen[b] = true
			if b.param {
				out = append(out, b)
			} else {
				walk(b.node, b.scope)
			}
			return
		}
		for _, c := range toolutils.Children(n) {
			walk(c, sc)
		}
	}
	walk(n, sc)
	return out
}

// collector records in a resourceLoc the fields and config keys written
// in the expression of one resource.
type collector struct {
	l   *locator
	r   *resourceLoc
	res resolver
	// templates follows calls into the functions they call.
	templates bool
	steps     int
}

// collect records what n, in scope sc, writes; depth counts the templates
// entered. A later term of a sum overrides an earlier one, so it is read
// first: the first position recorded for a key wins.
func (c *collector) collect(n ast.Node, sc *scope, depth int) {
	c.steps++
	if c.steps > maxCollect {
		return
	}
	switch t := n.(type) {
	case *ast.Binary:
		if t.Op == ast.BopPlus {
			c.collect(t.Right, sc, depth)
			c.collect(t.Left, sc, depth)
		}
	case *ast.Local:
		c.collect(t.Body, sc.withLocals(t.Binds), depth)
	case *ast.Conditional:
		// An assert is desugared into a conditional; otherwise both
		// branches may be the resource.
		c.collect(t.BranchTrue, sc, depth)
		c.collect(t.BranchFalse, sc, depth)
	case *ast.DesugaredObject:
		c.object(t, sc)
	case *ast.Var, *ast.Index:
		if r, rsc := c.res.resolve(n, sc); r != n {
			c.collect(r, rsc, depth)
		}
	case *ast.Apply:
		c.call(t, sc, depth)
	}
}

// object records the fields of obj and the keys of its config or configs.
func (c *collector) object(obj *ast.DesugaredObject, sc *scope) {
	osc := sc.withObject(obj)
	for i := range obj.Fields {
		f := &obj.Fields[i]
		name, ok := literal(f.Name)
		if !ok {
			continue
		}
		if p, ok := c.fieldPos(f, osc); ok {
			setOnce(c.r.fields, name, p)
		}
		switch name {
		case "config", "configs":
			c.keys(f.Body, osc)
		case "schema":
			c.schemaText(f.Body, osc)
		}
	}
}

// schemaText records the file a schema's text n is read from with
// importstr, if it is.
func (c *collector) schemaText(n ast.Node, sc *scope) {
	n, _ = c.res.resolve(n, sc)
	imp, ok := n.(*ast.ImportStr)
	if !ok || c.r.text != "" || c.l.files == nil {
		return
	}
	if shown, ok := c.l.files.findImportStr(imp); ok {
		c.r.text = shown
	}
}

// call records a call's named arguments as fields, the literal keys of
// its object arguments as keys, and then what its template writes.
func (c *collector) call(app *ast.Apply, sc *scope, depth int) {
	if isStd(app.Target) {
		return
	}
	for _, a := range app.Arguments.Named {
		if p, ok := c.valuePos(a.Arg, sc); ok {
			setOnce(c.r.fields, string(a.Name), p)
			if a.Name == "replication" {
				setOnce(c.r.fields, "replication_factor", p)
			}
		}
	}
	for _, a := range app.Arguments.Positional {
		c.keys(a.Expr, sc)
	}
	for _, a := range app.Arguments.Named {
		c.keys(a.Arg, sc)
	}
	if !c.templates || depth >= maxTemplate {
		return
	}
	fn, fsc := c.res.function(app.Target, sc)
	if fn == nil {
		return
	}
	c.collect(fn.Body, fsc.withArgs(fn, app, sc), depth+1)
}

// keys records the literal keys of the objects n is or adds up to.
func (c *collector) keys(n ast.Node, sc *scope) {
	for range maxResolve {
		c.steps++
		if c.steps > maxCollect {
			return
		}
		switch t := n.(type) {
		case *ast.DesugaredObject:
			osc := sc.withObject(t)
			for i := range t.Fields {
				f := &t.Fields[i]
				if k, ok := literal(f.Name); ok {
					if p, ok := c.fieldPos(f, osc); ok {
						setOnce(c.r.keys, k, p)
					}
				}
			}
		case *ast.Binary:
			if t.Op == ast.BopPlus {
				c.keys(t.Right, sc)
				n = t.Left
				continue
			}
		case *ast.Conditional:
			c.keys(t.BranchTrue, sc)
			n = t.BranchFalse
			continue
		case *ast.Local:
			n, sc = t.Body, sc.withLocals(t.Binds)
			continue
		case *ast.Var, *ast.Index:
			if r, rsc := c.res.resolve(n, sc); r != n {
				n, sc = r, rsc
				continue
			}
		}
		return
	}
}

// fieldPos is where the value of field f, read in scope sc, was written:
// the argument it comes from when it is computed from one parameter of
// the template, else the field itself.
func (c *collector) fieldPos(f *ast.DesugaredObjectField, sc *scope) (Position, bool) {
	if p, ok := c.argPos(f.Body, sc, 0); ok {
		return p, true
	}
	return c.l.position(f.LocRange)
}

// valuePos is where value n, read in scope sc, was written: the argument
// it comes from when it is computed from one parameter of the template,
// else n itself.
func (c *collector) valuePos(n ast.Node, sc *scope) (Position, bool) {
	if p, ok := c.argPos(n, sc, 0); ok {
		return p, true
	}
	return c.l.position(*n.Loc())
}

// argPos follows a value computed from exactly one parameter of a template
// (name, csv(topics), nonEmpty('file', file)) to the argument of the
// call, and on through the callers as long as that argument is itself
// computed from one parameter. A value that writes an object, such as
// {'retention.ms': ...} + configs, is not one argument's: its keys are
// located one by one.
func (c *collector) argPos(n ast.Node, sc *scope, depth int) (Position, bool) {
	if !c.templates || depth > maxTemplate || hasObject(n) {
		return Position{}, false
	}
	ps := paramsIn(n, sc)
	if len(ps) != 1 || ps[0].node == nil {
		return Position{}, false
	}
	b := ps[0]
	if p, ok := c.argPos(b.node, b.scope, depth+1); ok {
		return p, true
	}
	return c.l.position(*b.node.Loc())
}

// hasObject reports whether n writes an object literal, outside functions.
func hasObject(n ast.Node) bool {
	found := false
	var walk func(n ast.Node, depth int)
	walk = func(n ast.Node, depth int) {
		if found || depth > maxResolve {
			return
		}
		switch n.(type) {
		case nil, *ast.Function:
			return
		case *ast.DesugaredObject:
			found = true
			return
		}
		for _, c := range toolutils.Children(n) {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return found
}
