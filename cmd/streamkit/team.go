package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	jsonnet "github.com/google/go-jsonnet"

	"github.com/streamkit/streamkit/topics"
	"github.com/streamkit/streamkit/validate"
)

// DefaultTeamFile is the team file streamkit reads when -team is not
// given, relative to the current folder.
const DefaultTeamFile = "team.jsonnet"

// team is what a team sets in its repository's team file: who it is and
// what the platform team allows it. The file is jsonnet (plain JSON is
// jsonnet too):
//
//	{
//	  namespace: 'pricing.',
//	  manifests: 'manifests',
//	  services: ['publisher', 'billing'],
//	  ext_vars: { data_dir: '/var/tmp/pricing' },
//	  // tls: true,  // without data clusters: the one cluster speaks TLS
//	  data: {
//	    levels: ['public', 'internal', 'confidential', 'restricted'],
//	    clusters: { standard: { levels: ['public', 'internal', 'confidential'] },
//	                secure: { levels: ['confidential', 'restricted'], tls: true } },
//	    default_cluster: 'standard',
//	  },
//	  policy: {
//	    topics: { min_partitions: 1, max_partitions: 48, min_replication_factor: 3,
//	              max_replication_factor: 3, max_retention: '2160h',
//	              cleanup_policies: ['delete', 'compact'] },
//	    connectors: { min_tasks: 1, max_tasks: 8 },
//	    rules: { SCHEMA003: 'off' },
//	  },
//	}
type team struct {
	// Namespace is the prefix of every topic, group, subject and connector
	// of the team, e.g. "pricing.". Required.
	Namespace string `json:"namespace"`
	// Manifests is the folder of the jsonnet manifests, relative to the
	// team file; default "manifests".
	Manifests string `json:"manifests"`
	// Services are the team's service accounts by short name: each is the
	// principal User:<namespace><service>, so a scratch namespace has its
	// own. ACL grants may name only these and Principals.
	Services []string `json:"services"`
	// Principals are more principals the team may grant to, written in
	// full ("User:pricing-legacy"). With neither Services nor Principals,
	// grants may name any principal.
	Principals []string `json:"principals"`
	// ExtVars are jsonnet external variables for the manifests; "ns" is
	// always the namespace.
	ExtVars map[string]string `json:"ext_vars"`
	Policy  teamPolicy        `json:"policy"`
	// Roles are the team's own principals by short name, each with its
	// team role (owner, deployer, service or reader): the principal
	// User:<namespace><name>, whose ACLs the role gives on every cluster
	// of the team (part of the plan, like the manifests' grants), and
	// whose SCRAM credential `streamkit principals` creates with a
	// generated password that only Vault holds.
	Roles map[string]string `json:"roles"`
	// Quotas are client quotas of those principals, by short name.
	Quotas map[string]teamQuota `json:"quotas"`
	// Approvals name, by short name, the decision that allows a role
	// principal that reads the namespace (owner, service, reader) to read
	// its restricted topics, as a grant's approval does (TEAM002).
	Approvals map[string]string `json:"approvals"`
	// TLS says that the Kafka listeners of the team's one cluster speak
	// TLS: the CLI dials them with STREAMKIT_TLS_CA_FILE and its client
	// certificate. A team file with data clusters says it per cluster
	// (data.clusters.<name>.tls) instead.
	TLS bool `json:"tls"`
	// Data is the team's data policy: the classification levels of its
	// topics, which are restricted, and the Kafka clusters it deploys to,
	// with the levels each may hold (the DATA rules; see
	// validate.DataPolicy). Each topic is applied to its cluster.
	Data teamData `json:"data"`

	// file is the team file's path and root the repository root, where
	// reported positions are relative to.
	file, root string
}

// teamQuota is one principal's client quotas; a zero field is not set.
type teamQuota struct {
	ProducerByteRate  int64   `json:"producer_byte_rate"`
	ConsumerByteRate  int64   `json:"consumer_byte_rate"`
	RequestPercentage float64 `json:"request_percentage"`
}

type teamData struct {
	Levels         []string               `json:"levels"`
	Restricted     []string               `json:"restricted"`
	Clusters       map[string]teamCluster `json:"clusters"`
	DefaultCluster string                 `json:"default_cluster"`
}

type teamCluster struct {
	Levels []string `json:"levels"`
	TLS    bool     `json:"tls"`
}

