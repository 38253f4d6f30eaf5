package validate

import "testing"

const orderSchema = `{
  "type": "record", "name": "Order", "namespace": "com.acme.pricing", "doc": "An order.",
  "fields": [
    {"name": "id", "type": "string", "doc": "Order ID."},
    {"name": "status", "doc": "Where it is.", "type": {"type": "enum", "name": "Status", "symbols": ["OPEN", "PAID"]}},
    {"name": "lines", "doc": "What was bought.", "type": {"type": "array", "items": {
      "type": "record", "name": "Line", "fields": [{"name": "sku", "type": "string", "doc": "Stock unit."}]}}},
    {"name": "note", "doc": "Free text.", "type": ["null", {"type": "fixed", "name": "Hash", "size": 4}], "default": null}
  ]
}`

func withSchemas(ss ...SchemaSpec) Manifest { return Manifest{Schemas: ss} }

func TestRuleSchemas(t *testing.T) {
	const subject = "pricing.orders.v1-value"
	const res = "schema " + subject
	inline := func(text string) Manifest { return withSchemas(SchemaSpec{Subject: subject, Schema: text}) }
	runRuleCases(t, []ruleCase{
		{rule: "SCHEMA001", name: "no fields", m: inline(`{"type": "record", "name": "Order"}`),
			want: []wantFinding{{res, "schema"}}},
		{rule: "SCHEMA001", name: "not json", m: inline(`{"type": "record",`), want: []wantFinding{{res, "schema"}}},
		{rule: "SCHEMA001", name: "loaded file", m: withSchemas(SchemaSpec{Subject: subject, File: "order.avsc", Schema: `{"type": "nope"}`}),
			want: []wantFinding{{res, "file"}}},
		{rule: "SCHEMA001", name: "empty", m: withSchemas(SchemaSpec{Subject: subject}), want: []wantFinding{{res, ""}}},
		{rule: "SCHEMA001", name: "parses", m: inline(orderSchema)},
		{rule: "SCHEMA001", name: "file not loaded is the evaluator's", m: withSchemas(SchemaSpec{Subject: subject, File: "order.avsc"})},

		{rule: "SCHEMA002", name: "bad names",
			m: inline(`{"type": "record", "name": "order-v1", "namespace": "com.acme.", "fields": [
				{"name": "1st", "type": "long"},
				{"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "b-c"]}}]}`),
			want: []wantFinding{{res, "schema"}, {res, "schema"}, {res, "schema"}, {res, "schema"}}},
		{rule: "SCHEMA002", name: "qualified name", m: inline(`{"type": "record", "name": "com.acme.9Order", "fields": []}`),
			want: []wantFinding{{res, "schema"}}},
		{rule: "SCHEMA002", name: "well-formed", m: inline(orderSchema)},
		{rule: "SCHEMA002", name: "not json is SCHEMA001's", m: inline(`{`)},

		{rule: "SCHEMA003", name: "missing docs",
			m: inline(`{"type": "record", "name": "Order", "fields": [
				{"name": "id", "type": "string", "doc": "ID."},
				{"name": "amount", "type": "long"},
				{"name": "line", "doc": "A line.", "type": {"type": "record", "name": "Line", "fields": [{"name": "sku", "type": "string", "doc": " "}]}}]}`),
			want: []wantFinding{{res, "schema"}, {res, "schema"}}},
		{rule: "SCHEMA003", name: "documented", m: inline(orderSchema)},

		{rule: "SCHEMA004", name: "duplicate",
			m:    withSchemas(SchemaSpec{Subject: subject, Schema: orderSchema}, SchemaSpec{Subject: subject, File: "order.avsc"}),
			want: []wantFinding{{res, ""}}},
		{rule: "SCHEMA004", name: "unique",
			m: withSchemas(SchemaSpec{Subject: subject, Schema: orderSchema}, SchemaSpec{Subject: "pricing.orders.v1-key", Schema: `"string"`})},

		{rule: "SCHEMA005", name: "outside", policy: Policy{Namespace: "pricing."},
			m:    withSchemas(SchemaSpec{Subject: "billing.orders.v1-value", Schema: orderSchema}, SchemaSpec{Subject: subject, Schema: orderSchema}),
			want: []wantFinding{{"schema billing.orders.v1-value", ""}}},
		{rule: "SCHEMA005", name: "inside", policy: Policy{Namespace: "pricing."}, m: inline(orderSchema)},
		{rule: "SCHEMA005", name: "no namespace", m: withSchemas(SchemaSpec{Subject: "billing.orders.v1-value", Schema: orderSchema})},
	})
}
