package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

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
