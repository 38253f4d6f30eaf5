package main

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/platformtest"
)

// secureTeam is a team file with a data policy: restricted data on the
// secure cluster only, which is TLS-only.
const secureTeam = `{
  namespace: 'NS',
  manifests: 'manifests',
  services: ['publisher', 'analytics'],
  data: {
    levels: ['public', 'internal', 'confidential', 'restricted'],
    clusters: {
      standard: { levels: ['public', 'internal', 'confidential'], tls: true },
      secure: { levels: ['confidential', 'restricted'], tls: true },
    },
    default_cluster: 'standard',
  },
}
`

// secureManifests are the team's topics and grants, in the template's
// style: computed names, library calls. The secure cluster of the test
// platform has one node, so its topic has one replica.
const secureManifests = `local sk = import 'streamkit.libsonnet';
local ns = std.extVar('ns');
{
  topics: [
    sk.topic(ns + 'prices.v1', partitions=3, classification='internal'),
    sk.topic(ns + 'cards.v1', partitions=2, replication=1, classification='restricted'),
  ],
  acls: [
    sk.producer('User:' + ns + 'publisher', [ns + 'prices.v1', ns + 'cards.v1']),
    sk.consumer('User:' + ns + 'analytics', [ns + 'cards.v1'], [ns + 'analytics'], approval='SEC-1234'),
  ],
}
`

