package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/platformtest"
)

// The tests run the built binary, as CI and a team do: its exit codes and
// its output are the contract.

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// binary is the streamkit binary TestMain builds.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "streamkit-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "streamkit")
	// -buildvcs=false: the version is "(devel)" in every checkout, so the
	// golden SARIF files do not depend on the commit.
	if out, err := exec.Command("go", "build", "-buildvcs=false", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build streamkit: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// streamkit runs the binary in dir with env and nothing else of the test
// process's environment (no platform unless env names one).
func streamkit(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	code := 0
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run streamkit %v: %v", args, err)
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// newRepo copies the team template (examples/gitops) into a new git
// repository at sub (e.g. "teams/pricing") and returns the repository root
// and the team's folder.
func newRepo(t *testing.T, sub string) (root, team string) {
	t.Helper()
	root = t.TempDir()
	team = filepath.Join(root, sub)
	if err := os.CopyFS(team, os.DirFS("../../examples/gitops")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root, team
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		writeFile(t, path, got)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestVersion(t *testing.T) {
	r := streamkit(t, t.TempDir(), nil, "version")
	if r.code != exitOK || !regexp.MustCompile(`^streamkit \S+.* go1\.`).MatchString(r.stdout) {
		t.Fatalf("version: %v", r)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	_, dir := newRepo(t, ".")
	writeFile(t, filepath.Join(dir, "typo.jsonnet"), `{ namespace: 'pricing.', manifest: 'manifests' }`)
	writeFile(t, filepath.Join(dir, "nons.jsonnet"), `{ manifests: 'manifests' }`)
	writeFile(t, filepath.Join(dir, "badrule.jsonnet"), `{ namespace: 'pricing.', policy: { rules: { CONN004: 'loud' } } }`)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "missing command"},
		{"unknown command", []string{"deploy"}, `unknown command "deploy"`},
		{"unknown flag", []string{"validate", "-manifests", "x"}, "flag provided but not defined: -manifests"},
		{"bad format", []string{"validate", "-format", "xml"}, `unknown format "xml"`},
		{"prune on validate", []string{"validate", "-prune"}, "-prune"},
		{"force without prune", []string{"apply", "-force"}, "-force only applies with -prune"},
		{"restart without a name", []string{"restart"}, "restart takes one connector name"},
		{"extra arguments", []string{"plan", "now"}, `unexpected arguments ["now"]`},
		{"sarif status", []string{"status", "-format", "sarif"}, "-format sarif is for validate, plan and apply"},
		{"no team file", []string{"validate", "-team", "missing.jsonnet"}, "team file missing.jsonnet not found"},
		{"team file typo", []string{"validate", "-team", "typo.jsonnet"}, `unknown field "manifest"`},
		{"team file without namespace", []string{"validate", "-team", "nons.jsonnet"}, "namespace is required"},
		{"team file bad severity", []string{"validate", "-team", "badrule.jsonnet"}, `policy.rules.CONN004: severity "loud"`},
		{"plan without a platform", []string{"plan"}, "plan and apply need STREAMKIT_BROKERS, STREAMKIT_SCHEMA_REGISTRY_URL, STREAMKIT_CONNECT_URL"},
		{"status without a platform", []string{"status"}, "status needs STREAMKIT_CONNECT_URL or STREAMKIT_BROKERS"},
		{"restart outside the namespace", []string{"restart", "billing.db-source"}, `connector "billing.db-source" is outside the namespace "pricing."`},
		{"agent without a platform", []string{"agent"}, "agent needs STREAMKIT_BROKERS, STREAMKIT_CONNECT_URL, VAULT_ADDR, STREAMKIT_CONNECT_SECRETS_DIR"},
		{"agent interval", []string{"agent", "-interval", "0s"}, "-interval 0s: want more than 0"},
		{"agent listen", []string{"agent", "-listen", "9404"}, `-listen "9404"`},
		{"agent empty group", []string{"agent", "-group", ""}, "-group and -topic may not be empty"},
		{"agent backoff above its max", []string{"agent", "-heal-backoff", "10m"}, "-heal-backoff 10m0s, -heal-max-backoff 5m0s"},
		{"agent no restarts", []string{"agent", "-heal-max-restarts", "0"}, "-heal-max-restarts 0"},
		{"agent extra arguments", []string{"agent", "now"}, `unexpected arguments ["now"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := streamkit(t, dir, nil, tt.args...)
			if r.code != exitError || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("want exit 2 and %q on stderr, got %v", tt.want, r)
			}
		})
	}
	if r := streamkit(t, dir, nil, "-h"); r.code != exitOK || !strings.Contains(r.stderr, "exit codes: 0 clean") {
		t.Errorf("-h: %v", r)
	}
}

// The template validates clean offline in every format.
func TestValidateTemplate(t *testing.T) {
	_, dir := newRepo(t, ".")
	for _, format := range []string{"text", "json", "github", "sarif"} {
		t.Run(format, func(t *testing.T) {
			r := streamkit(t, dir, nil, "validate", "-format", format)
			if r.code != exitOK {
				t.Fatalf("validate: %v", r)
			}
			switch format {
			case "json":
				if !strings.Contains(r.stdout, `"ok": true`) || !json.Valid([]byte(r.stdout)) {
					t.Errorf("json: %s", r.stdout)
				}
			case "sarif":
				if !strings.Contains(r.stdout, `"results": []`) {
					t.Errorf("sarif with results: %s", r.stdout)
				}
			default:
				if !strings.Contains(r.stdout, "validation: ok (4 files)") {
					t.Errorf("%s: %s", format, r.stdout)
				}
			}
		})
	}
}

// leaky is a connector someone wrote by hand with the password pasted in,
// and a grant to another team's service account.
const leaky = `// A sink someone wrote by hand.
local p = import 'pricing.libsonnet';
{
  connectors: [
    {
      name: p.name('leaky-sink'),
      config: {
        'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector',
        'tasks.max': '1',
        topics: p.name('prices.v1'),
        file: '/tmp/leaky.txt',
        'database.password': 'Tr0ub4dor-3',
      },
    },
  ],
  acls: [
    { principal: 'User:pricing.reports', role: 'consumer', topics: [p.name('prices.v1')], groups: [p.name('reports')] },
  ],
}
`

// Findings land on the line the team wrote, with paths relative to the
// repository root (where GitHub and code scanning resolve them), in every
// format; the exit code is 1 and the password is never printed.
func TestValidateFindingsGolden(t *testing.T) {
	root, dir := newRepo(t, "teams/pricing")
	writeFile(t, filepath.Join(dir, "manifests", "leaky.jsonnet"), leaky)
	for _, format := range []string{"text", "json", "github", "sarif"} {
		t.Run(format, func(t *testing.T) {
			r := streamkit(t, dir, nil, "validate", "-format", format)
			if r.code != exitFindings {
				t.Fatalf("want exit 1: %v", r)
			}
			if strings.Contains(r.stdout+r.stderr, "Tr0ub4dor-3") {
				t.Fatalf("the password is printed: %v", r)
			}
			golden(t, "findings."+format, r.stdout)
		})
	}
	// From the repository root with -team, the positions are the same.
	a := streamkit(t, root, nil, "validate", "-team", "teams/pricing/team.jsonnet")
	b := streamkit(t, dir, nil, "validate")
	if a.stdout != b.stdout || !strings.Contains(a.stdout, "teams/pricing/manifests/leaky.jsonnet:12:") {
		t.Errorf("from the root:\n%s\nfrom the team folder:\n%s", a.stdout, b.stdout)
	}
}

// A platform that does not answer is exit 2, not a clean validation and not
// findings: CI can tell an outage from a mistake.
func TestUnreachablePlatformExits2(t *testing.T) {
	_, dir := newRepo(t, ".")
	env := []string{
		EnvBrokers + "=127.0.0.1:1",
		EnvConnectURL + "=http://127.0.0.1:1",
		EnvSchemaRegistryURL + "=http://127.0.0.1:1",
	}
	r := streamkit(t, dir, env, "validate")
	if r.code != exitError || !strings.Contains(r.stdout, "LIVE000") {
		t.Fatalf("validate: %v", r)
	}
	r = streamkit(t, dir, env, "apply")
	if r.code != exitError || !strings.Contains(r.stderr, "apply refused") && !strings.Contains(r.stderr, "plan") {
		t.Fatalf("apply: %v", r)
	}
	// Vault down: the client logs in first, so every command stops there,
	// changes nothing, and says which component it could not reach.
	env = append(env, EnvVaultAddr+"=http://127.0.0.1:1", EnvVaultToken+"=not-a-token", EnvSecretsDir+"="+t.TempDir())
	for _, cmd := range []string{"validate", "plan", "apply"} {
		r = streamkit(t, dir, env, cmd)
		if r.code != exitError || !strings.Contains(r.stderr, "vault login failed") || strings.Contains(r.stdout, "applied") || strings.Contains(r.stderr, "not-a-token") {
			t.Fatalf("%s with Vault down: %v", cmd, r)
		}
	}
}

// platformEnv is the environment that names the test platform, as
// scripts/platform env prints it.
func platformEnv(p platformtest.Platform) []string {
	return []string{
		EnvBrokers + "=" + strings.Join(p.Brokers, ","),
		EnvConnectURL + "=" + p.ConnectURL,
		EnvSchemaRegistryURL + "=" + p.SchemaRegistryURL,
		EnvVaultAddr + "=" + p.VaultAddr,
		EnvVaultToken + "=" + p.VaultToken,
		EnvSecretsDir + "=" + p.ConnectSecretsDir,
	}
}

// teamDB is what the template's Debezium connector captures, made for one
// test on the platform's PostgreSQL: a replication role that owns the
// template's table, its password in Vault at the path the template's
// p.secret('db', 'password') names for namespace ns.
type teamDB struct {
	admin      *pgx.Conn
	role, slot string
	password   string
	vaultPath  string // under the KV v2 mount secret/
	kv         *vault.KVv2
}

// table is the template's captured table.
const table = "public.prices"

func newTeamDB(ctx context.Context, t *testing.T, p platformtest.Platform, ns string) *teamDB {
	t.Helper()
	if p.ConnectSecretsDir == "" {
		t.Fatal(platformtest.EnvConnectSecretsDir + " is unset: the workers' secrets folder is unknown")
	}
	short := strings.TrimRight(ns, ".-_")
	db := &teamDB{
		role:      strings.NewReplacer("-", "_", ".", "_").Replace(short) + "_cdc",
		slot:      strings.NewReplacer("-", "_", ".", "_").Replace(ns + "db-source"),
		password:  platformtest.UniqueName("pg-pw"),
		vaultPath: short + "/db",
	}
	url := fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", p.PostgresUser, p.PostgresPassword,
		net.JoinHostPort(p.PostgresHost, p.PostgresPort), p.PostgresDB)
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	db.admin = admin
	role := pgx.Identifier{db.role}.Sanitize()
	db.exec(ctx, t, "CREATE ROLE "+role+" LOGIN REPLICATION PASSWORD '"+db.password+"'")
	db.exec(ctx, t, "CREATE TABLE IF NOT EXISTS "+table+" (sku text PRIMARY KEY, price_cents bigint NOT NULL)")
	db.exec(ctx, t, "ALTER TABLE "+table+" OWNER TO "+role)
	db.exec(ctx, t, "GRANT CREATE ON DATABASE "+pgx.Identifier{p.PostgresDB}.Sanitize()+" TO "+role)
	vc, err := vault.NewClient(&vault.Config{Address: p.VaultAddr})
	if err != nil {
		t.Fatal(err)
	}
	vc.SetToken(p.VaultToken)
	db.kv = vc.KVv2("secret")
	db.setPassword(ctx, t, db.password)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for range 120 { // the slot stays active until the task is gone
			var active bool
			err := admin.QueryRow(ctx, "SELECT active FROM pg_replication_slots WHERE slot_name = $1", db.slot).Scan(&active)
			if errors.Is(err, pgx.ErrNoRows) {
				break
			}
			if err == nil && !active {
				_, _ = admin.Exec(ctx, "SELECT pg_drop_replication_slot($1)", db.slot)
			}
			time.Sleep(500 * time.Millisecond)
		}
		for _, sql := range []string{
			"DROP PUBLICATION IF EXISTS " + pgx.Identifier{db.slot}.Sanitize(),
			"DROP TABLE IF EXISTS " + table,
			"REVOKE CREATE ON DATABASE " + pgx.Identifier{p.PostgresDB}.Sanitize() + " FROM " + role,
			"DROP ROLE IF EXISTS " + role,
		} {
			if _, err := admin.Exec(ctx, sql); err != nil {
				t.Logf("cleanup: %s: %v", sql, err)
			}
		}
		_ = admin.Close(ctx)
		_ = db.kv.DeleteMetadata(ctx, db.vaultPath)
	})
	return db
}

func (db *teamDB) exec(ctx context.Context, t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := db.admin.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", strings.Fields(sql)[0], err)
	}
}

// setPassword writes the database password to Vault.
func (db *teamDB) setPassword(ctx context.Context, t *testing.T, pw string) {
	t.Helper()
	if _, err := db.kv.Put(ctx, db.vaultPath, map[string]any{"password": pw}); err != nil {
		t.Fatal(err)
	}
}

// pointAt appends the platform's database to the team file's ext_vars, as
// a team points the template at its own database.
func pointAt(t *testing.T, dir string, p platformtest.Platform, db *teamDB) {
	t.Helper()
	path := filepath.Join(dir, DefaultTeamFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	extra := fmt.Sprintf("+ { ext_vars+: { db_host: %q, db_port: %q, db_name: %q, db_user: %q } }\n",
		p.PostgresHost, p.PostgresPort, p.PostgresDB, db.role)
	writeFile(t, path, string(b)+extra)
}

// TestIntegrationDeployLoop runs the template repository's whole loop on
// the real platform, in a namespace of its own, as a team's CI would:
// apply (the Debezium connector's database password delivered from Vault
// to the workers' secrets folder), an empty second plan, a wrong password
// found by validate against the real database, drift refused and
// resolved, status, restart, and a prune that leaves nothing of the
// namespace behind.
func TestIntegrationDeployLoop(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka, platformtest.SchemaRegistry, platformtest.Connect,
		platformtest.Vault, platformtest.Postgres)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	ns := platformtest.UniqueName("skcli") + "."
	_, dir := newRepo(t, ".")
	db := newTeamDB(ctx, t, p, ns)
	pointAt(t, dir, p, db)
	env := platformEnv(p)
	sk := func(args ...string) result {
		t.Helper()
		return streamkit(t, dir, env, append(args[:1:1], append([]string{"-namespace", ns}, args[1:]...)...)...)
	}
	reg, err := sr.NewClient(sr.URLs(p.SchemaRegistryURL))
	if err != nil {
		t.Fatal(err)
	}
	cc, err := connect.New(connect.WithURLs(p.ConnectURL))
	if err != nil {
		t.Fatal(err)
	}
	kc, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	adm := kadm.NewClient(kc)
	t.Cleanup(func() { cleanup(t, adm, cc, reg, ns) })

	r := sk("apply")
	if r.code != exitOK {
		t.Fatalf("apply: %v", r)
	}
	for _, want := range []string{
		"applied topics: created " + ns + "audit.v1, " + ns + "db.public.prices, " + ns + "prices.v1, " + ns + "quotes.v1",
		"applied subjects: registered " + ns + "prices.v1-value (id ",
		"levels set " + ns + "prices.v1-value",
		"applied acls: created 8, deleted 0",
		"applied connectors: created " + ns + "db-source, " + ns + "prices-sink, " + ns + "quotes-source",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("apply output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout+r.stderr, db.password) {
		t.Fatal("apply printed the database password")
	}

	// The worker holds a placeholder of the file streamkit wrote from
	// Vault, and the connector logs in with it: a new row arrives.
	stored, err := cc.Config(ctx, ns+"db-source")
	if err != nil {
		t.Fatal(err)
	}
	if pw := stored["database.password"]; !strings.HasPrefix(pw, "${dir:"+p.ConnectSecretsDir+"/") || strings.Contains(pw, db.password) {
		t.Fatalf("the worker's database.password is not a placeholder of the secrets folder: %q", strings.ReplaceAll(pw, db.password, "<password>"))
	}
	db.exec(ctx, t, "INSERT INTO "+table+" (sku, price_cents) VALUES ($1, 1999)", ns+"sku-1")
	readChange(ctx, t, p, cc, ns+"db.public.prices", ns+"db-source", ns+"sku-1")

	// A second plan is empty, in every format.
	r = sk("plan")
	if r.code != exitOK || !strings.Contains(r.stdout, "plan: 0 to create, 0 to update, 0 to delete, 16 unchanged, 0 refused, 0 drifted") {
		t.Fatalf("second plan: %v", r)
	}
	r = sk("plan", "-format", "json")
	var doc struct {
		ExitCode int `json:"exit_code"`
		Plan     struct {
			Summary []counts `json:"summary"`
		} `json:"plan"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != exitOK || len(doc.Plan.Summary) != 4 {
		t.Fatalf("json plan (%v): %v", err, r)
	}
	for _, c := range doc.Plan.Summary {
		if c.changes()+c.Refused+c.Drift != 0 || c.Unchanged == 0 {
			t.Errorf("json plan after apply: %+v", c)
		}
	}

	// A wrong password in Vault: the worker checks the connector with it
	// against the real database, and validate says so at the connector,
	// without printing it. The right one back, validate is clean again.
	wrong := platformtest.UniqueName("wrong-pw")
	db.setPassword(ctx, t, wrong)
	r = sk("validate", "-format", "github")
	if r.code != exitFindings || !regexp.MustCompile(`(?m)^::error file=manifests/connectors\.jsonnet,line=\d+,col=\d+,title=LIVE001::.*password authentication failed`).MatchString(r.stdout) ||
		strings.Contains(r.stdout+r.stderr, wrong) {
		t.Fatalf("validate with a wrong password in Vault: %v", r)
	}
	db.setPassword(ctx, t, db.password)
	if r = sk("validate"); r.code != exitOK {
		t.Fatalf("validate with the right password back: %v", r)
	}

	// A service registers the schema it derives from its Go struct: the
	// registry's latest is no longer the repository's. Plan and apply
	// refuse, at the subject's line, and write nothing.
	subject := ns + "prices.v1-value"
	derived := `{"type":"record","name":"Price","fields":[{"name":"sku","type":"string"},{"name":"store","type":"string"},` +
		`{"name":"price_cents","type":"long"},{"name":"currency","type":"string","default":"EUR"},{"name":"note","type":["null","string"],"default":null}]}`
	if _, err := reg.CreateSchema(ctx, subject, sr.Schema{Schema: derived}); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"plan", "apply"} {
		r = sk(cmd, "-format", "github")
		if r.code != exitFindings || !regexp.MustCompile(`(?m)^::error file=manifests/schemas\.jsonnet,line=\d+,col=\d+,title=PLAN004::the registry's latest version 2 `).MatchString(r.stdout) {
			t.Fatalf("%s with drift: %v", cmd, r)
		}
		if strings.Contains(r.stdout, "applied") {
			t.Fatalf("%s with drift applied something: %v", cmd, r)
		}
	}
	if vs, err := reg.SubjectVersions(ctx, subject); err != nil || len(vs) != 2 {
		t.Fatalf("versions after a refused apply: %v, %v", vs, err)
	}
	// Resolved by removing the stray version: the plan is empty again.
	if err := reg.DeleteSchema(ctx, subject, 2, sr.SoftDelete); err != nil {
		t.Fatal(err)
	}
	if r = sk("plan"); r.code != exitOK || !strings.Contains(r.stdout, "16 unchanged") {
		t.Fatalf("plan after the drift is resolved: %v", r)
	}

	// Status lists the namespace's connectors; restart works inside it only.
	r = sk("status")
	if !strings.Contains(r.stdout, ns+"quotes-source  RUNNING") || !strings.Contains(r.stdout, ns+"prices-sink  RUNNING") ||
		!strings.Contains(r.stdout, ns+"db-source  RUNNING") {
		t.Fatalf("status: %v", r)
	}
	if r = sk("restart", ns+"quotes-source"); r.code != exitOK || !strings.Contains(r.stdout, "restarted "+ns+"quotes-source: RUNNING") {
		t.Fatalf("restart: %v", r)
	}
	if r = sk("restart", ns+"no-such-connector"); r.code != exitFindings {
		t.Fatalf("restart of a missing connector: %v", r)
	}

	// The manifests emptied: prune without -force refuses to delete the
	// subject; with -force it deletes everything the namespace holds,
	// the producer's cluster binding included, and plans empty after.
	if err := os.RemoveAll(filepath.Join(dir, "manifests")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "manifests", "empty.jsonnet"), "{}\n")
	r = sk("apply", "-prune")
	if r.code != exitFindings || !strings.Contains(r.stdout, "PLAN005") || strings.Contains(r.stdout, "applied") {
		t.Fatalf("apply -prune without -force: %v", r)
	}
	if r = sk("apply", "-prune", "-force"); r.code != exitOK {
		t.Fatalf("apply -prune -force: %v", r)
	}
	if r = sk("plan", "-prune"); r.code != exitOK || !strings.Contains(r.stdout, "plan: 0 to create, 0 to update, 0 to delete, 0 unchanged") {
		t.Fatalf("plan after the prune: %v", r)
	}
	acls, err := adm.DescribeACLs(ctx, kadm.NewACLs().AnyResource().Allow("User:"+ns+"publisher", "User:"+ns+"billing").
		AllowHosts().Operations(kadm.OpAny).ResourcePatternType(kadm.ACLPatternAny))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range acls {
		if len(a.Described) > 0 {
			t.Errorf("ACLs of the namespace left after the prune: %+v", a.Described)
		}
	}
}

// cleanup removes what a test left in namespace ns.
func cleanup(t *testing.T, adm *kadm.Client, cc *connect.Client, reg *sr.Client, ns string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, name := range []string{"db-source", "prices-sink", "quotes-source"} {
		if err := cc.Delete(ctx, ns+name); err != nil && !errors.Is(err, connect.ErrNotFound) {
			t.Logf("cleanup: connector %s%s: %v", ns, name, err)
		}
	}
	if _, err := adm.DeleteTopics(ctx, ns+"prices.v1", ns+"quotes.v1", ns+"audit.v1", ns+"db.public.prices"); err != nil {
		t.Logf("cleanup: topics: %v", err)
	}
	if _, err := adm.DeleteACLs(ctx, kadm.NewACLs().AnyResource().Allow("User:"+ns+"publisher", "User:"+ns+"billing").
		AllowHosts().Operations(kadm.OpAny).ResourcePatternType(kadm.ACLPatternAny)); err != nil {
		t.Logf("cleanup: acls: %v", err)
	}
	subject := ns + "prices.v1-value"
	_, _ = reg.DeleteSubject(ctx, subject, sr.SoftDelete)
	_, _ = reg.DeleteSubject(ctx, subject, sr.HardDelete)
}

// readChange waits for the change event of the row whose key is sku in
// topic, written by connector.
func readChange(ctx context.Context, t *testing.T, p platformtest.Platform, cc *connect.Client, topic, connector, sku string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(p.Brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			st, _ := cc.Status(context.Background(), connector)
			t.Fatalf("no change event of %s in %s; connector %+v", sku, topic, st)
		}
		found := false
		fs.EachRecord(func(r *kgo.Record) {
			found = found || bytes.Contains(r.Value, []byte(sku))
		})
		if found {
			return
		}
	}
}
