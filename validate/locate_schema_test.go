package validate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/streamkit/streamkit/schema"
)

// TestSchemaFindingInAvsc: a finding about a schema read from a file is
// in that file, at the type or field it names, whatever the manifest's
// subject expression.
func TestSchemaFindingInAvsc(t *testing.T) {
	const manifest = `local name(short) = 'pricing.' + short;
{ schemas: [{ subject: name('prices.v1-value'), file: 'price.avsc' }] }
`
	for _, tc := range []struct {
		name, avsc, rule string
		line, col        int
	}{
		{"not JSON", "{\n  \"type\": \"record\",\n  \"name\" \"Price\"\n}\n", "SCHEMA001", 3, 10},
		{"not Avro", "{\n  \"type\": \"record\",\n  \"name\": \"Price\"\n}\n", "SCHEMA001", 1, 1},
		{"field name", `{
  "type": "record", "name": "Price", "doc": "A price.",
  "fields": [
    {"name": "sku", "type": "string", "doc": "Stock keeping unit."},
    {"name": "unit-price", "type": "long", "doc": "In cents."}
  ]
}`, "SCHEMA002", 5, 6},
		{"namespace", `{"type": "record", "name": "Price",
 "namespace": "pricing.", "fields": []}`, "SCHEMA002", 2, 2},
		{"enum symbol", `{"type": "enum", "name": "Currency",
 "symbols": ["EUR", "U-S-D"]}`, "SCHEMA002", 2, 21},
		{"field without doc, after a same-named field of another record", `{
  "type": "record", "name": "Order",
  "fields": [
    {"name": "price", "doc": "The price.", "type": {
      "type": "record", "name": "Price",
      "fields": [
        {"name": "amount", "type": "long", "doc": "In cents."}
      ]
    }},
    {"name": "total", "type": "Price", "doc": "The total."},
    {"name": "tax", "type": {"type": "record", "name": "Tax", "fields": [
      {"name": "amount", "type": "long"}
    ]}, "doc": "The tax."}
  ]
}`, "SCHEMA003", 12, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTestFile(t, filepath.Join(dir, "schemas", "main.jsonnet"), manifest)
			writeTestFile(t, filepath.Join(dir, "schemas", "price.avsc"), tc.avsc)
			res, err := Validate(context.Background(), Options{Dir: dir}, Config{})
			if err != nil {
				t.Fatal(err)
			}
			got := findingsOf(res, tc.rule)
			if len(got) != 1 {
				t.Fatalf("got %d %s findings, want 1:\n%s", len(got), tc.rule, res.Text())
			}
			want := Position{File: "schemas/price.avsc", Line: tc.line, Column: tc.col}
			if got[0].Pos != want || got[0].Key != "file" {
				t.Errorf("got %v key %q, want %v key \"file\"", got[0].Pos, got[0].Key, want)
			}
		})
	}
}

// TestSchemaFindingTeamHelpers: the subject is computed by the team's
// library (testdata/helpers), the field without doc is in price.avsc.
func TestSchemaFindingTeamHelpers(t *testing.T) {
	res, err := Validate(context.Background(), Options{
		Dir:     filepath.Join("testdata", "helpers"),
		ExtVars: map[string]string{"ns": "pricing.", "data_dir": "/tmp", "env": "prod"},
	}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	got := findingsOf(res, "SCHEMA003")
	want := Position{File: "price.avsc", Line: 7, Column: 6}
	if len(got) != 1 || got[0].Pos != want {
		t.Fatalf("got %+v, want one SCHEMA003 at %v:\n%s", got, want, res.Text())
	}
}

// TestSchemaFindingImportstr: a schema read with importstr is read from a
// file too.
func TestSchemaFindingImportstr(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "main.jsonnet"), `local avsc = importstr 'price.avsc';
{ schemas: [{ subject: 'pricing.' + 'prices.v1-value', schema: avsc }] }
`)
	writeTestFile(t, filepath.Join(dir, "price.avsc"), `{"type": "record", "name": "Price", "doc": "A price.", "fields": [
  {"name": "amount", "type": "long"}
]}`)
	res, err := Validate(context.Background(), Options{Dir: dir}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	got := findingsOf(res, "SCHEMA003")
	want := Position{File: "price.avsc", Line: 2, Column: 4}
	if len(got) != 1 || got[0].Pos != want || got[0].Key != "schema" {
		t.Fatalf("got %+v, want one SCHEMA003 at %v, key schema:\n%s", got, want, res.Text())
	}
}

// TestSchemaFindingInline: a finding about an inline schema stays at the
// manifest's schema field.
func TestSchemaFindingInline(t *testing.T) {
	res := validateSource(t, `{ schemas: [{ subject: 'pricing.' + 'x-value',
  schema: '{"type": "record", "name": "X", "fields": [{"name": "a", "type": "long"}]}' }] }
`, Config{})
	got := findingsOf(res, "SCHEMA003")
	want := Position{File: "main.jsonnet", Line: 2, Column: 3}
	if len(got) != 1 || got[0].Pos != want {
		t.Fatalf("got %+v, want one SCHEMA003 at %v:\n%s", got, want, res.Text())
	}
}

// TestSchemaFindingLiveInAvsc: the registry's refusal of a schema read
// from a file is in the file, at the field the message names.
func TestSchemaFindingLiveInAvsc(t *testing.T) {
	fake := srfake.New()
	t.Cleanup(fake.Close)
	reg, err := schema.NewRegistryFromOptions(sr.URLs(fake.URL()))
	if err != nil {
		t.Fatal(err)
	}
	const price = `{
  "type": "record", "name": "Price", "namespace": "pricing", "doc": "A price.",
  "fields": [
    {"name": "sku", "type": "string", "doc": "Stock keeping unit."},
    {"name": "amount", "doc": "The amount.",
     "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": %d}}
  ]
}`
	v1, err := schema.Parse(fmt.Sprintf(price, 2))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Register(context.Background(), "pricing.prices.v1-value", v1); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "main.jsonnet"), `{ schemas: [{ subject: 'pricing.' + 'prices.v1-value', file: 'price.avsc' }] }`)
	writeTestFile(t, filepath.Join(dir, "price.avsc"), fmt.Sprintf(price, 4))
	res, err := Validate(context.Background(), Options{Dir: dir}, Config{Live: &Live{Registry: reg}})
	if err != nil {
		t.Fatal(err)
	}
	got := findingsOf(res, RuleRegistry)
	want := Position{File: "price.avsc", Line: 5, Column: 6}
	if len(got) != 1 || got[0].Pos != want {
		t.Fatalf("got %+v, want one %s at %v:\n%s", got, RuleRegistry, want, res.Text())
	}
}

func TestFieldInMessages(t *testing.T) {
	for _, tc := range []struct {
		msgs []string
		want []avroAt
	}{
		{[]string{"field lines[].price: decimal precision 12, scale 2 in schema x becomes ..."},
			[]avroAt{avroName("lines"), avroName("price")}},
		{[]string{"the decimal: decimal precision 12, scale 2 ..."}, nil},
		{[]string{"new schema cannot read data written with schema x: ...", "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'amount' at path '/fields/1' in the new schema has no default value'}"},
			[]avroAt{avroName("amount")}},
	} {
		if got := fieldInMessages(tc.msgs); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("fieldInMessages(%q) = %v, want %v", tc.msgs, got, tc.want)
		}
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
