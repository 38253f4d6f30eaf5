package vaultfake

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"
)

// pkiCA is the fake PKI engine's issuing authority.
type pkiCA struct {
	cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	pem    string
	next   int64
	issued map[string]bool // serial numbers, colon-separated hex
}

func newPKICA() *pkiCA {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "vaultfake pki"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &pkiCA{cert: cert, key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), next: 100}
}

// PKICA returns the authority that signs the fake PKI engine's
// certificates.
func (f *Server) PKICA() *x509.Certificate {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pki == nil {
		f.pki = newPKICA()
	}
	return f.pki.cert
}

// issuePKI answers pki/issue/<role>; f.mu is held.
func (f *Server) issuePKI(w http.ResponseWriter, body map[string]any, maxTTL time.Duration) {
	if f.pki == nil {
		f.pki = newPKICA()
	}
	cn, _ := body["common_name"].(string)
	if cn == "" {
		writeErrors(w, 400, "the common_name field is required")
		return
	}
	ttl := maxTTL
	if s, _ := body["ttl"].(string); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			writeErrors(w, 400, "bad ttl")
			return
		}
		ttl = min(d, maxTTL)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	f.pki.next++
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(f.pki.next), Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-30 * time.Second), NotAfter: now.Add(ttl),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, f.pki.cert, &key.PublicKey, f.pki.key)
	if err != nil {
		panic(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err)
	}
	serial := fmt.Sprintf("%x", tmpl.SerialNumber)
	if len(serial)%2 == 1 {
		serial = "0" + serial
	}
	var parts []string
	for i := 0; i < len(serial); i += 2 {
		parts = append(parts, serial[i:i+2])
	}
	if f.pki.issued == nil {
		f.pki.issued = map[string]bool{}
	}
	f.pki.issued[strings.Join(parts, ":")] = true
	writeJSON(w, 200, map[string]any{"data": map[string]any{
		"certificate":      string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		"issuing_ca":       f.pki.pem,
		"ca_chain":         []string{f.pki.pem},
		"private_key":      string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})),
		"private_key_type": "ec",
		"serial_number":    strings.Join(parts, ":"),
		"expiration":       tmpl.NotAfter.Unix(),
	}})
}

// revokePKI answers pki/revoke; f.mu is held.
func (f *Server) revokePKI(w http.ResponseWriter, body map[string]any) {
	serial, _ := body["serial_number"].(string)
	if f.pki == nil || !f.pki.issued[serial] {
		writeErrors(w, 400, "certificate with serial "+serial+" not found")
		return
	}
	f.Revoked = append(f.Revoked, serial)
	writeJSON(w, 200, map[string]any{"data": map[string]any{"revocation_time": time.Now().Unix()}})
}
