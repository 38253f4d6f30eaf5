package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamkit/streamkit/platformtest"
)

var metricsLine = regexp.MustCompile(`(?m)^metrics: produced (\d+) records, fetched (\d+) records, schema cache (\d+) hit\(s\) (\d+) miss\(es\), (\d+) registry request\(s\)$`)

// clientMetrics are the numbers of a run's metrics line.
type clientMetrics struct {
	produced, fetched, cacheHits, cacheMisses, registryRequests int
}

// checkOutput asserts that a run reports a clean validation of the
// manifests, the schema, each of the three orders consumed back with its
// decoded fields, and its metrics, which it returns.
func checkOutput(t *testing.T, out string) clientMetrics {
	t.Helper()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^validate orders\.jsonnet: 1 topic\(s\), 1 schema\(s\), 0 finding\(s\)$`),
		regexp.MustCompile(`(?m)^schema retail\.orders\.v1-value: id \d+$`),
		regexp.MustCompile(`(?m)^produced 3 orders$`),
		regexp.MustCompile(`(?m)^consumed o-1001 from berlin-01: 2 x sku-coffee-1kg at 18\.99 EUR \(partition \d+, offset \d+\)$`),
		regexp.MustCompile(`(?m)^consumed o-1002 from hamburg-03: 5 x sku-tea-green at 4\.50 EUR \(partition \d+, offset \d+\)$`),
		regexp.MustCompile(`(?m)^consumed o-1003 from berlin-01: 1 x sku-mug-white at 7\.99 EUR \(partition \d+, offset \d+\)$`),
		regexp.MustCompile(`(?m)^done in `),
	} {
		if !want.MatchString(out) {
			t.Errorf("output lacks a line matching %s:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\nconsumed "); n != 3 {
		t.Errorf("got %d consumed lines, want 3:\n%s", n, out)
	}
	m := metricsLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("output lacks the metrics line:\n%s", out)
	}
	n := make([]int, len(m)-1)
	for i, s := range m[1:] {
		n[i], _ = strconv.Atoi(s)
	}
	got := clientMetrics{produced: n[0], fetched: n[1], cacheHits: n[2], cacheMisses: n[3], registryRequests: n[4]}
	// The producer's client sends exactly this run's orders; the consumer
	// may fetch other records written to the topic since the run began.
	if got.produced != 3 {
		t.Errorf("metrics: got %d records produced, want 3", got.produced)
	}
	if got.fetched < 3 {
		t.Errorf("metrics: got %d records fetched, want at least 3", got.fetched)
	}
	if got.cacheHits+got.cacheMisses < 2 {
		t.Errorf("metrics: got %d schema cache lookups, want at least 2 (the producer's and the consumer's)", got.cacheHits+got.cacheMisses)
	}
	if got.registryRequests < 1 {
		t.Errorf("metrics: got %d registry requests, want at least 1 (the registration)", got.registryRequests)
	}
	return got
}

func TestQuickstartEmbedded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out, platform{}); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !strings.HasPrefix(out.String(), "platform: embedded") {
		t.Errorf("first line should say the platform is embedded:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "+ create retail.orders.v1 (3 partitions, replication factor 1)\n") ||
		!strings.Contains(out.String(), "applied: created [\"retail.orders.v1\"], updated []\n") {
		t.Errorf("a fresh platform should get the topic created from the plan:\n%s", out.String())
	}
	got := checkOutput(t, out.String())
	// Nothing else reads or writes the embedded topic.
	if got.fetched != 3 {
		t.Errorf("metrics: got %d records fetched, want 3", got.fetched)
	}
}

func TestValidateManifests(t *testing.T) {
	for _, tc := range []struct {
		replication int
		wantOK      bool
		wantText    string
	}{
		{replication: 1, wantOK: true},
		{replication: 3, wantOK: true},
		// sk.topic asserts a replication of at least 1: a jsonnet error
		// at the manifest's line, which must stop the run.
		{replication: 0, wantText: "orders.jsonnet:"},
	} {
		t.Run(strconv.Itoa(tc.replication), func(t *testing.T) {
			res, err := validateManifests(context.Background(), tc.replication)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK() != tc.wantOK {
				t.Errorf("got OK %v, want %v:\n%s", res.OK(), tc.wantOK, res.Text())
			}
			if tc.wantOK && len(res.Findings) != 0 {
				t.Errorf("got findings, want none:\n%s", res.Text())
			}
			if !strings.Contains(res.Text(), tc.wantText) {
				t.Errorf("report lacks %q:\n%s", tc.wantText, res.Text())
			}
			if tc.wantOK && (len(res.Manifest.Topics) != 1 || res.Manifest.Topics[0].ReplicationFactor != int16(tc.replication)) {
				t.Errorf("got topics %+v, want retail.orders.v1 with replication %d", res.Manifest.Topics, tc.replication)
			}
		})
	}
}

func TestQuickstartRegistryRequired(t *testing.T) {
	err := run(context.Background(), &bytes.Buffer{}, platform{brokers: []string{"127.0.0.1:1"}})
	if err == nil || !strings.Contains(err.Error(), platformtest.EnvSchemaRegistryURL) {
		t.Fatalf("got %v, want an error naming %s", err, platformtest.EnvSchemaRegistryURL)
	}
}

func TestRedactURL(t *testing.T) {
	got := redactURL("https://svc:s3cret@registry.example:8081/apis/ccompat/v7")
	if strings.Contains(got, "s3cret") || !strings.Contains(got, "registry.example:8081") {
		t.Errorf("got %q, want the URL without its password", got)
	}
}

func TestIntegrationQuickstart(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka, platformtest.SchemaRegistry)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Twice: the second run finds the topic as the manifest says and the
	// schema in place, and still reads back exactly its own three orders.
	for i := 0; i < 2; i++ {
		var out bytes.Buffer
		if err := run(ctx, &out, platform{brokers: p.Brokers, registryURL: p.SchemaRegistryURL}); err != nil {
			t.Fatalf("run %d: %v\n%s", i+1, err, out.String())
		}
		if !strings.HasPrefix(out.String(), "platform: brokers ") {
			t.Errorf("run %d should name the real platform:\n%s", i+1, out.String())
		}
		if i == 1 && !strings.Contains(out.String(), "topic retail.orders.v1: up to date\n") {
			t.Errorf("second run should find the topic up to date:\n%s", out.String())
		}
		checkOutput(t, out.String())
	}
}
