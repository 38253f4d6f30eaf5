package platformtest

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/streamkit/streamkit/secrets"
)

// PKIRole is the role MountPKI creates, for Kafka client certificates.
const PKIRole = "kafka-client"

// MountPKI mounts Vault's PKI secrets engine at a new path on v's Vault as
// an intermediate authority signed by the platform's (TLSCAFile and
// TLSCAKeyFile), the way a platform team chains Vault to its root, and
// creates PKIRole: client certificates of any common name, EC keys, at
// most maxTTL. Kafka's SSL listeners trust the root, so they accept what
// the engine issues. It returns the mount, which is removed when tb ends.
func MountPKI(tb testing.TB, ctx context.Context, p Platform, v *secrets.Client, maxTTL time.Duration) string {
	tb.Helper()
	mount, err := mountPKI(ctx, p, v, maxTTL)
	if mount != "" {
		tb.Cleanup(func() { _ = v.API().Sys().Unmount(mount) })
	}
	if err != nil {
		tb.Fatalf("platformtest: mount vault pki: %v", err)
	}
	return mount
}

func mountPKI(ctx context.Context, p Platform, v *secrets.Client, maxTTL time.Duration) (string, error) {
	caCert, caKey, err := platformCA(p)
	if err != nil {
		return "", err
	}
	mount := "pki-" + UniqueName("test")
	if err := v.API().Sys().MountWithContext(ctx, mount, &api.MountInput{Type: "pki", Config: api.MountConfigInput{MaxLeaseTTL: "24h"}}); err != nil {
		return "", err
	}
	logical := v.API().Logical()
	gen, err := logical.WriteWithContext(ctx, mount+"/intermediate/generate/internal",
		map[string]any{"common_name": "streamkit test intermediate " + mount, "key_type": "ec", "key_bits": 256})
	if err != nil {
		return mount, err
	}
	csrPEM, _ := gen.Data["csr"].(string)
	block, _ := pem.Decode([]byte(csrPEM))
	if block == nil {
		return mount, errors.New("the intermediate's request is not PEM")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return mount, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: csr.Subject,
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true, MaxPathLenZero: true}
	// Where the authority's revocation list is, as on the platform's own
	// certificates (scripts/certs): a server that checks revocation checks
	// the intermediate too.
	if crl := filepath.Join(filepath.Dir(p.TLSCAFile), "ca.crl"); fileExists(crl) {
		tmpl.CRLDistributionPoints = []string{(&url.URL{Scheme: "file", Path: filepath.ToSlash(crl)}).String()}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, csr.PublicKey, caKey)
	if err != nil {
		return mount, err
	}
	bundle := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})) +
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caCert.Raw}))
	if _, err := logical.WriteWithContext(ctx, mount+"/intermediate/set-signed", map[string]any{"certificate": bundle}); err != nil {
		return mount, err
	}
	// The mount's certificates name its revocation list, which Vault
	// serves without a token.
	if _, err := logical.WriteWithContext(ctx, mount+"/config/urls", map[string]any{
		"crl_distribution_points": []string{strings.TrimRight(p.VaultAddr, "/") + "/v1/" + mount + "/crl"},
	}); err != nil {
		return mount, err
	}
	_, err = logical.WriteWithContext(ctx, mount+"/roles/"+PKIRole, map[string]any{
		"allow_any_name": true, "enforce_hostnames": false, "client_flag": true, "server_flag": false,
		"key_type": "ec", "key_bits": 256, "max_ttl": strconv.Itoa(int(maxTTL.Seconds())) + "s", "not_before_duration": "5s",
	})
	return mount, err
}

// platformCA reads the platform's certificate authority and its key.
func platformCA(p Platform) (*x509.Certificate, any, error) {
	if p.TLSCAFile == "" || p.TLSCAKeyFile == "" {
		return nil, nil, fmt.Errorf("%w: %s or %s unset", ErrUnavailable, EnvTLSCAFile, EnvTLSCAKeyFile)
	}
	certPEM, err := os.ReadFile(p.TLSCAFile)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(p.TLSCAKeyFile)
	if err != nil {
		return nil, nil, err
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, errors.New("the platform's CA or its key is not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("the platform's CA key: %w", err)
	}
	return cert, key, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
