// Command gitops is the template of a team's streamkit repository: the
// team's topics, ACL grants, Avro schemas and connectors are jsonnet
// manifests under manifests/, and this program validates them, shows what
// would change on the platform and applies it, from a laptop or from CI
// (see ci-workflow.yml).
//
// From this folder (the manifests folder is relative to it; from the
// repository root, add -manifests examples/gitops/manifests):
//
//	go run . validate                  # offline checks, plus live ones when the platform is set
//	eval "$(../../scripts/platform env)"
//	go run . plan                      # what apply would change
//	go run . apply -dry-run            # validate, then print the plans only
//	go run . apply [-prune]            # validate, then change the platform
//
// Flags, after the subcommand:
//
//	-manifests dir    the manifests folder (default "manifests")
//	-namespace ns     the prefix every topic, connector, group and subject
//	                  of the team starts with (default "pricing.", or the ext var ns)
//	-format f         text, json or github (workflow annotations)
//	-ext-var k=v      a jsonnet external variable, repeatable; ns defaults to
//	                  the namespace and data_dir to /var/tmp/pricing
//	-prune, -force    (apply) delete what the manifests no longer list;
//	                  -force also deletes topics that are still in use
//	-dry-run          (apply) print the plans and change nothing
//
// The program reads these environment variables and no others; each one
// that is unset skips what needs it:
//
//	STREAMKIT_BROKERS              Kafka bootstrap brokers, comma-separated: topics and ACLs
//	STREAMKIT_CONNECT_URL          Kafka Connect workers, comma-separated: connectors
//	STREAMKIT_SCHEMA_REGISTRY_URL  the Confluent-compatible registry API: schemas
//	VAULT_ADDR, VAULT_TOKEN        Vault: validate checks that ${vault:...} references resolve
//
// ACLs go through the brokers above: on the project's platform every
// PLAINTEXT client is a super user, so no admin credentials are needed.
//
// Exit codes: 0 all is well, 1 validation findings or a plan that is
// refused (an error finding, a refused topic change, a dangerous delete),
// 2 a usage error or a platform that could not be reached.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/schema"
	"github.com/streamkit/streamkit/secrets"
	"github.com/streamkit/streamkit/topics"
	"github.com/streamkit/streamkit/validate"
)

// The environment variables the program reads.
const (
	EnvBrokers           = "STREAMKIT_BROKERS"
	EnvConnectURL        = "STREAMKIT_CONNECT_URL"
	EnvSchemaRegistryURL = "STREAMKIT_SCHEMA_REGISTRY_URL"
	EnvVaultAddr         = "VAULT_ADDR"
	EnvVaultToken        = "VAULT_TOKEN"
)

// Exit codes.
const (
	exitOK       = 0
	exitFindings = 1
	exitError    = 2
)