// TestIntegrationSecureRouting applies one repository to two clusters, as
// a user of a platform with a secure cluster does: the CLI talks TLS with
// a client certificate to both (STREAMKIT_TLS_*), puts the restricted
// topic and the grants on it on the secure cluster and the rest on the
// standard one. A topic pinned to the wrong cluster is refused with
// DATA002 before anything is written, and a prune removes both.
func TestIntegrationSecureRouting(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka, platformtest.SchemaRegistry, platformtest.Connect,
		platformtest.KafkaTLS, platformtest.SecureKafka, platformtest.HTTPS)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := platformtest.UniqueName("it-route") + "."
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "team.jsonnet"), strings.ReplaceAll(secureTeam, "NS", ns))
	manifests := filepath.Join(root, "manifests", "main.jsonnet")
	writeFile(t, manifests, secureManifests)
	// The standard cluster's mTLS listeners, and its Connect workers and
	// registry on plain HTTP; the secure cluster's mTLS listener, and its
	// Connect worker on HTTPS with basic authentication.
	env := []string{
		EnvBrokers + "=" + strings.Join(p.MTLSBrokers, ","),
		clusterEnv(EnvBrokers, "secure", false) + "=" + strings.Join(p.SecureMTLSBrokers, ","),
		EnvTLSCAFile + "=" + p.TLSCAFile, EnvTLSCertFile + "=" + p.TLSCertFile, EnvTLSKeyFile + "=" + p.TLSKeyFile,
		EnvSchemaRegistryURL + "=" + p.SchemaRegistryURL,
		EnvConnectURL + "=" + strings.Join(p.ConnectURLs, ","),
		clusterEnv(EnvConnectURL, "secure", false) + "=" + p.ConnectTLSURL,
		EnvConnectUser + "=" + p.ConnectUser, EnvConnectPassword + "=" + p.ConnectPassword,
	}

	// Without the secure cluster's brokers, plan says which variable.
	if r := streamkit(t, root, env[:1:1], "plan"); r.code != exitError || !strings.Contains(r.stderr+r.stdout, EnvTLSCAFile) {
		t.Fatalf("plan without TLS settings for a TLS-only cluster:\n%s", r)
	}
	if r := streamkit(t, root, append([]string{env[0]}, env[2:]...), "plan"); r.code != exitError ||
		!strings.Contains(r.stderr+r.stdout, "STREAMKIT_BROKERS_SECURE") {
		t.Fatalf("plan without the secure cluster's brokers:\n%s", r)
	}

	r := applyThenPrune(t, root, manifests, env)
	if !strings.Contains(r.stdout, "on cluster secure") && !strings.Contains(r.stdout, "on secure") {
		t.Errorf("apply's report does not name the secure cluster:\n%s", r.stdout)
	}

	admin, err := p.ClientTLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	list := func(brokers []string) (kadm.TopicDetails, kadm.ACLBuilder, *kadm.Client) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DialTLSConfig(admin.Clone()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		adm := kadm.NewClient(cl)
		td, err := adm.ListTopics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return td, kadm.ACLBuilder{}, adm
	}
	standard, _, stdAdm := list(p.MTLSBrokers)
	secure, _, secAdm := list(p.SecureMTLSBrokers)
	for _, c := range []struct {
		where  string
		td     kadm.TopicDetails
		topic  string
		exists bool
	}{
		{"standard", standard, ns + "prices.v1", true},
		{"standard", standard, ns + "cards.v1", false},
		{"secure", secure, ns + "cards.v1", true},
		{"secure", secure, ns + "prices.v1", false},
	} {
		if c.td.Has(c.topic) != c.exists {
			t.Errorf("topic %s on the %s cluster: exists %t, want %t", c.topic, c.where, c.td.Has(c.topic), c.exists)
		}
	}
	acls := func(adm *kadm.Client, principal string) int {
		b := kadm.NewACLs().Topics().Groups().ResourcePatternType(kadm.ACLPatternAny).
			Allow(principal).AllowHosts().Operations(kadm.OpAny)
		res, err := adm.DescribeACLs(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range res {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			n += len(r.Described)
		}
		return n
	}
	if n := acls(secAdm, "User:"+ns+"analytics"); n == 0 {
		t.Error("the consumer of the restricted topic has no ACLs on the secure cluster")
	}
	if n := acls(stdAdm, "User:"+ns+"analytics"); n != 0 {
		t.Errorf("the consumer of the restricted topic has %d ACLs on the standard cluster", n)
	}
	if n := acls(stdAdm, "User:"+ns+"publisher"); n == 0 {
		t.Error("the publisher has no ACLs on the standard cluster")
	}

	// Reclassifying a topic moves it to the other cluster: a prune would
	// delete it, records and all, where it is; PLAN006 says so.
	writeFile(t, manifests, strings.Replace(secureManifests, "partitions=3, classification='internal'", "partitions=3, replication=1, classification='restricted'", 1))
	r = streamkit(t, root, env, "plan", "-prune")
	if r.code != exitFindings || !strings.Contains(r.stdout+r.stderr, "PLAN006") {
		t.Fatalf("plan -prune of a topic that moves cluster:\n%s", r)
	}

	// The mistake: restricted data pinned to the standard cluster.
	writeFile(t, manifests, strings.Replace(secureManifests, "classification='restricted')",
		"classification='restricted') + { cluster: 'standard' }", 1))
	r = streamkit(t, root, env, "apply")
	if r.code != exitFindings || !strings.Contains(r.stdout+r.stderr, "DATA002") {
		t.Fatalf("apply with restricted data pinned to the standard cluster:\n%s", r)
	}
	if td, _, _ := list(p.MTLSBrokers); td.Has(ns + "cards.v1") {
		t.Error("the refused apply created the restricted topic on the standard cluster")
	}
	writeFile(t, manifests, secureManifests)
}

// oneClusterTLSTeam is a team without data clusters whose one cluster
// speaks TLS only.
const oneClusterTLSTeam = `{ namespace: 'NS', manifests: 'manifests', tls: true }`

// TestOneClusterTLSMistakes: tls: true beside data clusters is refused,
// and so are the cluster's brokers without the CA; offline validate needs
// neither.
func TestOneClusterTLSMistakes(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "manifests", "main.jsonnet"), `{ topics: [] }`)
	writeFile(t, filepath.Join(root, "team.jsonnet"), strings.ReplaceAll(oneClusterTLSTeam, "NS", "pricing."))
	if r := streamkit(t, root, nil, "validate"); r.code != exitOK {
		t.Fatalf("offline validate:\n%s", r)
	}
	if r := streamkit(t, root, []string{EnvBrokers + "=127.0.0.1:1"}, "plan"); r.code != exitError || !strings.Contains(r.stderr, EnvTLSCAFile) {
		t.Fatalf("plan without the CA:\n%s", r)
	}
	both := strings.Replace(strings.ReplaceAll(secureTeam, "NS", "pricing."), "manifests: 'manifests',", "manifests: 'manifests', tls: true,", 1)
	writeFile(t, filepath.Join(root, "team.jsonnet"), both)
	if r := streamkit(t, root, nil, "validate"); r.code != exitError || !strings.Contains(r.stderr, "data.clusters.<name>.tls") {
		t.Fatalf("tls: true beside data clusters:\n%s", r)
	}
}

