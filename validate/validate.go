package validate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/schema"
	"github.com/streamkit/streamkit/secrets"
	"github.com/streamkit/streamkit/topics"
)

// Rule IDs of the checks against the live platform.
const (
	// RuleWorker is a connector config key the Connect worker rejects.
	RuleWorker = "LIVE001"
	// RuleRegistry is a schema that breaks its subject's compatibility,
	// as the registry says or as schema.Registry.CheckCompatibility adds (a
	// decimal whose precision or scale changes).
	RuleRegistry = "LIVE002"
	// RuleVault is a ${vault:...} reference that is missing or unreadable,
	// or a KV v2 path written without its data/ segment.
	RuleVault = "LIVE003"
	// RuleUnknownConfig is a connector config key the plugin does not
	// define, often a typo; a warning.
	RuleUnknownConfig = "LIVE004"
	// RuleUnknownClass is a connector.class no plugin of the workers
	// implements, by its class name or its aliases (the simple name, and
	// the simple name without "Connector"): a typo or a plugin that is not
	// installed, which the worker would refuse on apply.
	//
	//	Fails:  "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConector"
	//	Passes: "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector" (or "FileStreamSink")
	RuleUnknownClass = "LIVE005"
	// RuleUnreachable is a live check that could not run; the offline
	// checks still did.
	RuleUnreachable = "LIVE000"
)

// Config says what Validate checks beyond evaluating the manifests.
type Config struct {
	// Policy is what the rules check against: namespace, topic policy,
	// task bounds, topics known on the cluster.
	Policy Policy
	// Rules replace the built-in rules when not nil.
	Rules []Rule
	// Custom rules run after the built-in ones: Go functions of the team.
	Custom []Rule
	// Overrides set a rule's severity by ID; 0 disables it.
	Overrides map[string]Severity
	// Live, when not nil, also asks the platform.
	Live *Live
}

// Live holds the clients of the platform checks; a nil client skips its
// check.
type Live struct {
	// Connect lists the workers' connector plugins once (GET
	// /connector-plugins) and validates every connector config of a known
	// class with the worker's own validation (PUT
	// /connector-plugins/{class}/config/validate).
	Connect *connect.Client
	// Registry checks every schema against its subject's compatibility
	// level.
	Registry *schema.Registry
	// Vault checks every ${vault:...} reference with secrets' Preflight.
	Vault *secrets.Client
	// Topics lists the cluster's topics before the rules run, so that a
	// connector may name a topic that exists on the cluster but not in the
	// manifests (rule CONN007).
	Topics *topics.Client
	// Deliver, when not nil, puts the connectors' secrets where the
	// workers read them and returns the connectors as the workers are to
	// get them, in the same order; the worker validates those, so that a
	// connector is checked with its real credentials (a Debezium source
	// logs in to its database). cmd/streamkit sets it to a
	// materialize.Materializer's Sync and TranslateSpecs: each
	// ${vault:...} reference becomes the ${dir:...} placeholder of a file
	// written from Vault. When Deliver fails, the connectors that hold a
	// ${vault:...} reference are not sent to the worker, which would
	// check the reference's text as the credential, and a LIVE000 finding
	// says why; the others are validated as written.
	Deliver func(ctx context.Context, specs []connect.Spec) ([]connect.Spec, error)
	// Clusters are the Connect workers of the team's other clusters
	// (Policy.Data's), by name. A connector that DataPolicy's
	// ConnectorCluster puts on one of them is checked by that cluster's
	// workers, with that cluster's Deliver, so that a secret is never
	// delivered to another cluster's workers; one on a cluster that is
	// not here is not checked against a worker (plan and apply meet its
	// own). Connect and Deliver are the default cluster's.
	Clusters map[string]LiveConnect
}

// LiveConnect is the Connect workers of one cluster, for Live.Clusters.
type LiveConnect struct {
	Connect *connect.Client
	Deliver func(ctx context.Context, specs []connect.Spec) ([]connect.Spec, error)
}

// Validate evaluates the manifests, runs the rules on the desired state
// and, with cfg.Live, checks it against the platform, all into one Result:
// OK is false when any finding is an error. It returns an error only for
// what stops validation itself (unreadable files, ctx).
func Validate(ctx context.Context, opts Options, cfg Config) (*Result, error) {
	res, err := Evaluate(ctx, opts)
	if err != nil {
		return nil, err
	}
	rules := cfg.Rules
	if rules == nil {
		rules = BuiltinRules()
	}
	rules = append(slices.Clone(rules), cfg.Custom...)
	policy := cfg.Policy
	if cfg.Live != nil && cfg.Live.Topics != nil {
		listed, err := cfg.Live.Topics.Admin().ListTopics(ctx)
		if err != nil {
			res.Findings = append(res.Findings, Finding{Rule: RuleUnreachable, Severity: Warning,
				Message: fmt.Sprintf("could not list the cluster's topics: %v", err)})
		} else {
			existing := maps.Clone(policy.ExistingTopics)
			if existing == nil {
				existing = map[string]bool{}
			}
			for _, name := range listed.Names() {
				existing[name] = true
			}
			policy.ExistingTopics = existing
		}
	}
	rc := &Context{Manifest: &res.Manifest, Locator: res.Locator, Policy: policy}
	res.Findings = append(res.Findings, Check(rc, rules, cfg.Overrides)...)
	if cfg.Live != nil {
		res.Findings = append(res.Findings, liveChecks(ctx, rc, cfg.Live)...)
	}
	return res, nil
}