const usage = `usage: gitops validate|plan|apply [flags]

  -manifests dir   manifests folder (default "manifests")
  -namespace ns    the team's prefix (default "pricing.")
  -format f        text, json or github (default text)
  -ext-var k=v     jsonnet external variable, repeatable
  -prune           (plan, apply) delete what the manifests no longer list
  -force           (apply) also delete topics that are still in use
  -dry-run         (apply) print the plans, change nothing
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// config is a parsed command line.
type config struct {
	cmd       string
	dir       string
	namespace string
	format    string
	extVars   map[string]string
	prune     bool
	force     bool
	dryRun    bool
}

// extVarFlag collects repeated -ext-var k=v flags.
type extVarFlag map[string]string

func (f extVarFlag) String() string {
	keys := make([]string, 0, len(f))
	for k, v := range f {
		keys = append(keys, k+"="+v)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

func (f extVarFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want k=v, got %q", s)
	}
	f[k] = v
	return nil
}

// parseArgs parses the subcommand and its flags.
func parseArgs(args []string, stderr io.Writer) (*config, error) {
	if len(args) == 0 {
		return nil, errors.New("missing subcommand")
	}
	cfg := &config{cmd: args[0], extVars: map[string]string{}}
	switch cfg.cmd {
	case "validate", "plan", "apply":
	default:
		return nil, fmt.Errorf("unknown subcommand %q", cfg.cmd)
	}
	fs := flag.NewFlagSet("gitops "+cfg.cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.dir, "manifests", "manifests", "manifests folder")
	fs.StringVar(&cfg.namespace, "namespace", "", `the team's prefix (default "pricing.", or the ext var ns)`)
	fs.StringVar(&cfg.format, "format", "text", "text, json or github")
	fs.Var(extVarFlag(cfg.extVars), "ext-var", "jsonnet external variable k=v, repeatable")
	if cfg.cmd != "validate" {
		fs.BoolVar(&cfg.prune, "prune", false, "delete what the manifests no longer list")
	}
	if cfg.cmd == "apply" {
		fs.BoolVar(&cfg.force, "force", false, "also delete topics that are still in use")
		fs.BoolVar(&cfg.dryRun, "dry-run", false, "print the plans, change nothing")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch cfg.format {
	case "text", "json", "github":
	default:
		return nil, fmt.Errorf("unknown format %q, want text, json or github", cfg.format)
	}
	// The namespace and the manifests' ns agree: one sets the other.
	if cfg.namespace == "" {
		cfg.namespace = cfg.extVars["ns"]
	}
	if cfg.namespace == "" {
		cfg.namespace = "pricing."
	}
	if ns, ok := cfg.extVars["ns"]; ok && ns != cfg.namespace {
		return nil, fmt.Errorf("-namespace %q and -ext-var ns=%q disagree", cfg.namespace, ns)
	}
	cfg.extVars["ns"] = cfg.namespace
	if _, ok := cfg.extVars["data_dir"]; !ok {
		cfg.extVars["data_dir"] = "/var/tmp/pricing"
	}
	return cfg, nil
}

// run runs one subcommand and returns the exit code. env replaces
// os.Getenv, so tests choose the platform.
func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) int {
	cfg, err := parseArgs(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "gitops:", err)
		}
		fmt.Fprint(stderr, usage)
		return exitError
	}
	p, err := connectPlatform(ctx, cfg, env)
	if err != nil {
		fmt.Fprintln(stderr, "gitops:", err)
		return exitError
	}
	defer p.close()
	code, err := p.do(ctx, cfg, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "gitops:", err)
		return exitError
	}
	return code
}

// platform holds the clients of the components the environment names; a
// nil client is a component that is not configured.
type platform struct {
	topics   *topics.Client
	connect  *connect.Client
	registry *schema.Registry
	vault    *secrets.Client
}

func (p *platform) close() {
	if p.topics != nil {
		p.topics.Close()
	}
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// connectPlatform builds the clients from env. Plan and apply need every
// component the manifests use; that is checked once they are evaluated.
func connectPlatform(ctx context.Context, cfg *config, env func(string) string) (*platform, error) {
	p := &platform{}
	if brokers := splitList(env(EnvBrokers)); len(brokers) > 0 {
		tc, err := topics.NewFromOptions([]kgo.Opt{kgo.SeedBrokers(brokers...)})
		if err != nil {
			return nil, fmt.Errorf("kafka client: %w", err)
		}
		p.topics = tc
	}
	if urls := splitList(env(EnvConnectURL)); len(urls) > 0 {
		cc, err := connect.New(connect.WithURLs(urls...))
		if err != nil {
			p.close()
			return nil, fmt.Errorf("connect client: %w", err)
		}
		p.connect = cc
	}
	if u := env(EnvSchemaRegistryURL); u != "" {
		reg, err := schema.NewRegistryFromOptions(sr.URLs(splitList(u)...))
		if err != nil {
			p.close()
			return nil, fmt.Errorf("registry client: %w", err)
		}
		p.registry = reg
	}
	if addr := env(EnvVaultAddr); addr != "" {
		opts := []secrets.Opt{secrets.WithAddress(addr)}
		if tok := env(EnvVaultToken); tok != "" {
			opts = append(opts, secrets.WithToken(secrets.NewValue(tok)))
		}
		vc, err := secrets.New(ctx, opts...)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("vault client: %w", err)
		}
		p.vault = vc
	}
	return p, nil
}

