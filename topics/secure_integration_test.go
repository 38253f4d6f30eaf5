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
	"github.com/streamkit/streamkit/secrets"
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

// TestIntegrationSecureRevocation: the secure cluster checks revocation.
// A client certificate from Vault's PKI engine connects to its SSL
// listener; once revoked, a new connection with it is refused with
// ErrCertificateRefused (the node reads the mount's list again within
// 30 s), and a new certificate of the same name connects.
func TestIntegrationSecureRevocation(t *testing.T) {
	p := platformtest.Require(t, platformtest.SecureKafka, platformtest.Vault)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	v, err := secrets.New(ctx, secrets.WithAddress(p.VaultAddr), secrets.WithToken(secrets.NewValue(p.VaultToken)))
	if err != nil {
		t.Fatal(err)
	}
	mount := platformtest.MountPKI(t, ctx, p, v, time.Hour)
	trust, err := p.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	name := platformtest.UniqueName("it-revoked")
	issue := func() *secrets.IssuedCertificate {
		t.Helper()
		ic, err := v.IssueCertificate(ctx, secrets.CertificateRequest{Mount: mount, Role: platformtest.PKIRole, CommonName: name, TTL: 10 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		return ic
	}
	// connect asks the node for the topics on a new connection with ic.
	connect := func(ic *secrets.IssuedCertificate) error {
		cfg := trust.Clone()
		cfg.Certificates = []tls.Certificate{ic.TLS}
		c, err := topics.NewFromOptions([]kgo.Opt{kgo.SeedBrokers(p.SecureMTLSBrokers...), kgo.DialTLSConfig(cfg)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, err = c.Plan(ctx, nil, topics.PlanOptions{Namespace: name + "."})
		return err
	}
	revoked := issue()
	if err := connect(revoked); err != nil && !topics.IsAuthorizationError(err) {
		t.Fatalf("before revocation: %v", err)
	}
	if err := v.RevokeCertificate(ctx, mount, revoked.SerialNumber); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var refusal error
	for refusal == nil && ctx.Err() == nil {
		if err := connect(revoked); errors.Is(err, topics.ErrCertificateRefused) {
			refusal = err
		} else if err != nil && !topics.IsAuthorizationError(err) {
			t.Fatalf("after revocation: %v, want ErrCertificateRefused", err)
		} else {
			time.Sleep(2 * time.Second)
		}
	}
	if refusal == nil {
		t.Fatal("the revoked certificate was never refused")
	}
	t.Logf("revoked certificate refused %s after the revocation: %v", time.Since(start).Round(100*time.Millisecond), refusal)
	if err := connect(issue()); err != nil && !topics.IsAuthorizationError(err) {
		t.Fatalf("a new certificate: %v", err)
	}
}
