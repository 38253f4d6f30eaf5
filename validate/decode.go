package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/topics"
)

// RuleSchemaBoth is a schema that sets both schema and file (a warning:
// the inline schema is used).
const RuleSchemaBoth = "MANIFEST005"

// manifestKeys are the top-level keys a manifest may have, in the order
// they are decoded.
var manifestKeys = []string{"topics", "acls", "bindings", "schemas", "connectors"}

// decode decodes one manifest's JSON into m, strictly: every problem is a
// finding at the place the locator knows, and what does decode is kept.
// dir is the manifest's folder, which schema files are relative to.
func (ev *evaluation) decode(file, dir string, out []byte, m *Manifest) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(out, &top); err != nil || top == nil {
		ev.add(Finding{
			Rule: RuleWrongType, Severity: Error,
			Message: fmt.Sprintf("a manifest must evaluate to an object, got %s", jsonKind(out)),
			Pos:     Position{File: file, Line: 1, Column: 1},
		})
		return
	}
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !contains(manifestKeys, k) {
			ev.add(Finding{
				Rule: RuleUnknownKey, Severity: Warning,
				Message: fmt.Sprintf("unknown top-level key %q is ignored: want one of %s", k, strings.Join(manifestKeys, ", ")),
				Key:     k,
				Pos:     ev.loc.topKey(file, k),
			})
		}
	}
	m.Topics = append(m.Topics, decodeItems[topics.Spec](ev, file, top, "topics", "topic", "name")...)
	m.ACLs = append(m.ACLs, decodeItems[topics.Grant](ev, file, top, "acls", "acl", "principal")...)
	m.Bindings = append(m.Bindings, decodeItems[topics.Binding](ev, file, top, "bindings", "binding", "principal")...)
	for _, s := range decodeItems[SchemaSpec](ev, file, top, "schemas", "schema", "subject") {
		m.Schemas = append(m.Schemas, ev.readSchema(file, dir, s))
	}
	m.Connectors = append(m.Connectors, decodeItems[connect.Spec](ev, file, top, "connectors", "connector", "name")...)
}

// decodeItems decodes the array top[key] of resources of kind, named by
// their nameField. An item with a field of the wrong type is reported
// field by field (config map values key by key) and left out.
func decodeItems[T any](ev *evaluation, file string, top map[string]json.RawMessage, key, kind, nameField string) []T {
	raw, ok := top[key]
	if !ok || isNull(raw) {
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		ev.add(Finding{
			Rule: RuleWrongType, Severity: Error,
			Message: fmt.Sprintf("%s must be an array, got %s", key, jsonKind(raw)),
			Key:     key,
			Pos:     ev.loc.topKey(file, key),
		})
		return nil
	}
	typ := reflect.TypeFor[T]()
	fields := jsonFields(typ)
	var out []T
	for i, item := range items {
		it := ev.loc.item(file, key, i, len(items))
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(item, &obj); err != nil || obj == nil {
			ev.add(Finding{
				Rule: RuleWrongType, Severity: Error,
				Message:  fmt.Sprintf("%s[%d] must be an object, got %s", key, i, jsonKind(item)),
				Resource: fmt.Sprintf("%s[%d]", key, i),
				Pos:      it.loc.pos,
			})
			continue
		}
		var name string
		_ = json.Unmarshal(obj[nameField], &name)
		resource := fmt.Sprintf("%s %s", kind, name)
		if name == "" {
			resource = fmt.Sprintf("%s[%d]", key, i)
		} else {
			ev.loc.decoded(kind, name, it)
		}
		// A resource without a name is found by its place alone.
		at := func(field string) Position {
			if name == "" {
				return itemPos(it, it.loc.fields, field)
			}
			return ev.loc.field(kind, name, field)
		}
		atKey := func(field, k string) Position {
			if kind != "topic" && kind != "connector" {
				return at(field)
			}
			if name == "" {
				return itemPos(it, it.loc.keys, k)
			}
			return ev.loc.Key(kind, name, k)
		}

		names := make([]string, 0, len(obj))
		for f := range obj {
			names = append(names, f)
		}
		sort.Strings(names)
		bad := false
		for _, f := range names {
			ft, known := fields[f]
			if !known {
				ev.add(Finding{
					Rule: RuleUnknownField, Severity: Warning,
					Message:  fmt.Sprintf("unknown field %q is ignored", f),
					Resource: resource, Key: f,
					Pos: at(f),
				})
				continue
			}
			v := obj[f]
			if ft.Kind() == reflect.Map && ft.Key().Kind() == reflect.String {
				var entries map[string]json.RawMessage
				if err := json.Unmarshal(v, &entries); err == nil {
					ks := make([]string, 0, len(entries))
					for k := range entries {
						ks = append(ks, k)
					}
					sort.Strings(ks)
					for _, k := range ks {
						if err := json.Unmarshal(entries[k], reflect.New(ft.Elem()).Interface()); err != nil {
							bad = true
							ev.add(Finding{
								Rule: RuleWrongType, Severity: Error,
								Message:  fmt.Sprintf("%s %q: want %s, got %s", f, k, describe(ft.Elem()), jsonKind(entries[k])),
								Resource: resource, Key: k,
								Pos: atKey(f, k),
							})
						}
					}
					continue
				}
			}
			if err := json.Unmarshal(v, reflect.New(ft).Interface()); err != nil {
				bad = true
				ev.add(Finding{
					Rule: RuleWrongType, Severity: Error,
					Message:  fmt.Sprintf("%s: want %s, got %s", f, describe(ft), jsonKind(v)),
					Resource: resource, Key: f,
					Pos: at(f),
				})
			}
		}
		if bad {
			continue
		}
		var t T
		if err := json.Unmarshal(item, &t); err != nil {
			// Every field decoded on its own; keep the item's error
			// rather than lose it.
			ev.add(Finding{
				Rule: RuleWrongType, Severity: Error,
				Message: fmt.Sprintf("%s does not decode: %v", resource, err), Resource: resource,
				Pos: at(nameField),
			})
			continue
		}
		out = append(out, t)
	}
	return out
}

