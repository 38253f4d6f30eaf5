package validate

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestDecode(t *testing.T) {
	start := Position{File: "m.jsonnet", Line: 1, Column: 1}
	type want struct {
		rule, resource, key string
		severity            Severity
	}
	for _, tc := range []struct {
		name     string
		json     string
		want     []want
		topics   int
		schemas  []SchemaSpec
		bindings int
	}{
		{name: "empty object", json: `{}`},
		{name: "null arrays", json: `{"topics": null, "acls": null}`},
		{name: "not an object", json: `[1, 2]`, want: []want{{RuleWrongType, "", "", Error}}},
		{name: "null manifest", json: `null`, want: []want{{RuleWrongType, "", "", Error}}},
		{name: "not an array", json: `{"topics": {"name": "t"}}`, want: []want{{RuleWrongType, "", "topics", Error}}},
		{name: "item not an object", json: `{"topics": [1, {"name": "t", "partitions": 1, "replication_factor": 1}]}`,
			want: []want{{RuleWrongType, "topics[0]", "", Error}}, topics: 1},
		{name: "unknown key", json: `{"topic": [], "topics": []}`, want: []want{{RuleUnknownKey, "", "topic", Warning}}},
		{name: "unknown field keeps the item", json: `{"topics": [{"name": "t", "partitons": 3}]}`,
			want: []want{{RuleUnknownField, "topic t", "partitons", Warning}}, topics: 1},
		{name: "every wrong field is reported", json: `{"topics": [{"name": 1, "partitions": "3", "replication_factor": 1e9}]}`,
			want: []want{
				{RuleWrongType, "topics[0]", "name", Error},
				{RuleWrongType, "topics[0]", "partitions", Error},
				{RuleWrongType, "topics[0]", "replication_factor", Error},
			}},
		{name: "fraction", json: `{"topics": [{"name": "t", "partitions": 1.5}]}`,
			want: []want{{RuleWrongType, "topic t", "partitions", Error}}},
		{name: "config values", json: `{"connectors": [{"name": "c", "config": {"a": "1", "b": true, "c": null}}]}`,
			want: []want{{RuleWrongType, "connector c", "b", Error}}},
		{name: "config not an object", json: `{"connectors": [{"name": "c", "config": "x"}]}`,
			want: []want{{RuleWrongType, "connector c", "config", Error}}},
		{name: "acl topics", json: `{"acls": [{"principal": "User:a", "role": "producer", "topics": "t"}]}`,
			want: []want{{RuleWrongType, "acl User:a", "topics", Error}}},
		{name: "bindings", json: `{"bindings": [{"principal": "User:a", "resource": "topic", "name": "t", "operation": "read", "permission": "allow"}]}`,
			bindings: 1},
		{name: "inline schema", json: `{"schemas": [{"subject": "s", "schema": "\"string\""}]}`,
			schemas: []SchemaSpec{{Subject: "s", Schema: `"string"`}}},
		{name: "schema file", json: `{"schemas": [{"subject": "s", "file": "s.avsc"}]}`,
			schemas: []SchemaSpec{{Subject: "s", File: "s.avsc", Schema: `"string"`}}},
		{name: "missing schema file", json: `{"schemas": [{"subject": "s", "file": "nope.avsc"}]}`,
			want:    []want{{RuleSchemaFile, "schema s", "file", Error}},
			schemas: []SchemaSpec{{Subject: "s", File: "nope.avsc"}}},
		{name: "schema and file", json: `{"schemas": [{"subject": "s", "file": "nope.avsc", "schema": "\"int\""}]}`,
			want:    []want{{RuleSchemaBoth, "schema s", "file", Warning}},
			schemas: []SchemaSpec{{Subject: "s", File: "nope.avsc", Schema: `"int"`}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "s.avsc"), []byte(`"string"`), 0o644); err != nil {
				t.Fatal(err)
			}
			ev := &evaluation{loc: newLocator(nil, nil)}
			var m Manifest
			ev.decode("m.jsonnet", dir, []byte(tc.json), &m)
			var got []want
			for _, f := range ev.findings {
				got = append(got, want{f.Rule, f.Resource, f.Key, f.Severity})
				if f.Message == "" {
					t.Errorf("%s: empty message", f.Rule)
				}
				if f.Pos != start {
					t.Errorf("%s at %v, want %v (nothing is located)", f.Rule, f.Pos, start)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("findings:\ngot  %+v\nwant %+v", got, tc.want)
			}
			if len(m.Topics) != tc.topics {
				t.Errorf("got %d topics, want %d", len(m.Topics), tc.topics)
			}
			if len(m.Bindings) != tc.bindings {
				t.Errorf("got %d bindings, want %d", len(m.Bindings), tc.bindings)
			}
			if !reflect.DeepEqual(m.Schemas, tc.schemas) {
				t.Errorf("schemas: got %+v, want %+v", m.Schemas, tc.schemas)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		typ  reflect.Type
		want string
	}{
		{reflect.TypeFor[int32](), "a whole number (int32)"},
		{reflect.TypeFor[[]string](), "an array of strings"},
		{reflect.TypeFor[map[string]string](), "an object of strings"},
		{reflect.TypeFor[bool](), "a boolean"},
	} {
		if got := describe(tc.typ); got != tc.want {
			t.Errorf("describe(%v) = %q, want %q", tc.typ, got, tc.want)
		}
	}
}