// TestIntegrationOneClusterTLS: a team with one cluster that speaks TLS
// only applies to its mTLS listeners, with the CLI's client certificate as
// its principal.
func TestIntegrationOneClusterTLS(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka, platformtest.KafkaTLS, platformtest.SchemaRegistry, platformtest.Connect)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := platformtest.UniqueName("it-onetls") + "."
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "team.jsonnet"), strings.ReplaceAll(oneClusterTLSTeam, "NS", ns))
	manifests := filepath.Join(root, "manifests", "main.jsonnet")
	writeFile(t, manifests, `local sk = import 'streamkit.libsonnet';
{ topics: [sk.topic(std.extVar('ns') + 'prices.v1', partitions=2, replication=1)] }
`)
	env := []string{
		EnvBrokers + "=" + strings.Join(p.MTLSBrokers, ","),
		EnvTLSCAFile + "=" + p.TLSCAFile, EnvTLSCertFile + "=" + p.TLSCertFile, EnvTLSKeyFile + "=" + p.TLSKeyFile,
		// A prune needs every kind of the team's resources.
		EnvSchemaRegistryURL + "=" + p.SchemaRegistryURL, EnvConnectURL + "=" + strings.Join(p.ConnectURLs, ","),
	}
	applyThenPrune(t, root, manifests, env)
	admin, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	td, err := kadm.NewClient(admin).ListTopics(ctx, ns+"prices.v1")
	if err != nil || !td.Has(ns+"prices.v1") {
		t.Fatalf("the topic after apply over mTLS: %v %v", err, td.Names())
	}
}

