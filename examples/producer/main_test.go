package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/platformtest/embedded"
	"github.com/streamkit/streamkit/schema"
	"github.com/streamkit/streamkit/secrets"
)

// syncBuffer lets a test read run's output while run still writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	ackedLine   = regexp.MustCompile(`(?m)^acked (\S+) partition \d+ offset \d+$`)
	metricsLine = regexp.MustCompile(`(?m)^metrics: (http://\S+/metrics)$`)
)

// ackedIDs returns the order IDs that run reported as acknowledged.
func ackedIDs(t *testing.T, out string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, m := range ackedLine.FindAllStringSubmatch(out, -1) {
		if ids[m[1]] {
			t.Errorf("order %s reported acknowledged twice", m[1])
		}
		ids[m[1]] = true
	}
	return ids
}

// consumeKeys reads topic from the start until it has seen n records and
// returns their keys.
func consumeKeys(t *testing.T, kopts []kgo.Opt, topic string, n int) map[string]int {
	t.Helper()
	cl, err := kgo.NewClient(append(kopts, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	keys := map[string]int{}
	for seen := 0; seen < n; {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", seen, n, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Errorf("fetch %s[%d]: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			keys[string(r.Key)]++
			seen++
		})
	}
	return keys
}

// topicRecords is the number of records in topic, from its offsets.
func topicRecords(t *testing.T, kopts []kgo.Opt, topic string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	adm := kadm.NewClient(cl)
	start, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = start.Error()
	}
	if err != nil {
		t.Fatalf("list start offsets: %v", err)
	}
	end, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = end.Error()
	}
	if err != nil {
		t.Fatalf("list end offsets: %v", err)
	}
	var n int64
	end.Each(func(o kadm.ListedOffset) {
		s, _ := start.Lookup(o.Topic, o.Partition)
		n += o.Offset - s.Offset
	})
	return n
}

func TestProducerEmbedded(t *testing.T) {
	e := embedded.StartT(t)
	const n = 20
	cfg := config{
		brokers:     e.Brokers,
		registryURL: e.SchemaRegistryURL,
		topic:       "retail.orders.v1",
		register:    true, // a sandbox: no CI registered anything
		rate:        500,
		count:       n,
		metricsAddr: "127.0.0.1:0",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, cfg, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "produced 20 orders, 20 acknowledged\n") {
		t.Errorf("output lacks the summary line:\n%s", out.String())
	}
	acked := ackedIDs(t, out.String())
	if len(acked) != n {
		t.Fatalf("got %d acknowledged orders, want %d:\n%s", len(acked), n, out.String())
	}
	kopts := []kgo.Opt{kgo.SeedBrokers(e.Brokers...)}
	keys := consumeKeys(t, kopts, cfg.topic, n)
	for id := range acked {
		if keys[id] != 1 {
			t.Errorf("order %s: got %d records, want 1", id, keys[id])
		}
	}
	if got := topicRecords(t, kopts, cfg.topic); got != n {
		t.Errorf("topic holds %d records, want %d", got, n)
	}
}

func TestProducerEmbeddedGracefulStop(t *testing.T) {
	e := embedded.StartT(t)
	const count = 200
	cfg := config{brokers: e.Brokers, registryURL: e.SchemaRegistryURL, topic: "retail.orders.v1", register: true, rate: 100, count: count, metricsAddr: "127.0.0.1:0"}
	out, scraped := runStopped(t, cfg, 20)
	if !strings.Contains(scraped, "streamkit_client_produce_records_total{") {
		t.Errorf("/metrics lacks streamkit_client_produce_records_total:\n%s", scraped)
	}
	checkNoLoss(t, []kgo.Opt{kgo.SeedBrokers(e.Brokers...)}, cfg.topic, out, count)
}

func TestProducerEmbeddedDefault(t *testing.T) {
	// No brokers at all: run starts its own embedded platform.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, config{rate: 500, count: 3, metricsAddr: "127.0.0.1:0"}, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !strings.HasPrefix(out.String(), "platform: embedded") {
		t.Errorf("first line should say the platform is embedded:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "produced 3 orders, 3 acknowledged\n") {
		t.Errorf("output lacks the summary line:\n%s", out.String())
	}
}

func TestProducerBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  config
		want string
	}{
		{"zero rate", config{rate: 0}, "rate must be positive"},
		{"negative count", config{rate: 1, count: -1}, "count must not be negative"},
		{"no registry", config{rate: 1, brokers: []string{"127.0.0.1:1"}}, platformtest.EnvSchemaRegistryURL},
		{"vault path without vault", config{rate: 1, brokers: []string{"127.0.0.1:1"}, registryURL: "http://127.0.0.1:1", vaultKafkaPath: "secret/data/x"}, platformtest.EnvVaultAddr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(context.Background(), tc.cfg, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// waitFor polls out until it matches re at least n times.
func waitFor(t *testing.T, out *syncBuffer, re *regexp.Regexp, n int, done <-chan error) {
	t.Helper()
	deadline := time.After(time.Minute)
	for len(re.FindAllString(out.String(), -1)) < n {
		select {
		case err := <-done:
			t.Fatalf("run ended early: %v\n%s", err, out.String())
		case <-deadline:
			t.Fatalf("timed out waiting for %d lines matching %s:\n%s", n, re, out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: status %d, %v", resp.StatusCode, err)
	}
	return string(b)
}

// runStopped runs cfg, scrapes its metrics once some orders are
// acknowledged, then cancels run's context as SIGTERM would, and returns
// the output and the scrape.
func runStopped(t *testing.T, cfg config, stopAfter int) (out, scraped string) {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var buf syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, &buf) }()
	waitFor(t, &buf, ackedLine, stopAfter, done)
	scraped = scrape(t, metricsLine.FindStringSubmatch(buf.String())[1])
	cancel(errors.New("terminated"))
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v\n%s", err, buf.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("run did not return after cancel:\n%s", buf.String())
	}
	return buf.String(), scraped
}

func checkNoLoss(t *testing.T, kopts []kgo.Opt, topic, out string, count int) {
	t.Helper()
	if !strings.Contains(out, "stopping: terminated\n") {
		t.Errorf("output should report the stop:\n%s", out)
	}
	acked := ackedIDs(t, out)
	if len(acked) == 0 || len(acked) >= count {
		t.Fatalf("got %d acknowledged orders, want some but fewer than %d (cancelled mid-way):\n%s", len(acked), count, out)
	}
	summary := regexp.MustCompile(`(?m)^produced (\d+) orders, (\d+) acknowledged$`).FindStringSubmatch(out)
	if summary == nil || summary[1] != summary[2] {
		t.Errorf("summary should report every produced order acknowledged:\n%s", out)
	}
	keys := consumeKeys(t, kopts, topic, len(acked))
	for id := range acked {
		if keys[id] != 1 {
			t.Errorf("order %s: got %d records in the topic, want 1", id, keys[id])
		}
	}
	if got := topicRecords(t, kopts, topic); got != int64(len(acked)) {
		t.Errorf("topic holds %d records, want the %d acknowledged", got, len(acked))
	}
}

func TestIntegrationProducerGracefulStop(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka, platformtest.SchemaRegistry)
	const count = 50
	cfg := config{
		brokers:     p.Brokers,
		registryURL: p.SchemaRegistryURL,
		topic:       platformtest.UniqueName("examples.producer"),
		rate:        25,
		count:       count,
		metricsAddr: "127.0.0.1:0",
	}
	t.Cleanup(func() {
		if cl, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...)); err == nil {
			_, _ = kadm.NewClient(cl).DeleteTopics(context.Background(), cfg.topic)
			cl.Close()
		}
	})
	// Before the team's CI has registered order.avsc: refused at start,
	// nothing produced.
	var refused bytes.Buffer
	if err := run(t.Context(), cfg, &refused); !errors.Is(err, schema.ErrNotRegistered) {
		t.Fatalf("run before the schema is registered: %v, want schema.ErrNotRegistered\n%s", err, refused.String())
	}
	if strings.Contains(refused.String(), "producing to") {
		t.Fatalf("it started producing:\n%s", refused.String())
	}
	// The CI's part: order.avsc registered under the topic's subject.
	avsc, err := schema.ParseFS(schemas, "order.avsc")
	if err != nil {
		t.Fatal(err)
	}
	reg, err := schema.NewRegistryFromOptions(sr.URLs(p.SchemaRegistryURL))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Register(t.Context(), cfg.topic+"-value", avsc); err != nil {
		t.Fatal(err)
	}
	out, scraped := runStopped(t, cfg, 15)
	for _, name := range []string{
		"streamkit_client_produce_records_total",
		"streamkit_client_produce_uncompressed_bytes_total",
		"streamkit_client_registry_requests_total",
	} {
		if !regexp.MustCompile(`(?m)^` + name + `\{[^}]*\} [1-9]`).MatchString(scraped) {
			t.Errorf("/metrics lacks a non-zero %s series:\n%s", name, scraped)
		}
	}
	checkNoLoss(t, []kgo.Opt{kgo.SeedBrokers(p.Brokers...)}, cfg.topic, out, count)
}

