package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/streamkit/streamkit/secrets"
	"github.com/streamkit/streamkit/topics"
)

// principalsMount is the KV v2 mount of the principals' credentials.
const principalsMount = "secret"

// principalPath is where Vault keeps a principal's SCRAM credential, under
// principalsMount: username and password.
func principalPath(user string) string { return "streamkit/principals/" + user }

// teamSecretsPath is the team's folder of secrets under principalsMount,
// as the template's p.secret references it: the namespace without its
// trailing separators ("pricing." -> "pricing").
func teamSecretsPath(namespace string) string { return strings.TrimRight(namespace, ".-_") }

// policyName is the Vault policy of a principal: streamkit-<user> with
// dots as dashes.
func policyName(user string) string { return "streamkit-" + strings.ReplaceAll(user, ".", "-") }

// rolePolicy is the Vault policy of a principal in role: every principal
// reads its own credential, and with a PKI mount issues its own client
// certificates (pkiRole); the team's secrets are the owner's to write,
// and the deployer's (whose validate and apply deliver them to the
// workers) and services' to read; a reader reads none of them.
func rolePolicy(role topics.TeamRole, namespace, user, pkiMount string) string {
	team := principalsMount + "/data/" + teamSecretsPath(namespace) + "/*"
	meta := principalsMount + "/metadata/" + teamSecretsPath(namespace) + "/*"
	var b strings.Builder
	fmt.Fprintf(&b, "path %q {\n  capabilities = [\"read\"]\n}\n", principalsMount+"/data/"+principalPath(user))
	if pkiMount != "" {
		fmt.Fprintf(&b, "path %q {\n  capabilities = [\"update\"]\n}\n", pkiMount+"/issue/"+policyName(user))
	}
	switch role {
	case topics.TeamOwner:
		fmt.Fprintf(&b, "path %q {\n  capabilities = [\"create\", \"read\", \"update\", \"delete\"]\n}\n", team)
		fmt.Fprintf(&b, "path %q {\n  capabilities = [\"read\", \"list\", \"delete\"]\n}\n", meta)
	case topics.TeamDeployer:
		fmt.Fprintf(&b, "path %q {\n  capabilities = [\"read\"]\n}\n", team)
		fmt.Fprintf(&b, "path %q {\n  capabilities = [\"read\", \"list\"]\n}\n", meta)
	case topics.TeamService:
		fmt.Fprintf(&b, "path %q {\n  capabilities = [\"read\"]\n}\n", team)
	}
	return b.String()
}

// pkiRole is the PKI role of a principal: certificates for its name only,
// for client authentication, whose subject says its role and namespace
// (CN=<user>, OU=<role>, O=<namespace>) as the platform's authorizing
// proxies read it; an hour each at most, which is how long a revoked one
// still works where no revocation list is checked (Kafka's listeners).
// Its name is the principal's policy's.
func pkiRole(role topics.TeamRole, namespace, user string) map[string]any {
	return map[string]any{
		// A list: Vault splits a string at commas.
		"allowed_domains": []string{user}, "allow_bare_domains": true, "allow_subdomains": false,
		"allow_glob_domains": false, "allow_any_name": false, "allow_localhost": false,
		"allow_ip_sans": false, "enforce_hostnames": false,
		"server_flag": false, "client_flag": true, "code_signing_flag": false, "email_protection_flag": false,
		"ou": string(role), "organization": namespace,
		"key_type": "ec", "key_bits": 256, "ttl": "1h", "max_ttl": "1h", "not_before_duration": "30s",
	}
}

// platformPrincipalPrefix starts the names of the platform's own
// principals (streamkit-admin, streamkit-node): no team's may.
const platformPrincipalPrefix = "streamkit-"

// hasSCRAM reports whether user has a SCRAM credential on the cluster.
func hasSCRAM(ctx context.Context, tc *topics.Client, user string) (bool, error) {
	res, err := tc.Admin().DescribeUserSCRAMs(ctx, user)
	if err != nil {
		return false, err
	}
	r, ok := res[user]
	switch {
	case !ok, errors.Is(r.Err, kerr.ResourceNotFound):
		return false, nil
	case r.Err != nil:
		return false, r.Err
	}
	return len(r.CredInfos) > 0, nil
}

