package topics_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/topics"
)

// TestIntegrationACLRoles grants a producer role and a consumer role on a
// real Kafka with the StandardAuthorizer, then connects as each principal
// through the SASL/SCRAM listener: the consumer reads but cannot write,
// the producer writes but cannot read, and each denial is a typed
// authorization error.
func TestIntegrationACLRoles(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka, platformtest.KafkaSASL)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The admin connects through the SASL listener as the super user.
	admin, err := topics.NewFromOptions([]kgo.Opt{kgo.SeedBrokers(p.SASLBrokers...),
		kgo.SASL(scram.Auth{User: p.KafkaAdminUser, Pass: p.KafkaAdminPassword}.AsSha512Mechanism())})
	if err != nil {
		t.Fatal(err)
	}
	// Closed after the clean-ups below, which use it.
	t.Cleanup(admin.Close)

	ns := platformtest.UniqueName("acl") + "."
	topic := ns + "orders.v1"
	group := ns + "billing"
	if _, err := admin.Apply(ctx, mustPlan(t, ctx, admin, []topics.Spec{{Name: topic, Partitions: 1, ReplicationFactor: 1}},
		topics.PlanOptions{Namespace: ns}), topics.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Admin().DeleteTopics(context.Background(), topic) })

	producer, producerPass := ns+"producer", secret()
	consumer, consumerPass := ns+"consumer", secret()
	var upserts []kadm.UpsertSCRAM
	for user, pass := range map[string]string{producer: producerPass, consumer: consumerPass} {
		upserts = append(upserts, kadm.UpsertSCRAM{User: user, Mechanism: kadm.ScramSha512, Iterations: 4096, Password: pass})
	}
	if resp, err := admin.Admin().AlterUserSCRAMs(ctx, nil, upserts); err != nil || resp.Error() != nil {
		t.Fatalf("create users: %v %v", err, resp.Error())
	}
	t.Cleanup(func() {
		_, _ = admin.Admin().AlterUserSCRAMs(context.Background(),
			[]kadm.DeleteSCRAM{{User: producer, Mechanism: kadm.ScramSha512}, {User: consumer, Mechanism: kadm.ScramSha512}}, nil)
	})

	// Every broker learns of the new credentials a moment apart.
	for user, pass := range map[string]string{producer: producerPass, consumer: consumerPass} {
		if err := p.WaitForSCRAM(ctx, user, pass, true); err != nil {
			t.Fatal(err)
		}
	}

	grants := []topics.Grant{
		{Principal: "User:" + producer, Role: topics.RoleProducer, Topics: []string{topic}},
		{Principal: "User:" + consumer, Role: topics.RoleConsumer, Topics: []string{ns + "*"}, Groups: []string{group}},
	}
	aclOpts := topics.PlanOptions{Namespace: ns, Prune: true}
	plan, err := admin.PlanACLs(ctx, grants, nil, aclOpts)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Create) != 6 {
		t.Fatalf("acl plan:\n%s", plan)
	}
	if err := admin.ApplyACLs(ctx, plan); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if p, err := admin.PlanACLs(ctx, nil, nil, aclOpts); err == nil {
			_ = admin.ApplyACLs(ctx, p)
		}
	})
	if again, err := admin.PlanACLs(ctx, grants, nil, aclOpts); err != nil || !again.Empty() {
		t.Fatalf("second acl plan (%v):\n%s", err, again)
	}

	as := func(user, pass string, opts ...kgo.Opt) *kgo.Client {
		t.Helper()
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(p.SASLBrokers...),
			kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()), kgo.RequestRetries(2)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}

	// The producer writes, and cannot read.
	prod := as(producer, producerPass)
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("order-1")}).FirstErr(); err != nil {
		t.Fatalf("producer role cannot write: %v", err)
	}
	prodReader := as(producer, producerPass, kgo.ConsumeTopics(topic), kgo.ConsumerGroup(group))
	if err := firstFetchError(ctx, prodReader); !topics.IsAuthorizationError(err) {
		t.Fatalf("producer role reading: got %v, want an authorization error", err)
	}

	// The consumer reads, and cannot write.
	cons := as(consumer, consumerPass, kgo.ConsumeTopics(topic), kgo.ConsumerGroup(group),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	recs := pollRecords(t, ctx, cons)
	if len(recs) != 1 || string(recs[0].Value) != "order-1" {
		t.Fatalf("consumer role read %v", recs)
	}
	if err := cons.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("consumer role cannot commit in its group: %v", err)
	}
	consWriter := as(consumer, consumerPass)
	err = consWriter.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("forged")}).FirstErr()
	if !topics.IsAuthorizationError(err) {
		t.Fatalf("consumer role writing: got %v, want an authorization error", err)
	}
}

