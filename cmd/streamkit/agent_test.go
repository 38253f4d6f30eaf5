package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/platformtest"
)

// runningAgent is a `streamkit agent` process of a test.
type runningAgent struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func (a *runningAgent) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.out.Write(p)
}

func (a *runningAgent) output() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.out.String()
}

// startAgentOnNode runs the built binary's agent with env and args, on a
// free port of its own. With nodeDir set, it runs as on a node of its own: in a mount namespace
// of its own (unshare(1), as root), where nodeDir, a folder of this
// machine, is mounted over the secrets folder, as each node of a real
// cluster has a secrets folder of its own at the same path. With nodeDir
// "", the agent shares this machine's folder.
func startAgentOnNode(t *testing.T, nodeDir, secretsDir string, env []string, args ...string) *runningAgent {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	a := &runningAgent{addr: addr, done: make(chan error, 1)}
	argv := append([]string{binary, "agent", "-listen", addr}, args...)
	if nodeDir != "" {
		argv = append([]string{"unshare", "--mount", "--propagation", "private", "--",
			"sh", "-c", `mount --bind "$0" "$1" && shift && exec "$@"`, nodeDir, secretsDir}, argv...)
	}
	a.cmd = exec.Command(argv[0], argv[1:]...)
	a.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	a.cmd.Stdout, a.cmd.Stderr = a, a
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.done <- a.cmd.Wait() }()
	t.Cleanup(func() {
		_ = a.cmd.Process.Kill()
		<-a.done
	})
	return a
}

var metricLine = regexp.MustCompile(`(?m)^(streamkit_agent_\w+(?:\{[^}]*\})?) (\S+)$`)