// TestIntegrationProducerVaultSASL runs the producer the way a deployed
// service runs: its Kafka user is a SCRAM user with ACLs on its topic only,
// and its password is read from Vault, never from a flag or a file.
func TestIntegrationProducerVaultSASL(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka, platformtest.SchemaRegistry, platformtest.Vault, platformtest.KafkaSASL)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	admCl, err := kgo.NewClient(kgo.SeedBrokers(p.SASLBrokers...),
		kgo.SASL(scram.Auth{User: p.KafkaAdminUser, Pass: p.KafkaAdminPassword}.AsSha512Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)

	topic := platformtest.UniqueName("examples.producer.sasl")
	user := platformtest.UniqueName("examples-producer")
	password := platformtest.UniqueName("pw")
	platformtest.CreateTopicsT(t, adm, 3, topic)

	acl := kadm.NewACLs().Allow("User:" + user).Topics(topic).Operations(kadm.OpAll)
	created, err := adm.CreateACLs(ctx, acl)
	if err == nil {
		for _, r := range created {
			err = errors.Join(err, r.Err)
		}
	}
	if err != nil {
		t.Fatalf("create acls: %v", err)
	}
	t.Cleanup(func() { _, _ = adm.DeleteACLs(context.Background(), acl) })

	scrams, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: user, Mechanism: kadm.ScramSha512, Iterations: 4096, Password: password}})
	if err == nil {
		err = scrams.Error()
	}
	if err != nil {
		t.Fatalf("create scram user: %v", err)
	}
	t.Cleanup(func() {
		_, _ = adm.AlterUserSCRAMs(context.Background(), []kadm.DeleteSCRAM{{User: user, Mechanism: kadm.ScramSha512}}, nil)
	})
	if err := p.WaitForSCRAM(ctx, user, password, true); err != nil {
		t.Fatal(err)
	}

	vc, err := secrets.New(ctx, secrets.WithAddress(p.VaultAddr), secrets.WithToken(secrets.NewValue(p.VaultToken)))
	if err != nil {
		t.Fatal(err)
	}
	kvPath := "examples/" + user + "/kafka"
	kv := vc.API().KVv2("secret")
	if _, err := kv.Put(ctx, kvPath, map[string]any{"username": user, "password": password}); err != nil {
		t.Fatalf("write vault secret: %v", err)
	}
	t.Cleanup(func() { _ = kv.DeleteMetadata(context.Background(), kvPath) })

	const count = 50
	cfg := config{
		brokers:        p.Brokers,
		registryURL:    p.SchemaRegistryURL,
		saslBrokers:    p.SASLBrokers,
		vaultAddr:      p.VaultAddr,
		vaultToken:     p.VaultToken,
		vaultKafkaPath: "secret/data/" + kvPath,
		topic:          topic,
		register:       true,
		rate:           25,
		count:          count,
		metricsAddr:    "127.0.0.1:0",
	}
	out, _ := runStopped(t, cfg, 10)
	if !strings.Contains(out, "(SASL SCRAM-SHA-512, credentials from vault secret/data/"+kvPath+")") {
		t.Errorf("output should say it used SASL with credentials from vault:\n%s", out)
	}
	if strings.Contains(out, password) || strings.Contains(out, p.VaultToken) {
		t.Error("a secret reached the output")
	}
	checkNoLoss(t, []kgo.Opt{kgo.SeedBrokers(p.Brokers...)}, topic, out, count)
}
