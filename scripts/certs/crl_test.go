package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWriteCRLs: the file holds the authority's revocation list, signed
// by it, then each PKI mount's of Vault in the order of their names; kv
// mounts are not asked; sys/mounts gets the token; a list that has ended
// is rotated and read again. A mount whose list cannot be read fails the
// run and leaves the last file as it was.
func TestWriteCRLs(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	if err := run(dir, []string{"127.0.0.1"}, nil, now); err != nil {
		t.Fatal(err)
	}
	ca, _, err := loadCA(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	// A mount's issuer, and its list revoking serial 42.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	issuer, _ := x509.ParseCertificate(der)
	listDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now, NextUpdate: now.Add(72 * time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(42), RevocationTime: now}}}, issuer, key)
	if err != nil {
		t.Fatal(err)
	}
	list := pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: listDER})
	// pki-b's list has ended; rotating it gives a current one.
	endedDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now.Add(-2 * time.Hour), NextUpdate: now.Add(-time.Hour)}, issuer, key)
	if err != nil {
		t.Fatal(err)
	}
	ended := pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: endedDER})
	rotated := false
	broken := false
	asked := map[string]int{}
	vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked[r.URL.Path]++
		switch r.URL.Path {
		case "/v1/sys/mounts":
			if r.Header.Get("X-Vault-Token") != "root" {
				w.WriteHeader(http.StatusForbidden)
				return
			}
			w.Write([]byte(`{"data":{"pki-b/":{"type":"pki"},"secret/":{"type":"kv"},"pki-a/":{"type":"pki"}}}`))
		case "/v1/pki-b/crl/rotate":
			if r.Header.Get("X-Vault-Token") != "root" {
				w.WriteHeader(http.StatusForbidden)
				return
			}
			rotated = true
			w.Write([]byte(`{"data":{"success":true}}`))
		case "/v1/pki-a/crl/pem", "/v1/pki-b/crl/pem":
			if broken && r.URL.Path == "/v1/pki-b/crl/pem" {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			if r.URL.Path == "/v1/pki-b/crl/pem" && !rotated {
				w.Write(ended)
				return
			}
			w.Write(list)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer vault.Close()

	file := filepath.Join(dir, "crl.pem")
	mounts, err := writeCRLs(context.Background(), dir, file, vault.URL, "root", now)
	if err != nil {
		t.Fatal(err)
	}
	if !rotated {
		t.Error("pki-b's ended list was not rotated")
	}
	if len(mounts) != 2 || mounts[0] != "pki-a" || mounts[1] != "pki-b" || asked["/v1/secret/crl/pem"] != 0 {
		t.Fatalf("mounts %v, asked %v", mounts, asked)
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var lists []*x509.RevocationList
	for rest := got; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		l, err := x509.ParseRevocationList(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		lists = append(lists, l)
	}
	if len(lists) != 3 {
		t.Fatalf("%d lists, want 3", len(lists))
	}
	if err := lists[0].CheckSignatureFrom(ca); err != nil || len(lists[0].RevokedCertificateEntries) != 0 || !lists[0].NextUpdate.After(now.AddDate(0, 11, 0)) {
		t.Fatalf("the authority's list: %v, %d revoked, next update %s", err, len(lists[0].RevokedCertificateEntries), lists[0].NextUpdate)
	}
	for _, l := range lists[1:] {
		if l.CheckSignatureFrom(issuer) != nil || len(l.RevokedCertificateEntries) != 1 {
			t.Fatal("a mount's list is not Vault's")
		}
	}

	broken = true
	if _, err := writeCRLs(context.Background(), dir, file, vault.URL, "root", now); err == nil {
		t.Fatal("a mount's list failed, and the run did not")
	}
	if after, _ := os.ReadFile(file); string(after) != string(got) {
		t.Fatal("a failed run changed the file")
	}
	if _, err := writeCRLs(context.Background(), dir, file, vault.URL, "wrong", now); err == nil {
		t.Fatal("a refused token, and the run did not fail")
	}
}