// dataPolicy is the team file's data section as validate takes it.
func (t *team) dataPolicy() validate.DataPolicy {
	d := validate.DataPolicy{Levels: t.Data.Levels, Restricted: t.Data.Restricted, DefaultCluster: t.Data.DefaultCluster}
	if len(t.Data.Clusters) > 0 {
		d.Clusters = map[string]validate.ClusterPolicy{}
		for name, c := range t.Data.Clusters {
			d.Clusters[name] = validate.ClusterPolicy{Levels: c.Levels, TLS: c.TLS}
		}
	}
	return d
}

type teamPolicy struct {
	Topics struct {
		NamePattern          string   `json:"name_pattern"`
		MinPartitions        int32    `json:"min_partitions"`
		MaxPartitions        int32    `json:"max_partitions"`
		MinReplicationFactor int16    `json:"min_replication_factor"`
		MaxReplicationFactor int16    `json:"max_replication_factor"`
		MinRetention         duration `json:"min_retention"`
		MaxRetention         duration `json:"max_retention"`
		CleanupPolicies      []string `json:"cleanup_policies"`
	} `json:"topics"`
	Connectors struct {
		MinTasks int `json:"min_tasks"`
		MaxTasks int `json:"max_tasks"`
	} `json:"connectors"`
	// Rules set a rule's severity by ID: "error", "warning", "info" or
	// "off".
	Rules map[string]string `json:"rules"`
}

// duration is a time.Duration written as a Go duration string ("2160h").
type duration time.Duration

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration such as \"2160h\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = duration(v)
	return nil
}

// clusterNamePattern is a cluster name of the team file: each maps to
// its own STREAMKIT_BROKERS_<NAME>.
var clusterNamePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// roleNamePattern is a role principal's short name; principalPattern the
// whole principal, as the authorizing proxies and Kafka's principal
// mapping accept it in a certificate's subject.
var (
	roleNamePattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	principalPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
)

// errTeam is a team file that cannot be used; the CLI exits 2.
var errTeam = errors.New("team file")

