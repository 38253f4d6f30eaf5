package validate

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/streamkit/streamkit/schema"
)

const kindSchema = "schema"

func schemaRules() []Rule {
	return []Rule{
		{
			ID: "SCHEMA001", Severity: Error,
			Summary: "a subject's Avro schema parses",
			Doc: `The schema, inline or loaded from its file, must be valid Avro
(schema.Parse). A subject with neither is reported too.

Fails:  {subject: "pricing.orders.v1-value", schema: '{"type": "record", "name": "Order"}'}
Passes: {subject: "pricing.orders.v1-value", schema: '{"type": "record", "name": "Order", "fields": []}'}`,
			Check: forEachSchema(checkSchemaParses),
		},
		{
			ID: "SCHEMA002", Severity: Error,
			Summary: "Avro names and namespaces are well-formed",
			Doc: `Names, field names and enum symbols match [A-Za-z_][A-Za-z0-9_]*;
namespaces are such names joined by dots. Other registries and languages
refuse what one parser lets through. A schema that is not JSON is left to
SCHEMA001.

Fails:  {"type": "record", "name": "order-v1", "namespace": "com.acme.", "fields": []}
Passes: {"type": "record", "name": "OrderV1", "namespace": "com.acme", "fields": []}`,
			Check: forEachSchema(checkSchemaNames),
		},
		{
			ID: "SCHEMA003", Severity: Info,
			Summary: "every record field has a doc",
			Doc: `A lint: the schema is the contract other teams read, and a field's doc
is where its meaning, unit and nullability are said.

Fails:  {"name": "amount", "type": "long"}
Passes: {"name": "amount", "type": "long", "doc": "Order total in cents."}`,
			Check: forEachSchema(checkFieldDocs),
		},
		{
			ID: "SCHEMA004", Severity: Info,
			Summary: "each subject is declared once",
			Doc: `A lint: two specs for one subject register two versions in an order
nobody chose.

Fails:  two schemas with subject "pricing.orders.v1-value"
Passes: "pricing.orders.v1-key" and "pricing.orders.v1-value"`,
			Check: checkDuplicateSubjects,
		},
		{
			ID: "SCHEMA005", Severity: Error,
			Summary: "a subject starts with the team's namespace",
			Doc: `Subject plans own only the subjects inside the namespace; a subject
outside it could neither be registered nor pruned. With the registry's
default TopicNameStrategy a subject is its topic's name and -key or
-value, so a topic inside the namespace gives subjects inside it.

Fails:  {subject: "orders.v1-value", ...} with namespace "pricing"
Passes: {subject: "pricing.orders.v1-value", ...}`,
			Check: checkSubjectNamespace,
		},
	}
}

// forEachSchema turns a per-subject check of the schema's text into a
// rule's Check; key is the spec field the text came from.
func forEachSchema(check func(c *Context, s SchemaSpec, key string) []Finding) func(*Context) []Finding {
	return func(c *Context) []Finding {
		var out []Finding
		for _, s := range c.Manifest.Schemas {
			key := "schema"
			if s.File != "" {
				key = "file"
			}
			out = append(out, check(c, s, key)...)
		}
		return out
	}
}

func checkSchemaParses(c *Context, s SchemaSpec, key string) []Finding {
	if strings.TrimSpace(s.Schema) == "" {
		if s.File != "" {
			// The evaluator reports a file it could not load.
			return nil
		}
		return []Finding{c.finding(kindSchema, s.Subject, "", "subject %q has neither schema nor file", s.Subject)}
	}
	if _, err := schema.Parse(s.Schema); err != nil {
		return []Finding{c.inSchema(c.finding(kindSchema, s.Subject, key, "%v", err), s)}
	}
	return nil
}

// decodeAvro decodes a schema's JSON, or returns false when it is not
// JSON (SCHEMA001 reports that).
func decodeAvro(text string) (any, bool) {
	if strings.TrimSpace(text) == "" {
		return nil, false
	}
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		return nil, false
	}
	return v, true
}

// avroNamespace reports whether s is empty or Avro names joined by dots.
func avroNamespace(s string) bool {
	if s == "" {
		return true
	}
	for part := range strings.SplitSeq(s, ".") {
		if !schema.ValidName(part) {
			return false
		}
	}
	return true
}

// avroFullName reports whether s is a name, optionally qualified by a
// namespace: com.acme.Order.
func avroFullName(s string) bool {
	i := strings.LastIndex(s, ".")
	if i < 0 {
		return schema.ValidName(s)
	}
	return avroNamespace(s[:i]) && schema.ValidName(s[i+1:])
}

