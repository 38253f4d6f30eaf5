package connect_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/platformtest"
)

// TestIntegrationConnectHTTPS applies a connector through the platform's
// HTTPS worker, the secure cluster's, which asks for basic authentication
// and whose own clients reach that cluster on SASL_SSL: the connector's
// records arrive there. Then each way
// the worker can refuse the client is a typed error at once, without
// retries: no credentials and a wrong password (401, ErrUnauthorized), a
// certificate of an authority the client does not trust and one the
// client sees as expired (ErrCertificate, never ErrUnavailable).
func TestIntegrationConnectHTTPS(t *testing.T) {
	p := platformtest.Require(t, platformtest.HTTPS, platformtest.SecureKafka, platformtest.KafkaSASL)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	trust, err := p.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	c, err := connect.New(connect.WithURLs(p.ConnectTLSURL), connect.WithTLSConfig(trust), connect.WithBasicAuth(p.ConnectUser, p.ConnectPassword))
	if err != nil {
		t.Fatal(err)
	}

	kc, err := kgo.NewClient(kgo.SeedBrokers(p.SecureSASLSSLBrokers...), kgo.DialTLSConfig(trust.Clone()),
		kgo.SASL(scram.Auth{User: p.KafkaAdminUser, Pass: p.KafkaAdminPassword}.AsSha512Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	adm := kadm.NewClient(kc)
	ns := platformtest.UniqueName("it-https") + "-"
	topic := ns + "lines"
	if _, err := adm.CreateTopic(ctx, 1, -1, nil, topic); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = adm.DeleteTopic(context.Background(), topic) })

	const n = 50
	var lines strings.Builder
	for i := range n {
		fmt.Fprintf(&lines, "line %d\n", i)
	}
	file := filepath.Join(t.TempDir(), "lines.txt")
	if err := os.WriteFile(file, []byte(lines.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := connect.Spec{Name: ns + "source", Config: map[string]string{
		"connector.class": fileSource, "tasks.max": "1", "file": file, "topic": topic,
		"key.converter": stringConv, "value.converter": stringConv,
	}}
	plan, err := c.Plan(ctx, []connect.Spec{spec}, connect.PlanOptions{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(ctx, plan, connect.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(context.Background(), spec.Name) })

	consumer, err := kgo.NewClient(kgo.SeedBrokers(p.SecureSASLSSLBrokers...), kgo.DialTLSConfig(trust.Clone()),
		kgo.SASL(scram.Auth{User: p.KafkaAdminUser, Pass: p.KafkaAdminPassword}.AsSha512Mechanism()),
		kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	got := 0
	for got < n {
		fs := consumer.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("after %d of %d records: %v", got, n, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if want := fmt.Sprintf("line %d", got); string(r.Value) != want {
				t.Errorf("record %d is %q, want %q", got, r.Value, want)
			}
			got++
		})
	}

	strangers, _, err := platformtest.ForeignCA()
	if err != nil {
		t.Fatal(err)
	}
	future := trust.Clone()
	future.Time = func() time.Time { return time.Now().AddDate(30, 0, 0) }
	for _, tc := range []struct {
		name  string
		opts  []connect.ClientOpt
		check func(error) bool
	}{
		{"no credentials", []connect.ClientOpt{connect.WithTLSConfig(trust.Clone())}, unauthorized},
		{"wrong password", []connect.ClientOpt{connect.WithTLSConfig(trust.Clone()), connect.WithBasicAuth(p.ConnectUser, "not-the-password")}, unauthorized},
		{"wrong CA", []connect.ClientOpt{connect.WithTLSConfig(&tls.Config{RootCAs: strangers, MinVersion: tls.VersionTLS12}),
			connect.WithBasicAuth(p.ConnectUser, p.ConnectPassword)},
			func(err error) bool {
				var ua x509.UnknownAuthorityError
				return errors.As(err, &ua) && errors.Is(err, connect.ErrCertificate) && !errors.Is(err, connect.ErrUnavailable)
			}},
		{"expired certificate", []connect.ClientOpt{connect.WithTLSConfig(future), connect.WithBasicAuth(p.ConnectUser, p.ConnectPassword)},
			func(err error) bool {
				var ci x509.CertificateInvalidError
				return errors.As(err, &ci) && ci.Reason == x509.Expired && errors.Is(err, connect.ErrCertificate)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad, err := connect.New(append([]connect.ClientOpt{connect.WithURLs(p.ConnectTLSURL)}, tc.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = bad.Names(ctx)
			if err == nil || !tc.check(err) {
				t.Fatalf("Names: %v", err)
			}
			if strings.Contains(err.Error(), p.ConnectPassword) {
				t.Errorf("the error shows the password: %v", err)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("refused after %s: it should not retry", took)
			}
			t.Logf("refused in %s: %v", time.Since(start).Round(time.Millisecond), err)
		})
	}
}

func unauthorized(err error) bool {
	var ae *connect.APIError
	return errors.As(err, &ae) && ae.StatusCode == 401 && errors.Is(err, connect.ErrUnauthorized)
}
