package topics_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/topics"
)

// TestIntegrationTLS plans and applies topics through the platform's SSL
// listeners as the super user's client certificate (mTLS); a broker
// certificate of an authority the client does not trust is an
// x509.UnknownAuthorityError at once, as are a missing client certificate
// (ErrCertificateRefused) and a wrong password on the SASL_SSL listeners
// (kerr.SaslAuthenticationFailed), each in an *AuthError.
func TestIntegrationTLS(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka, platformtest.KafkaTLS, platformtest.KafkaSASL)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	caPEM, err := os.ReadFile(p.TLSCAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatalf("%s holds no certificate", p.TLSCAFile)
	}
	cert, err := tls.LoadX509KeyPair(p.TLSCertFile, p.TLSKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	client := func(cfg *tls.Config, extra ...kgo.Opt) *topics.Client {
		brokers := p.MTLSBrokers
		if len(extra) > 0 {
			brokers = p.SASLSSLBrokers
		}
		c, err := topics.NewFromOptions(append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.DialTLSConfig(cfg)}, extra...))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}

	ns := platformtest.UniqueName("it-tls") + "."
	c := client(&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	desired := []topics.Spec{{Name: ns + "orders", Partitions: 3, ReplicationFactor: 1}}
	plan, err := c.Plan(ctx, desired, topics.PlanOptions{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(ctx, plan, topics.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if plan, err := c.Plan(ctx, nil, topics.PlanOptions{Namespace: ns, Prune: true}); err == nil {
			_, _ = c.Apply(ctx, plan, topics.ApplyOptions{Force: true})
		}
	})
	plan, err = c.Plan(ctx, desired, topics.PlanOptions{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if creates, updates, deletes, _, refusals := plan.Count(); creates+updates+deletes+refusals != 0 {
		t.Fatalf("the plan after apply over mTLS is not empty:\n%s", plan)
	}

	refused := []struct {
		name  string
		cfg   *tls.Config
		extra []kgo.Opt
		check func(error) bool
	}{
		{"wrong CA", &tls.Config{RootCAs: x509.NewCertPool(), Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil,
			func(err error) bool { var ua x509.UnknownAuthorityError; return errors.As(err, &ua) }},
		{"no client certificate", &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, nil,
			func(err error) bool { return errors.Is(err, topics.ErrCertificateRefused) }},
		{"wrong password over TLS", &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
			[]kgo.Opt{kgo.SASL(scram.Auth{User: p.KafkaAdminUser, Pass: "not-the-password"}.AsSha512Mechanism())},
			func(err error) bool { return errors.Is(err, kerr.SaslAuthenticationFailed) }},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := client(tc.cfg, tc.extra...).Plan(ctx, desired, topics.PlanOptions{Namespace: ns})
			var ae *topics.AuthError
			if err == nil || !tc.check(err) || !errors.As(err, &ae) || !errors.Is(err, topics.ErrAuthentication) {
				t.Fatalf("Plan: %v", err)
			}
			if ae.Broker == "" {
				t.Errorf("the AuthError names no broker: %v", err)
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("refused after %s: it should not wait", took)
			}
			t.Logf("refused in %s: %v", time.Since(start).Round(time.Millisecond), err)
		})
	}
}
