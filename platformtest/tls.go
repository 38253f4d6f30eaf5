package platformtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"time"
)

// TLSConfig returns a TLS client config that trusts TLSCAFile's authority,
// the one that signed every TLS endpoint of the platform, and presents no
// certificate of its own: for SASLSSLBrokers, SchemaRegistryTLSURL,
// ConnectTLSURL and VaultTLSAddr. Each call returns a new config.
func (p Platform) TLSConfig() (*tls.Config, error) {
	if p.TLSCAFile == "" {
		return nil, fmt.Errorf("%w: %s unset", ErrUnavailable, EnvTLSCAFile)
	}
	caPEM, err := os.ReadFile(p.TLSCAFile)
	if err != nil {
		return nil, fmt.Errorf("platformtest: tls: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("platformtest: tls: %s holds no PEM certificate", p.TLSCAFile)
	}
	return &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, nil
}

// ClientTLSConfig is TLSConfig with TLSCertFile's client certificate, whose
// principal is a Kafka super user: for MTLSBrokers.
func (p Platform) ClientTLSConfig() (*tls.Config, error) {
	cfg, err := p.TLSConfig()
	if err != nil {
		return nil, err
	}
	if p.TLSCertFile == "" || p.TLSKeyFile == "" {
		return nil, fmt.Errorf("%w: %s or %s unset", ErrUnavailable, EnvTLSCertFile, EnvTLSKeyFile)
	}
	cert, err := tls.LoadX509KeyPair(p.TLSCertFile, p.TLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("platformtest: tls: client certificate: %w", err)
	}
	cfg.Certificates = []tls.Certificate{cert}
	return cfg, nil
}

// ForeignCA returns a pool holding one new certificate authority that
// signed nothing of the platform's, and its certificate in PEM: a client
// that trusts only it refuses every endpoint's certificate, as a client
// given the wrong CA file does.
func ForeignCA() (*x509.CertPool, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "not the platform's CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
