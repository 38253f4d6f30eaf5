package validate

import (
	"fmt"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/topics"
)

// Manifest is the desired state a team's repository declares, decoded from
// its jsonnet files: the typed specs the resource packages plan and apply.
type Manifest struct {
	Topics     []topics.Spec    `json:"topics,omitempty"`
	ACLs       []topics.Grant   `json:"acls,omitempty"`
	Bindings   []topics.Binding `json:"bindings,omitempty"`
	Schemas    []SchemaSpec     `json:"schemas,omitempty"`
	Connectors []connect.Spec   `json:"connectors,omitempty"`
}

// Format prints m for every verb. Its connectors redact their credentials
// when printed; this method is for a *Manifest, such as a Context's, that
// fmt reaches with a verb such as %s: without a method of its own, fmt
// would print it field by field and call no connector's method.
func (m Manifest) Format(f fmt.State, verb rune) {
	// A type of the same name and fields without the method: %#v still
	// says validate.Manifest, and the conversion stops compiling when
	// Manifest gains a field.
	type Manifest struct {
		Topics     []topics.Spec
		ACLs       []topics.Grant
		Bindings   []topics.Binding
		Schemas    []SchemaSpec
		Connectors []connect.Spec
	}
	_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), Manifest(m))
}

var _ fmt.Formatter = Manifest{}

// SchemaSpec is one subject's schema: inline Avro JSON or an .avsc file
// relative to the manifest that names it.
type SchemaSpec struct {
	Subject string `json:"subject"`
	Schema  string `json:"schema,omitempty"`
	File    string `json:"file,omitempty"`
	// Compatibility is the subject's compatibility level (BACKWARD, FULL,
	// NONE, ...); empty leaves the registry's level as it is.
	Compatibility string `json:"compatibility,omitempty"`
}

// Severity ranks a finding. Only errors make a Result not OK.
type Severity int

// The severities.
const (
	Info Severity = iota + 1
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// Position is where something was written: file, 1-based line and column.
type Position struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

func (p Position) String() string {
	if p.File == "" {
		return "-"
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// Finding is one problem: which rule, how bad, what it is about, and where
// the team wrote it.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"-"`
	Message  string   `json:"message"`
	// Resource is e.g. "connector pricing-db-source" or "topic pricing.orders.v1".
	Resource string `json:"resource,omitempty"`
	// Key is the config key or field the finding is about, if any.
	Key string   `json:"key,omitempty"`
	Pos Position `json:"position"`
}

// Locator says where a resource, or one of its keys, was written. The
// jsonnet evaluator provides one built from go-jsonnet's AST: it finds a
// resource by its place in its manifest's top-level array, whatever its
// name expression, and a key where it, or the argument its value comes
// from, was written; a key it cannot find (computed, or written in the
// bundled library) is located at its resource.
type Locator interface {
	// Resource is the position of the resource of kind ("topic", "acl",
	// "schema", "connector") named name.
	Resource(kind, name string) Position
	// Key is the position of key (a config key for topics and connectors,
	// a field name otherwise) inside that resource.
	Key(kind, name, key string) Position
}
