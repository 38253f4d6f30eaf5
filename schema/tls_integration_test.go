package schema

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/internal/platformenv"
)

// tlsPlatform is what scripts/platform's TLS listeners need: see
// platformtest.KafkaTLS (this package's tests cannot import platformtest).
type tlsPlatform struct {
	realPlatform
	saslSSL, mtls      []string
	ca                 *x509.Certificate
	caKey              *ecdsa.PrivateKey
	pool               *tls.Config // trusts the platform's CA, no client certificate
	admin              tls.Certificate
	adminUser, adminPw string
}

func requireTLS(t *testing.T) (context.Context, tlsPlatform) {
	t.Helper()
	ctx, rp := requireReal(t)
	split := func(v string) []string {
		return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
	}
	tp := tlsPlatform{realPlatform: rp,
		saslSSL: split(os.Getenv("STREAMKIT_SASL_SSL_BROKERS")), mtls: split(os.Getenv("STREAMKIT_MTLS_BROKERS")),
		adminUser: os.Getenv("STREAMKIT_KAFKA_ADMIN_USER"), adminPw: os.Getenv("STREAMKIT_KAFKA_ADMIN_PASSWORD")}
	caFile, caKeyFile := os.Getenv("STREAMKIT_TLS_CA_FILE"), os.Getenv("STREAMKIT_TLS_CA_KEY_FILE")
	certFile, keyFile := os.Getenv("STREAMKIT_TLS_CERT_FILE"), os.Getenv("STREAMKIT_TLS_KEY_FILE")
	if len(tp.saslSSL) == 0 || len(tp.mtls) == 0 || caFile == "" || caKeyFile == "" || certFile == "" || keyFile == "" || tp.adminUser == "" {
		platformenv.Missing(t, "platform has no TLS listeners: STREAMKIT_SASL_SSL_BROKERS, STREAMKIT_MTLS_BROKERS or STREAMKIT_TLS_* unset (scripts/platform up; eval \"$(scripts/platform env)\")")
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("%s holds no certificate", caFile)
	}
	tp.pool = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	block, _ := pem.Decode(caPEM)
	if tp.ca, err = x509.ParseCertificate(block.Bytes); err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(caKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := pem.Decode(keyPEM)
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	tp.caKey = k.(*ecdsa.PrivateKey)
	if tp.admin, err = tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	return ctx, tp
}

// clientCert makes a client certificate for cn signed by ca, valid until
// notAfter.
func clientCert(t *testing.T, cn string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: notAfter.Add(-48 * time.Hour), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// otherCA makes a certificate authority the platform does not know.
func otherCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "not the platform's CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return ca, key
}

// TestIntegrationTLSListeners runs the typed producer and consumer over
// the platform's SASL_SSL listeners (SCRAM over TLS) and its SSL
// listeners with a client certificate (mTLS): records go both ways.
func TestIntegrationTLSListeners(t *testing.T) {
	ctx, tp := requireTLS(t)
	mtlsConfig := tp.pool.Clone()
	mtlsConfig.Certificates = []tls.Certificate{tp.admin}
	for _, tc := range []struct {
		name string
		opts []kgo.Opt
	}{
		{"sasl_ssl", []kgo.Opt{kgo.SeedBrokers(tp.saslSSL...), kgo.DialTLSConfig(tp.pool.Clone()),
			kgo.SASL(scram.Auth{User: tp.adminUser, Pass: tp.adminPw}.AsSha512Mechanism())}},
		{"mtls", []kgo.Opt{kgo.SeedBrokers(tp.mtls...), kgo.DialTLSConfig(mtlsConfig)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topic := tp.topic(t, ctx, "it-tls-"+tc.name, 3)
			p, err := NewProducer[orderV1](ctx, tp.reg, topic, WithSchema(mustParse(t, orderV1Schema)), WithClientOpts(tc.opts...))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close(ctx)
			const n = 200
			ms := make([]Message[orderV1], n)
			for i := range ms {
				ms[i] = Message[orderV1]{Key: []byte{byte(i)}, Value: orderV1{ID: tc.name, Quantity: int32(i)}}
			}
			if err := p.ProduceSync(ctx, ms...); err != nil {
				t.Fatal(err)
			}
			c, err := NewConsumer[orderV1](ctx, tp.reg, platformenv.UniqueName("it-tls"), []string{topic}, AnyRecordName(),
				WithClientOpts(append(tc.opts, kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(ctx)
			got := 0
			for r, err := range c.Records(ctx) {
				if err != nil {
					t.Fatal(err)
				}
				if r.Value.ID != tc.name {
					t.Fatalf("read %+v", r.Value)
				}
				if got++; got == n {
					break
				}
			}
		})
	}
}

// TestIntegrationTLSRefused: each way a TLS connection to the platform's
// brokers can be refused fails the typed producer's records at once, and
// the consumer's Poll, with an *AuthError that says which: the broker's
// certificate from a CA the client does not trust, a wrong SCRAM password
// over TLS, and on the mTLS listeners no client certificate, an expired
// one, and one of another CA.
func TestIntegrationTLSRefused(t *testing.T) {
	ctx, tp := requireTLS(t)
	topic := tp.topic(t, ctx, "it-tls-refused", 1)
	strangerCA, strangerKey := otherCA(t)
	strangers := x509.NewCertPool()
	strangers.AddCert(strangerCA)
	withCert := func(c tls.Certificate) *tls.Config {
		cfg := tp.pool.Clone()
		cfg.Certificates = []tls.Certificate{c}
		return cfg
	}
	cases := []struct {
		name  string
		opts  []kgo.Opt
		check func(error) bool
		says  string
	}{
		{"wrong CA", []kgo.Opt{kgo.SeedBrokers(tp.saslSSL...), kgo.DialTLSConfig(&tls.Config{RootCAs: strangers, MinVersion: tls.VersionTLS12}),
			kgo.SASL(scram.Auth{User: tp.adminUser, Pass: tp.adminPw}.AsSha512Mechanism())},
			func(err error) bool { var ua x509.UnknownAuthorityError; return errors.As(err, &ua) }, "x509.UnknownAuthorityError"},
		{"wrong password over TLS", []kgo.Opt{kgo.SeedBrokers(tp.saslSSL...), kgo.DialTLSConfig(tp.pool.Clone()),
			kgo.SASL(scram.Auth{User: tp.adminUser, Pass: "not-the-password"}.AsSha512Mechanism())},
			func(err error) bool { return errors.Is(err, kerr.SaslAuthenticationFailed) }, "kerr.SaslAuthenticationFailed"},
		{"no client certificate", []kgo.Opt{kgo.SeedBrokers(tp.mtls...), kgo.DialTLSConfig(tp.pool.Clone())},
			func(err error) bool { return errors.Is(err, ErrCertificateRefused) }, "ErrCertificateRefused"},
		{"expired client certificate", []kgo.Opt{kgo.SeedBrokers(tp.mtls...),
			kgo.DialTLSConfig(withCert(clientCert(t, "streamkit-admin", tp.ca, tp.caKey, time.Now().Add(-time.Hour))))},
			func(err error) bool { return errors.Is(err, ErrCertificateRefused) }, "ErrCertificateRefused"},
		{"client certificate of another CA", []kgo.Opt{kgo.SeedBrokers(tp.mtls...),
			kgo.DialTLSConfig(withCert(clientCert(t, "streamkit-admin", strangerCA, strangerKey, time.Now().Add(time.Hour))))},
			func(err error) bool { return errors.Is(err, ErrCertificateRefused) }, "ErrCertificateRefused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewProducer[orderV1](ctx, tp.reg, topic, WithSchema(mustParse(t, orderV1Schema)), WithClientOpts(tc.opts...))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close(ctx)
			pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			start := time.Now()
			err = p.ProduceSync(pctx, Message[orderV1]{Value: orderV1{ID: "refused"}})
			var ae *AuthError
			if !errors.As(err, &ae) || !errors.Is(err, ErrAuthentication) || !tc.check(err) {
				t.Fatalf("ProduceSync after %s: %v; want an *AuthError with %s", time.Since(start).Round(time.Millisecond), err, tc.says)
			}
			if took := time.Since(start); took > 20*time.Second {
				t.Errorf("the refusal took %s: it should not wait for a timeout", took)
			}
			t.Logf("refused in %s: %v", time.Since(start).Round(time.Millisecond), err)

			c, err := NewConsumer[orderV1](ctx, tp.reg, platformenv.UniqueName("it-tls-refused"), []string{topic}, AnyRecordName(),
				WithClientOpts(tc.opts...))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(context.Background())
			_, err = c.Poll(pctx)
			if !errors.As(err, &ae) || !tc.check(err) {
				t.Fatalf("Poll: %v; want an *AuthError with %s", err, tc.says)
			}
		})
	}
}

// registryHTTPS is the platform's registry behind its TLS-terminating
// proxy with basic authentication.
type registryHTTPS struct{ url, user, password string }

func requireRegistryHTTPS(t *testing.T) registryHTTPS {
	t.Helper()
	r := registryHTTPS{url: strings.TrimRight(os.Getenv("STREAMKIT_SCHEMA_REGISTRY_TLS_URL"), "/"),
		user: os.Getenv("STREAMKIT_SCHEMA_REGISTRY_USER"), password: os.Getenv("STREAMKIT_SCHEMA_REGISTRY_PASSWORD")}
	if r.url == "" || r.user == "" || r.password == "" {
		platformenv.Missing(t, "platform has no registry over HTTPS: STREAMKIT_SCHEMA_REGISTRY_TLS_URL, _USER or _PASSWORD unset (scripts/platform up; eval \"$(scripts/platform env)\")")
	}
	return r
}

// TestIntegrationRegistryHTTPS runs the typed producer and consumer with
// every connection on TLS: the registry through its HTTPS proxy with
// basic authentication, the brokers on SASL_SSL. Then each way the
// registry can refuse the client is a *RegistryError or an error that
// says which, at once and without retries: no credentials and a wrong
// password (401, ErrRefused), a certificate of an authority the client
// does not trust, and one the client sees as expired (its clock set past
// the certificate's end), both ErrRefused around crypto/x509's error.
func TestIntegrationRegistryHTTPS(t *testing.T) {
	ctx, tp := requireTLS(t)
	rh := requireRegistryHTTPS(t)
	reg, err := NewRegistryFromOptions(sr.URLs(rh.url), sr.DialTLSConfig(tp.pool.Clone()), sr.BasicAuth(rh.user, rh.password))
	if err != nil {
		t.Fatal(err)
	}
	topic := tp.topic(t, ctx, "it-registry-https", 2)
	kopts := []kgo.Opt{kgo.SeedBrokers(tp.saslSSL...), kgo.DialTLSConfig(tp.pool.Clone()),
		kgo.SASL(scram.Auth{User: tp.adminUser, Pass: tp.adminPw}.AsSha512Mechanism())}
	p, err := NewProducer[orderV1](ctx, reg, topic, WithSchema(mustParse(t, orderV1Schema)), WithClientOpts(kopts...))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	const n = 100
	ms := make([]Message[orderV1], n)
	for i := range ms {
		ms[i] = Message[orderV1]{Key: []byte{byte(i)}, Value: orderV1{ID: "https", Quantity: int32(i)}}
	}
	if err := p.ProduceSync(ctx, ms...); err != nil {
		t.Fatal(err)
	}
	// A consumer with a registry client of its own: the schema id is looked
	// up through the proxy, not taken from the producer's cache.
	reader, err := NewRegistryFromOptions(sr.URLs(rh.url), sr.DialTLSConfig(tp.pool.Clone()), sr.BasicAuth(rh.user, rh.password))
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewConsumer[orderV1](ctx, reader, platformenv.UniqueName("it-registry-https"), []string{topic}, AnyRecordName(),
		WithClientOpts(append(kopts, kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	got := 0
	for r, err := range c.Records(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if r.Value.ID != "https" {
			t.Fatalf("read %+v", r.Value)
		}
		if got++; got == n {
			break
		}
	}

	strangerCA, _ := otherCA(t)
	strangers := x509.NewCertPool()
	strangers.AddCert(strangerCA)
	future := tp.pool.Clone()
	future.Time = func() time.Time { return time.Now().AddDate(30, 0, 0) }
	isStatus := func(code int) func(error) bool {
		return func(err error) bool {
			var re *RegistryError
			return errors.As(err, &re) && re.StatusCode == code && errors.Is(err, ErrRefused)
		}
	}
	for _, tc := range []struct {
		name  string
		opts  []sr.ClientOpt
		check func(error) bool
	}{
		{"no credentials", []sr.ClientOpt{sr.DialTLSConfig(tp.pool.Clone())}, isStatus(http.StatusUnauthorized)},
		{"wrong password", []sr.ClientOpt{sr.DialTLSConfig(tp.pool.Clone()), sr.BasicAuth(rh.user, "not-the-password")}, isStatus(http.StatusUnauthorized)},
		{"wrong CA", []sr.ClientOpt{sr.DialTLSConfig(&tls.Config{RootCAs: strangers, MinVersion: tls.VersionTLS12}), sr.BasicAuth(rh.user, rh.password)},
			func(err error) bool {
				var ua x509.UnknownAuthorityError
				return errors.As(err, &ua) && errors.Is(err, ErrRefused) && !errors.Is(err, ErrUnavailable)
			}},
		{"expired certificate", []sr.ClientOpt{sr.DialTLSConfig(future), sr.BasicAuth(rh.user, rh.password)},
			func(err error) bool {
				var ci x509.CertificateInvalidError
				return errors.As(err, &ci) && ci.Reason == x509.Expired && errors.Is(err, ErrRefused) && !errors.Is(err, ErrUnavailable)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad, err := NewRegistryFromOptions(append([]sr.ClientOpt{sr.URLs(rh.url)}, tc.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = bad.Latest(ctx, topic+"-value")
			if err == nil || !tc.check(err) {
				t.Fatalf("Latest: %v", err)
			}
			if Permanent(err) {
				t.Errorf("a refusal by the registry is not a corrupt record: Permanent(%v)", err)
			}
			if strings.Contains(err.Error(), rh.password) {
				t.Errorf("the error shows the password: %v", err)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("refused after %s: it should not retry", took)
			}
			t.Logf("refused in %s: %v", time.Since(start).Round(time.Millisecond), err)
		})
	}
}
