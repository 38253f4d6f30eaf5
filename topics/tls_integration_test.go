package topics_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/topics"
)

// TestIntegrationTLS plans and applies topics through the platform's SSL
// listeners as the super user's client certificate (mTLS); a broker
// certificate of an authority the client does not trust is an
// x509.UnknownAuthorityError at once. (A client without a certificate is
// refused too, but only after kgo's retries, about 28 s: the Client does
// not yet watch its connections as schema's clients do.)
func TestIntegrationTLS(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka, platformtest.KafkaTLS)
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
	client := func(cfg *tls.Config) *topics.Client {
		c, err := topics.NewFromOptions([]kgo.Opt{kgo.SeedBrokers(p.MTLSBrokers...), kgo.DialTLSConfig(cfg)})
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
		check func(error) bool
	}{
		{"wrong CA", &tls.Config{RootCAs: x509.NewCertPool(), Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
			func(err error) bool { var ua x509.UnknownAuthorityError; return errors.As(err, &ua) }},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := client(tc.cfg).Plan(ctx, desired, topics.PlanOptions{Namespace: ns})
			if err == nil || !tc.check(err) {
				t.Fatalf("Plan: %v", err)
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("refused after %s: it should not wait", took)
			}
			t.Logf("refused in %s: %v", time.Since(start).Round(time.Millisecond), err)
		})
	}
}