func liveChecks(ctx context.Context, rc *Context, live *Live) []Finding {
	var out []Finding
	m := rc.Manifest
	for _, g := range connectGroups(rc, live) {
		out = append(out, connectChecks(ctx, rc, g.cc, g.deliver, g.idx)...)
	}
	if live.Registry != nil {
		// One check per subject, several at a time, findings in order.
		each := make([]*Finding, len(m.Schemas))
		var g errgroup.Group
		g.SetLimit(liveConcurrency)
		for i, s := range m.Schemas {
			parsed, err := schema.Parse(s.Schema)
			if err != nil {
				continue // SCHEMA001 says so already
			}
			g.Go(func() error {
				err := live.Registry.CheckCompatibility(ctx, s.Subject, parsed)
				var ie *schema.IncompatibleError
				switch {
				case err == nil:
				case errors.As(err, &ie):
					f := rc.inSchema(finding(rc, RuleRegistry, Error, "schema", s.Subject, "",
						fmt.Sprintf("refused as the next version of %s: %s", s.Subject, strings.Join(ie.Messages, "; "))), s, fieldInMessages(ie.Messages)...)
					each[i] = &f
				default:
					f := unreachable(rc, "schema", s.Subject, "schema registry", err)
					each[i] = &f
				}
				return nil
			})
		}
		_ = g.Wait() // the goroutines return no error: their findings say what failed
		for _, f := range each {
			if f != nil {
				out = append(out, *f)
			}
		}
	}
	if live.Vault != nil && len(m.Connectors) > 0 {
		connectors := make(map[string]map[string]string, len(m.Connectors))
		for _, s := range m.Connectors {
			connectors[s.Name] = s.Config
		}
		rep, err := live.Vault.Preflight(ctx, connectors)
		if rep == nil && err != nil {
			out = append(out, unreachable(rc, "", "", "vault", err))
		} else if rep != nil {
			for _, c := range rep.Checks {
				if !c.OK {
					out = append(out, finding(rc, RuleVault, Error, "connector", c.Connector, c.ConfigKey, c.Problem))
				}
			}
		}
	}
	return out
}

// connectChecks checks every connector against the workers: its class
// against the installed plugins, listed once for all connectors, then its
// config, as deliver makes it, with the worker's validation.
// connectGroup is the connectors (indices of the manifest's) that one
// cluster's workers check.
type connectGroup struct {
	cc      *connect.Client
	deliver func(context.Context, []connect.Spec) ([]connect.Spec, error)
	idx     []int
}

// connectGroups sorts the manifest's connectors by the cluster whose
// workers check them: the default cluster's first, then the others' by
// name. A connector of a cluster without workers in live, or whose
// cluster is not known, is left out: its secrets are delivered to no
// other cluster's workers.
func connectGroups(rc *Context, live *Live) []connectGroup {
	def := connectGroup{cc: live.Connect, deliver: live.Deliver}
	others := map[string]*connectGroup{}
	data := rc.Policy.Data
	for i, c := range rc.Manifest.Connectors {
		if len(data.Clusters) == 0 {
			// One cluster: the default workers check everything.
			def.idx = append(def.idx, i)
			continue
		}
		name, err := data.ConnectorCluster(c, rc.Manifest)
		if err != nil {
			continue // DATA003 says so; no worker may see its secrets
		}
		lc, ok := live.Clusters[name]
		switch {
		case name == data.DefaultCluster:
			def.idx = append(def.idx, i)
		case ok && lc.Connect != nil:
			if others[name] == nil {
				others[name] = &connectGroup{cc: lc.Connect, deliver: lc.Deliver}
			}
			others[name].idx = append(others[name].idx, i)
		}
	}
	var out []connectGroup
	if def.cc != nil && len(def.idx) > 0 {
		out = append(out, def)
	}
	for _, name := range slices.Sorted(maps.Keys(others)) {
		out = append(out, *others[name])
	}
	return out
}

