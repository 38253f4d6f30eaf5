// Command streamkit is a team's deployment loop on a streamkit platform:
// it validates the team's manifests, shows what would change on the
// platform and applies it, from a laptop or from CI, and shows and
// restarts what runs.
//
//	go install github.com/streamkit/streamkit/cmd/streamkit@latest
//
// From the team's repository, which holds the team file (team.jsonnet)
// and the manifests folder it names:
//
//	streamkit validate               # offline rules, plus the platform's own checks when it is set
//	streamkit plan                   # what apply would change: topics, subjects, ACLs, connectors
//	streamkit apply [-prune [-force]] [-dry-run]
//	streamkit status                 # the team's connectors and tasks, consumer groups and their lag
//	streamkit restart NAME           # a connector of the team and its failed tasks
//	streamkit principals apply       # the team's principals (roles): SCRAM credentials with
//	                                 # generated passwords written to Vault only, and quotas
//	streamkit principals rotate NAME # a new password for one, in Vault, then on every cluster
//	streamkit version
//
// And the platform team's agent, one beside each Connect worker (no team
// file):
//
//	streamkit agent [-namespaces a.,b.] [-listen 127.0.0.1:9404] [-interval 10s] [-group streamkit-agent] [-topic _streamkit-agent]
//
// The agent finds the connectors on the workers, keeps the node's secrets
// folder in step with Vault (every ${dir:...} placeholder of that folder
// names its Vault path), and, on the one agent that owns partition 0 of
// its group's topic, restarts a connector whose secret rotated (once per
// cluster, not once per node) and heals the failed connectors. With
// -namespaces it looks after those namespaces' connectors only (secrets,
// restarts, healing); without, after every connector's secrets, and heals
// none. It serves /metrics and /healthz, and stops cleanly on
// SIGTERM. It needs STREAMKIT_BROKERS, STREAMKIT_CONNECT_URL, VAULT_ADDR
// (with VAULT_TOKEN) and STREAMKIT_CONNECT_SECRETS_DIR.
//
// Flags, after the subcommand:
//
//	-team file        the team file (default team.jsonnet)
//	-namespace ns     replaces the team file's namespace (deploy to a scratch namespace)
//	-format f         text, json, github (workflow annotations) or sarif (SARIF 2.1.0)
//	-prune, -force    (plan, apply) delete what the manifests no longer list; -force
//	                  also deletes topics still in use and soft-deletes subjects
//	-dry-run          (apply) validate and plan, change nothing
//	-stats            print the time taken and the requests made to each
//	                  component by kind, on stderr
//
// The platform is named by environment variables, and only these; each
// one that is unset skips what needs it (plan and apply need the brokers,
// and the registry and Connect when the manifests use them):
//
//	STREAMKIT_BROKERS              Kafka bootstrap brokers, comma-separated
//	STREAMKIT_CONNECT_URL          Kafka Connect workers, comma-separated
//	STREAMKIT_SCHEMA_REGISTRY_URL  the Confluent-compatible registry API
//	VAULT_ADDR, VAULT_TOKEN        Vault: ${vault:...} references must resolve
//	STREAMKIT_CONNECT_SECRETS_DIR  the workers' secrets folder, read by their
//	                               DirectoryConfigProvider, at the same path here
//
// A connector's ${vault:path:key} reference is delivered, never written
// in a config: validate, plan and apply write the key's value from Vault
// to <secrets folder>/<path encoded>/<key> (secrets/materialize), and the
// worker gets the ${dir:...} placeholder of that file, in its validation
// as in the connector's config, so that a connector is checked against its
// real systems with its real credentials. A manifest with such references
// needs Vault, Connect and the folder; this process must be able to write
// the folder (it runs on the connector node, or the folder is mounted at
// the same path). A rotated secret reaches a running connector when it
// restarts (secrets/materialize's Run restarts it on rotation).
//
// Exit codes:
//
//	0  clean: no error finding, a plan apply may carry out, an apply done
//	1  error findings, or a plan that is refused (an incompatible schema,
//	   drift, a change Kafka cannot make, a delete that needs -force),
//	   or an apply the platform refused
//	2  a usage error (flags, team file), or a platform that could not be
//	   reached or is not configured
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// Exit codes.
const (
	exitOK       = 0
	exitFindings = 1
	exitError    = 2
)