// loadTeam reads the team file at path. namespace, when not empty,
// replaces the file's (tests deploy the same repository to a scratch
// namespace).
func loadTeam(path, namespace string) (*team, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w %s not found: run from the team's repository, or name it with -team", errTeam, path)
		}
		return nil, fmt.Errorf("%w: %w", errTeam, err)
	}
	vm := jsonnet.MakeVM()
	out, err := vm.EvaluateAnonymousSnippet(path, string(src))
	if err != nil {
		return nil, fmt.Errorf("%w %s: %s", errTeam, path, strings.TrimSpace(err.Error()))
	}
	t := &team{}
	dec := json.NewDecoder(bytes.NewReader([]byte(out)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(t); err != nil {
		return nil, fmt.Errorf("%w %s: %w", errTeam, path, err)
	}
	if namespace != "" {
		t.Namespace = namespace
	}
	if t.Namespace == "" {
		return nil, fmt.Errorf("%w %s: namespace is required", errTeam, path)
	}
	if ns, ok := t.ExtVars["ns"]; ok && ns != t.Namespace {
		return nil, fmt.Errorf("%w %s: ext_vars.ns %q is not the namespace %q; leave it out", errTeam, path, ns, t.Namespace)
	}
	if t.Manifests == "" {
		t.Manifests = "manifests"
	}
	for id, sev := range t.Policy.Rules {
		if _, err := severity(sev); err != nil {
			return nil, fmt.Errorf("%w %s: policy.rules.%s: %w", errTeam, path, id, err)
		}
	}
	for name, role := range t.Roles {
		// The principal <namespace><name> is a certificate's common name
		// and what the authorizing proxies and Kafka's principal mapping
		// read from it: lower case, no separator of a subject or a list.
		if !roleNamePattern.MatchString(name) || !principalPattern.MatchString(t.Namespace+name) {
			return nil, fmt.Errorf("%w %s: roles: %q: want a short name such as \"publisher\" (lower-case letters, digits, '-' and '_'), and a namespace of lower-case letters, digits, '.', '-' and '_'", errTeam, path, name)
		}
		if strings.HasPrefix(t.Namespace+name, platformPrincipalPrefix) {
			return nil, fmt.Errorf("%w %s: roles: %q: User:%s%s starts with %q, as the platform's own principals do", errTeam, path, name, t.Namespace, name, platformPrincipalPrefix)
		}
		if !slices.Contains(topics.TeamRoles, topics.TeamRole(role)) {
			return nil, fmt.Errorf("%w %s: roles.%s: role %q: want owner, deployer, service or reader", errTeam, path, name, role)
		}
	}
	for name := range t.Approvals {
		if _, ok := t.Roles[name]; !ok {
			return nil, fmt.Errorf("%w %s: approvals.%s: not one of the roles' principals", errTeam, path, name)
		}
	}
	for name, q := range t.Quotas {
		if _, ok := t.Roles[name]; !ok {
			return nil, fmt.Errorf("%w %s: quotas.%s: not one of the roles' principals", errTeam, path, name)
		}
		if q.ProducerByteRate < 0 || q.ConsumerByteRate < 0 || q.RequestPercentage < 0 {
			return nil, fmt.Errorf("%w %s: quotas.%s: negative quota", errTeam, path, name)
		}
	}
	if len(t.Roles) > 0 && teamSecretsPath(t.Namespace) == "streamkit" {
		// The owner's Vault policy covers secret/data/<team>/*, and the
		// principals' credentials are under secret/data/streamkit/.
		return nil, fmt.Errorf("%w %s: namespace %q: its Vault folder would be the principals' credentials'; choose another", errTeam, path, t.Namespace)
	}
	if t.TLS && len(t.Data.Clusters) > 0 {
		return nil, fmt.Errorf("%w %s: tls: the team file has data clusters; mark each that speaks TLS with data.clusters.<name>.tls", errTeam, path)
	}
	for name := range t.Data.Clusters {
		// One variable per cluster: STREAMKIT_BROKERS_<NAME>.
		if !clusterNamePattern.MatchString(name) {
			return nil, fmt.Errorf("%w %s: data.clusters.%s: want lower-case letters, digits and dashes, starting with a letter", errTeam, path, name)
		}
	}
	if err := t.dataPolicy().Check(); err != nil {
		return nil, fmt.Errorf("%w %s: data: %w", errTeam, path, err)
	}
	for _, s := range t.Services {
		if s == "" || strings.ContainsAny(s, ": ") {
			return nil, fmt.Errorf("%w %s: service %q: want a short name such as \"publisher\"", errTeam, path, s)
		}
	}
	for _, p := range t.Principals {
		if !strings.Contains(p, ":") {
			return nil, fmt.Errorf("%w %s: principal %q: want type:name, e.g. User:%sservice", errTeam, path, p, t.Namespace)
		}
	}
	if t.file, err = filepath.Abs(path); err != nil {
		return nil, fmt.Errorf("%w: %w", errTeam, err)
	}
	t.root = repositoryRoot(filepath.Dir(t.file))
	return t, nil
}

// repositoryRoot is the nearest folder at or above dir that holds .git,
// or dir itself when there is none.
func repositoryRoot(dir string) string {
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}

func severity(s string) (validate.Severity, error) {
	switch s {
	case "error":
		return validate.Error, nil
	case "warning":
		return validate.Warning, nil
	case "info":
		return validate.Info, nil
	case "off":
		return 0, nil
	}
	return 0, fmt.Errorf("severity %q: want error, warning, info or off", s)
}

// manifestsDir is the manifests folder as a path.
func (t *team) manifestsDir() string {
	return filepath.Join(filepath.Dir(t.file), t.Manifests)
}

// extVars are the manifests' external variables, ns included.
func (t *team) extVars() map[string]string {
	out := map[string]string{}
	for k, v := range t.ExtVars {
		out[k] = v
	}
	out["ns"] = t.Namespace
	return out
}

// config is the validate configuration of the team.
func (t *team) config() validate.Config {
	p := t.Policy
	cfg := validate.Config{
		Policy: validate.Policy{
			Namespace: t.Namespace,
			Topics: topics.Policy{
				NamePattern:   p.Topics.NamePattern,
				MinPartitions: p.Topics.MinPartitions, MaxPartitions: p.Topics.MaxPartitions,
				MinReplicationFactor: p.Topics.MinReplicationFactor, MaxReplicationFactor: p.Topics.MaxReplicationFactor,
				MinRetention: time.Duration(p.Topics.MinRetention), MaxRetention: time.Duration(p.Topics.MaxRetention),
				CleanupPolicies: p.Topics.CleanupPolicies,
			},
			MinTasks: p.Connectors.MinTasks, MaxTasks: p.Connectors.MaxTasks,
			Data: t.dataPolicy(),
		},
		Custom: []validate.Rule{t.principalRule(), t.roleApprovalRule()},
	}
	if len(p.Rules) > 0 {
		cfg.Overrides = map[string]validate.Severity{}
		for id, s := range p.Rules {
			cfg.Overrides[id], _ = severity(s) // checked by loadTeam
		}
	}
	return cfg
}

// RuleTeamPrincipal is a grant to a principal the team file does not list.
const RuleTeamPrincipal = "TEAM001"

// principals are the principals the team may grant to.
func (t *team) principals() []string {
	out := make([]string, 0, len(t.Services)+len(t.Principals)+len(t.Roles))
	for _, s := range t.Services {
		out = append(out, "User:"+t.Namespace+s)
	}
	for _, name := range slices.Sorted(maps.Keys(t.Roles)) {
		out = append(out, "User:"+t.Namespace+name)
	}
	return append(out, t.Principals...)
}

// roleBindings are the ACLs of the team's roles, the same on every
// cluster of the team.
func (t *team) roleBindings() ([]topics.Binding, error) {
	var out []topics.Binding
	for _, name := range slices.Sorted(maps.Keys(t.Roles)) {
		bs, err := topics.TeamRole(t.Roles[name]).Bindings("User:"+t.Namespace+name, t.Namespace)
		if err != nil {
			return nil, err
		}
		out = append(out, bs...)
	}
	return out, nil
}

func (t *team) principalRule() validate.Rule {
	all := t.principals()
	listed := map[string]bool{}
	for _, p := range all {
		listed[p] = true
	}
	return validate.Rule{
		ID: RuleTeamPrincipal, Severity: validate.Error,
		Summary: "ACL grants name only the team's principals",
		Doc: `A grant's principal is one of the principals of the team file; a
team cannot grant access to another team's service account.

Fails:  sk.consumer('User:billing.reader', ...) with principals ['User:pricing.billing']
Passes: sk.consumer('User:pricing.billing', ...)`,
		Check: func(c *validate.Context) []validate.Finding {
			if len(listed) == 0 {
				return nil
			}
			var out []validate.Finding
			for _, g := range c.Manifest.ACLs {
				if listed[g.Principal] {
					continue
				}
				f := validate.Finding{
					Message:  fmt.Sprintf("principal %q is not one of the team's principals (%s)", g.Principal, strings.Join(all, ", ")),
					Resource: "acl " + g.Principal, Key: "principal",
				}
				out = append(out, f)
			}
			return out
		},
	}
}

// RuleRoleApproval is a role principal that reads restricted data without
// a named approval.
const RuleRoleApproval = "TEAM002"

// roleApprovalRule is DATA005 for the team file's roles: an owner, a
// service or a reader reads every topic of the namespace, restricted ones
// included, so it names its approval as a grant on them must.
func (t *team) roleApprovalRule() validate.Rule {
	return validate.Rule{
		ID: RuleRoleApproval, Severity: validate.Error,
		Summary: "a role that reads restricted data names its approval",
		Doc: `The owner, service and reader roles read every topic of the namespace. With
a restricted topic in the manifests, each such principal of the team
file's roles names the decision that allows it, in approvals.

Fails:  roles: {analytics: 'reader'} with a restricted topic
Passes: the same plus approvals: {analytics: 'SEC-1234'}`,
		Check: func(c *validate.Context) []validate.Finding {
			var restricted []string
			for _, s := range c.Manifest.Topics {
				if c.Policy.Data.IsRestricted(s.Classification) {
					restricted = append(restricted, s.Name)
				}
			}
			if len(restricted) == 0 {
				return nil
			}
			var out []validate.Finding
			for _, name := range slices.Sorted(maps.Keys(t.Roles)) {
				switch topics.TeamRole(t.Roles[name]) {
				case topics.TeamOwner, topics.TeamService, topics.TeamReader:
				default:
					continue
				}
				if strings.TrimSpace(t.Approvals[name]) != "" {
					continue
				}
				out = append(out, validate.Finding{
					Message: fmt.Sprintf("role principal User:%s%s (%s) reads restricted %s without an approval: name it in the team file's approvals.%s",
						t.Namespace, name, t.Roles[name], strings.Join(restricted, ", "), name),
					Resource: "team roles." + name,
				})
			}
			return out
		},
	}
}
