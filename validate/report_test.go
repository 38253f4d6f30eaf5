package validate

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// reportResult has findings out of order, of every severity, and messages
// that need escaping in a GitHub annotation.
func reportResult() *Result {
	return &Result{
		Files: []string{"connectors.jsonnet", "topics.jsonnet"},
		Findings: []Finding{
			{Rule: "TOPIC003", Severity: Error, Message: "min.insync.replicas 3 is above the replication factor 2",
				Resource: "topic pricing.orders.v1", Key: "min.insync.replicas",
				Pos: Position{File: "topics.jsonnet", Line: 12, Column: 7}},
			{Rule: "CONNECT001", Severity: Warning, Message: "tasks.max: 100%, of 3 workers",
				Resource: "connector pricing-sink", Key: "tasks.max",
				Pos: Position{File: "connectors.jsonnet", Line: 4, Column: 9}},
			{Rule: "TOPIC001", Severity: Info, Message: "two lines\nof message",
				Resource: "topic pricing.audit.v1",
				Pos:      Position{File: "topics.jsonnet", Line: 3, Column: 5}},
			{Rule: "MANIFEST001", Severity: Warning, Message: "unknown top-level key",
				Key: "topic", Pos: Position{File: "topics.jsonnet", Line: 3, Column: 5}},
			{Rule: "PLAN001", Severity: Error, Message: "no position"},
		},
	}
}

func TestReports(t *testing.T) {
	res := reportResult()
	if res.OK() {
		t.Error("OK() = true with errors")
	}
	golden(t, "report.text", res.Text())
	golden(t, "report.github", res.GitHub())
	b, err := res.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Fatalf("JSON() is not valid JSON:\n%s", b)
	}
	golden(t, "report.json", string(b))

	// The reports sort a copy.
	if res.Findings[0].Rule != "TOPIC003" {
		t.Error("a report reordered Result.Findings")
	}
}

func TestReportsValid(t *testing.T) {
	res := evaluateDir(t, filepath.Join("testdata", "valid"))
	if got := res.Text(); got != "" {
		t.Errorf("Text() = %q, want empty", got)
	}
	if got := res.GitHub(); got != "" {
		t.Errorf("GitHub() = %q, want empty", got)
	}
	golden(t, "valid.json", string(must(res.JSON())))
}

func TestReportsBroken(t *testing.T) {
	res := evaluateDir(t, filepath.Join("testdata", "broken", "wrong-type"))
	golden(t, "wrong-type.github", res.GitHub())
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