// TestIntegrationSecureSecrets: a connector of the secure cluster whose
// config holds a ${vault:...} reference gets it through the secure
// worker's own secrets folder (STREAMKIT_CONNECT_SECRETS_DIR_SECURE), not
// the standard workers': the CLI asks for that folder, writes the secret
// there from Vault, gives the worker a ${dir:...} placeholder, and the
// connector reads the file the secret names into the restricted topic.
func TestIntegrationSecureSecrets(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka, platformtest.Vault, platformtest.Connect, platformtest.SchemaRegistry,
		platformtest.KafkaTLS, platformtest.SecureKafka, platformtest.HTTPS)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := platformtest.UniqueName("it-secsec") + "."
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "team.jsonnet"), strings.ReplaceAll(secureTeam, "NS", ns))
	// The secret is the path of the file the source reads.
	input := filepath.Join(t.TempDir(), "cards.txt")
	writeFile(t, input, "card-1\ncard-2\ncard-3\n")
	kv := vaultKV(t, p)
	secretPath := teamSecretsPath(ns) + "/cards-file"
	if _, err := kv.Put(ctx, secretPath, map[string]any{"file": input}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kv.DeleteMetadata(context.Background(), secretPath) })
	manifests := filepath.Join(root, "manifests", "main.jsonnet")
	writeFile(t, manifests, `local sk = import 'streamkit.libsonnet';
local ns = std.extVar('ns');
{
  topics: [sk.topic(ns + 'cards.v1', partitions=1, replication=1, classification='restricted')],
  connectors: [
    sk.fileSource(ns + 'cards-in', '${vault:secret/data/' + std.rstripChars(ns, '.') + '/cards-file:file}', ns + 'cards.v1')
    + { cluster: 'secure' },
  ],
}
`)
	env := []string{
		EnvBrokers + "=" + strings.Join(p.MTLSBrokers, ","),
		clusterEnv(EnvBrokers, "secure", false) + "=" + strings.Join(p.SecureMTLSBrokers, ","),
		EnvTLSCAFile + "=" + p.TLSCAFile, EnvTLSCertFile + "=" + p.TLSCertFile, EnvTLSKeyFile + "=" + p.TLSKeyFile,
		clusterEnv(EnvConnectURL, "secure", false) + "=" + p.ConnectTLSURL,
		EnvConnectUser + "=" + p.ConnectUser, EnvConnectPassword + "=" + p.ConnectPassword,
		EnvVaultAddr + "=" + p.VaultAddr, EnvVaultToken + "=" + p.VaultToken,
		// The standard workers' folder is set, and must not be used.
		EnvSecretsDir + "=" + p.ConnectSecretsDir,
		// A prune needs every kind of the team's resources.
		EnvSchemaRegistryURL + "=" + p.SchemaRegistryURL, EnvConnectURL + "=" + strings.Join(p.ConnectURLs, ","),
	}
	secureDir := clusterEnv(EnvSecretsDir, "secure", false)
	if r := streamkit(t, root, env, "apply"); r.code != exitError || !strings.Contains(r.stderr+r.stdout, secureDir) {
		t.Fatalf("apply without the secure workers' secrets folder:\n%s", r)
	}
	env = append(env, secureDir+"="+p.ConnectTLSSecretsDir)
	applyThenPrune(t, root, manifests, env)

	trust, err := p.ClientTLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	cc, err := connect.New(connect.WithURLs(p.ConnectTLSURL), connect.WithTLSConfig(trust.Clone()), connect.WithBasicAuth(p.ConnectUser, p.ConnectPassword))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := cc.Config(ctx, ns+"cards-in")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cfg["file"], "${dir:"+p.ConnectTLSSecretsDir) {
		t.Fatalf("the secure worker's config has file=%q, want a placeholder in its own folder", cfg["file"])
	}
	// The secret sits in the secure workers' folder only.
	holds := func(dir string) bool {
		found := false
		_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, rerr := os.ReadFile(path); rerr == nil && strings.Contains(string(b), input) {
					found = true
				}
			}
			return nil
		})
		return found
	}
	if !holds(p.ConnectTLSSecretsDir) || holds(p.ConnectSecretsDir) {
		t.Fatalf("the secret: in the secure folder %v, in the standard one %v", holds(p.ConnectTLSSecretsDir), holds(p.ConnectSecretsDir))
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(p.SecureMTLSBrokers...), kgo.DialTLSConfig(trust.Clone()),
		kgo.ConsumeTopics(ns+"cards.v1"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []string
	for len(got) < 3 && ctx.Err() == nil {
		fetches := cl.PollFetches(ctx)
		fetches.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	if len(got) != 3 || !strings.Contains(got[0], "card-1") || !strings.Contains(got[2], "card-3") {
		t.Fatalf("the restricted topic holds %q, want the file's three lines", got)
	}

	// status and restart find the connector on the secure cluster's
	// workers.
	if r := streamkit(t, root, env, "status"); r.code != exitOK || !strings.Contains(r.stdout, ns+"cards-in  RUNNING") ||
		!strings.Contains(r.stdout, "(cluster secure)") {
		t.Fatalf("status:\n%s", r)
	}
	if r := streamkit(t, root, env, "restart", ns+"cards-in"); r.code != exitOK || !strings.Contains(r.stdout, "restarted "+ns+"cards-in: RUNNING") {
		t.Fatalf("restart on the secure cluster:\n%s", r)
	}
}

// applyThenPrune runs `streamkit apply` in root with env, which must
// succeed, and when the test ends empties the manifests and applies them
// with -prune -force, which removes what the test made.
func applyThenPrune(t *testing.T, root, manifests string, env []string) result {
	t.Helper()
	r := streamkit(t, root, env, "apply")
	if r.code != exitOK {
		t.Fatalf("apply:\n%s", r)
	}
	t.Cleanup(func() {
		writeFile(t, manifests, "{}")
		if r := streamkit(t, root, env, "apply", "-prune", "-force"); r.code != exitOK {
			t.Errorf("cleanup apply -prune:\n%s", r)
		}
	})
	return r
}
