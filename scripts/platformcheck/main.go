// Command platformcheck is the Kafka readiness probe of scripts/platform: it
// waits until the brokers accept a produce and serve the same record back to
// a consumer, which an open port alone does not show.
//
// With -sasl-brokers it then checks every SASL listener on its own: a login
// as -sasl-user with SCRAM-SHA-512 and SCRAM-SHA-256 and the password in
// STREAMKIT_KAFKA_ADMIN_PASSWORD (an environment variable, so it does not
// show in ps) lists the check topic, and the same login with a wrong password
// is refused with SASL_AUTHENTICATION_FAILED.
//
// With -tls-ca, -tls-cert and -tls-key the round trip runs over TLS with
// that client certificate: the probe of a cluster whose only listeners are
// TLS ones.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

const (
	topic = "_streamkit-platform-check"
	// envPassword holds the password of -sasl-user.
	envPassword = "STREAMKIT_KAFKA_ADMIN_PASSWORD"
)

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "comma-separated bootstrap brokers")
	saslBrokers := flag.String("sasl-brokers", "", "comma-separated SASL_PLAINTEXT listeners to check, one per broker; none when empty")
	saslUser := flag.String("sasl-user", "admin", "SCRAM user of the SASL check; its password is read from "+envPassword)
	timeout := flag.Duration("timeout", 90*time.Second, "how long to keep trying, all checks together")
	tlsCA := flag.String("tls-ca", "", "PEM file of the authority of the brokers' certificates; the round trip runs over TLS when set")
	tlsCert := flag.String("tls-cert", "", "PEM file of the client certificate for -tls-ca's round trip")
	tlsKey := flag.String("tls-key", "", "PEM file of -tls-cert's key")
	flag.Parse()

	var clientOpts []kgo.Opt
	if *tlsCA != "" {
		cfg, err := tlsConfig(*tlsCA, *tlsCert, *tlsKey)
		if err != nil {
			fmt.Fprintf(os.Stderr, "platformcheck: %v\n", err)
			os.Exit(2)
		}
		clientOpts = append(clientOpts, kgo.DialTLSConfig(cfg))
	}

	password := os.Getenv(envPassword)
	if *saslBrokers != "" && password == "" {
		fmt.Fprintf(os.Stderr, "platformcheck: -sasl-brokers needs the password of %q in %s\n", *saslUser, envPassword)
		os.Exit(2)
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	start := time.Now()
	retry(ctx, "kafka round trip", start, func() error {
		return roundTrip(ctx, strings.Split(*brokers, ","), clientOpts...)
	})
	if *saslBrokers == "" {
		return
	}
	for _, addr := range strings.Split(*saslBrokers, ",") {
		retry(ctx, "scram login on "+addr, start, func() error {
			return checkSASL(ctx, addr, *saslUser, password)
		})
	}
}

// retry runs check every second until it succeeds or ctx ends, and exits
// the process with the last error in the latter case.
func retry(ctx context.Context, what string, start time.Time, check func() error) {
	for {
		err := check()
		if err == nil {
			fmt.Printf("platformcheck: %s ok after %s\n", what, time.Since(start).Round(time.Millisecond))
			return
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(os.Stderr, "platformcheck: %s failed after %s: %v\n", what, time.Since(start).Round(time.Second), err)
			os.Exit(1)
		case <-time.After(time.Second):
		}
	}
}

// checkSASL logs in to the single listener addr as user with
// SCRAM-SHA-512 and with SCRAM-SHA-256, and lists the topics there, which
// must include the round trip's topic (a principal without ACLs would see
// none); then it logs in with a wrong password, which the broker must
// refuse. Both mechanisms: a restarted node can lose one mechanism's
// credentials and keep the other's. Requests go to that listener alone,
// never to a broker discovered through it.
func checkSASL(ctx context.Context, addr, user, password string) error {
	attemptCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()

	auth := scram.Auth{User: user, Pass: password}
	for _, m := range []struct {
		name string
		mech sasl.Mechanism
	}{{"SCRAM-SHA-512", auth.AsSha512Mechanism()}, {"SCRAM-SHA-256", auth.AsSha256Mechanism()}} {
		topics, err := listTopicsAt(attemptCtx, addr, m.mech)
		if err != nil {
			return fmt.Errorf("list topics as %s with %s: %w", user, m.name, err)
		}
		var found bool
		for _, t := range topics {
			found = found || t == topic
		}
		if !found {
			return fmt.Errorf("list topics as %s with %s: %s not among the %d topics listed", user, m.name, topic, len(topics))
		}
	}

	wrong := scram.Auth{User: user, Pass: password + "-wrong"}
	_, err := listTopicsAt(attemptCtx, addr, wrong.AsSha512Mechanism())
	if err == nil {
		return fmt.Errorf("login as %s with a wrong password: accepted", user)
	}
	if !errors.Is(err, kerr.SaslAuthenticationFailed) {
		return fmt.Errorf("login as %s with a wrong password: got %w, want %s", user, err, kerr.SaslAuthenticationFailed.Message)
	}
	return nil
}

// listTopicsAt sends one metadata request for all topics to addr itself,
// authenticated with mech.
func listTopicsAt(ctx context.Context, addr string, mech sasl.Mechanism) ([]string, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.SASL(mech))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	seeds := cl.SeedBrokers()
	if len(seeds) != 1 {
		return nil, fmt.Errorf("got %d seed brokers for %s, want 1", len(seeds), addr)
	}
	req := kmsg.NewPtrMetadataRequest() // nil Topics: all topics
	resp, err := req.RequestWith(ctx, seeds[0])
	if err != nil {
		return nil, err
	}
	var topics []string
	for _, t := range resp.Topics {
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return nil, fmt.Errorf("topic %v: %w", t.Topic, err)
		}
		if t.Topic != nil {
			topics = append(topics, *t.Topic)
		}
	}
	return topics, nil
}

// roundTrip creates the check topic if needed, produces one record with a
// unique value and consumes from the produced offset until it reads it.
func roundTrip(ctx context.Context, brokers []string, opts ...kgo.Opt) error {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.RequestRetries(2)}, opts...)...)
	if err != nil {
		return err
	}
	defer cl.Close()

	attemptCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()

	adm := kadm.NewClient(cl)
	resp, err := adm.CreateTopic(attemptCtx, 1, -1, nil, topic)
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic: %w", err)
	}
	if resp.Err != nil && !errors.Is(resp.Err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic: %w", resp.Err)
	}

	want := fmt.Sprintf("check-%d", time.Now().UnixNano())
	r, err := cl.ProduceSync(attemptCtx, &kgo.Record{Topic: topic, Value: []byte(want)}).First()
	if err != nil {
		return fmt.Errorf("produce: %w", err)
	}

	consumer, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
			topic: {r.Partition: kgo.NewOffset().At(r.Offset)},
		})}, opts...)...)
	if err != nil {
		return err
	}
	defer consumer.Close()
	for {
		fs := consumer.PollFetches(attemptCtx)
		if err := attemptCtx.Err(); err != nil {
			return fmt.Errorf("consume: %w", err)
		}
		var got bool
		fs.EachRecord(func(rec *kgo.Record) { got = got || string(rec.Value) == want })
		if got {
			return nil
		}
	}
}

// tlsConfig trusts the authority in caFile and presents the client
// certificate in certFile and keyFile.
func tlsConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("%s holds no certificate", caFile)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
