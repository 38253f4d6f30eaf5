package faults

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/secrets"
)

// TestFaultVaultStoppedDuringRefresh: producers that read their SCRAM
// credentials from Vault on every new connection keep producing with the
// last good pair while Vault is killed, a source that allows no stale pair
// fails with ErrUnavailable and no secret in its message, and once Vault is
// back (its dev server starts empty, so the operator writes the secret
// again) fresh reads work. Every acknowledged record is in the topic.
func TestFaultVaultStoppedDuringRefresh(t *testing.T) {
	p := requireFaults(t, platformtest.Kafka, platformtest.KafkaSASL, platformtest.Vault)
	ctx := suiteCtx(t, 3*time.Minute)
	topic := platformtest.UniqueName("fault-vault")
	platformtest.CreateTopicsT(t, p.Clients.Admin, 3, topic)

	mount, path := "secret", platformtest.UniqueName("fault-vault/kafka")
	seed := func() {
		t.Helper()
		_, err := p.Clients.Vault.API().KVv2(mount).Put(ctx, path, map[string]any{
			"username": p.KafkaAdminUser, "password": p.KafkaAdminPassword,
		})
		if err != nil {
			t.Fatalf("write the secret: %v", err)
		}
	}
	seed()
	ref := mount + "/data/" + path
	lenient := p.Clients.Vault.Credentials(ref, "username", "password", 0, 10*time.Minute)
	strict := p.Clients.Vault.Credentials(ref, "username", "password", 0, 0)

	const batch = 200
	produced := 0
	produce := func(what string) {
		t.Helper()
		// A new client: new connections, each reading the credentials.
		cl, err := kgo.NewClient(kgo.SeedBrokers(p.SASLBrokers...), kgo.SASL(lenient.SCRAMSHA512()), kgo.DefaultProduceTopic(topic))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		rs := make([]*kgo.Record, batch)
		for i := range rs {
			rs[i] = &kgo.Record{Value: []byte(strconv.Itoa(produced + i))}
		}
		if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			t.Fatalf("%s: produce: %v", what, err)
		}
		produced += batch
	}

	produce("vault up")
	if _, _, err := strict.Get(ctx); err != nil {
		t.Fatal(err)
	}
	kill(t, "vault")
	produce("vault down")
	produce("vault still down")
	_, _, err := strict.Get(ctx)
	if !errors.Is(err, secrets.ErrUnavailable) {
		t.Fatalf("strict credentials with vault down: got %v, want ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), p.KafkaAdminPassword) {
		t.Fatal("the error shows the password")
	}
	if err := <-startAsync(t, "vault"); err != nil {
		t.Fatal(err)
	}
	seed()

	// A hung Vault (it accepts connections and never answers) costs a new
	// connection no more than a bounded wait: the last good pair is served.
	control(t, "pause", "vault")
	t.Cleanup(func() {
		if !running("vault") {
			control(t, "resume", "vault")
		}
	})
	start := time.Now()
	produce("vault hung")
	took := time.Since(start)
	t.Logf("a batch with vault hung took %s", took.Round(time.Millisecond))
	// Each of the three brokers' connections waits StaleWait at most.
	if took > 4*secrets.StaleWait+5*time.Second {
		t.Fatalf("a batch with vault hung took %s", took)
	}
	control(t, "resume", "vault")
	if _, pass, err := strict.Get(ctx); err != nil || pass.Reveal() != p.KafkaAdminPassword {
		t.Fatalf("strict credentials after vault is back: %v", err)
	}
	produce("vault back")

	// Every acknowledged record is in the topic.
	if got := endOffsetsSum(t, ctx, p.Clients.Admin, topic); got != int64(produced) {
		t.Fatalf("topic holds %d records, want the %d acknowledged", got, produced)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	seen := map[string]bool{}
	for len(seen) < produced {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %d of %d: %v", len(seen), produced, err)
		}
		fs.EachRecord(func(r *kgo.Record) { seen[string(r.Value)] = true })
	}
}