// itemPos is the position of key of an item without a name, or of the
// item.
func itemPos(it *itemLoc, in map[string]Position, key string) Position {
	if p, ok := in[key]; ok {
		return p
	}
	return it.loc.pos
}

// readSchema fills s.Schema from s.File, read relative to the manifest's
// folder dir.
func (ev *evaluation) readSchema(file, dir string, s SchemaSpec) SchemaSpec {
	if s.File == "" {
		return s
	}
	if s.Schema != "" {
		ev.add(Finding{
			Rule: RuleSchemaBoth, Severity: Warning,
			Message:  fmt.Sprintf("both schema and file %q are set: the inline schema is used", s.File),
			Resource: "schema " + s.Subject, Key: "file",
			Pos: ev.loc.field("schema", s.Subject, "file"),
		})
		return s
	}
	path := filepath.FromSlash(s.File)
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		msg := fmt.Sprintf("cannot read schema file %q: %v", s.File, err)
		if errors.Is(err, fs.ErrNotExist) {
			msg = fmt.Sprintf("schema file %q not found next to %s", s.File, file)
		}
		ev.add(Finding{
			Rule: RuleSchemaFile, Severity: Error,
			Message: msg, Resource: "schema " + s.Subject, Key: "file",
			Pos: ev.loc.field("schema", s.Subject, "file"),
		})
		return s
	}
	s.Schema = string(data)
	ev.loc.schemaFile(s.Subject, s.File, ev.display(path))
	return s
}

// jsonFields maps the JSON names of a struct's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	return m
}

// describe names what JSON a Go type takes, for a message.
func describe(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fmt.Sprintf("a whole number (%s)", t.Kind())
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(describe(t.Elem()), "a "), "an ") + "s"
	case reflect.Map:
		return "an object of " + strings.TrimPrefix(strings.TrimPrefix(describe(t.Elem()), "a "), "an ") + "s"
	}
	return t.String()
}

// jsonKind describes a JSON value for a message: its type and, when
// short, the value.
func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	kind := "a number"
	switch raw[0] {
	case '"':
		kind = "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		kind = "a boolean"
	case 'n':
		return "null"
	}
	if len(raw) <= 40 {
		return kind + " " + string(raw)
	}
	return kind
}

func isNull(raw []byte) bool { return string(bytes.TrimSpace(raw)) == "null" }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