// policy is what the platform team allows; a real platform team would ship
// it as a Go package its teams import.
func policy(namespace string) validate.Policy {
	return validate.Policy{
		Namespace: namespace,
		Topics: topics.Policy{
			MinPartitions: 1, MaxPartitions: 48,
			MinReplicationFactor: 3, MaxReplicationFactor: 3,
			MaxRetention:    90 * 24 * time.Hour,
			CleanupPolicies: []string{"delete", "compact", "compact,delete"},
		},
		MinTasks: 1, MaxTasks: 8,
	}
}

func (p *platform) do(ctx context.Context, cfg *config, stdout io.Writer) (int, error) {
	vcfg := validate.Config{Policy: policy(cfg.namespace)}
	live := &validate.Live{Connect: p.connect, Registry: p.registry, Vault: p.vault, Topics: p.topics}
	if p.connect != nil || p.registry != nil || p.vault != nil || p.topics != nil {
		vcfg.Live = live
	}
	res, err := validate.Validate(ctx, validate.Options{Dir: cfg.dir, ExtVars: cfg.extVars}, vcfg)
	if err != nil {
		return 0, fmt.Errorf("validate %s: %w", cfg.dir, err)
	}
	out := &report{format: cfg.format, w: stdout}
	if err := out.validation(res); err != nil {
		return 0, err
	}
	if !res.OK() {
		return exitFindings, out.flush()
	}
	if cfg.cmd == "validate" {
		return exitOK, out.flush()
	}
	m := res.Manifest
	if err := p.require(m); err != nil {
		return 0, err
	}

	// Plan everything before changing anything.
	topicOpts := topics.PlanOptions{Namespace: cfg.namespace, Prune: cfg.prune}
	var tplan *topics.Plan
	var aplan *topics.ACLPlan
	if p.topics != nil {
		if tplan, err = p.topics.Plan(ctx, m.Topics, topicOpts); err != nil {
			return 0, fmt.Errorf("plan topics: %w", err)
		}
		if aplan, err = p.topics.PlanACLs(ctx, m.ACLs, m.Bindings, topicOpts); err != nil {
			return 0, fmt.Errorf("plan acls: %w", err)
		}
		out.plan("topics", tplan)
		out.plan("acls", aplan)
	}
	var cplan *connect.Plan
	if p.connect != nil {
		if cplan, err = p.connect.Plan(ctx, m.Connectors, connect.PlanOptions{Namespace: cfg.namespace, Prune: cfg.prune}); err != nil {
			return 0, fmt.Errorf("plan connectors: %w", err)
		}
		out.plan("connectors", cplan)
	}
	refused := tplan != nil && len(tplan.Refusals()) > 0
	if tplan != nil && !cfg.force {
		for _, c := range tplan.Changes {
			if c.Action == topics.Delete && c.Danger != "" {
				refused = true
			}
		}
	}
	if refused {
		out.note("plan refused: see the topic changes marked refused or dangerous (-force deletes topics in use)")
	}
	if cfg.cmd == "plan" || cfg.dryRun || refused {
		if err := out.flush(); err != nil {
			return 0, err
		}
		if refused {
			return exitFindings, nil
		}
		return exitOK, nil
	}

	// Apply: topics first (connectors and schemas need them), then
	// schemas, ACLs and connectors.
	if tplan != nil {
		r, err := p.topics.Apply(ctx, tplan, topics.ApplyOptions{Force: cfg.force})
		if errors.Is(err, topics.ErrRefused) || errors.Is(err, topics.ErrDangerousDelete) {
			out.note(fmt.Sprintf("apply topics refused: %v", err))
			return exitFindings, out.flush()
		}
		if err != nil {
			return 0, fmt.Errorf("apply topics: %w", err)
		}
		out.note(fmt.Sprintf("topics: created %v, updated %v, deleted %v", r.Created, r.Updated, r.Deleted))
	}
	for _, s := range m.Schemas {
		sch, err := schema.Parse(s.Schema)
		if err != nil {
			return 0, fmt.Errorf("parse schema %s: %w", s.Subject, err)
		}
		id, err := p.registry.Register(ctx, s.Subject, sch)
		if err != nil {
			return 0, fmt.Errorf("register schema %s: %w", s.Subject, err)
		}
		out.note(fmt.Sprintf("schema %s: id %d", s.Subject, id))
	}
	if aplan != nil {
		if err := p.topics.ApplyACLs(ctx, aplan); err != nil {
			return 0, fmt.Errorf("apply acls: %w", err)
		}
		out.note(fmt.Sprintf("acls: created %d, deleted %d", len(aplan.Create), len(aplan.Delete)))
	}
	if cplan != nil {
		r, err := p.connect.Apply(ctx, cplan, connect.ApplyOptions{})
		var ve *connect.ValidationError
		if errors.As(err, &ve) {
			out.note(fmt.Sprintf("apply connectors refused: %v", err))
			return exitFindings, out.flush()
		}
		if err != nil {
			return 0, fmt.Errorf("apply connectors: %w", err)
		}
		out.note(fmt.Sprintf("connectors: created %v, updated %v, deleted %v", r.Created, r.Updated, r.Deleted))
	}
	return exitOK, out.flush()
}