// connectChecks checks the connectors at idx with the workers of cc.
func connectChecks(ctx context.Context, rc *Context, cc *connect.Client, deliver func(context.Context, []connect.Spec) ([]connect.Spec, error), idx []int) []Finding {
	var out []Finding
	sent, skipped, f := delivered(ctx, rc, deliver, idx)
	out = append(out, f...)
	var plugins []connect.Plugin
	listed := false
	for _, i := range idx {
		if rc.Manifest.Connectors[i].Config["connector.class"] != "" {
			// One listing for the whole manifest, and none without a
			// connector to check.
			ps, err := cc.Plugins(ctx, true)
			if errors.Is(err, connect.ErrUnavailable) {
				// No worker answers, after the client's retries: asking
				// again for each connector would only retry as long
				// again, once per connector.
				return []Finding{unreachable(rc, "", "", "connect worker (no connector config was validated)", err)}
			}
			if err != nil {
				out = append(out, unreachable(rc, "", "", "connect worker for its plugins", err))
			} else {
				plugins, listed = ps, true
			}
			break
		}
	}
	// The worker validates connectors one request each: several at a
	// time, findings kept in the manifest's order.
	each := make([][]Finding, len(rc.Manifest.Connectors))
	var g errgroup.Group
	g.SetLimit(liveConcurrency)
	for _, i := range idx {
		c := rc.Manifest.Connectors[i]
		class := c.Config["connector.class"]
		if class == "" || skipped[i] {
			continue // CONN001 says so already, or Deliver failed for it
		}
		if listed && !slices.ContainsFunc(plugins, func(p connect.Plugin) bool { return pluginMatches(p, class) }) {
			// The worker would answer its validation with an error about
			// the class, after retries: no need to ask.
			each[i] = []Finding{unknownClass(rc, c.Name, class, plugins)}
			continue
		}
		g.Go(func() error {
			each[i] = validateConnector(ctx, rc, cc, c, sent[i].Config)
			return nil
		})
	}
	_ = g.Wait() // the goroutines return no error: their findings say what failed
	for _, f := range each {
		out = append(out, f...)
	}
	return out
}

// liveConcurrency is how many requests the live checks have in flight to
// one component.
const liveConcurrency = 8

// validateConnector asks the worker to validate connector c with config
// cfg, as delivered, and turns its answer into findings.
func validateConnector(ctx context.Context, rc *Context, cc *connect.Client, c connect.Spec, sent map[string]string) []Finding {
	var out []Finding
	class := c.Config["connector.class"]
	cfg := maps.Clone(sent)
	cfg["name"] = c.Name
	v, err := cc.Validate(ctx, class, cfg)
	if err != nil {
		var ae *connect.APIError
		switch {
		case errors.As(err, &ae) && strings.Contains(ae.Message, noConnectorClass):
			// Without a plugin listing, the worker's answer to an unknown
			// class: a 500 on most versions, a 400 on some.
			out = append(out, unknownClass(rc, c.Name, class, nil))
		case errors.Is(err, connect.ErrNotFound) || errors.Is(err, connect.ErrBadRequest):
			out = append(out, finding(rc, RuleWorker, Error, kindConnector, c.Name, "connector.class",
				fmt.Sprintf("the worker does not accept connector class %s: %v", class, err)))
		default:
			out = append(out, unreachable(rc, kindConnector, c.Name, "connect worker", err))
		}
		return out
	}
	errs := v.Errors()
	for _, k := range slices.Sorted(maps.Keys(errs)) {
		out = append(out, finding(rc, RuleWorker, Error, kindConnector, c.Name, k,
			"the worker rejects "+k+": "+strings.Join(errs[k], "; ")))
	}
	known := map[string]bool{}
	for _, ch := range v.Configs {
		known[ch.Value.Name] = true
		known[ch.Definition.Name] = true
	}
	for _, k := range slices.Sorted(maps.Keys(c.Config)) {
		if !known[k] && !passThrough(class, k) {
			out = append(out, finding(rc, RuleUnknownConfig, Warning, kindConnector, c.Name, k,
				fmt.Sprintf("%s is not a config of %s or of Connect; a typo?", k, class)))
		}
	}
	return out
}

// delivered returns the connectors as the worker is to validate them: as
// written without deliver, else what deliver returns. When deliver fails,
// skipped marks the connectors that hold a ${vault:...} reference, and
// the finding says why.
func delivered(ctx context.Context, rc *Context, deliver func(context.Context, []connect.Spec) ([]connect.Spec, error), idx []int) (sent map[int]connect.Spec, skipped map[int]bool, out []Finding) {
	sent = map[int]connect.Spec{}
	written := make([]connect.Spec, len(idx))
	for j, i := range idx {
		written[j] = rc.Manifest.Connectors[i]
		sent[i] = written[j]
	}
	if deliver == nil || len(written) == 0 {
		return sent, nil, nil
	}
	got, err := deliver(ctx, slices.Clone(written))
	if err == nil && len(got) != len(written) {
		err = fmt.Errorf("delivered %d connectors of %d", len(got), len(written))
	}
	if err == nil {
		for j, i := range idx {
			sent[i] = got[j]
		}
		return sent, nil, nil
	}
	skipped = map[int]bool{}
	var names []string
	for j, c := range written {
		if slices.ContainsFunc(slices.Collect(maps.Values(c.Config)), func(v string) bool { return strings.Contains(v, "${vault:") }) {
			skipped[idx[j]] = true
			names = append(names, c.Name)
		}
	}
	if len(names) == 0 {
		return sent, nil, nil
	}
	return sent, skipped, []Finding{{Rule: RuleUnreachable, Severity: Warning,
		Message: fmt.Sprintf("the worker did not validate %s: its secrets could not be delivered: %v", strings.Join(names, ", "), err)}}
}

