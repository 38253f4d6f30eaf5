package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRun: the authority signs a server certificate for the hosts and a
// client certificate per name, whose common name is the name; keys are
// private to the owner; a second run keeps them all; a run once the
// authority is near its end makes everything new.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	if err := run(dir, []string{"127.0.0.1", "localhost"}, []string{"app"}, now); err != nil {
		t.Fatal(err)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(read("ca.pem")) {
		t.Fatal("ca.pem holds no certificate")
	}
	server, err := tls.X509KeyPair(read("server.pem"), read("server.pem"))
	if err != nil {
		t.Fatalf("server.pem is not a key and a chain: %v", err)
	}
	leaf, err := x509.ParseCertificate(server.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"127.0.0.1", "localhost"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: host, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("server certificate for %s: %v", host, err)
		}
	}
	node, err := tls.X509KeyPair(read("node.pem"), read("node.pem"))
	if err != nil {
		t.Fatalf("node.pem is not a key and a chain: %v", err)
	}
	nodeLeaf, err := x509.ParseCertificate(node.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := nodeLeaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "127.0.0.1", KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			t.Errorf("node certificate for usage %v: %v", usage, err)
		}
	}
	if nodeLeaf.Subject.CommonName != NodePrincipal {
		t.Errorf("node certificate's CN is %q", nodeLeaf.Subject.CommonName)
	}
	client, err := tls.X509KeyPair(read("client-app.pem"), read("client-app-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	cl, _ := x509.ParseCertificate(client.Certificate[0])
	if _, err := cl.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil || cl.Subject.CommonName != "app" {
		t.Errorf("client certificate %q: %v", cl.Subject.CommonName, err)
	}
	for _, key := range []string{"ca-key.pem", "client-app-key.pem", "server.pem", "node.pem"} {
		if fi, _ := os.Stat(filepath.Join(dir, key)); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", key, fi.Mode().Perm())
		}
	}

	// Every certificate names the authority's revocation list, a file the
	// run wrote, signed by the authority.
	caCert, _, err := loadCA(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	list, err := x509.ParseRevocationList(read("ca.crl"))
	if err != nil || list.CheckSignatureFrom(caCert) != nil {
		t.Fatalf("ca.crl: %v", err)
	}
	abs, _ := filepath.Abs(filepath.Join(dir, "ca.crl"))
	for name, c := range map[string]*x509.Certificate{"server": leaf, "node": nodeLeaf, "client": cl} {
		if len(c.CRLDistributionPoints) != 1 || c.CRLDistributionPoints[0] != "file://"+abs {
			t.Errorf("%s certificate's CRL distribution points: %v, want file://%s", name, c.CRLDistributionPoints, abs)
		}
	}

	ca, srv, app := read("ca.pem"), read("server.pem"), read("client-app.pem")
	if err := run(dir, []string{"127.0.0.1"}, []string{"app"}, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(read("ca.pem"), ca) || !bytes.Equal(read("server.pem"), srv) || !bytes.Equal(read("client-app.pem"), app) {
		t.Error("a second run replaced what the folder held")
	}
	// A certificate from before the distribution point is made again.
	_, der, err := issue(caCert, mustKey(t, read("ca-key.pem")), pkix.Name{CommonName: "app"}, nil, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, now, now.AddDate(1, 0, 0), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "client-app.pem"), certPEM(der), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(dir, []string{"127.0.0.1"}, []string{"app"}, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !hasDistributionPoint(filepath.Join(dir, "client-app.pem"), "file://"+abs) || !bytes.Equal(read("server.pem"), srv) {
		t.Error("a certificate without the distribution point was kept, or one with it replaced")
	}
	if err := run(dir, []string{"127.0.0.1"}, []string{"app"}, now.AddDate(10, 0, -10)); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(read("ca.pem"), ca) {
		t.Error("an authority 10 days from its end was kept")
	}
}

func mustKey(t *testing.T, keyPEMBytes []byte) *ecdsa.PrivateKey {
	t.Helper()
	b, _ := pem.Decode(keyPEMBytes)
	if b == nil {
		t.Fatal("no PEM key")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*ecdsa.PrivateKey)
}
