package validate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/schema"
	"github.com/streamkit/streamkit/secrets"
	"github.com/streamkit/streamkit/topics"
)

// Rule IDs of the checks against the live platform.
const (
	// RuleWorker is a connector config key the Connect worker rejects.
	RuleWorker = "LIVE001"
	// RuleRegistry is a schema that breaks its subject's compatibility.
	RuleRegistry = "LIVE002"
	// RuleVault is a ${vault:...} reference that is missing or unreadable.
	RuleVault = "LIVE003"
	// RuleUnknownKey is a connector config key the plugin does not define,
	// often a typo; a warning.
	RuleUnknownConfig = "LIVE004"
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
	// Connect validates every connector config with the worker's own
	// validation (PUT /connector-plugins/{class}/config/validate).
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
	if live.Connect != nil {
		for _, c := range m.Connectors {
			class := c.Config["connector.class"]
			if class == "" {
				continue // CONN001 says so already
			}
			cfg := maps.Clone(c.Config)
			cfg["name"] = c.Name
			v, err := live.Connect.Validate(ctx, class, cfg)
			if err != nil {
				if errors.Is(err, connect.ErrNotFound) || errors.Is(err, connect.ErrBadRequest) {
					out = append(out, finding(rc, RuleWorker, Error, "connector", c.Name, "connector.class",
						fmt.Sprintf("the worker does not accept connector class %s: %v", class, err)))
					continue
				}
				out = append(out, unreachable(rc, "connector", c.Name, "connect worker", err))
				continue
			}
			errs := v.Errors()
			for _, k := range slices.Sorted(maps.Keys(errs)) {
				out = append(out, finding(rc, RuleWorker, Error, "connector", c.Name, k,
					"the worker rejects "+k+": "+strings.Join(errs[k], "; ")))
			}
			known := map[string]bool{}
			for _, cc := range v.Configs {
				known[cc.Value.Name] = true
				known[cc.Definition.Name] = true
			}
			for _, k := range slices.Sorted(maps.Keys(c.Config)) {
				if !known[k] && !passThrough(k) {
					out = append(out, finding(rc, RuleUnknownConfig, Warning, "connector", c.Name, k,
						fmt.Sprintf("%s is not a config of %s or of Connect; a typo?", k, class)))
				}
			}
		}
	}
	if live.Registry != nil {
		for _, s := range m.Schemas {
			parsed, err := schema.Parse(s.Schema)
			if err != nil {
				continue // SCHEMA001 says so already
			}
			err = live.Registry.CheckCompatibility(ctx, s.Subject, parsed)
			var ie *schema.IncompatibleError
			switch {
			case err == nil:
			case errors.As(err, &ie):
				out = append(out, finding(rc, RuleRegistry, Error, "schema", s.Subject, "",
					fmt.Sprintf("the registry refuses it as the next version of %s: %s", s.Subject, strings.Join(ie.Messages, "; "))))
			default:
				out = append(out, unreachable(rc, "schema", s.Subject, "schema registry", err))
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

// passThrough reports whether a key belongs to something the worker's
// validation does not list: converter, transform, predicate and client
// override settings, and the worker's own error-handling prefixes.
func passThrough(key string) bool {
	for _, p := range []string{
		"key.converter.", "value.converter.", "header.converter.", "transforms.", "predicates.",
		"producer.override.", "consumer.override.", "admin.override.", "errors.",
	} {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}
