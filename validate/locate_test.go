package validate

import (
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
		{"computed name falls back to the manifest", "topic", "pricing.audit.v1", "retention.ms", at(1, 1)},
		{"connector call site", "connector", "pricing-sink", "", at(19, 5)},
		{"config key added to a call with +", "connector", "pricing-sink", "tasks.max", at(20, 18)},
		{"template's config key falls back to the call site", "connector", "pricing-sink", "file", at(19, 5)},
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
	// the name is computed there, so only the manifest is known.
	res := evaluateDir(t, filepath.Join("testdata", "valid"))
	for _, tc := range []struct {
		kind, res, key string
		want           Position
	}{
		{"topic", "pricing.quotes.v2", "retention.ms", Position{File: "topics.jsonnet", Line: 1, Column: 1}},
		{"topic", "pricing.orders.v1", "cleanup.policy", Position{File: "topics.jsonnet", Line: 8, Column: 7}},
		{"topic", "pricing.audit.v1", "retention.ms", Position{File: "topics.jsonnet", Line: 17, Column: 9}},
		{"connector", "pricing-file-source", "file", Position{File: "connectors.jsonnet", Line: 1, Column: 1}},
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
