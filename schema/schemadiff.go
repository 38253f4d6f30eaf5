package schema

import (
	"encoding/json"
	"fmt"
	"strings"
)

// diffSchemas describes how next differs from prev, one line per change,
// for a plan's reader: record name, fields added, removed or retyped,
// defaults and docs. A nil prev lists next's fields. Nested records are
// compared field by field, named by their path ("address.city").
func diffSchemas(prev, next *Schema) []string {
	var n any
	if err := json.Unmarshal([]byte(next.String()), &n); err != nil {
		return []string{"~ schema text"}
	}
	if prev == nil {
		rec, ok := n.(map[string]any)
		if !ok || rec["type"] != "record" {
			return []string{"+ schema " + typeString(n)}
		}
		var out []string
		for _, f := range fieldsOf(rec) {
			out = append(out, "+ field "+fieldLine(f))
		}
		return out
	}
	var p any
	if err := json.Unmarshal([]byte(prev.String()), &p); err != nil {
		return []string{"~ schema text"}
	}
	out := diffTypes("", p, n)
	if len(out) == 0 {
		// Only formatting-insensitive differences the lines above do not
		// name, such as a record's aliases or a custom property.
		out = []string{"~ schema properties"}
	}
	return out
}

// diffTypes compares two types at path ("" for the top level).
func diffTypes(path string, prev, next any) []string {
	pr, pok := prev.(map[string]any)
	nr, nok := next.(map[string]any)
	if !pok || !nok || pr["type"] != "record" || nr["type"] != "record" {
		if typeString(prev) == typeString(next) {
			return nil
		}
		if path == "" {
			return []string{fmt.Sprintf("~ schema: %s -> %s", typeString(prev), typeString(next))}
		}
		return []string{fmt.Sprintf("~ field %s: %s -> %s", path, typeString(prev), typeString(next))}
	}
	var out []string
	if pn, nn := fullName(pr), fullName(nr); pn != nn {
		what := "record name"
		if path != "" {
			what = "record name of " + path
		}
		out = append(out, fmt.Sprintf("~ %s: %s -> %s", what, pn, nn))
	}
	if path == "" && str(pr["doc"]) != str(nr["doc"]) {
		out = append(out, "~ doc")
	}
	old := map[string]map[string]any{}
	for _, f := range fieldsOf(pr) {
		old[str(f["name"])] = f
	}
	seen := map[string]bool{}
	for _, f := range fieldsOf(nr) {
		name := str(f["name"])
		seen[name] = true
		at := join(path, name)
		o, ok := old[name]
		if !ok {
			out = append(out, "+ field "+fieldLine(f))
			continue
		}
		out = append(out, diffTypes(at, o["type"], f["type"])...)
		od, ohas := o["default"]
		nd, nhas := f["default"]
		switch {
		case ohas && !nhas:
			out = append(out, fmt.Sprintf("- default of %s (was %s)", at, compact(od)))
		case !ohas && nhas:
			out = append(out, fmt.Sprintf("+ default of %s: %s", at, compact(nd)))
		case ohas && compact(od) != compact(nd):
			out = append(out, fmt.Sprintf("~ default of %s: %s -> %s", at, compact(od), compact(nd)))
		}
		if str(o["doc"]) != str(f["doc"]) {
			out = append(out, "~ doc of "+at)
		}
	}
	for _, f := range fieldsOf(pr) {
		if name := str(f["name"]); !seen[name] {
			out = append(out, "- field "+join(path, name))
		}
	}
	return out
}

func fieldsOf(rec map[string]any) []map[string]any {
	raw, _ := rec["fields"].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, f := range raw {
		if m, ok := f.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// fieldLine is "name: type" with the default, if any.
func fieldLine(f map[string]any) string {
	s := str(f["name"]) + ": " + typeString(f["type"])
	if d, ok := f["default"]; ok {
		s += " = " + compact(d)
	}
	return s
}

// typeString writes an Avro type briefly: "long", "null|string",
// "array<string>", "record pricing.Price", "bytes(decimal 10,2)".
func typeString(t any) string {
	switch v := t.(type) {
	case string:
		return v
	case []any:
		parts := make([]string, len(v))
		for i, b := range v {
			parts[i] = typeString(b)
		}
		return strings.Join(parts, "|")
	case map[string]any:
		base := str(v["type"])
		switch base {
		case "record", "error", "enum":
			return base + " " + fullName(v)
		case "fixed":
			base = fmt.Sprintf("fixed %s[%v]", fullName(v), v["size"])
		case "array":
			base = "array<" + typeString(v["items"]) + ">"
		case "map":
			base = "map<" + typeString(v["values"]) + ">"
		}
		if lt := str(v["logicalType"]); lt != "" {
			if lt == "decimal" {
				return fmt.Sprintf("%s(decimal %v,%v)", base, num(v["precision"]), num(v["scale"]))
			}
			return base + "(" + lt + ")"
		}
		return base
	}
	return compact(t)
}

func fullName(v map[string]any) string {
	name := str(v["name"])
	if ns := str(v["namespace"]); ns != "" && !strings.Contains(name, ".") {
		return ns + "." + name
	}
	return name
}

func num(v any) string {
	if v == nil {
		return "0"
	}
	return compact(v)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
