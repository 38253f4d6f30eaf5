package main

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/secrets"
)

// rolesTeam is a team file with principals by role, a quota, and the
// platform's two clusters.
const rolesTeam = `{
  namespace: 'NS',
  manifests: 'manifests',
  roles: { publisher: 'service', analytics: 'reader', deploy: 'deployer', ops: 'owner' },
  quotas: { publisher: { producer_byte_rate: 1048576, request_percentage: 50 } },
  data: {
    levels: ['public', 'internal', 'confidential', 'restricted'],
    clusters: {
      standard: { levels: ['public', 'internal', 'confidential'] },
      secure: { levels: ['confidential', 'restricted'], tls: true },
    },
    default_cluster: 'standard',
  },
}
`

// TestIntegrationPrincipals runs the platform administrator's pipeline on
// a team's repository: principals apply gives each principal of the team
// file's roles a SCRAM credential on both clusters with a generated
// password that only Vault holds (nothing printed shows it), and its
// quotas; apply gives the roles' ACLs on both clusters; rotate replaces
// one password, in Vault first: the old one is refused, the new one
// accepted.
func TestIntegrationPrincipals(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka, platformtest.KafkaSASL, platformtest.Vault, platformtest.SchemaRegistry,
		platformtest.Connect, platformtest.KafkaTLS, platformtest.SecureKafka, platformtest.HTTPS)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	ns := platformtest.UniqueName("it-roles") + "."
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "team.jsonnet"), strings.ReplaceAll(rolesTeam, "NS", ns))
	manifests := filepath.Join(root, "manifests", "main.jsonnet")
	writeFile(t, manifests, `local sk = import 'streamkit.libsonnet';
{ topics: [sk.topic(std.extVar('ns') + 'prices.v1', partitions=1, replication=1, classification='internal')] }
`)
	// The administrator: the standard cluster's PLAINTEXT listeners (a
	// super user there), the secure cluster as the admin's certificate.
	env := []string{
		EnvBrokers + "=" + strings.Join(p.Brokers, ","),
		clusterEnv(EnvBrokers, "secure", false) + "=" + strings.Join(p.SecureMTLSBrokers, ","),
		EnvTLSCAFile + "=" + p.TLSCAFile, EnvTLSCertFile + "=" + p.TLSCertFile, EnvTLSKeyFile + "=" + p.TLSKeyFile,
		EnvVaultAddr + "=" + p.VaultAddr, EnvVaultToken + "=" + p.VaultToken,
	}
	// The platform's PKI engine for principals' client certificates,
	// signed by the platform's authority as its administrator mounts it.
	rootVault, err := secrets.New(ctx, secrets.WithAddress(p.VaultAddr), secrets.WithToken(secrets.NewValue(p.VaultToken)))
	if err != nil {
		t.Fatal(err)
	}
	pkiMount := platformtest.MountPKI(t, ctx, p, rootVault, time.Hour)
	env = append(env, EnvVaultPKIMount+"="+pkiMount)
	users := []string{ns + "analytics", ns + "deploy", ns + "ops", ns + "publisher"}
	const publisher = 3
	admin, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	adm := kadm.NewClient(admin)
	tlsAdmin, err := p.ClientTLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	secureAdmin, err := kgo.NewClient(kgo.SeedBrokers(p.SecureMTLSBrokers...), kgo.DialTLSConfig(tlsAdmin))
	if err != nil {
		t.Fatal(err)
	}
	defer secureAdmin.Close()
	secAdm := kadm.NewClient(secureAdmin)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// Without the roles and the topic, a prune removes their ACLs and
		// the topic from both clusters.
		writeFile(t, manifests, "{}")
		noRoles := strings.NewReplacer("roles: { publisher: 'service', analytics: 'reader', deploy: 'deployer', ops: 'owner' },", "",
			"quotas: { publisher: { producer_byte_rate: 1048576, request_percentage: 50 } },", "").Replace(rolesTeam)
		writeFile(t, filepath.Join(root, "team.jsonnet"), strings.ReplaceAll(noRoles, "NS", ns))
		full := append(slices.Clip(env), EnvSchemaRegistryURL+"="+p.SchemaRegistryURL,
			EnvConnectURL+"="+strings.Join(p.ConnectURLs, ","), clusterEnv(EnvConnectURL, "secure", false)+"="+p.ConnectTLSURL,
			EnvConnectUser+"="+p.ConnectUser, EnvConnectPassword+"="+p.ConnectPassword)
		if r := streamkit(t, root, full, "apply", "-prune", "-force"); r.code != exitOK {
			t.Errorf("cleanup apply -prune:\n%s", r)
		}
		var dels []kadm.DeleteSCRAM
		for _, u := range users {
			dels = append(dels, kadm.DeleteSCRAM{User: u, Mechanism: kadm.ScramSha512})
			_ = vaultKV(t, p).DeleteMetadata(ctx, principalPath(u))
		}
		_, _ = adm.AlterUserSCRAMs(ctx, dels, nil)
		_, _ = secAdm.AlterUserSCRAMs(ctx, dels, nil)
	})

	// A principal that is one of the clusters' super users (here
	// User:admin, the SCRAM administrator) is refused before anything is
	// written: the cluster has its credential, and Vault does not.
	superRoot := t.TempDir()
	writeFile(t, filepath.Join(superRoot, "team.jsonnet"), "{ namespace: 'ad', manifests: 'manifests', roles: { min: 'service' } }")
	writeFile(t, filepath.Join(superRoot, "manifests", "main.jsonnet"), "{}")
	if r := streamkit(t, superRoot, env, "principals", "apply"); r.code != exitError || !strings.Contains(r.stderr, "User:admin already has a SCRAM credential") {
		t.Fatalf("principals apply of a super user:\n%s", r)
	}
	if _, err := vaultKV(t, p).Get(ctx, principalPath("admin")); err == nil {
		t.Fatal("a password for the super user was written to Vault")
	}

	r := streamkit(t, root, env, "principals", "apply")
	if r.code != exitOK {
		t.Fatalf("principals apply:\n%s", r)
	}
	// The authorizing proxies check the new mount's revocation list from
	// now on.
	refreshCRLs(t)
	vault := vaultKV(t, p)
	password := func(user string) string {
		t.Helper()
		s, err := vault.Get(ctx, principalPath(user))
		if err != nil {
			t.Fatalf("vault: %s: %v", user, err)
		}
		pw, _ := s.Data["password"].(string)
		if len(pw) < 32 {
			t.Fatalf("vault holds no generated password for %s", user)
		}
		return pw
	}
	for _, u := range users {
		pw := password(u)
		if strings.Contains(r.stdout+r.stderr, pw) {
			t.Fatalf("principals apply printed %s's password", u)
		}
		if err := p.WaitForSCRAM(ctx, u, pw, true); err != nil {
			t.Fatalf("%s on the standard cluster: %v", u, err)
		}
		if err := secureLogin(ctx, p, u, pw); err != nil {
			t.Fatalf("%s on the secure cluster: %v", u, err)
		}
	}
	quotas, err := adm.DescribeClientQuotas(ctx, true, []kadm.DescribeClientQuotaComponent{{Type: "user", MatchName: &users[publisher]}})
	if err != nil || len(quotas) != 1 || len(quotas[0].Values) != 2 {
		t.Fatalf("publisher's quotas: %v %+v", err, quotas)
	}
	// A second apply keeps the passwords.
	before := password(users[publisher])
	if r := streamkit(t, root, env, "principals", "apply"); r.code != exitOK || password(users[publisher]) != before {
		t.Fatalf("a second principals apply changed a password, or failed:\n%s", r)
	}

	// The roles' ACLs come with the team's plan, on both clusters.
	if r := streamkit(t, root, env, "apply"); r.code != exitOK {
		t.Fatalf("apply:\n%s", r)
	}
	for _, a := range []*kadm.Client{adm, secAdm} {
		res, err := a.DescribeACLs(ctx, kadm.NewACLs().Topics(ns).Groups(ns).ResourcePatternType(kadm.ACLPatternPrefixed).
			Allow("User:"+users[0]).AllowHosts().Operations(kadm.OpAny))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range res {
			n += len(r.Described)
		}
		if n == 0 {
			t.Errorf("the reader has no ACLs on a cluster")
		}
	}

	// Rotation: Vault first, then every cluster; the old password stops
	// working for new connections.
	r = streamkit(t, root, env, "principals", "rotate", "publisher")
	if r.code != exitOK {
		t.Fatalf("principals rotate:\n%s", r)
	}
	after := password(users[publisher])
	if after == before || strings.Contains(r.stdout+r.stderr, after) {
		t.Fatalf("rotate: same password, or printed:\n%s", r)
	}
	if err := p.WaitForSCRAM(ctx, users[publisher], before, false); err != nil {
		t.Fatalf("the old password still works: %v", err)
	}
	if err := p.WaitForSCRAM(ctx, users[publisher], after, true); err != nil {
		t.Fatalf("the new password: %v", err)
	}
	if err := secureLogin(ctx, p, users[publisher], after); err != nil {
		t.Fatalf("the new password on the secure cluster: %v", err)
	}
	if r := streamkit(t, root, env, "principals", "rotate", "nobody"); r.code != exitError {
		t.Fatalf("rotate of a principal the team does not have:\n%s", r)
	}

	userOf := map[string]string{"reader": users[0], "deployer": users[1], "owner": users[2], "service": users[3]}
	vaultMatrix(t, ctx, p, ns, userOf)
	tried, allowed, refused, unexpected := proxyMatrix(t, ctx, p, ns, pkiMount, userOf)
	if tried != 66 || allowed != 25 || refused != 41 || unexpected != 0 {
		t.Errorf("registry and Connect matrix: %d tried, %d allowed, %d refused, %d unexpected; want 66, 25, 41, 0", tried, allowed, refused, unexpected)
	}
	owner, err := rootVault.IssueCertificate(ctx, secrets.CertificateRequest{Mount: pkiMount, Role: policyName(users[2]), CommonName: users[2], TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	checkProxyPaths(t, ctx, p, owner.TLS)
	revocation(t, ctx, p, rootVault, pkiMount, users[publisher])
	deployerApply(t, ctx, p, root, ns, pkiMount, userOf)
}

// vaultMatrix is the Vault part of the denial matrix: each role's
// principal gets a token of the policy principals apply wrote (as an auth
// method would give it), and tries five operations on Vault paths; each
// is allowed where the role allows it and refused with 403
// (secrets.ErrPermissionDenied) everywhere else.
func vaultMatrix(t *testing.T, ctx context.Context, p platformtest.Platform, ns string, userOf map[string]string) {
	t.Helper()
	root, err := vault.NewClient(&vault.Config{Address: p.VaultAddr})
	if err != nil {
		t.Fatal(err)
	}
	root.SetToken(p.VaultToken)
	team := teamSecretsPath(ns)
	other := platformtest.UniqueName("otherteam")
	for _, path := range []string{team + "/db", other + "/db"} {
		if _, err := root.KVv2(principalsMount).Put(ctx, path, map[string]any{"password": "team-secret"}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, path := range []string{team + "/db", other + "/db"} {
			_ = root.KVv2(principalsMount).DeleteMetadata(context.Background(), path)
		}
		for _, u := range userOf {
			_ = root.Sys().DeletePolicy(policyName(u))
		}
	})
	type op struct {
		name    string
		allowed []string
		run     func(c *secrets.Client, user string) error
	}
	read := func(path string) func(c *secrets.Client, user string) error {
		return func(c *secrets.Client, _ string) error {
			_, err := c.ReadKV2(ctx, principalsMount, path, 0)
			return err
		}
	}
	ops := []op{
		{"read its own credential", []string{"owner", "deployer", "service", "reader"},
			func(c *secrets.Client, user string) error {
				_, err := c.ReadKV2(ctx, principalsMount, principalPath(user), 0)
				return err
			}},
		{"read another principal's credential", nil,
			func(c *secrets.Client, user string) error {
				other := userOf["owner"]
				if user == other {
					other = userOf["reader"]
				}
				_, err := c.ReadKV2(ctx, principalsMount, principalPath(other), 0)
				return err
			}},
		{"read a team secret", []string{"owner", "deployer", "service"}, read(team + "/db")},
		{"write a team secret", []string{"owner"}, func(c *secrets.Client, _ string) error {
			_, err := c.API().KVv2(principalsMount).Put(ctx, team+"/db", map[string]any{"password": "changed"})
			var re *vault.ResponseError
			if errors.As(err, &re) && re.StatusCode == 403 {
				return secrets.ErrPermissionDenied
			}
			return err
		}},
		{"read another team's secret", nil, read(other + "/db")},
	}
	var tried, allowed, refused, unexpected int
	for _, role := range []string{"owner", "deployer", "service", "reader"} {
		user := userOf[role]
		tok, err := root.Auth().Token().CreateWithContext(ctx, &vault.TokenCreateRequest{Policies: []string{policyName(user)}, TTL: "10m"})
		if err != nil {
			t.Fatal(err)
		}
		c, err := secrets.New(ctx, secrets.WithAddress(p.VaultAddr), secrets.WithToken(secrets.NewValue(tok.Auth.ClientToken)))
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range ops {
			want := slices.Contains(o.allowed, role)
			err := o.run(c, user)
			tried++
			switch {
			case err == nil:
				allowed++
				if !want {
					t.Errorf("vault: %s as %s was allowed", o.name, role)
				}
			case errors.Is(err, secrets.ErrPermissionDenied):
				refused++
				if want {
					t.Errorf("vault: %s as %s was refused: %v", o.name, role, err)
				}
			default:
				unexpected++
				t.Errorf("vault: %s as %s: %v", o.name, role, err)
			}
		}
	}
	t.Logf("denial matrix on Vault: %d operations tried, %d allowed, %d refused, %d unexpected", tried, allowed, refused, unexpected)
}

// secureLogin waits until the secure cluster accepts user's password.
func secureLogin(ctx context.Context, p platformtest.Platform, user, pass string) error {
	trust, err := p.TLSConfig()
	if err != nil {
		return err
	}
	for {
		cl, err := kgo.NewClient(kgo.SeedBrokers(p.SecureSASLSSLBrokers...), kgo.DialTLSConfig(trust), kgo.RequestRetries(0),
			kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()))
		if err != nil {
			return err
		}
		err = cl.Ping(ctx)
		cl.Close()
		if err == nil || ctx.Err() != nil {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// vaultKV is the platform Vault's KV v2 mount of the principals.
func vaultKV(t *testing.T, p platformtest.Platform) *vault.KVv2 {
	t.Helper()
	vc, err := vault.NewClient(&vault.Config{Address: p.VaultAddr})
	if err != nil {
		t.Fatal(err)
	}
	vc.SetToken(p.VaultToken)
	return vc.KVv2(principalsMount)
}

// TestPrincipalsMistakes: the mistakes a team makes in its roles, and in
// the command line, exit 2 with what is wrong, before any platform is
// asked.
func TestPrincipalsMistakes(t *testing.T) {
	for _, tc := range []struct {
		name, team string
		args       []string
		want       string
	}{
		{"unknown role", `{namespace: 'pricing.', roles: {publisher: 'admin'}}`, []string{"validate"}, `role "admin": want owner, deployer, service or reader`},
		{"full principal as a name", `{namespace: 'pricing.', roles: {'User:x': 'service'}}`, []string{"validate"}, "want a short name"},
		{"a list in a name", `{namespace: 'pricing.', roles: {'x,admin': 'service'}}`, []string{"validate"}, "want a short name"},
		{"upper case in a name", `{namespace: 'pricing.', roles: {Publisher: 'service'}}`, []string{"validate"}, "want a short name"},
		{"a platform principal's name", `{namespace: 'streamkit-ad', roles: {min: 'service'}}`, []string{"validate"}, "as the platform's own principals do"},
		{"a subject in the namespace", `{namespace: 'pricing,OU=owner.', roles: {publisher: 'service'}}`, []string{"validate"}, "want a short name"},
		{"quota of nobody", `{namespace: 'pricing.', roles: {publisher: 'service'}, quotas: {billing: {producer_byte_rate: 1}}}`,
			[]string{"validate"}, "quotas.billing: not one of the roles' principals"},
		{"no subcommand", `{namespace: 'pricing.', roles: {publisher: 'service'}}`, []string{"principals"}, "principals apply, or principals rotate NAME"},
		{"rotate without a name", `{namespace: 'pricing.', roles: {publisher: 'service'}}`, []string{"principals", "rotate"}, "principals apply, or principals rotate NAME"},
		{"no vault", `{namespace: 'pricing.', roles: {publisher: 'service'}}`, []string{"principals", "apply"}, "principals need STREAMKIT_BROKERS, VAULT_ADDR"},
		{"the principals' own vault folder", `{namespace: 'streamkit.', roles: {publisher: 'service'}}`, []string{"validate"}, "its Vault folder would be the principals' credentials'"},
		{"a cluster name two variables share", `{namespace: 'pricing.', data: {levels: ['public'], clusters: {Secure: {levels: ['public']}}, default_cluster: 'Secure'}}`,
			[]string{"validate"}, "data.clusters.Secure: want lower-case letters"},
		{"a TLS-only cluster named without a CA", `{namespace: 'pricing.', data: {levels: ['public', 'restricted'], clusters: {standard: {levels: ['public']}, secure: {levels: ['restricted'], tls: true}}, default_cluster: 'standard'}}`,
			[]string{"plan", "-team", "team.jsonnet"}, "cluster secure of the team file is TLS-only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeFile(t, filepath.Join(root, "team.jsonnet"), tc.team)
			writeFile(t, filepath.Join(root, "manifests", "main.jsonnet"), "{}")
			var env []string
			if strings.Contains(tc.name, "TLS-only") {
				env = []string{clusterEnv(EnvBrokers, "secure", false) + "=127.0.0.1:1"}
			}
			r := streamkit(t, root, env, tc.args...)
			if r.code != exitError || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("want exit 2 with %q:\n%s", tc.want, r)
			}
		})
	}
}

// TestValidateOfflineWithTLSClusters: a team file with a TLS-only cluster
// validates offline, with no platform and no TLS settings, as a CI lint
// does.
func TestValidateOfflineWithTLSClusters(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "team.jsonnet"), strings.ReplaceAll(secureTeam, "NS", "pricing."))
	writeFile(t, filepath.Join(root, "manifests", "main.jsonnet"), strings.ReplaceAll(secureManifests, "std.extVar('ns')", "'pricing.'"))
	if r := streamkit(t, root, nil, "validate"); r.code != exitOK {
		t.Fatalf("offline validate:\n%s", r)
	}
}

