package secrets_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/secrets"
)

// vaultPKI mounts a PKI engine on the platform's Vault as an intermediate
// authority that the platform's CA signs, the way a platform team chains
// Vault to its root, with a role for Kafka client certificates whose
// max TTL is maxTTL. Kafka's SSL listeners trust the root, so they accept
// what the engine issues. It returns the mount; the mount is removed when
// the test ends.
func vaultPKI(t *testing.T, ctx context.Context, p platformtest.Platform, root *secrets.Client, maxTTL time.Duration) string {
	t.Helper()
	mount := "pki-" + platformtest.UniqueName("it")
	sys := root.API().Sys()
	if err := sys.MountWithContext(ctx, mount, &api.MountInput{Type: "pki", Config: api.MountConfigInput{MaxLeaseTTL: "1h"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.Unmount(mount) })
	logical := root.API().Logical()
	gen, err := logical.WriteWithContext(ctx, mount+"/intermediate/generate/internal",
		map[string]any{"common_name": "streamkit test intermediate " + mount, "key_type": "ec", "key_bits": 256})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(gen.Data["csr"].(string)))
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	caCert, caKey := platformCA(t, p)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: csr.Subject,
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(2 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true, MaxPathLenZero: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, csr.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	bundle := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})) +
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caCert.Raw}))
	if _, err := logical.WriteWithContext(ctx, mount+"/intermediate/set-signed", map[string]any{"certificate": bundle}); err != nil {
		t.Fatal(err)
	}
	if _, err := logical.WriteWithContext(ctx, mount+"/roles/kafka-client", map[string]any{
		"allow_any_name": true, "enforce_hostnames": false, "client_flag": true, "server_flag": false,
		"key_type": "ec", "key_bits": 256, "max_ttl": strconv.Itoa(int(maxTTL.Seconds())) + "s", "not_before_duration": "5s",
	}); err != nil {
		t.Fatal(err)
	}
	return mount
}

// platformCA reads the platform's certificate authority and its key.
func platformCA(t *testing.T, p platformtest.Platform) (*x509.Certificate, any) {
	t.Helper()
	certPEM, err := os.ReadFile(p.TLSCAFile)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(p.TLSCAKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		t.Fatal("the platform's CA or its key is not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// TestIntegrationCertificateRotation: Kafka clients on the platform's mTLS
// listeners authenticate with certificates from Vault's PKI engine that
// live a minute. A producer writes numbered records for longer than two
// lifetimes while the source renews; new clients, made along the way,
// connect with the certificate of the moment, the last after the first
// certificate has expired. Every record arrives, once and in order.
func TestIntegrationCertificateRotation(t *testing.T) {
	p := platformtest.Require(t, platformtest.Vault, platformtest.KafkaTLS, platformtest.HTTPS)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	root, err := secrets.New(ctx, secrets.WithAddress(p.VaultTLSAddr), secrets.WithCACert(p.TLSCAFile),
		secrets.WithToken(secrets.NewValue(p.VaultToken)))
	if err != nil {
		t.Fatal(err)
	}
	mount := vaultPKI(t, ctx, p, root, time.Minute)

	var mu sync.Mutex
	var issued []*secrets.IssuedCertificate
	src, err := secrets.NewCertificateSource(ctx, root,
		secrets.CertificateRequest{Mount: mount, Role: "kafka-client", CommonName: "streamkit-admin", TTL: time.Minute},
		secrets.CertificateSourceOptions{OnIssue: func(ic *secrets.IssuedCertificate) {
			mu.Lock()
			issued = append(issued, ic)
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	first := src.Current()
	if life := first.NotAfter.Sub(first.Issued); life > time.Minute+time.Second {
		t.Fatalf("the first certificate lives %s, want a minute at most", life)
	}
	runCtx, stopRun := context.WithCancel(ctx)
	runDone := make(chan error, 1)
	go func() { runDone <- src.Run(runCtx) }()
	defer func() { stopRun(); <-runDone }()

	trust, err := p.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	client := func(opts ...kgo.Opt) *kgo.Client {
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(p.MTLSBrokers...), kgo.DialTLSConfig(src.TLSConfig(trust))}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	admin := client()
	defer admin.Close()
	adm := kadm.NewClient(admin)
	topic := platformtest.UniqueName("it-pki")
	if _, err := adm.CreateTopic(ctx, 3, -1, nil, topic); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = adm.DeleteTopic(context.Background(), topic) })

	producer := client(kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	defer producer.Close()
	// 100 s: the first certificate expires at 60 s; the second is issued
	// at about 40 s, the third at about 80 s.
	const duration = 100 * time.Second
	var produced atomic.Int64
	var produceErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		end := time.Now().Add(duration)
		for i := 0; time.Now().Before(end); i++ {
			r := &kgo.Record{Partition: int32(i % 3), Value: []byte(strconv.Itoa(i))}
			if err := producer.ProduceSync(ctx, r).FirstErr(); err != nil {
				produceErr = fmt.Errorf("record %d: %w", i, err)
				return
			}
			produced.Add(1)
			time.Sleep(20 * time.Millisecond)
		}
	}()

	// New clients along the way: each opens new connections, so each
	// handshake presents the certificate the source holds then.
	var afterFirstExpired bool
	for probe := 1; ; probe++ {
		if err := sleepCtx(ctx, 20*time.Second); err != nil {
			t.Fatal(err)
		}
		serial := src.Current().SerialNumber
		cl := client()
		pctx, pcancel := context.WithTimeout(ctx, 20*time.Second)
		err := cl.Ping(pctx)
		pcancel()
		cl.Close()
		if err != nil {
			t.Fatalf("probe %d with certificate %s: %v", probe, serial, err)
		}
		if time.Now().After(first.NotAfter) {
			afterFirstExpired = true
		}
		t.Logf("probe %d connected with certificate %s (%d records so far)", probe, serial, produced.Load())
		if time.Duration(probe)*20*time.Second >= duration {
			break
		}
	}
	wg.Wait()
	if produceErr != nil {
		t.Fatal(produceErr)
	}
	if !afterFirstExpired {
		t.Error("no new client connected after the first certificate expired")
	}
	mu.Lock()
	n := len(issued)
	mu.Unlock()
	if n < 3 {
		t.Errorf("%d certificates issued in %s with a life of a minute, want 3 or more", n, duration)
	}

	// Read everything back with a client of the last certificate.
	consumer := client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer consumer.Close()
	want := int(produced.Load())
	next := [3]int{0, 1, 2}
	for got := 0; got < want; {
		fs := consumer.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("after %d of %d records: %v", got, want, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			i, _ := strconv.Atoi(string(r.Value))
			if i != next[r.Partition] {
				t.Fatalf("partition %d: record %d, want %d", r.Partition, i, next[r.Partition])
			}
			next[r.Partition] += 3
			got++
		})
	}
	t.Logf("%d records over %s, %d certificates of a minute", want, duration, n)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