// newPassword is a password no person chooses or sees: 32 random bytes,
// hex.
func newPassword() (secrets.Value, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return secrets.Value{}, err
	}
	return secrets.NewValue(hex.EncodeToString(b[:])), nil
}

// kafkaClusters are the team's Kafka clients by cluster name, the default
// one first; an unset one is named in missing.
func (p *clients) kafkaClusters(t *team) (names []string, byName map[string]*topics.Client, missing []string) {
	data := t.dataPolicy()
	byName = map[string]*topics.Client{}
	def := data.DefaultCluster
	names = append(names, def)
	byName[def] = p.topics
	if p.topics == nil {
		missing = append(missing, EnvBrokers)
	}
	for _, name := range sortedKeys(data.Clusters) {
		if name == def {
			continue
		}
		names = append(names, name)
		if c := p.clusters[name]; c != nil && c.topics != nil {
			byName[name] = c.topics
		} else {
			missing = append(missing, clusterEnv(EnvBrokers, name, false))
		}
	}
	return names, byName, missing
}

// principals runs `streamkit principals apply` or `rotate NAME`: the
// team's principals (the team file's roles) get SCRAM credentials with
// generated passwords written to Vault first, then to every cluster of the
// team, their quotas, and a Vault policy of their role (rolePolicy) for
// the token an auth method gives them; rotate gives one a new password
// the same way.
// No password is printed or logged. Setting credentials and quotas needs
// ALTER on each cluster: the platform administrator's, not a team role's.
func (p *clients) principals(ctx context.Context, t *team, o *options, stdout, stderr io.Writer) int {
	names, byName, missing := p.kafkaClusters(t)
	if p.vault == nil {
		missing = append(missing, EnvVaultAddr)
	}
	if len(missing) > 0 {
		fmt.Fprintf(stderr, "streamkit: principals need %s: %v\n", strings.Join(missing, ", "), errMissing)
		return exitError
	}
	if len(t.Roles) == 0 {
		fmt.Fprintln(stderr, "streamkit: principals: the team file has no roles")
		return exitError
	}
	var todo []string
	switch o.args[0] {
	case "apply":
		todo = slices.Sorted(maps.Keys(t.Roles))
	case "rotate":
		if _, ok := t.Roles[o.args[1]]; !ok {
			fmt.Fprintf(stderr, "streamkit: principals rotate: %q is not one of the team file's roles: %s\n",
				o.args[1], strings.Join(slices.Sorted(maps.Keys(t.Roles)), ", "))
			return exitError
		}
		todo = []string{o.args[1]}
	}
	// The passwords Vault holds, read once before anything is written.
	// principals never takes over a credential it did not make: one that
	// a cluster has and Vault does not is someone else's (a super user's,
	// the platform's own). The team file refuses the platform's names.
	held := map[string]secrets.Value{}
	for _, name := range todo {
		user := t.Namespace + name
		s, err := p.vault.ReadKV2(ctx, principalsMount, principalPath(user), 0)
		switch {
		case err == nil:
			// Made here before. One without a password is apply's
			// error, and what rotate mends.
			if err := s.Require("password"); err == nil {
				held[name] = s.Data["password"]
			} else if o.args[0] == "apply" {
				fmt.Fprintf(stderr, "streamkit: principal %s: %v\n", user, err)
				return exitError
			}
			continue
		case !errors.Is(err, secrets.ErrNotFound):
			fmt.Fprintf(stderr, "streamkit: principal %s: read its credential: %v\n", user, err)
			return applyCode(err)
		}
		for _, cluster := range names {
			has, err := hasSCRAM(ctx, byName[cluster], user)
			if err != nil {
				fmt.Fprintf(stderr, "streamkit: principal %s on %s: %v\n", user, clusterName(cluster), err)
				return applyCode(err)
			}
			if has {
				fmt.Fprintf(stderr, "streamkit: principals: User:%s already has a SCRAM credential on %s that Vault does not hold: "+
					"principals does not take over a credential it did not make (a super user's, or one whose Vault copy is lost: delete it on the cluster first)\n",
					user, clusterName(cluster))
				return exitError
			}
		}
	}
	pkiMount := p.pkiMount
	kv := p.vault.API().KVv2(principalsMount)
	for _, name := range todo {
		user := t.Namespace + name
		path := principalPath(user)
		pass, kept := held[name]
		fresh := o.args[0] == "rotate" || !kept
		version := 0
		if fresh {
			var err error
			if pass, err = newPassword(); err != nil {
				fmt.Fprintf(stderr, "streamkit: principal %s: %v\n", user, err)
				return exitError
			}
			// Vault first: a credential set on a cluster whose password
			// Vault lost could never be used.
			s, err := kv.Put(ctx, path, map[string]any{"username": user, "password": pass.Reveal()})
			if err != nil {
				fmt.Fprintf(stderr, "streamkit: principal %s: write its credential to Vault: %v\n", user, err)
				return exitError
			}
			if s != nil && s.VersionMetadata != nil {
				version = s.VersionMetadata.Version
			}
		}
		for _, cluster := range names {
			tc := byName[cluster]
			if err := tc.SetSCRAM(ctx, user, pass.Reveal()); err != nil {
				fmt.Fprintf(stderr, "streamkit: principal %s on %s: %v\n", user, clusterName(cluster), err)
				return applyCode(err)
			}
			if q, ok := t.Quotas[name]; ok {
				if err := setQuotas(ctx, tc, user, q); err != nil {
					fmt.Fprintf(stderr, "streamkit: principal %s on %s: quotas: %v\n", user, clusterName(cluster), err)
					return applyCode(err)
				}
			}
		}
		policy := policyName(user)
		role := topics.TeamRole(t.Roles[name])
		certs := ""
		if pkiMount != "" {
			if _, err := p.vault.API().Logical().WriteWithContext(ctx, pkiMount+"/roles/"+policy, pkiRole(role, t.Namespace, user)); err != nil {
				fmt.Fprintf(stderr, "streamkit: principal %s: PKI role %s/roles/%s: %v\n", user, pkiMount, policy, err)
				return exitError
			}
			certs = fmt.Sprintf("; client certificates from %s/issue/%s", pkiMount, policy)
		}
		if err := p.vault.API().Sys().PutPolicyWithContext(ctx, policy, rolePolicy(role, t.Namespace, user, pkiMount)); err != nil {
			fmt.Fprintf(stderr, "streamkit: principal %s: Vault policy %s: %v\n", user, policy, err)
			return exitError
		}
		what := "credential set"
		switch {
		case o.args[0] == "rotate":
			what = fmt.Sprintf("rotated: new password in Vault (version %d)", version)
		case fresh:
			what = fmt.Sprintf("created: password generated into Vault (version %d)", version)
		}
		fmt.Fprintf(stdout, "principal User:%s (%s): %s at %s/data/%s; SCRAM-SHA-512 on %s; Vault policy %s%s\n", user, t.Roles[name], what,
			principalsMount, path, strings.Join(mapNames(names), ", "), policy, certs)
	}
	return exitOK
}

func clusterName(name string) string {
	if name == "" {
		return "the cluster"
	}
	return "cluster " + name
}

func mapNames(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = clusterName(n)
	}
	return out
}

// setQuotas sets user's client quotas; a zero one is removed.
func setQuotas(ctx context.Context, tc *topics.Client, user string, q teamQuota) error {
	var ops []kadm.AlterClientQuotaOp
	for _, v := range []struct {
		key   string
		value float64
	}{
		{"producer_byte_rate", float64(q.ProducerByteRate)},
		{"consumer_byte_rate", float64(q.ConsumerByteRate)},
		{"request_percentage", q.RequestPercentage},
	} {
		ops = append(ops, kadm.AlterClientQuotaOp{Key: v.key, Value: v.value, Remove: v.value == 0})
	}
	res, err := tc.Admin().AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{{
		Entity: []kadm.ClientQuotaEntityComponent{{Type: "user", Name: &user}},
		Ops:    ops,
	}})
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}
