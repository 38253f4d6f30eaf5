package validate

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"
)

// A finding about the text of a schema read from a file (it does not
// parse, a name is malformed, a field has no doc, the registry refuses it)
// belongs in that file, not at the manifest's file: field: the team edits
// the .avsc. The locator records the file each subject's schema was read
// from; the position inside it is found in the text.

// avroAt names a place in an Avro schema's JSON text: the first
// "key": "value" pair, or the first string "value" when key is empty.
type avroAt struct{ key, value string }

// avroName is the place of the type or field named name.
func avroName(name string) avroAt { return avroAt{key: "name", value: name} }

// schemaFile records that the schema of subject, whose spec says file,
// was read from the file shown as shown.
func (l *locator) schemaFile(subject, file, shown string) {
	k := locKey(subject, file)
	if _, ok := l.schemas[k]; !ok {
		l.schemas[k] = shown
	}
}

// schemaPath is the file the schema of subject, whose spec says file, was
// read from, as shown in positions: file, or the file its inline schema
// reads with importstr.
func (l *locator) schemaPath(subject, file string) (string, bool) {
	if file != "" {
		shown, ok := l.schemas[locKey(subject, file)]
		return shown, ok
	}
	if it := l.items[locKey(kindSchema, subject)]; it != nil && it.loc.text != "" {
		return it.loc.text, true
	}
	return "", false
}

// schemaLocator is what inSchema needs from a Locator: the locator
// Evaluate builds has it, a caller's own Locator need not.
type schemaLocator interface {
	schemaPath(subject, file string) (string, bool)
}

// inSchema places f, a finding about the text of s's schema, in the file
// the schema was read from (file:, or schema: importstr): at path, each
// place searched for after the previous one (a record, then its field),
// as far as they are found; at the syntax error of a text that is not
// JSON; else at the file's start. A schema written in the manifest, or a
// Locator that does not know where it was read from, leaves f where it
// is.
func (c *Context) inSchema(f Finding, s SchemaSpec, path ...avroAt) Finding {
	sl, ok := c.Locator.(schemaLocator)
	if !ok {
		return f
	}
	shown, ok := sl.schemaPath(s.Subject, s.File)
	if !ok {
		return f
	}
	line, col := avroPosition(s.Schema, path)
	f.Pos = Position{File: shown, Line: line, Column: col}
	return f
}

// avroPosition is the line and column in text of the last place of path
// found, searching each after the previous; of the syntax error when text
// is not JSON; else 1:1.
func avroPosition(text string, path []avroAt) (line, col int) {
	var v any
	var syntax *json.SyntaxError
	if err := json.Unmarshal([]byte(text), &v); errors.As(err, &syntax) {
		return textPosition(text, int(syntax.Offset)-1)
	}
	at, from := -1, 0
	for _, p := range path {
		i := findAvro(text[from:], p)
		if i < 0 {
			break
		}
		at, from = from+i, from+i+1
	}
	if at < 0 {
		return 1, 1
	}
	return textPosition(text, at)
}

// findAvro is the byte offset in text of the first p, or -1.
func findAvro(text string, p avroAt) int {
	value, err := json.Marshal(p.value)
	if err != nil {
		return -1
	}
	expr := regexp.QuoteMeta(string(value))
	if p.key != "" {
		expr = `"` + regexp.QuoteMeta(p.key) + `"\s*:\s*` + expr
	}
	loc := regexp.MustCompile(expr).FindStringIndex(text)
	if loc == nil {
		return -1
	}
	return loc[0]
}

// textPosition is the 1-based line and column (in characters) of byte
// offset in text.
func textPosition(text string, offset int) (line, col int) {
	offset = max(0, min(offset, len(text)))
	before := text[:offset]
	line = strings.Count(before, "\n") + 1
	start := strings.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCountInString(before[start:]) + 1
}

// fieldInMessages is the place of the field a compatibility message
// names, as streamkit's own check ("field lines[].price: ...") and the
// registry ("The field 'amount' at path ...") write it: the path of field
// names from the top-level record. None when no message names one.
func fieldInMessages(msgs []string) []avroAt {
	for _, m := range msgs {
		var path string
		if sub := ownFieldMessage.FindStringSubmatch(m); sub != nil {
			path = sub[1]
		} else if sub := registryFieldMessage.FindStringSubmatch(m); sub != nil {
			path = sub[1]
		} else {
			continue
		}
		var out []avroAt
		for name := range strings.SplitSeq(path, ".") {
			name = strings.TrimRight(name, "[]{}")
			if name != "" {
				out = append(out, avroName(name))
			}
		}
		return out
	}
	return nil
}

var (
	ownFieldMessage      = regexp.MustCompile(`^field ([A-Za-z_][A-Za-z0-9_.\[\]{}]*):`)
	registryFieldMessage = regexp.MustCompile(`[Ff]ield '([A-Za-z_][A-Za-z0-9_]*)'`)
)
