package secrets_test

// Integration tests on the platform's real Vault API (an OpenBao dev
// server) and Kafka's SASL/SCRAM listener. make test runs them with
// STREAMKIT_REQUIRE_PLATFORM=1.

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/secrets"
	"github.com/streamkit/streamkit/topics"
)

func rootClient(t *testing.T, ctx context.Context, p platformtest.Platform, logs *bytes.Buffer) *secrets.Client {
	t.Helper()
	c, err := secrets.New(ctx, secrets.WithAddress(p.VaultAddr), secrets.WithToken(secrets.NewValue(p.VaultToken)),
		secrets.WithLogger(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestIntegrationAppRoleAndKV enables AppRole on the real server, logs in
// with a response-wrapped secret ID, reads KV v2 versions through
// references, and is refused outside its policy.
func TestIntegrationAppRoleAndKV(t *testing.T) {
	p := platformtest.Require(t, platformtest.Vault)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var logs bytes.Buffer
	root := rootClient(t, ctx, p, &logs)
	sys := root.API().Sys()
	ns := platformtest.UniqueName("it")
	mount := "approle-" + ns

	if err := sys.EnableAuthWithOptionsWithContext(ctx, mount, &api.EnableAuthOptions{Type: "approle"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.DisableAuth(mount) })
	policy := `path "secret/data/` + ns + `/*" { capabilities = ["read"] }
path "secret/metadata/` + ns + `/*" { capabilities = ["read"] }`
	if err := sys.PutPolicyWithContext(ctx, ns, policy); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.DeletePolicy(ns) })
	logical := root.API().Logical()
	if _, err := logical.WriteWithContext(ctx, "auth/"+mount+"/role/pricing", map[string]any{
		"token_policies": ns, "token_ttl": "1m", "token_max_ttl": "5m",
	}); err != nil {
		t.Fatal(err)
	}
	roleID, err := logical.ReadWithContext(ctx, "auth/"+mount+"/role/pricing/role-id")
	if err != nil {
		t.Fatal(err)
	}
	// The secret ID travels response-wrapped: whoever delivers it never
	// sees it.
	wrapper, err := root.API().Clone()
	if err != nil {
		t.Fatal(err)
	}
	wrapper.SetToken(p.VaultToken)
	wrapper.SetWrappingLookupFunc(func(string, string) string { return "60s" })
	wrapped, err := wrapper.Logical().WriteWithContext(ctx, "auth/"+mount+"/role/pricing/secret-id", nil)
	if err != nil || wrapped.WrapInfo == nil {
		t.Fatalf("wrapped secret id: %v %+v", err, wrapped)
	}

	kv := root.API().KVv2("secret")
	password1, password2 := platformtest.UniqueName("pw1"), platformtest.UniqueName("pw2")
	if _, err := kv.Put(ctx, ns+"/db", map[string]any{"user": "pricing", "password": password1}); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, ns+"/db", map[string]any{"user": "pricing", "password": password2}); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "elsewhere-"+ns, map[string]any{"x": "y"}); err != nil {
		t.Fatal(err)
	}

	app, err := secrets.New(ctx, secrets.WithAddress(p.VaultAddr),
		secrets.WithAuth(secrets.AppRoleAuth(roleID.Data["role_id"].(string), secrets.SecretIDWrapped(secrets.NewValue(wrapped.WrapInfo.Token)), mount)),
		secrets.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	got, err := app.Resolve(ctx, map[string]string{
		"url":      "postgres://${vault:secret/data/" + ns + "/db:user}@db/pricing",
		"password": "${vault:secret/data/" + ns + "/db:password}",
		"old":      "${vault:secret/data/" + ns + "/db?version=1:password}",
		"plain":    "unchanged",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got["url"] != "postgres://pricing@db/pricing" || got["password"] != password2 || got["old"] != password1 || got["plain"] != "unchanged" {
		t.Fatal("resolved values differ from what was written")
	}
	md, err := app.KV2Metadata(ctx, "secret", ns+"/db")
	if err != nil || md.CurrentVersion != 2 {
		t.Fatalf("metadata: %+v, %v", md, err)
	}
	latest, err := app.ReadKV2(ctx, "secret", ns+"/db", 0)
	if err != nil || latest.Version != 2 || latest.VersionTime.IsZero() || !latest.VersionTime.Equal(md.CurrentVersionTime) {
		t.Fatalf("the latest version's time (%v) and the metadata's (%v) differ: %v", latest.VersionTime, md.CurrentVersionTime, err)
	}
	// Outside its policy: refused, typed.
	_, err = app.Read(ctx, secrets.Ref{Path: "secret/data/elsewhere-" + ns, Key: "x"})
	if !errors.Is(err, secrets.ErrPermissionDenied) {
		t.Fatalf("read outside the policy: got %v, want ErrPermissionDenied", err)
	}
	_, err = app.Read(ctx, secrets.Ref{Path: "secret/data/" + ns + "/absent", Key: "x"})
	if !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("read absent: got %v, want ErrNotFound", err)
	}
	// The wrapping token is single-use; a second login reuses the
	// unwrapped secret ID.
	if err := app.Login(ctx); err != nil {
		t.Fatalf("second login: %v", err)
	}
	for _, s := range []string{password1, password2, p.VaultToken, wrapped.WrapInfo.Token} {
		if strings.Contains(logs.String(), s) {
			t.Fatal("a secret reached the logs")
		}
	}
}

// TestIntegrationSASLRotation: a producer authenticates to the SASL/SCRAM
// listener with credentials from Vault; the password is rotated in Kafka
// and Vault; new connections use the new one without a restart.
func TestIntegrationSASLRotation(t *testing.T) {
	p := platformtest.Require(t, platformtest.Vault, platformtest.KafkaSASL)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var logs bytes.Buffer
	root := rootClient(t, ctx, p, &logs)

	admin, err := topics.NewFromOptions([]kgo.Opt{kgo.SeedBrokers(p.SASLBrokers...),
		kgo.SASL(scram.Auth{User: p.KafkaAdminUser, Pass: p.KafkaAdminPassword}.AsSha512Mechanism())})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ns := platformtest.UniqueName("rot") + "."
	topic, user := ns+"orders", ns+"svc"
	if _, err := admin.Apply(ctx, mustPlan(t, ctx, admin, topics.Spec{Name: topic, Partitions: 1, ReplicationFactor: 1}, ns), topics.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Admin().DeleteTopics(context.Background(), topic) })
	acl, err := admin.PlanACLs(ctx, []topics.Grant{{Principal: "User:" + user, Role: topics.RoleProducer, Topics: []string{topic}}}, nil, topics.PlanOptions{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.ApplyACLs(ctx, acl); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p, err := admin.PlanACLs(context.Background(), nil, nil, topics.PlanOptions{Namespace: ns, Prune: true}); err == nil {
			_ = admin.ApplyACLs(context.Background(), p)
		}
	})

	setPassword := func(pw string) {
		t.Helper()
		resp, err := admin.Admin().AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: user, Mechanism: kadm.ScramSha512, Iterations: 4096, Password: pw}})
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := root.API().KVv2("secret").Put(ctx, ns+"kafka", map[string]any{"username": user, "password": pw}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_, _ = admin.Admin().AlterUserSCRAMs(context.Background(), []kadm.DeleteSCRAM{{User: user, Mechanism: kadm.ScramSha512}}, nil)
	})
	pw1, pw2 := platformtest.UniqueName("pw"), platformtest.UniqueName("pw")
	setPassword(pw1)
	// Every broker learns of the new credential a moment apart.
	if err := p.WaitForSCRAM(ctx, user, pw1, true); err != nil {
		t.Fatal(err)
	}

	creds := root.Credentials("secret/data/"+ns+"kafka", "username", "password", 0, time.Hour)
	// Connections close after a second idle, so the next produce opens a
	// new one and authenticates again.
	producer, err := kgo.NewClient(kgo.SeedBrokers(p.SASLBrokers...), kgo.SASL(creds.SCRAMSHA512()),
		kgo.ConnIdleTimeout(time.Second), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	if err := producer.ProduceSync(ctx, &kgo.Record{Value: []byte("before")}).FirstErr(); err != nil {
		t.Fatalf("produce with the first password: %v", err)
	}

	setPassword(pw2)
	// The old password no longer works on any broker, and the new one does.
	if err := p.WaitForSCRAM(ctx, user, pw1, false); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitForSCRAM(ctx, user, pw2, true); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // let the producer's connections idle out
	if err := producer.ProduceSync(ctx, &kgo.Record{Value: []byte("after")}).FirstErr(); err != nil {
		t.Fatalf("produce after rotation, same client: %v", err)
	}
	for _, s := range []string{pw1, pw2, p.VaultToken} {
		if strings.Contains(logs.String(), s) {
			t.Fatal("a secret reached the logs")
		}
	}
}

func mustPlan(t *testing.T, ctx context.Context, c *topics.Client, s topics.Spec, ns string) *topics.Plan {
	t.Helper()
	p, err := c.Plan(ctx, []topics.Spec{s}, topics.PlanOptions{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
