// Command certs makes the platform's local certificate authority and the
// certificates scripts/platform's TLS listeners and their tests use, in one
// folder:
//
//	ca.pem, ca-key.pem         the authority (ECDSA P-256), valid 10 years
//	ca.crl                     its revocation list (DER), which the
//	                           certificates below name as their CRL
//	                           distribution point (a file: URL)
//	server.pem                 the key, then the certificate, of every TLS
//	                           listener: the hosts given with -hosts as
//	                           names and addresses; Kafka reads it as a PEM
//	                           key store
//	node.pem                   the same for the nodes of a cluster without
//	                           plain-text listeners, which present it to
//	                           each other as clients too: CN=streamkit-node
//	client-NAME.pem, -key.pem  a client certificate and key for each name
//	                           given with -clients, whose subject is
//	                           CN=NAME: the principal Kafka's SSL listener
//	                           maps it to
//
// With -crl FILE it writes only FILE: the revocation lists a TLS server
// checks client certificates against, the authority's own and those of the
// PKI mounts of the Vault at $VAULT_ADDR (see writeCRLs).
//
// It keeps what the folder already holds while the authority is valid for
// 30 more days, so that a restarted platform keeps the certificates its
// clients trust. Keys are written with mode 0600.
//
//	go run ./scripts/certs -dir DIR -hosts 127.0.0.1,localhost -clients streamkit-admin,streamkit-app
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// NodePrincipal is the common name of node.pem: the principal of a
// secure cluster's nodes to each other.
const NodePrincipal = "streamkit-node"

func main() {
	dir := flag.String("dir", "", "folder for the authority and the certificates (required)")
	hosts := flag.String("hosts", "127.0.0.1,localhost", "comma-separated names and addresses of the server certificate")
	clients := flag.String("clients", "", "comma-separated common names of client certificates")
	crl := flag.String("crl", "", "write only this file: the authority's revocation list and those of the PKI mounts of the Vault at $VAULT_ADDR ($VAULT_TOKEN)")
	flag.Parse()
	if *dir == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if *crl != "" {
		addr, token := os.Getenv("VAULT_ADDR"), os.Getenv("VAULT_TOKEN")
		if addr != "" && token == "" {
			fmt.Fprintln(os.Stderr, "certs:", errNoVaultToken)
			os.Exit(2)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		mounts, err := writeCRLs(ctx, *dir, *crl, addr, token, time.Now())
		if err != nil {
			fmt.Fprintln(os.Stderr, "certs: revocation lists:", err)
			os.Exit(1)
		}
		fmt.Printf("certs: %s: the authority's revocation list and %d of Vault's PKI mounts %v\n", *crl, len(mounts), mounts)
		return
	}
	if err := run(*dir, split(*hosts), split(*clients), time.Now()); err != nil {
		fmt.Fprintln(os.Stderr, "certs:", err)
		os.Exit(1)
	}
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func run(dir string, hosts, clients []string, now time.Time) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ca, caKey, err := loadCA(dir, now)
	if err != nil {
		return err
	}
	fresh := ca == nil
	if fresh {
		if ca, caKey, err = newCA(dir, now); err != nil {
			return err
		}
	}
	// The authority's revocation list, where the certificates below say
	// it is (a file: URL, which the JVM reads as it reads an http: one),
	// made again at each run. A server that checks revocation (the
	// secure cluster's nodes) refuses a certificate of a chain whose list
	// it cannot read.
	crlDP, err := writeRootCRL(dir, ca, caKey, now)
	if err != nil {
		return err
	}
	// stale: a certificate to make (again): none yet, a new authority, or
	// one from before its distribution point.
	stale := func(file string) bool {
		return fresh || !hasDistributionPoint(file, crlDP)
	}
	server := filepath.Join(dir, "server.pem")
	if stale(server) {
		key, der, err := issue(ca, caKey, pkix.Name{CommonName: "streamkit-platform"}, hosts, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, now, now.AddDate(2, 0, 0), crlDP)
		if err != nil {
			return err
		}
		// Kafka's PEM key store: the key, then the chain.
		if err := os.WriteFile(server, append(keyPEM(key), append(certPEM(der), certPEM(ca.Raw)...)...), 0o600); err != nil {
			return err
		}
	}
	// A node's certificate serves both ends of the connections between
	// the nodes of a cluster that has no plain-text listener (the secure
	// cluster's controller and inter-broker listeners, with client
	// certificates required): server and client authentication, and the
	// hosts' names. Its common name is the nodes' principal.
	node := filepath.Join(dir, "node.pem")
	if stale(node) {
		key, der, err := issue(ca, caKey, pkix.Name{CommonName: NodePrincipal}, hosts,
			[]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, now, now.AddDate(2, 0, 0), crlDP)
		if err != nil {
			return err
		}
		if err := os.WriteFile(node, append(keyPEM(key), append(certPEM(der), certPEM(ca.Raw)...)...), 0o600); err != nil {
			return err
		}
	}
	for _, name := range clients {
		certFile, keyFile := filepath.Join(dir, "client-"+name+".pem"), filepath.Join(dir, "client-"+name+"-key.pem")
		if !stale(certFile) {
			continue
		}
		key, der, err := issue(ca, caKey, pkix.Name{CommonName: name}, nil, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, now, now.AddDate(2, 0, 0), crlDP)
		if err != nil {
			return err
		}
		if err := os.WriteFile(keyFile, keyPEM(key), 0o600); err != nil {
			return err
		}
		if err := os.WriteFile(certFile, certPEM(der), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// loadCA reads the folder's authority; nil when there is none, or when it
// expires within 30 days.
func loadCA(dir string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPEMBytes, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	keyPEMBytes, err := os.ReadFile(filepath.Join(dir, "ca-key.pem"))
	if err != nil {
		return nil, nil, err
	}
	cb, _ := pem.Decode(certPEMBytes)
	kb, _ := pem.Decode(keyPEMBytes)
	if cb == nil || kb == nil {
		return nil, nil, fmt.Errorf("%s: ca.pem or ca-key.pem is not PEM", dir)
	}
	ca, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	if ca.NotAfter.Before(now.AddDate(0, 0, 30)) {
		return nil, nil, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("%s: ca-key.pem is not an ECDSA key", dir)
	}
	return ca, key, nil
}

func newCA(dir string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "streamkit local CA", Organization: []string{"streamkit"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "ca-key.pem"), keyPEM(key), 0o600); err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), certPEM(der), 0o644); err != nil {
		return nil, nil, err
	}
	return ca, key, nil
}

// issue makes a key and a certificate for subject signed by the
// authority, valid from notBefore to notAfter, with hosts as its names
// and addresses.
func issue(ca *x509.Certificate, caKey *ecdsa.PrivateKey, subject pkix.Name, hosts []string, usage []x509.ExtKeyUsage,
	notBefore, notAfter time.Time, crlDP string) (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      subject,
		NotBefore:    notBefore.Add(-time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  usage,
		// Where the authority's revocation list is.
		CRLDistributionPoints: []string{crlDP},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	return key, der, err
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err)
	}
	return n
}

func keyPEM(key *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func certPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
