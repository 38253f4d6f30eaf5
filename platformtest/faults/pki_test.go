package faults

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/secrets"
)

// TestFaultVaultHungDuringCertificateRotation: a producer authenticates
// on the mTLS listeners with certificates from Vault's PKI engine that
// live 20 s (TestIntegrationCertificateRotation runs the minute-long ones;
// this test is about the outage), and Vault hangs (paused) from before
// the first renewal until after that certificate has expired. The producer's records keep
// flowing on the connections it has; a new client cannot connect then,
// and is told ErrUnavailable rather than presenting the expired
// certificate; once Vault answers again the source issues the next one
// and a new client connects. Every acknowledged record is in the topic.
func TestFaultVaultHungDuringCertificateRotation(t *testing.T) {
	p := requireFaults(t, platformtest.Kafka, platformtest.Vault, platformtest.KafkaTLS, platformtest.HTTPS)
	ctx := suiteCtx(t, 4*time.Minute)
	mount := platformtest.MountPKI(t, ctx, *p, p.Clients.Vault, time.Minute)
	issued := make(chan *secrets.IssuedCertificate, 16)
	src, err := secrets.NewCertificateSource(ctx, p.Clients.Vault,
		secrets.CertificateRequest{Mount: mount, Role: platformtest.PKIRole, CommonName: "streamkit-admin", TTL: 20 * time.Second},
		secrets.CertificateSourceOptions{RenewAt: 0.5, RetryMin: time.Second, RetryMax: 2 * time.Second,
			OnIssue: func(ic *secrets.IssuedCertificate) { issued <- ic }})
	if err != nil {
		t.Fatal(err)
	}
	first := <-issued
	runCtx, stop := context.WithCancel(ctx)
	var runs sync.WaitGroup
	runs.Add(1)
	go func() { defer runs.Done(); _ = src.Run(runCtx) }()
	defer func() { stop(); runs.Wait() }()

	trust, err := p.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	topic := platformtest.UniqueName("fault-pki")
	platformtest.CreateTopicsT(t, p.Clients.Admin, 3, topic)
	producer, err := kgo.NewClient(kgo.SeedBrokers(p.MTLSBrokers...), kgo.DialTLSConfig(src.TLSConfig(trust)),
		kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	var acked atomic.Int64
	var stopProducing atomic.Bool
	var produceErr error
	var produced sync.WaitGroup
	produced.Add(1)
	go func() {
		defer produced.Done()
		// Each record is acknowledged before the next is sent, so the
		// topic must hold exactly the acknowledged ones.
		for i := 0; !stopProducing.Load(); i++ {
			if err := producer.ProduceSync(ctx, &kgo.Record{Value: []byte(strconv.Itoa(i))}).FirstErr(); err != nil {
				produceErr = err
				return
			}
			acked.Add(1)
			time.Sleep(10 * time.Millisecond)
		}
	}()
	connect := func(d time.Duration) error {
		cl, err := kgo.NewClient(kgo.SeedBrokers(p.MTLSBrokers...), kgo.DialTLSConfig(src.TLSConfig(trust)))
		if err != nil {
			return err
		}
		defer cl.Close()
		pctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		return cl.Ping(pctx)
	}

	time.Sleep(2 * time.Second)
	control(t, "pause", "vault")
	pausedAt := time.Now()
	t.Cleanup(func() {
		if !running("vault") {
			control(t, "resume", "vault")
		}
	})
	before := acked.Load()
	time.Sleep(time.Until(first.NotAfter) + 2*time.Second)
	if src.Current() != first {
		t.Fatal("a certificate was issued while Vault was hung")
	}
	if _, err := src.GetClientCertificate(nil); !errors.Is(err, secrets.ErrUnavailable) {
		t.Fatalf("the source after its certificate expired with Vault hung: %v", err)
	}
	if err := connect(3 * time.Second); err == nil {
		t.Fatal("a new client connected with Vault hung and the certificate expired")
	}
	during := acked.Load() - before
	t.Logf("%d records acknowledged while Vault hung (%s; the certificate expired %s before the end)", during,
		time.Since(pausedAt).Round(time.Second), -time.Until(first.NotAfter).Round(time.Second))
	if during == 0 {
		t.Error("no record was acknowledged while Vault hung: the producer's open connections should carry on")
	}
	control(t, "resume", "vault")
	select {
	case ic := <-issued:
		t.Logf("certificate %s issued after Vault came back", ic.SerialNumber)
	case <-time.After(45 * time.Second):
		t.Fatal("no certificate issued 45 s after Vault came back")
	}
	if err := connect(20 * time.Second); err != nil {
		t.Fatalf("a new client after Vault came back: %v", err)
	}
	time.Sleep(2 * time.Second)
	stopProducing.Store(true)
	produced.Wait()
	if produceErr != nil {
		t.Fatal(produceErr)
	}
	if got := endOffsetsSum(t, ctx, p.Clients.Admin, topic); got != acked.Load() {
		t.Fatalf("topic holds %d records, want the %d acknowledged", got, acked.Load())
	}
}