// noConnectorClass starts the worker's error message for a connector.class
// that no installed plugin implements.
const noConnectorClass = "Failed to find any class that implements Connector"

// pluginMatches reports whether class names plugin p as a worker resolves
// connector.class: the full class name, the simple name, or the simple
// name without its "Connector" suffix (FileStreamSink).
func pluginMatches(p connect.Plugin, class string) bool {
	if class == p.Class {
		return true
	}
	simple := p.Class[strings.LastIndex(p.Class, ".")+1:]
	return class == simple || (strings.HasSuffix(simple, "Connector") && class == strings.TrimSuffix(simple, "Connector"))
}

// unknownClass is the RuleUnknownClass finding of a connector; with the
// workers' plugins it suggests the plugin whose simple name is closest.
func unknownClass(rc *Context, name, class string, plugins []connect.Plugin) Finding {
	msg := fmt.Sprintf("no connector plugin of the workers is %s", class)
	if len(plugins) == 0 {
		return finding(rc, RuleUnknownClass, Error, kindConnector, name, "connector.class", msg)
	}
	simple := strings.ToLower(class[strings.LastIndex(class, ".")+1:])
	best, bestDist := "", -1
	for _, p := range plugins {
		ps := strings.ToLower(p.Class[strings.LastIndex(p.Class, ".")+1:])
		if d := editDistance(simple, ps); bestDist < 0 || d < bestDist {
			best, bestDist = p.Class, d
		}
	}
	// A suggestion only for a near miss: a typo, not another plugin.
	if bestDist <= max(2, len(simple)/4) {
		msg += "; did you mean " + best + "?"
	} else {
		msg += fmt.Sprintf(" (%d connector plugins installed)", len(plugins))
	}
	return finding(rc, RuleUnknownClass, Error, kindConnector, name, "connector.class", msg)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func finding(rc *Context, rule string, sev Severity, kind, name, key, msg string) Finding {
	f := Finding{Rule: rule, Severity: sev, Message: msg, Key: key}
	if kind != "" {
		f.Resource = kind + " " + name
		f.Pos = rc.at(kind, name, key)
	}
	return f
}

func unreachable(rc *Context, kind, name, what string, err error) Finding {
	return finding(rc, RuleUnreachable, Warning, kind, name, "", fmt.Sprintf("could not ask the %s: %v", what, err))
}

// passThrough reports whether a key of a connector of class belongs to
// something the worker's validation does not list: converter, transform,
// predicate and client override settings, the worker's own error-handling
// prefixes, and MirrorMaker 2's per-cluster client settings.
func passThrough(class, key string) bool {
	for _, p := range []string{
		"key.converter.", "value.converter.", "header.converter.", "transforms.", "predicates.",
		"producer.override.", "consumer.override.", "admin.override.", "errors.",
	} {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	if isMirror(class) {
		for _, p := range mirrorClientPrefixes {
			if strings.HasPrefix(key, p) {
				return true
			}
		}
	}
	return false
}

// isMirror reports whether class is one of MirrorMaker 2's connectors
// (MirrorSourceConnector, MirrorCheckpointConnector,
// MirrorHeartbeatConnector), by class name or alias.
func isMirror(class string) bool {
	if strings.HasPrefix(class, "org.apache.kafka.connect.mirror.") {
		return true
	}
	switch strings.TrimSuffix(class, "Connector") {
	case "MirrorSource", "MirrorCheckpoint", "MirrorHeartbeat":
		return true
	}
	return false
}

// mirrorClientPrefixes are the prefixes of the client settings MirrorMaker
// 2 passes to the clients of each cluster (source.cluster.bootstrap.servers,
// target.admin.sasl.jaas.config, offset-syncs.source.producer.acks, ...),
// which its connectors' validation does not list.
var mirrorClientPrefixes = []string{
	"source.cluster.", "target.cluster.",
	"source.admin.", "target.admin.",
	"source.consumer.", "target.consumer.",
	"source.producer.", "target.producer.",
	"offset-syncs.source.", "offset-syncs.target.",
}
