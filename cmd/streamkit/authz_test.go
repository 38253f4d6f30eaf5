package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/schema"
	"github.com/streamkit/streamkit/secrets"
)

// proxyMatrix is the registry and Connect part of the denial matrix. Each
// role's principal logs in to Vault with the policy principals apply
// wrote, issues its own client certificate from the PKI role principals
// apply made (CN=<principal>, OU=<role>, O=<namespace>), and tries the
// registry's and the secure Connect worker's REST APIs through the
// platform's authorizing proxies: each operation is allowed where the
// role allows it and refused everywhere else, with schema.ErrRefused (a
// 403 *schema.RegistryError) or connect.ErrUnauthorized. Two more callers
// try every operation and are refused each time: one without a client
// certificate (401), and one with a certificate of the platform's
// authority that names no role (403). It returns the figures.
func proxyMatrix(t *testing.T, ctx context.Context, p platformtest.Platform, ns, pkiMount string, userOf map[string]string) (tried, allowed, refused, unexpected int) {
	t.Helper()
	rootVault, err := vault.NewClient(&vault.Config{Address: p.VaultAddr})
	if err != nil {
		t.Fatal(err)
	}
	rootVault.SetToken(p.VaultToken)
	trust, err := p.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	other := platformtest.UniqueName("otherteam") + "."
	subject := ns + "prices.v1-value"
	v1, err := schema.Parse(`{"type":"record","name":"Price","namespace":"it.authz","fields":[{"name":"sku","type":"string"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	// The subject exists, registered by the platform's pipeline (the
	// registry's own endpoint), so lookups and reads find it.
	admin, err := schema.NewRegistryFromOptions(sr.URLs(p.SchemaRegistryURL))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Register(ctx, subject, v1); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, s := range []string{subject, other + "prices.v1-value"} {
			_, _ = admin.Client().DeleteSubject(context.Background(), s, sr.SoftDelete)
			_, _ = admin.Client().DeleteSubject(context.Background(), s, sr.HardDelete)
		}
	})
	connector := ns + "file-source"
	fileConfig := func(topic string) map[string]string {
		return map[string]string{"connector.class": "FileStreamSource", "tasks.max": "1", "topic": topic, "file": "/dev/null"}
	}
	adminConnect, err := connect.New(connect.WithURLs(p.ConnectTLSURL), connect.WithTLSConfig(trust.Clone()), connect.WithBasicAuth(p.ConnectUser, p.ConnectPassword))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, name := range []string{connector, other + "file-source"} {
			_ = adminConnect.Delete(context.Background(), name)
		}
	})

	type clients struct {
		reg *schema.Registry
		con *connect.Client
		// mine is a version of v1 of the caller's own: a new version to
		// register (the Registry caches what it has registered or looked
		// up, and would not ask again), compatible with every other.
		mine *schema.Schema
	}
	type op struct {
		name    string
		allowed []string // roles
		run     func(c clients) error
	}
	// setLevel plans the team's subject at a level other than its own,
	// and applies the plan: the plan reads (every role may), the apply
	// sets the level (owners and deployers only).
	setLevel := func(c clients) error {
		for _, level := range []schema.CompatibilityLevel{schema.Full, schema.Backward} {
			plan, err := c.reg.PlanSubjects(ctx, []schema.SubjectSpec{{Subject: subject, Schema: c.mine, Compatibility: level}}, schema.SubjectPlanOptions{Namespace: ns})
			if err != nil {
				return err
			}
			if plan.Changes[0].Action == schema.SubjectUnchanged {
				continue
			}
			_, err = c.reg.ApplySubjects(ctx, plan, schema.SubjectApplyOptions{})
			return err
		}
		return errors.New("the subject is at both levels")
	}
	ops := []op{
		{"registry: read the latest version", []string{"owner", "deployer", "service", "reader"},
			func(c clients) error { _, err := c.reg.Latest(ctx, subject); return err }},
		{"registry: look up a schema", []string{"owner", "deployer", "service", "reader"},
			func(c clients) error { _, err := c.reg.Lookup(ctx, subject, v1); return err }},
		{"registry: register a version", []string{"owner", "deployer", "service"},
			func(c clients) error { _, err := c.reg.Register(ctx, subject, c.mine); return err }},
		{"registry: set a subject's compatibility", []string{"owner", "deployer"}, setLevel},
		{"registry: register under another team's subject", nil,
			func(c clients) error { _, err := c.reg.Register(ctx, other+"prices.v1-value", v1); return err }},
		{"connect: list connectors", []string{"owner", "deployer", "service", "reader"},
			func(c clients) error { _, err := c.con.Names(ctx); return err }},
		{"connect: validate a config", []string{"owner", "deployer"},
			func(c clients) error {
				_, err := c.con.Validate(ctx, "FileStreamSource", fileConfig(ns+"prices.v1"))
				return err
			}},
		{"connect: create the team's connector", []string{"owner", "deployer"},
			func(c clients) error {
				_, _, err := c.con.PutConfig(ctx, connector, fileConfig(ns+"prices.v1"))
				return err
			}},
		{"connect: pause the team's connector", []string{"owner", "deployer"},
			func(c clients) error { return c.con.Pause(ctx, connector) }},
		{"connect: delete the team's connector", []string{"owner", "deployer"},
			func(c clients) error { return c.con.Delete(ctx, connector) }},
		{"connect: create another team's connector", nil,
			func(c clients) error {
				_, _, err := c.con.PutConfig(ctx, other+"file-source", fileConfig(other+"prices.v1"))
				return err
			}},
	}
	dial := func(who string, cert *tls.Certificate) clients {
		t.Helper()
		mine, err := schema.Parse(fmt.Sprintf(`{"type":"record","name":"Price","namespace":"it.authz","fields":[{"name":"sku","type":"string"},
			{"name":%q,"type":"string","default":""}]}`, "by_"+strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' {
				return r
			}
			return '_'
		}, who)))
		if err != nil {
			t.Fatal(err)
		}
		reg, con := authzClients(t, p, trust, cert)
		return clients{reg, con, mine}
	}
	// refusedWith reports whether err is the typed refusal of status.
	refusedWith := func(err error, status int) bool {
		var re *schema.RegistryError
		if errors.As(err, &re) {
			return errors.Is(err, schema.ErrRefused) && re.StatusCode == status
		}
		var ce *connect.APIError
		return errors.Is(err, connect.ErrUnauthorized) && errors.As(err, &ce) && ce.StatusCode == status
	}
	try := func(who string, c clients, want func(op) bool, status int) {
		for _, o := range ops {
			err := o.run(c)
			tried++
			switch {
			case err == nil:
				allowed++
				if !want(o) {
					t.Errorf("%s as %s was allowed", o.name, who)
				}
			case refusedWith(err, status):
				refused++
				if want(o) {
					t.Errorf("%s as %s was refused: %v", o.name, who, err)
				}
			default:
				unexpected++
				t.Errorf("%s as %s: %v", o.name, who, err)
			}
		}
	}

	for _, role := range []string{"owner", "deployer", "service", "reader"} {
		user := userOf[role]
		v, cert := principalCertificate(t, ctx, p, rootVault, pkiMount, user)
		if got, want := cert.TLS.Leaf.Subject.String(), fmt.Sprintf("CN=%s,OU=%s,O=%s", user, role, ns); got != want {
			t.Fatalf("%s's certificate: subject %s, want %s", role, got, want)
		}
		// Its own role issues no certificate of another name, and another
		// principal's role is not its to use.
		if _, err := v.IssueCertificate(ctx, secrets.CertificateRequest{Mount: pkiMount, Role: policyName(user), CommonName: ns + "someone-else", TTL: time.Minute}); err == nil {
			t.Errorf("%s got a certificate of another name", role)
		}
		someone := userOf["reader"]
		if role == "reader" {
			someone = userOf["owner"]
		}
		if _, err := v.IssueCertificate(ctx, secrets.CertificateRequest{Mount: pkiMount, Role: policyName(someone), CommonName: someone, TTL: time.Minute}); !errors.Is(err, secrets.ErrPermissionDenied) {
			t.Errorf("%s issued from another principal's role: %v, want ErrPermissionDenied", role, err)
		}
		try(role, dial(role, &cert.TLS), func(o op) bool { return slices.Contains(o.allowed, role) }, http.StatusForbidden)
	}
	try("a caller without a certificate", dial("anonymous", nil), func(op) bool { return false }, http.StatusUnauthorized)
	noRole, err := tls.LoadX509KeyPair(p.TLSCertFile, p.TLSKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	try("a certificate that names no role", dial("norole", &noRole), func(op) bool { return false }, http.StatusForbidden)
	t.Logf("denial matrix on the registry and Connect: %d operations tried, %d allowed, %d refused, %d unexpected", tried, allowed, refused, unexpected)
	return tried, allowed, refused, unexpected
}

// The authorizing proxies refuse a path the rules could read one way and
// the upstream another, whatever the role.
func checkProxyPaths(t *testing.T, ctx context.Context, p platformtest.Platform, cert tls.Certificate) {
	t.Helper()
	trust, err := p.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	trust.Certificates = []tls.Certificate{cert}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: trust}, Timeout: 10 * time.Second}
	for _, u := range []string{
		p.SchemaRegistryAuthzURL + "/subjects/x%2F..%2F..%2Fconfig",
		p.SchemaRegistryAuthzURL + "/subjects/x/%2e%2e/%2e%2e/config",
		p.ConnectAuthzURL + "/connectors/x%2Fy",
		p.ConnectAuthzURL + "/connectors/x/..;/y",
		p.SchemaRegistryAuthzURL + "/subjects/x%5c..%5cconfig",
	} {
		req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("DELETE %s: %d, want 400", strings.TrimPrefix(u, "https://"), resp.StatusCode)
		}
	}
}

// deployerApply runs `streamkit apply` as the team's deployer, not as a
// super user: the CLI presents the deployer's certificate from Vault to
// both clusters' mTLS listeners (where it is User:<namespace>deploy, the
// principal of its role's ACLs) and to the authorizing proxy of the
// secure Connect worker. It creates the team's topics on both clusters
// and a connector on the secure one. The same apply as the reader, with
// one more topic, is refused by the cluster (exit 1) and creates nothing.
func deployerApply(t *testing.T, ctx context.Context, p platformtest.Platform, root, ns, pkiMount string, userOf map[string]string) {
	t.Helper()
	rootVault, err := vault.NewClient(&vault.Config{Address: p.VaultAddr})
	if err != nil {
		t.Fatal(err)
	}
	rootVault.SetToken(p.VaultToken)
	// Both clusters on TLS, so that the CLI's certificate is its
	// principal on both; restricted data names the approvals of the roles
	// that read it.
	team := strings.NewReplacer("standard: { levels: ['public', 'internal', 'confidential'] },",
		"standard: { levels: ['public', 'internal', 'confidential'], tls: true },",
		"quotas:", "approvals: { analytics: 'SEC-1', ops: 'SEC-2', publisher: 'SEC-3' },\n  quotas:").Replace(rolesTeam)
	writeFile(t, filepath.Join(root, "team.jsonnet"), strings.ReplaceAll(team, "NS", ns))
	manifests := `local sk = import 'streamkit.libsonnet';
local ns = std.extVar('ns');
{
  topics: [
    sk.topic(ns + 'prices.v1', partitions=1, replication=1, classification='internal'),
    sk.topic(ns + 'cards.v1', partitions=1, replication=1, classification='restricted'),
  ] + EXTRA,
  connectors: [sk.fileSource(ns + 'cards-in', '/dev/null', ns + 'cards.v1') + { cluster: 'secure' }],
}
`
	writeFile(t, filepath.Join(root, "manifests", "main.jsonnet"), strings.ReplaceAll(manifests, "EXTRA", "[]"))
	certFiles := func(role string) []string {
		t.Helper()
		_, ic := principalCertificate(t, ctx, p, rootVault, pkiMount, userOf[role])
		var chain []byte
		for _, der := range ic.TLS.Certificate {
			chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
		}
		key, err := x509.MarshalPKCS8PrivateKey(ic.TLS.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		certFile, keyFile := filepath.Join(dir, role+".pem"), filepath.Join(dir, role+"-key.pem")
		if err := os.WriteFile(certFile, chain, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600); err != nil {
			t.Fatal(err)
		}
		return []string{
			EnvBrokers + "=" + strings.Join(p.MTLSBrokers, ","),
			clusterEnv(EnvBrokers, "secure", false) + "=" + strings.Join(p.SecureMTLSBrokers, ","),
			clusterEnv(EnvConnectURL, "secure", false) + "=" + p.ConnectAuthzURL,
			EnvSchemaRegistryURL + "=" + p.SchemaRegistryAuthzURL,
			EnvTLSCAFile + "=" + p.TLSCAFile, EnvTLSCertFile + "=" + certFile, EnvTLSKeyFile + "=" + keyFile,
		}
	}

	r := streamkit(t, root, certFiles("deployer"), "apply")
	if r.code != exitOK {
		t.Fatalf("apply as the deployer:\n%s", r)
	}
	trust, err := p.ClientTLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	topicsOn := func(brokers []string) kadm.TopicDetails {
		t.Helper()
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DialTLSConfig(trust.Clone()))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		td, err := kadm.NewClient(cl).ListTopics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return td
	}
	standard, secure := topicsOn(p.MTLSBrokers), topicsOn(p.SecureMTLSBrokers)
	if !standard.Has(ns+"prices.v1") || !secure.Has(ns+"cards.v1") || standard.Has(ns+"cards.v1") {
		t.Fatalf("after the deployer's apply: standard %v, secure %v", standard.Names(), secure.Names())
	}
	adminConnect, err := connect.New(connect.WithURLs(p.ConnectTLSURL), connect.WithTLSConfig(trust.Clone()), connect.WithBasicAuth(p.ConnectUser, p.ConnectPassword))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adminConnect.Config(ctx, ns+"cards-in"); err != nil {
		t.Fatalf("the deployer's connector on the secure worker: %v", err)
	}

	writeFile(t, filepath.Join(root, "manifests", "main.jsonnet"), strings.ReplaceAll(manifests, "EXTRA",
		"[sk.topic(ns + 'prices.v2', partitions=1, replication=1, classification='internal')]"))
	r = streamkit(t, root, certFiles("reader"), "apply")
	if r.code != exitFindings {
		t.Fatalf("apply as the reader: exit %d, want %d:\n%s", r.code, exitFindings, r)
	}
	if topicsOn(p.MTLSBrokers).Has(ns + "prices.v2") {
		t.Fatal("the reader's apply created a topic")
	}
	t.Logf("apply as the reader:\n%s", r.stderr)
}

// refreshCRLs runs `scripts/platform crl`: the authorizing proxies read the
// revocation lists of Vault's PKI mounts again, as the platform's job does
// after a mount is added or a certificate revoked.
func refreshCRLs(t *testing.T) {
	t.Helper()
	out, err := exec.Command(filepath.Join("..", "..", "scripts", "platform"), "crl").CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/platform crl: %v\n%s", err, out)
	}
}

// revocation: a principal's certificate that the administrator revokes
// (secrets.Client.RevokeCertificate) is refused by both proxies once they
// have read the mount's list again, with a 401 that says it is revoked
// (schema.ErrRefused, connect.ErrUnauthorized); a new certificate of the
// same principal is accepted.
func revocation(t *testing.T, ctx context.Context, p platformtest.Platform, admin *secrets.Client, pkiMount, user string) {
	t.Helper()
	trust, err := p.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	// The administrator issues from the principal's role here; the
	// principal's own token would issue the same certificate.
	issue := func() *secrets.IssuedCertificate {
		t.Helper()
		ic, err := admin.IssueCertificate(ctx, secrets.CertificateRequest{Mount: pkiMount, Role: policyName(user), CommonName: user, TTL: 10 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		return ic
	}
	// try reads the registry and Connect through the proxies on new
	// connections, as the certificate's holder.
	try := func(ic *secrets.IssuedCertificate) (regErr, conErr error) {
		t.Helper()
		reg, con := authzClients(t, p, trust, &ic.TLS)
		_, regErr = reg.SchemaByID(ctx, 1)
		if errors.Is(regErr, schema.ErrUnknownSchemaID) || errors.Is(regErr, schema.ErrSchemaNotFound) {
			regErr = nil // the proxy let it through
		}
		_, conErr = con.Names(ctx)
		return regErr, conErr
	}
	revoked := issue()
	if regErr, conErr := try(revoked); regErr != nil || conErr != nil {
		t.Fatalf("before revocation: registry %v, Connect %v", regErr, conErr)
	}
	if err := admin.RevokeCertificate(ctx, pkiMount, revoked.SerialNumber); err != nil {
		t.Fatal(err)
	}
	refreshCRLs(t)
	regErr, conErr := try(revoked)
	var re *schema.RegistryError
	if !errors.Is(regErr, schema.ErrRefused) || !errors.As(regErr, &re) || re.StatusCode != http.StatusUnauthorized || !strings.Contains(regErr.Error(), "revoked") {
		t.Errorf("the registry with a revoked certificate: %v; want a 401 ErrRefused that says revoked", regErr)
	}
	if !errors.Is(conErr, connect.ErrUnauthorized) || !strings.Contains(conErr.Error(), "revoked") {
		t.Errorf("Connect with a revoked certificate: %v; want ErrUnauthorized that says revoked", conErr)
	}
	if regErr, conErr := try(issue()); regErr != nil || conErr != nil {
		t.Fatalf("a new certificate after the revocation: registry %v, Connect %v", regErr, conErr)
	}
	t.Logf("a revoked certificate: registry %v; Connect %v", regErr, conErr)
}

// principalCertificate logs in to Vault as user, with a token of the
// policy principals apply wrote (as an auth method would give it), and
// issues the user's client certificate from its PKI role.
func principalCertificate(t *testing.T, ctx context.Context, p platformtest.Platform, root *vault.Client, pkiMount, user string) (*secrets.Client, *secrets.IssuedCertificate) {
	t.Helper()
	tok, err := root.Auth().Token().CreateWithContext(ctx, &vault.TokenCreateRequest{Policies: []string{policyName(user)}, TTL: "10m"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := secrets.New(ctx, secrets.WithAddress(p.VaultAddr), secrets.WithToken(secrets.NewValue(tok.Auth.ClientToken)))
	if err != nil {
		t.Fatal(err)
	}
	ic, err := v.IssueCertificate(ctx, secrets.CertificateRequest{Mount: pkiMount, Role: policyName(user), CommonName: user, TTL: 10 * time.Minute})
	if err != nil {
		t.Fatalf("%s issues its certificate: %v", user, err)
	}
	return v, ic
}

// authzClients are a registry and a Connect client through the platform's
// authorizing proxies, trusting trust's authority and showing cert (none
// when nil), each on connections of its own.
func authzClients(t *testing.T, p platformtest.Platform, trust *tls.Config, cert *tls.Certificate) (*schema.Registry, *connect.Client) {
	t.Helper()
	cfg := trust.Clone()
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	reg, err := schema.NewRegistryFromOptions(sr.URLs(p.SchemaRegistryAuthzURL), sr.DialTLSConfig(cfg.Clone()))
	if err != nil {
		t.Fatal(err)
	}
	con, err := connect.New(connect.WithURLs(p.ConnectAuthzURL), connect.WithTLSConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return reg, con
}