// require checks that every component the manifests use is configured.
func (p *platform) require(m validate.Manifest) error {
	var missing []string
	if p.topics == nil {
		missing = append(missing, EnvBrokers)
	}
	if len(m.Schemas) > 0 && p.registry == nil {
		missing = append(missing, EnvSchemaRegistryURL)
	}
	if len(m.Connectors) > 0 && p.connect == nil {
		missing = append(missing, EnvConnectURL)
	}
	if len(missing) > 0 {
		return fmt.Errorf("plan and apply need %s", strings.Join(missing, ", "))
	}
	return nil
}

// report writes the output in one format. Text and github formats print
// as they go; json collects one object and prints it at flush.
type report struct {
	format string
	w      io.Writer
	obj    []field
	notes  []string
}

type field struct {
	key string
	val any
}

func (r *report) validation(res *validate.Result) error {
	switch r.format {
	case "json":
		b, err := res.JSON()
		if err != nil {
			return fmt.Errorf("encode findings: %w", err)
		}
		r.obj = append(r.obj, field{"validation", json.RawMessage(b)})
	case "github":
		fmt.Fprint(r.w, res.GitHub())
	default:
		fmt.Fprint(r.w, res.Text())
	}
	if r.format != "json" && res.OK() {
		fmt.Fprintf(r.w, "validation: ok (%d files)\n", len(res.Files))
	}
	return nil
}

func (r *report) plan(what string, p fmt.Stringer) {
	if r.format == "json" {
		r.obj = append(r.obj, field{what, p})
		return
	}
	fmt.Fprintln(r.w, strings.TrimRight(p.String(), "\n"))
}

func (r *report) note(s string) {
	if r.format == "json" {
		r.notes = append(r.notes, s)
		return
	}
	fmt.Fprintln(r.w, s)
}

func (r *report) flush() error {
	if r.format != "json" {
		return nil
	}
	var b strings.Builder
	b.WriteString("{")
	for i, f := range r.obj {
		if i > 0 {
			b.WriteString(",")
		}
		k, _ := json.Marshal(f.key)
		v, err := json.Marshal(f.val)
		if err != nil {
			return fmt.Errorf("encode %s: %w", f.key, err)
		}
		fmt.Fprintf(&b, "%s:%s", k, v)
	}
	if len(r.notes) > 0 {
		if len(r.obj) > 0 {
			b.WriteString(",")
		}
		v, _ := json.Marshal(r.notes)
		fmt.Fprintf(&b, `"notes":%s`, v)
	}
	b.WriteString("}\n")
	_, err := io.WriteString(r.w, b.String())
	return err
}