// TestIntegrationACLPrune applies two namespaces' grants on a real Kafka
// with the StandardAuthorizer, one granting the other's principal a
// consumer role, then prunes the first with no grants: every binding it
// created goes, its producer's IDEMPOTENT_WRITE on the cluster included,
// and the other namespace's bindings stay.
func TestIntegrationACLPrune(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka, platformtest.KafkaSASL)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := topics.NewFromOptions([]kgo.Opt{kgo.SeedBrokers(p.SASLBrokers...),
		kgo.SASL(scram.Auth{User: p.KafkaAdminUser, Pass: p.KafkaAdminPassword}.AsSha512Mechanism())})
	if err != nil {
		t.Fatal(err)
	}
	// Closed after the clean-ups below, which use it.
	t.Cleanup(admin.Close)

	ns, other := platformtest.UniqueName("acl")+".", platformtest.UniqueName("acl")+"."
	planApply := func(grants []topics.Grant, ns string) *topics.ACLPlan {
		t.Helper()
		plan, err := admin.PlanACLs(ctx, grants, nil, topics.PlanOptions{Namespace: ns, Prune: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := admin.ApplyACLs(ctx, plan); err != nil {
			t.Fatal(err)
		}
		return plan
	}
	for _, n := range []string{ns, other} {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if p, err := admin.PlanACLs(ctx, nil, nil, topics.PlanOptions{Namespace: n, Prune: true}); err == nil {
				_ = admin.ApplyACLs(ctx, p)
			}
		})
	}

	otherGrants := []topics.Grant{{Principal: "User:" + other + "producer", Role: topics.RoleProducer, Topics: []string{other + "t"}}}
	planApply(otherGrants, other)
	grants := []topics.Grant{
		{Principal: "User:" + ns + "producer", Role: topics.RoleProducer, Topics: []string{ns + "orders.v1"}},
		{Principal: "User:" + other + "producer", Role: topics.RoleConsumer, Topics: []string{ns + "*"}, Groups: []string{ns + "g"}},
	}
	if plan := planApply(grants, ns); len(plan.Create) != 6 || len(plan.Delete) != 0 {
		t.Fatalf("first plan: want 6 creations and no deletion\n%s", plan)
	}

	plan := planApply(nil, ns)
	cluster := 0
	for _, b := range plan.Delete {
		if b.Resource == "CLUSTER" {
			cluster++
			if b.Principal != "User:"+ns+"producer" || b.Operation != "IDEMPOTENT_WRITE" {
				t.Fatalf("prune deletes %v", b)
			}
		}
	}
	if len(plan.Delete) != 6 || cluster != 1 {
		t.Fatalf("prune plan: want 6 deletions, the IDEMPOTENT_WRITE among them\n%s", plan)
	}
	if again, err := admin.PlanACLs(ctx, nil, nil, topics.PlanOptions{Namespace: ns, Prune: true}); err != nil || !again.Empty() {
		t.Fatalf("plan after the prune (%v):\n%s", err, again)
	}
	if again, err := admin.PlanACLs(ctx, otherGrants, nil, topics.PlanOptions{Namespace: other, Prune: true}); err != nil || !again.Empty() {
		t.Fatalf("the other namespace's plan after the prune (%v):\n%s", err, again)
	}
}

func firstFetchError(ctx context.Context, cl *kgo.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			return err
		}
		for _, e := range fs.Errors() {
			return e.Err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

func pollRecords(t *testing.T, ctx context.Context, cl *kgo.Client) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		fs := cl.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatalf("consume: %v", err)
		}
		if recs := fs.Records(); len(recs) > 0 {
			return recs
		}
	}
}

func secret() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