const usage = `usage: streamkit <command> [flags]

commands:
  validate   check the manifests: offline rules, and the platform's own checks when it is set
  plan       show what apply would change
  apply      validate, plan and change the platform: topics, subjects, ACLs, connectors
  status     the team's connectors and tasks, consumer groups and their lag
  restart    restart a connector of the team and its failed tasks: restart NAME
  principals the team's principals (the team file's roles): principals apply creates their
             SCRAM credentials with generated passwords that only Vault holds, and their
             quotas; principals rotate NAME gives one a new password (platform admin's)
  version    print the version
  agent      the connector nodes' agent: secrets from Vault, restarts on rotation, healing
             agent [-namespaces a.,b.] [-listen addr] [-interval d] [-group g] [-topic t]

flags:
  -team file       the team file (default team.jsonnet)
  -namespace ns    replace the team file's namespace
  -format f        text, json, github or sarif (default text)
  -prune           (plan, apply) delete what the manifests no longer list
  -force           (plan, apply) also delete topics in use and subjects
  -dry-run         (apply) change nothing
  -stats           print the time taken and the requests made to each component, on stderr

exit codes: 0 clean, 1 findings or a refused plan, 2 usage or an unreachable platform
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options is a parsed command line.
type options struct {
	cmd       string
	teamFile  string
	namespace string
	format    string
	prune     bool
	force     bool
	dryRun    bool
	stats     bool
	args      []string
	agent     agentOptions
}

func newFlagSet(cmd string) *flag.FlagSet {
	fs := flag.NewFlagSet("streamkit "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// errUsage is a command line streamkit cannot run.
var errUsage = errors.New("usage")

func parseArgs(args []string, stderr io.Writer) (*options, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("%w: missing command", errUsage)
	}
	o := &options{cmd: args[0]}
	switch o.cmd {
	case "validate", "plan", "apply", "status", "restart", "version", "agent", "principals":
	case "-h", "-help", "--help", "help":
		return nil, flag.ErrHelp
	default:
		return nil, fmt.Errorf("%w: unknown command %q", errUsage, o.cmd)
	}
	if o.cmd == "agent" {
		ao, err := parseAgentFlags(args[1:])
		o.agent = ao
		return o, err
	}
	fs := newFlagSet(o.cmd)
	fs.StringVar(&o.teamFile, "team", DefaultTeamFile, "the team file")
	fs.StringVar(&o.namespace, "namespace", "", "replace the team file's namespace")
	fs.StringVar(&o.format, "format", "text", "text, json, github or sarif")
	if o.cmd == "plan" || o.cmd == "apply" {
		fs.BoolVar(&o.prune, "prune", false, "delete what the manifests no longer list")
		fs.BoolVar(&o.force, "force", false, "also delete topics in use and subjects")
	}
	if o.cmd == "apply" {
		fs.BoolVar(&o.dryRun, "dry-run", false, "change nothing")
	}
	if o.cmd != "version" {
		fs.BoolVar(&o.stats, "stats", false, "print the time taken and the requests made, on stderr")
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s: %w", errUsage, o.cmd, err)
	}
	o.args = fs.Args()
	switch {
	case o.cmd == "restart" && len(o.args) != 1:
		return nil, fmt.Errorf("%w: restart takes one connector name, got %d arguments", errUsage, len(o.args))
	case o.cmd == "principals" && !(len(o.args) == 1 && o.args[0] == "apply" || len(o.args) == 2 && o.args[0] == "rotate"):
		return nil, fmt.Errorf("%w: principals apply, or principals rotate NAME", errUsage)
	case o.cmd != "restart" && o.cmd != "principals" && len(o.args) > 0:
		return nil, fmt.Errorf("%w: %s: unexpected arguments %q", errUsage, o.cmd, o.args)
	case o.force && !o.prune:
		return nil, fmt.Errorf("%w: -force only applies with -prune", errUsage)
	}
	switch o.format {
	case "text", "json", "github", "sarif":
	default:
		return nil, fmt.Errorf("%w: unknown format %q, want text, json, github or sarif", errUsage, o.format)
	}
	if o.format == "sarif" && o.cmd != "validate" && o.cmd != "plan" && o.cmd != "apply" {
		return nil, fmt.Errorf("%w: -format sarif is for validate, plan and apply", errUsage)
	}
	return o, nil
}

// run runs one command and returns the exit code. env replaces os.Getenv,
// so tests choose the platform.
func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) int {
	o, err := parseArgs(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "streamkit:", err)
		}
		fmt.Fprint(stderr, usage)
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	switch o.cmd {
	case "version":
		fmt.Fprintln(stdout, "streamkit", version())
		return exitOK
	case "agent":
		return runAgent(ctx, o.agent, env, stderr)
	}
	t, err := loadTeam(o.teamFile, o.namespace)
	if err != nil {
		fmt.Fprintln(stderr, "streamkit:", err)
		return exitError
	}
	var st *stats
	if o.stats {
		st = newStats(t.Namespace)
		defer st.write(stderr)
	}
	p, err := dial(ctx, env, st, t.dataPolicy(), t.TLS)
	if err != nil {
		fmt.Fprintln(stderr, "streamkit:", err)
		return exitError
	}
	defer p.close()
	switch o.cmd {
	case "status":
		return p.status(ctx, t, o, stdout, stderr)
	case "restart":
		return p.restart(ctx, t, o.args[0], o, stdout, stderr)
	case "principals":
		return p.principals(ctx, t, o, stdout, stderr)
	}
	return p.deploy(ctx, t, o, stdout, stderr)
}

// version is the module version the binary was built from: a tag for go
// install ...@v1.2.3, "(devel)" with the VCS revision for a local build.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
		if s.Key == "vcs.modified" && s.Value == "true" {
			v += "+dirty"
		}
	}
	return v + " " + bi.GoVersion
}
