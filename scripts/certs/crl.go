package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// writeCRLs writes file, the certificate revocation lists a TLS server
// checks client certificates against (nginx's ssl_crl, which wants one
// for every authority of a chain): the platform authority's own (it
// revokes nothing; valid a year, made again at each run), then the
// current one of each PKI mount of the Vault at vaultAddr, whose
// intermediates the authority signs. The file is replaced at once, never
// half-written; a mount whose list cannot be read fails the run, so the
// last good file stays.
func writeCRLs(ctx context.Context, dir, file, vaultAddr, vaultToken string, now time.Time) (mounts []string, err error) {
	ca, caKey, err := loadCA(dir, now)
	if err != nil {
		return nil, err
	}
	if ca == nil {
		return nil, fmt.Errorf("%s holds no valid authority", dir)
	}
	out, err := rootCRL(ca, caKey, now)
	if err != nil {
		return nil, err
	}
	if vaultAddr != "" {
		lists, names, err := vaultCRLs(ctx, vaultAddr, vaultToken, ca)
		if err != nil {
			return nil, err
		}
		out = append(out, lists...)
		mounts = names
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".crl-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return nil, err
	}
	return mounts, os.Rename(tmp.Name(), file)
}

func rootCRL(ca *x509.Certificate, key *ecdsa.PrivateKey, now time.Time) ([]byte, error) {
	der, err := rootCRLDER(ca, key, now)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), nil
}

func rootCRLDER(ca *x509.Certificate, key *ecdsa.PrivateKey, now time.Time) ([]byte, error) {
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:     big.NewInt(now.UnixNano()),
		ThisUpdate: now.Add(-time.Hour),
		NextUpdate: now.AddDate(1, 0, 0),
	}, ca, key)
	if err != nil {
		return nil, fmt.Errorf("the authority's revocation list: %w", err)
	}
	return der, nil
}

// writeRootCRL writes dir/ca.crl, the authority's revocation list in DER
// (it revokes nothing), at once, and returns its file: URL.
func writeRootCRL(dir string, ca *x509.Certificate, key *ecdsa.PrivateKey, now time.Time) (string, error) {
	abs, err := filepath.Abs(filepath.Join(dir, "ca.crl"))
	if err != nil {
		return "", err
	}
	der, err := rootCRLDER(ca, key, now)
	if err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, ".ca-crl-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(der); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), abs); err != nil {
		return "", err
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), nil
}

// hasDistributionPoint reports whether the first certificate of the PEM
// file names dp as a CRL distribution point.
func hasDistributionPoint(file, dp string) bool {
	b, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	for rest := b; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			return false
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		return err == nil && slices.Contains(c.CRLDistributionPoints, dp)
	}
}

// vaultCRLs reads the revocation list of every PKI mount of the Vault at
// addr (sys/mounts needs the token; a list does not), sorted by mount.
func vaultCRLs(ctx context.Context, addr, token string, ca *x509.Certificate) ([]byte, []string, error) {
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
	get := func(path string, auth bool) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(addr, "/")+"/v1/"+path, nil)
		if err != nil {
			return nil, err
		}
		if auth {
			req.Header.Set("X-Vault-Token", token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("vault: GET /v1/%s: %s", path, resp.Status)
		}
		return body, nil
	}
	body, err := get("sys/mounts", true)
	if err != nil {
		return nil, nil, err
	}
	var mounts struct {
		Data map[string]struct {
			Type string `json:"type"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &mounts); err != nil {
		return nil, nil, fmt.Errorf("vault: sys/mounts: %w", err)
	}
	var names []string
	for path, m := range mounts.Data {
		if m.Type == "pki" {
			names = append(names, strings.TrimSuffix(path, "/"))
		}
	}
	sort.Strings(names)
	read := func(name string) (*pem.Block, *x509.RevocationList, error) {
		list, err := get(name+"/crl/pem", false)
		if err != nil {
			return nil, nil, err
		}
		block, _ := pem.Decode(bytes.TrimSpace(list))
		if block == nil || block.Type != "X509 CRL" {
			return nil, nil, fmt.Errorf("vault: %s/crl/pem is no PEM revocation list", name)
		}
		l, err := x509.ParseRevocationList(block.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("vault: %s/crl/pem: %w", name, err)
		}
		return block, l, nil
	}
	var out []byte
	for _, name := range names {
		block, l, err := read(name)
		if err != nil {
			return nil, nil, err
		}
		// A list that ends within the hour is made again first: a server
		// refuses every certificate of an authority whose list has
		// expired, and Vault does not rebuild one by itself unless told
		// to (auto_rebuild).
		if l.NextUpdate.Before(time.Now().Add(time.Hour)) {
			if _, err := get(name+"/crl/rotate", true); err != nil {
				return nil, nil, fmt.Errorf("renew the revocation list of %s: %w", name, err)
			}
			if block, l, err = read(name); err != nil {
				return nil, nil, err
			}
			if !l.NextUpdate.After(time.Now()) {
				return nil, nil, fmt.Errorf("vault: %s's revocation list ended at %s, and rotating it did not renew it", name, l.NextUpdate)
			}
		}
		out = append(out, pem.EncodeToMemory(block)...)
	}
	return out, names, nil
}

var errNoVaultToken = errors.New("VAULT_ADDR is set without VAULT_TOKEN")
