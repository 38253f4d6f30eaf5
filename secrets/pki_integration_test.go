package secrets_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/secrets"
)

// TestIntegrationCertificateRotation: Kafka clients on the platform's mTLS
// listeners authenticate with certificates from Vault's PKI engine that
// live a minute. A producer writes numbered records for 75 s while the
// source renews; new clients, made along the way,
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
	mount := platformtest.MountPKI(t, ctx, p, root, time.Minute)

	var mu sync.Mutex
	var issued []*secrets.IssuedCertificate
	src, err := secrets.NewCertificateSource(ctx, root,
		secrets.CertificateRequest{Mount: mount, Role: platformtest.PKIRole, CommonName: "streamkit-admin", TTL: time.Minute},
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
	// 75 s: the second certificate is issued at about 40 s, the first
	// expires at 60 s, and the last probe connects after that.
	const duration = 75 * time.Second
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
		if err := sleepCtx(ctx, 15*time.Second); err != nil {
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
		if time.Duration(probe)*15*time.Second >= duration {
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
	if n < 2 {
		t.Errorf("%d certificates issued in %s with a life of a minute, want 2 or more", n, duration)
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
