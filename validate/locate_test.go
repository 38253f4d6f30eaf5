package validate

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestLocator(t *testing.T) {
	res := evaluateDir(t, filepath.Join("testdata", "locate"))
	if len(res.Findings) != 0 {
		t.Fatalf("got findings:\n%s", res.Text())
	}
	at := func(line, col int) Position { return Position{File: "main.jsonnet", Line: line, Column: col} }
	for _, tc := range []struct {
		name           string
		kind, res, key string
		want           Position
	}{
		{"object literal", "topic", "pricing.orders.v1", "", at(6, 5)},
		{"literal config key", "topic", "pricing.orders.v1", "retention.ms", at(11, 9)},
		{"computed config key falls back to the resource", "topic", "pricing.orders.v1", "cleanup.policy", at(6, 5)},
		{"call site", "topic", "pricing.quotes.v1", "", at(15, 5)},
		{"config key in a call's object argument", "topic", "pricing.quotes.v1", "retention.ms", at(15, 59)},
		{"key set inside the imported template falls back to the call site", "topic", "pricing.quotes.v1", "min.insync.replicas", at(15, 5)},
		{"computed name is located by its place in the array", "topic", "pricing.audit.v1", "retention.ms", at(16, 5)},
		{"connector call site", "connector", "pricing-sink", "", at(19, 5)},
		{"config key added to a call with +", "connector", "pricing-sink", "tasks.max", at(20, 18)},
		{"template's config key is located at the argument it comes from", "connector", "pricing-sink", "file", at(19, 56)},
		{"template's literal config key falls back to the call site", "connector", "pricing-sink", "connector.class", at(19, 5)},
		{"schema field", "schema", "pricing.orders.v1-value", "schema", at(24, 43)},
		{"acl call site", "acl", "User:pricing-svc", "", at(27, 5)},
		{"unknown resource", "topic", "nope", "", Position{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got Position
			if tc.key == "" {
				got = res.Locator.Resource(tc.kind, tc.res)
			} else {
				got = res.Locator.Key(tc.kind, tc.res, tc.key)
			}
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLocatorValid(t *testing.T) {
	// Resources built by the team's own template in an imported file:
	// the name is computed there, and the resource found by its place.
	res := evaluateDir(t, filepath.Join("testdata", "valid"))
	for _, tc := range []struct {
		kind, res, key string
		want           Position
	}{
		{"topic", "pricing.quotes.v2", "", Position{File: "topics.jsonnet", Line: 11, Column: 5}},
		{"topic", "pricing.quotes.v2", "retention.ms", Position{File: "lib/pricing.libsonnet", Line: 10, Column: 7}},
		{"topic", "pricing.orders.v1", "cleanup.policy", Position{File: "topics.jsonnet", Line: 8, Column: 7}},
		{"topic", "pricing.audit.v1", "retention.ms", Position{File: "topics.jsonnet", Line: 17, Column: 9}},
		{"connector", "pricing-file-source", "", Position{File: "connectors.jsonnet", Line: 6, Column: 5}},
		{"connector", "pricing-file-source", "file", Position{File: "connectors.jsonnet", Line: 6, Column: 42}},
		{"connector", "pricing-db-source", "snapshot.mode", Position{File: "connectors.jsonnet", Line: 12, Column: 9}},
		{"schema", "pricing.orders.v1-value", "file", Position{File: "schemas/schemas.jsonnet", Line: 3, Column: 43}},
		{"binding", "User:pricing-monitor", "operation", Position{File: "acls.jsonnet", Line: 16, Column: 7}},
	} {
		var got Position
		if tc.key == "" {
			got = res.Locator.Resource(tc.kind, tc.res)
		} else {
			got = res.Locator.Key(tc.kind, tc.res, tc.key)
		}
		if got != tc.want {
			t.Errorf("%s %s key %q: got %v, want %v", tc.kind, tc.res, tc.key, got, tc.want)
		}
	}
}

// TestLocatorComputedNames locates resources whose names a team helper
// computes (testdata/helpers, shaped like examples/gitops): by their
// place in the top-level array, whatever the name expression.
func TestLocatorComputedNames(t *testing.T) {
	res, err := Evaluate(context.Background(), Options{
		Dir:     filepath.Join("testdata", "helpers"),
		ExtVars: map[string]string{"ns": "pricing.", "data_dir": "/tmp", "env": "prod"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 {
		t.Fatalf("got findings:\n%s", res.Text())
	}
	at := func(file string, line, col int) Position { return Position{File: file, Line: line, Column: col} }
	for _, tc := range []struct {
		name           string
		kind, res, key string
		want           Position
	}{
		// topics.jsonnet
		{"team helper call", "topic", "pricing.prices.v1", "", at("topics.jsonnet", 7, 5)},
		{"named argument", "topic", "pricing.prices.v1", "partitions", at("topics.jsonnet", 7, 34)},
		{"key written in the team library", "topic", "pricing.prices.v1", "retention.ms", at("pricing.libsonnet", 14, 7)},
		{"key of an object argument overrides the library's", "topic", "pricing.quotes.v1", "retention.ms", at("topics.jsonnet", 8, 33)},
		{"mixin", "topic", "pricing.orders.v1", "", at("topics.jsonnet", 9, 5)},
		{"mixin's config key", "topic", "pricing.orders.v1", "cleanup.policy", at("topics.jsonnet", 10, 19)},
		{"bundled library's key falls back to the call", "topic", "pricing.orders.v1", "min.insync.replicas", at("topics.jsonnet", 9, 5)},
		{"object literal", "topic", "pricing.ledger.v1", "", at("topics.jsonnet", 12, 5)},
		{"object literal's config key", "topic", "pricing.ledger.v1", "retention.ms", at("topics.jsonnet", 12, 83)},
		{"array from a local, added with +", "topic", "pricing.audit.v1", "partitions", at("topics.jsonnet", 3, 44)},
		{"comprehension body", "topic", "pricing.tax.v1", "", at("topics.jsonnet", 14, 5)},
		{"comprehension's config key", "topic", "pricing.fx.v1", "segment.ms", at("topics.jsonnet", 14, 43)},
		{"if after a comprehension", "topic", "pricing.prod-only.v1", "", at("topics.jsonnet", 16, 45)},
		// more.jsonnet: a sum of objects and topics+:
		{"first object of a sum", "topic", "pricing.base.v1", "", at("more.jsonnet", 3, 12)},
		{"topics+:", "topic", "pricing.more.v1", "partitions", at("more.jsonnet", 4, 42)},
		// connectors.jsonnet
		{"literal key, computed name", "connector", "pricing.leaky-sink", "database.password", at("connectors.jsonnet", 14, 82)},
		{"bundled template's key at its positional argument", "connector", "pricing.prices-sink", "file", at("connectors.jsonnet", 15, 63)},
		{"mixin on a bundled template", "connector", "pricing.quotes-source", "tasks.max", at("connectors.jsonnet", 17, 18)},
		{"manifest function's key from a parameter", "connector", "pricing.orders-sink", "connection.password", at("connectors.jsonnet", 19, 29)},
		{"manifest function's literal key", "connector", "pricing.orders-sink", "tasks.max", at("connectors.jsonnet", 8, 5)},
		// acls.jsonnet, schemas.jsonnet
		{"grant", "acl", "User:pricing.billing", "", at("acls.jsonnet", 7, 5)},
		{"grant's named argument", "acl", "User:pricing.billing", "groups", at("acls.jsonnet", 7, 71)},
		{"grant's positional argument", "acl", "User:pricing.publisher", "topics", at("acls.jsonnet", 6, 43)},
		{"schema field", "schema", "pricing.prices.v1-value", "file", at("schemas.jsonnet", 5, 43)},
		// shared.jsonnet: resources from another team library.
		{"array from an imported library", "topic", "pricing.shared.v1", "", at("shared.jsonnet", 5, 11)},
		{"its key written in a library", "topic", "pricing.shared.v1", "retention.ms", at("pricing.libsonnet", 14, 7)},
		{"element from an imported library", "connector", "pricing.mirror", "", at("shared.jsonnet", 6, 16)},
		{"key written in the imported library", "connector", "pricing.mirror", "source.cluster.alias", at("lib/shared.libsonnet", 11, 7)},
		// base.jsonnet: an imported manifest + { topics+: [...] }.
		{"topics+: after an imported manifest", "topic", "pricing.extra.v1", "", at("base.jsonnet", 6, 13)},
		{"topic of the imported manifest", "topic", "pricing.base2.v1", "", at("base.jsonnet", 5, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got Position
			if tc.key == "" {
				got = res.Locator.Resource(tc.kind, tc.res)
			} else {
				got = res.Locator.Key(tc.kind, tc.res, tc.key)
			}
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestLocatorEnclosing: an element whose own expression is not in the
// manifest, or cannot be told apart, is located at the expression that
// encloses it, never at the start of the manifest.
func TestLocatorEnclosing(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		line, col int
	}{
		{"comprehension over an imported list", `local lib = import 'lib.libsonnet';
{
  topics: [t for t in lib.topics],
}`, 3, 11},
		{"array from an imported library", `local lib = import 'lib.libsonnet';
{ topics: lib.topics }`, 2, 11},
		{"manifest that is an import", `local lib = import 'lib.libsonnet';
lib`, 2, 1},
		{"if whose branches have the same length", `{
  topics: if std.extVar('env') == 'prod' then [{ name: 'pricing.' + 'a.v1' }] else [{ name: 'pricing.a' + '.v1' }],
}`, 2, 11},
		{"two terms of unknown length", `local sk = import 'streamkit.libsonnet';
local lib = { more:: [sk.topic('pricing.b.v1')] };
{ topics: std.reverse([sk.topic('pricing.' + 'a.v1')]) + lib.more }`, 3, 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			lib := `{ topics: [{ name: 'pricing.a.v1' }] }`
			if err := os.WriteFile(filepath.Join(dir, "lib.libsonnet"), []byte(lib), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "m.jsonnet"), []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			res := evaluateDir(t, dir)
			if len(res.Findings) != 0 {
				t.Fatalf("got findings:\n%s", res.Text())
			}
			want := Position{File: "m.jsonnet", Line: tc.line, Column: tc.col}
			if got := res.Locator.Resource("topic", "pricing.a.v1"); got != want {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}