// TestRoleApproval: a role principal that reads the namespace needs an
// approval once a restricted topic is declared (TEAM002), offline.
func TestRoleApproval(t *testing.T) {
	root := t.TempDir()
	team := strings.ReplaceAll(secureTeam, "NS", "pricing.")
	writeFile(t, filepath.Join(root, "manifests", "main.jsonnet"), strings.ReplaceAll(secureManifests, "std.extVar('ns')", "'pricing.'"))
	withRoles := strings.Replace(team, "services: ['publisher', 'analytics'],",
		"services: ['publisher'], roles: { analytics: 'reader', deploy: 'deployer' },", 1)
	writeFile(t, filepath.Join(root, "team.jsonnet"), withRoles)
	r := streamkit(t, root, nil, "validate")
	if r.code != exitFindings || !strings.Contains(r.stdout, "TEAM002") || !strings.Contains(r.stdout, "User:pricing.analytics (reader)") ||
		strings.Contains(r.stdout, "pricing.deploy (deployer)") {
		t.Fatalf("validate with a reader role and a restricted topic:\n%s", r)
	}
	approved := strings.Replace(withRoles, "roles: {", "approvals: { analytics: 'SEC-1234' }, roles: {", 1)
	writeFile(t, filepath.Join(root, "team.jsonnet"), approved)
	if r := streamkit(t, root, nil, "validate"); r.code != exitOK {
		t.Fatalf("validate with the approval:\n%s", r)
	}
}
