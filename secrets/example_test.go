package secrets_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/secrets"
)

func ExampleValue() {
	password := secrets.NewValue("hunter2")
	fmt.Println(password)
	fmt.Printf("%q %#v\n", password, password)
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	logger.Info("connecting", "user", "pricing", "password", password)
	// Output:
	// [redacted]
	// [redacted] [redacted]
	// level=INFO msg=connecting user=pricing password=[redacted]
}

func ExampleFindRefs() {
	refs, err := secrets.FindRefs(map[string]string{
		"database.password": "${vault:secret/data/pricing/db:password}",
	})
	if err != nil {
		panic(err)
	}
	r := refs["database.password"][0]
	fmt.Println(r.Path, r.Key)
	// Output: secret/data/pricing/db password
}

// A Kafka client that presents a client certificate from Vault's PKI
// engine, renewed before it expires, on every connection it opens.
func ExampleNewCertificateSource() {
	ctx := context.Background()
	vault, err := secrets.New(ctx, secrets.WithEnvironment())
	if err != nil {
		log.Fatal(err)
	}
	src, err := secrets.NewCertificateSource(ctx, vault,
		secrets.CertificateRequest{Mount: "pki", Role: "kafka-client", CommonName: "pricing.publisher", TTL: time.Hour},
		secrets.CertificateSourceOptions{})
	if err != nil {
		log.Fatal(err) // a *VaultError: the role refused the name, Vault unreachable, ...
	}
	go func() { _ = src.Run(ctx) }()
	caPEM, err := os.ReadFile("/etc/streamkit/ca.pem")
	if err != nil {
		log.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	cl, err := kgo.NewClient(kgo.SeedBrokers("kafka-1:9096"),
		kgo.DialTLSConfig(src.TLSConfig(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12})))
	if err != nil {
		log.Fatal(err)
	}
	defer cl.Close()
	fmt.Println(src.Current()) // the serial and validity, never the key
}