// metrics reads the agent's /metrics; nil while it does not answer.
func (a *runningAgent) metrics() map[string]float64 {
	resp, err := http.Get("http://" + a.addr + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := map[string]float64{}
	for _, m := range metricLine.FindAllStringSubmatch(string(b), -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		out[m[1]] = v
	}
	return out
}

func (a *runningAgent) healthy() bool {
	resp, err := http.Get("http://" + a.addr + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

const (
	rotations    = `streamkit_agent_connector_restarts_total{reason="rotation"}`
	healRestarts = `streamkit_agent_connector_restarts_total{reason="failed"}`
	givenUp      = `streamkit_agent_connectors_given_up`
)

// TestIntegrationAgent runs the connector nodes' agent as a platform team
// would, one per worker of the two-worker platform, beside the template
// repository's Debezium connector, whose database password is in Vault.
// Exactly one agent leads. The second agent runs as on a node of its own,
// with a secrets folder of its own (a mount namespace), which it fills.
// The password is rotated in PostgreSQL and in Vault: the agents rewrite
// the file the connector's ${dir:...} placeholder names in each folder, the leader alone restarts the connector, once, and
// the connector, on whichever worker runs it, streams the next change
// with the new password. No password is in the agents' output or the
// connector's config. Then two sinks of the namespace fail (their output
// folders are missing): the leader alone heals them, with backoff and its
// cap; the one whose folder appears is RUNNING again, the other is given
// up on after -heal-max-restarts. SIGTERM stops both agents cleanly.
func TestIntegrationAgent(t *testing.T) {
	p := platformtest.Require(t, platformtest.Kafka, platformtest.SchemaRegistry, platformtest.Connect,
		platformtest.Vault, platformtest.Postgres)
	if len(p.ConnectURLs) < 2 {
		t.Fatalf("the platform has %d Connect workers; the agents' test needs two", len(p.ConnectURLs))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	ns := platformtest.UniqueName("skagent") + "."
	_, dir := newRepo(t, ".")
	db := newTeamDB(ctx, t, p, ns)
	pointAt(t, dir, p, db)
	env := platformEnv(p)
	cc, err := connect.New(connect.WithURLs(p.ConnectURLs...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, name := range []string{"db-source", "prices-sink", "quotes-source", "fixable", "hopeless"} {
			_ = cc.Delete(ctx, ns+name)
		}
	})
	if r := streamkit(t, dir, env, "apply", "-namespace", ns); r.code != exitOK {
		t.Fatalf("apply: %v", r)
	}
	t.Cleanup(func() {
		writeFile(t, filepath.Join(dir, "manifests", "connectors.jsonnet"), "{}\n")
		_ = os.RemoveAll(filepath.Join(dir, "manifests"))
		writeFile(t, filepath.Join(dir, "manifests", "empty.jsonnet"), "{}\n")
		if r := streamkit(t, dir, env, "apply", "-namespace", ns, "-prune", "-force"); r.code != exitOK {
			t.Logf("cleanup: %v", r)
		}
	})

	// One agent per worker, in a group of their own. The workers share
	// this machine's secrets folder; the second agent runs as on a node of
	// its own, with a folder of its own that starts empty.
	node2 := t.TempDir()
	var agents []*runningAgent
	for i, worker := range p.ConnectURLs[:2] {
		nodeEnv := append(append([]string(nil), env...), EnvConnectURL+"="+worker)
		nodeDir := ""
		if i == 1 {
			nodeDir = node2
		}
		agents = append(agents, startAgentOnNode(t, nodeDir, p.ConnectSecretsDir, nodeEnv, "-interval", "1s", "-namespaces", ns,
			"-group", ns+"agents", "-topic", "_"+ns+"agents",
			"-heal-backoff", "1s", "-heal-max-backoff", "2s", "-heal-max-restarts", "3"))
	}
	leaders := func() (n float64, restarts float64) {
		for _, a := range agents {
			m := a.metrics()
			n += m["streamkit_agent_leader"]
			restarts += m[rotations]
		}
		return n, restarts
	}
	// healed is the restarts of failed connectors and the connectors
	// given up on, of the leader and of the follower.
	healed := func() (leader, follower [2]float64) {
		for _, a := range agents {
			m := a.metrics()
			v := [2]float64{m[healRestarts], m[givenUp]}
			if m["streamkit_agent_leader"] == 1 {
				leader = v
			} else {
				follower = v
			}
		}
		return leader, follower
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			if ctx.Err() != nil {
				t.Fatalf("%s: timed out\nagent 1:\n%s\nagent 2:\n%s", what, agents[0].output(), agents[1].output())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitFor("both agents healthy, one leader", func() bool {
		n, _ := leaders()
		return agents[0].healthy() && agents[1].healthy() && n == 1
	})
	// The second node's empty folder is filled from Vault.
	if stored, err := cc.Config(ctx, ns+"db-source"); err != nil {
		t.Fatal(err)
	} else if rel, err := filepath.Rel(p.ConnectSecretsDir, placeholderFile(t, stored["database.password"])); err != nil {
		t.Fatal(err)
	} else {
		waitFor("the password in the second node's folder", func() bool {
			b, _ := os.ReadFile(filepath.Join(node2, rel))
			return string(b) == db.password
		})
	}
	if _, restarts := leaders(); restarts != 0 {
		t.Fatalf("%v restarts before any rotation", restarts)
	}

	// Rotate: the database first (the running session keeps working),
	// then Vault.
	pw2 := platformtest.UniqueName("pg-pw2")
	db.exec(ctx, t, "ALTER ROLE "+pgx.Identifier{db.role}.Sanitize()+" PASSWORD '"+pw2+"'")
	db.setPassword(ctx, t, pw2)
	stored, err := cc.Config(ctx, ns+"db-source")
	if err != nil {
		t.Fatal(err)
	}
	file := placeholderFile(t, stored["database.password"])
	rel, err := filepath.Rel(p.ConnectSecretsDir, file)
	if err != nil {
		t.Fatal(err)
	}
	file2 := filepath.Join(node2, rel)
	waitFor("the new password in both nodes' secrets folders and one restart", func() bool {
		b, _ := os.ReadFile(file)
		b2, _ := os.ReadFile(file2)
		_, restarts := leaders()
		return string(b) == pw2 && string(b2) == pw2 && restarts >= 1
	})
	time.Sleep(3 * time.Second) // a few more polls of both agents
	if n, restarts := leaders(); restarts != 1 || n != 1 {
		t.Fatalf("after the rotation: %v restarts, %v leaders; want one restart by the one leader", restarts, n)
	}
	db.exec(ctx, t, "INSERT INTO "+table+" (sku, price_cents) VALUES ($1, 2500)", ns+"after-rotation")
	readChange(ctx, t, p, cc, ns+"db.public.prices", ns+"db-source", ns+"after-rotation")

	// Two sinks fail at start: their output folders do not exist.
	out := t.TempDir()
	fixable, hopeless := filepath.Join(out, "later", "prices.txt"), filepath.Join(out, "never", "prices.txt")
	for name, file := range map[string]string{"fixable": fixable, "hopeless": hopeless} {
		_, err := cc.Create(ctx, ns+name, map[string]string{
			"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
			"topics":          ns + "db.public.prices", "file": file,
			"key.converter": "org.apache.kafka.connect.storage.StringConverter", "value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
		}, connect.InitialRunning)
		if err != nil {
			t.Fatal(err)
		}
	}
	// The leader's first restart is of either sink; the fixable one's
	// folder is made then, seconds before its cap (1s, 2s, 2s between
	// restarts) is reached.
	waitFor("the leader restarts a sink", func() bool {
		leader, _ := healed()
		return leader[0] >= 1
	})
	if err := os.MkdirAll(filepath.Dir(fixable), 0o755); err != nil {
		t.Fatal(err)
	}
	waitFor("fixable RUNNING, hopeless given up on", func() bool {
		st, err := cc.Status(ctx, ns+"fixable")
		leader, _ := healed()
		return err == nil && !st.Failed() && len(st.Tasks) == 1 && st.Tasks[0].State == connect.StateRunning && leader[1] >= 1
	})
	time.Sleep(3 * time.Second) // a few more polls: the cap holds
	leader, follower := healed()
	if follower != [2]float64{} {
		t.Errorf("the follower healed: %v restarts, %v given up", follower[0], follower[1])
	}
	// hopeless: 3 restarts, then given up; fixable: restarted until its
	// folder appeared, never again once RUNNING, so within its cap (a
	// rebalance of the two workers may have restarted its task first).
	if leader[0] < 3 || leader[0] > 6 || leader[1] != 1 {
		t.Errorf("the leader: %v restarts, %v given up; want 3 to 6 restarts and hopeless given up\nagent 1:\n%s\nagent 2:\n%s",
			leader[0], leader[1], agents[0].output(), agents[1].output())
	}
	if st, err := cc.Status(ctx, ns+"hopeless"); err != nil || !st.Failed() {
		t.Errorf("hopeless after the cap: %+v, %v", st, err)
	}

	// SIGTERM: each agent leaves its group, stops serving and exits 0.
	for i, a := range agents {
		if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-a.done:
			a.done <- err // for the cleanup
			var ee *exec.ExitError
			if errors.As(err, &ee) || err != nil {
				t.Errorf("agent %d after SIGTERM: %v\n%s", i+1, err, a.output())
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("agent %d still runs 20s after SIGTERM", i+1)
		}
	}
	for i, a := range agents {
		out := a.output()
		if strings.Contains(out, db.password) || strings.Contains(out, pw2) {
			t.Errorf("agent %d printed a password", i+1)
		}
		if !strings.Contains(out, `"msg":"agent stopped"`) {
			t.Errorf("agent %d did not say it stopped:\n%s", i+1, out)
		}
	}
	if after, _ := cc.Config(ctx, ns+"db-source"); strings.Contains(fmt.Sprint(after), pw2) {
		t.Error("the connector's config holds the password")
	}
}

// placeholderFile is the file a ${dir:<folder>:<key>} placeholder names.
func placeholderFile(t *testing.T, ph string) string {
	t.Helper()
	m := regexp.MustCompile(`^\$\{dir:([^:}]*):([^}]*)\}$`).FindStringSubmatch(ph)
	if m == nil {
		t.Fatalf("%q is not a ${dir:...} placeholder", ph)
	}
	return filepath.Join(m[1], m[2])
}
