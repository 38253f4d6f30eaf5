package topics_test

import (
	"context"
	"crypto/tls"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/topics"
)

// TestIntegrationSecureCluster plans and applies topics on the platform's
// secure cluster, whose only client listeners are TLS ones: as the admin's
// client certificate on its SSL listener, and as the SCRAM admin on its
// SASL_SSL listener, which see the same topics. A principal without ACLs
// there (the app's client certificate) may create nothing: Apply fails
// with Kafka's authorization error.
func TestIntegrationSecureCluster(t *testing.T) {
	p := platformtest.Require(t, platformtest.SecureKafka, platformtest.KafkaSASL)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	trust, err := p.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	admin, err := p.ClientTLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	client := func(opts ...kgo.Opt) *topics.Client {
		c, err := topics.NewFromOptions(opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	mtls := client(kgo.SeedBrokers(p.SecureMTLSBrokers...), kgo.DialTLSConfig(admin))
	sasl := client(kgo.SeedBrokers(p.SecureSASLSSLBrokers...), kgo.DialTLSConfig(trust.Clone()),
		kgo.SASL(scram.Auth{User: p.KafkaAdminUser, Pass: p.KafkaAdminPassword}.AsSha512Mechanism()))

	ns := platformtest.UniqueName("it-secure") + "."
	desired := []topics.Spec{{Name: ns + "cards", Partitions: 3, ReplicationFactor: 1,
		Configs: map[string]string{"min.insync.replicas": "1"}}}
	plan, err := mtls.Plan(ctx, desired, topics.PlanOptions{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mtls.Apply(ctx, plan, topics.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if plan, err := mtls.Plan(ctx, nil, topics.PlanOptions{Namespace: ns, Prune: true}); err == nil {
			_, _ = mtls.Apply(ctx, plan, topics.ApplyOptions{Force: true})
		}
	})
	again, err := sasl.Plan(ctx, desired, topics.PlanOptions{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if creates, updates, deletes, _, refusals := again.Count(); creates+updates+deletes+refusals != 0 {
		t.Fatalf("over SASL_SSL the plan after apply is not empty:\n%s", again)
	}

	// The app's certificate: authenticated, but granted nothing.
	// scripts/platform writes it beside the admin's (scripts/certs).
	dir := filepath.Dir(p.TLSCertFile)
	appCert, err := tls.LoadX509KeyPair(filepath.Join(dir, "client-streamkit-app.pem"), filepath.Join(dir, "client-streamkit-app-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	appTLS := trust.Clone()
	appTLS.Certificates = []tls.Certificate{appCert}
	app := client(kgo.SeedBrokers(p.SecureMTLSBrokers...), kgo.DialTLSConfig(appTLS))
	more := []topics.Spec{{Name: ns + "wellness", Partitions: 1, ReplicationFactor: 1}}
	appPlan, err := app.Plan(ctx, more, topics.PlanOptions{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	_, err = app.Apply(ctx, appPlan, topics.ApplyOptions{})
	if !errors.Is(err, kerr.TopicAuthorizationFailed) && !errors.Is(err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("Apply as a principal without ACLs: %v", err)
	}
	t.Logf("refused: %v", err)
}
