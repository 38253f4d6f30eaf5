package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/streamkit/streamkit/platformtest"
)

// checkOutput asserts that a run reports the topic, the schema, and each of
// the three orders consumed back with its decoded fields.
func checkOutput(t *testing.T, out string) {
	t.Helper()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^topic retail\.orders\.v1: (created with 3 partitions|already there)$`),
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
}

func TestQuickstartEmbedded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out, platformtest.Platform{}); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !strings.HasPrefix(out.String(), "platform: embedded") {
		t.Errorf("first line should say the platform is embedded:\n%s", out.String())
	}
	checkOutput(t, out.String())
}

func TestQuickstartRegistryRequired(t *testing.T) {
	err := run(context.Background(), &bytes.Buffer{}, platformtest.Platform{Brokers: []string{"127.0.0.1:1"}})
	if err == nil || !strings.Contains(err.Error(), platformtest.EnvSchemaRegistryURL) {
		t.Fatalf("got %v, want an error naming %s", err, platformtest.EnvSchemaRegistryURL)
	}
}

func TestIntegrationQuickstart(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka, platformtest.SchemaRegistry)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Twice: the second run finds the topic and the schema in place and
	// still reads back exactly its own three orders.
	for i := 0; i < 2; i++ {
		var out bytes.Buffer
		if err := run(ctx, &out, p); err != nil {
			t.Fatalf("run %d: %v\n%s", i+1, err, out.String())
		}
		if !strings.HasPrefix(out.String(), "platform: brokers ") {
			t.Errorf("run %d should name the real platform:\n%s", i+1, out.String())
		}
		if i == 1 && !strings.Contains(out.String(), "topic retail.orders.v1: already there") {
			t.Errorf("second run should find the topic:\n%s", out.String())
		}
		checkOutput(t, out.String())
	}
}