// walkAvro calls visit for every object of a decoded schema, in document
// order: named types, and the anonymous array, map and annotated
// primitive schemas between them.
func walkAvro(v any, visit func(obj map[string]any)) {
	switch t := v.(type) {
	case []any: // a union
		for _, b := range t {
			walkAvro(b, visit)
		}
	case map[string]any:
		visit(t)
		if fields, ok := t["fields"].([]any); ok {
			for _, f := range fields {
				if fo, ok := f.(map[string]any); ok {
					walkAvro(fo["type"], visit)
				}
			}
		}
		walkAvro(t["items"], visit)
		walkAvro(t["values"], visit)
		// {"type": {"type": "record", ...}} nests a schema under "type".
		walkAvro(t["type"], visit)
	}
}

// isNamedType reports whether obj declares a record, enum, error or fixed.
func isNamedType(obj map[string]any) bool {
	switch obj["type"] {
	case "record", "error", "enum", "fixed":
		return true
	}
	return false
}

func checkSchemaNames(c *Context, s SchemaSpec, key string) []Finding {
	root, ok := decodeAvro(s.Schema)
	if !ok {
		return nil
	}
	var out []Finding
	bad := func(at []avroAt, format string, args ...any) {
		out = append(out, c.inSchema(c.finding(kindSchema, s.Subject, key, format, args...), s, at...))
	}
	walkAvro(root, func(obj map[string]any) {
		if !isNamedType(obj) {
			return
		}
		name, _ := obj["name"].(string)
		if !avroFullName(name) {
			bad([]avroAt{avroName(name)}, "%s name %q: want [A-Za-z_][A-Za-z0-9_]*, optionally namespace-qualified", obj["type"], name)
		}
		if ns, ok := obj["namespace"].(string); ok && !avroNamespace(ns) {
			bad([]avroAt{avroName(name), {"namespace", ns}}, "%s %s: namespace %q: want dot-separated avro names", obj["type"], name, ns)
		}
		if fields, ok := obj["fields"].([]any); ok {
			for _, f := range fields {
				fo, _ := f.(map[string]any)
				fn, _ := fo["name"].(string)
				if !schema.ValidName(fn) {
					bad([]avroAt{avroName(name), avroName(fn)}, "record %s: field name %q: want [A-Za-z_][A-Za-z0-9_]*", name, fn)
				}
			}
		}
		if symbols, ok := obj["symbols"].([]any); ok {
			for _, sym := range symbols {
				if str, _ := sym.(string); !schema.ValidName(str) {
					bad([]avroAt{avroName(name), {"", fmt.Sprint(sym)}}, "enum %s: symbol %s: want [A-Za-z_][A-Za-z0-9_]*", name, fmt.Sprint(sym))
				}
			}
		}
	})
	return out
}

func checkFieldDocs(c *Context, s SchemaSpec, key string) []Finding {
	root, ok := decodeAvro(s.Schema)
	if !ok {
		return nil
	}
	var out []Finding
	walkAvro(root, func(obj map[string]any) {
		fields, ok := obj["fields"].([]any)
		if !ok || !isNamedType(obj) {
			return
		}
		record, _ := obj["name"].(string)
		for _, f := range fields {
			fo, _ := f.(map[string]any)
			if doc, _ := fo["doc"].(string); strings.TrimSpace(doc) == "" {
				fn, _ := fo["name"].(string)
				out = append(out, c.inSchema(c.finding(kindSchema, s.Subject, key, "field %s.%s has no doc", record, fn), s, avroName(record), avroName(fn)))
			}
		}
	})
	return out
}

func checkSubjectNamespace(c *Context) []Finding {
	var out []Finding
	for _, s := range c.Manifest.Schemas {
		if !c.Policy.inNamespace(s.Subject) {
			out = append(out, c.finding(kindSchema, s.Subject, "", "subject %q is outside the namespace %q", s.Subject, c.Policy.Namespace))
		}
	}
	return out
}

func checkDuplicateSubjects(c *Context) []Finding {
	var out []Finding
	seen := map[string]bool{}
	for _, s := range c.Manifest.Schemas {
		if seen[s.Subject] {
			out = append(out, c.finding(kindSchema, s.Subject, "", "subject %q is declared more than once", s.Subject))
		}
		seen[s.Subject] = true
	}
	return out
}
