package faults

import (
	"bytes"
	"context"
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

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/platformtest"
	"github.com/streamkit/streamkit/secrets/materialize"
)

// TestFaultAgentVaultAndWorkersDown runs `streamkit agent` beside a
// FileStreamSink whose output file is a Vault secret delivered through
// the workers' secrets folder, and takes Vault, then both Connect
// workers, away under it.
//
//   - Vault killed: the agent keeps running and healthy, counts its failed
//     polls in streamkit_agent_errors_total{kind="secrets"}, leaves the
//     file as it was and restarts nothing; the sink keeps writing.
//   - Vault back, empty as its dev server starts: the operator writes the
//     secret again, a new value at version 1 again. The agent writes it
//     and restarts the sink once; the next records go to the new file.
//   - Both workers stopped: /healthz answers 503 and says why; the agent
//     keeps running. Workers back: 200 again, and the sink, restarted by
//     the workers, goes on.
//
// Every record produced is in one of the two files; the Vault token is
// never in the agent's output.
func TestFaultAgentVaultAndWorkersDown(t *testing.T) {
	p := requireFaults(t, platformtest.Kafka, platformtest.Connect, platformtest.Vault)
	ctx := suiteCtx(t, 5*time.Minute)
	ns := platformtest.UniqueName("fault-agent") + "."
	bin := buildCLI(t)
	topic := ns + "lines"
	platformtest.CreateTopicsT(t, p.Clients.Admin, 1, topic)
	cc := p.Clients.Connect

	out := t.TempDir()
	fileA, fileB := filepath.Join(out, "a.txt"), filepath.Join(out, "b.txt")
	vaultPath := strings.TrimSuffix(ns, ".") + "/sink"
	putSecret := func(file string) {
		t.Helper()
		if _, err := p.Clients.Vault.API().KVv2("secret").Put(ctx, vaultPath, map[string]any{"file": file}); err != nil {
			t.Fatalf("write the secret: %v", err)
		}
	}
	putSecret(fileA)

	// The sink, deployed as the CLI deploys it: the secret delivered to
	// the secrets folder, its ${dir:...} placeholder in the config.
	mat, err := materialize.New(p.Clients.Vault, cc, p.ConnectSecretsDir)
	if err != nil {
		t.Fatal(err)
	}
	spec := connect.Spec{Name: ns + "sink", Config: map[string]string{
		"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
		"topics":          topic,
		"file":            "${vault:secret/data/" + vaultPath + ":file}",
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter",
	}}
	if _, err := mat.Sync(ctx, []connect.Spec{spec}); err != nil {
		t.Fatal(err)
	}
	translated, err := mat.Translate(spec.Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Create(ctx, spec.Name, translated, connect.InitialRunning); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = cc.Delete(ctx, spec.Name)
	})

	var produced []string
	produce := func(prefix string, n int) {
		t.Helper()
		rs := make([]*kgo.Record, n)
		for i := range rs {
			v := prefix + "-" + strconv.Itoa(i)
			rs[i] = &kgo.Record{Topic: topic, Value: []byte(v)}
			produced = append(produced, v)
		}
		if err := p.Clients.Kafka.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			t.Fatalf("produce %s: %v", prefix, err)
		}
	}
	// lines is the set of lines of the files.
	lines := func(files ...string) map[string]bool {
		set := map[string]bool{}
		for _, f := range files {
			b, _ := os.ReadFile(f)
			for _, l := range strings.Split(string(b), "\n") {
				set[l] = true
			}
		}
		return set
	}
	a := startFaultAgent(t, bin, p, "-interval", "1s", "-namespaces", ns, "-group", ns+"agents", "-topic", "_"+ns+"agents")
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			if ctx.Err() != nil {
				t.Fatalf("%s: timed out\nagent:\n%s", what, a.output())
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	inFile := func(file, prefix string, n int) func() bool {
		return func() bool {
			set := lines(file)
			for i := range n {
				if !set[prefix+"-"+strconv.Itoa(i)] {
					return false
				}
			}
			return true
		}
	}
	produce("a", 100)
	waitUntil("the first records in file a", inFile(fileA, "a", 100))
	waitUntil("the agent healthy and leading", func() bool {
		code, _ := a.healthz()
		return code == http.StatusOK && a.metric(agentLeader) == 1
	})
	secretFile := filepath.Join(p.ConnectSecretsDir, folderOf(t, translated["file"]))

	// Vault killed.
	base := a.metric(secretErrors)
	kill(t, "vault")
	waitUntil("failed polls counted", func() bool { return a.metric(secretErrors) >= base+2 })
	if code, body := a.healthz(); code != http.StatusOK {
		t.Errorf("with Vault down, /healthz: %d %s; the agent keeps its files and should stay healthy", code, body)
	}
	if b, _ := os.ReadFile(secretFile); string(b) != fileA {
		t.Errorf("with Vault down, the secret's file holds %q, want the last good value", b)
	}
	produce("b", 100)
	waitUntil("records in file a with Vault down", inFile(fileA, "b", 100))
	if r := a.metric(agentRotations); r != 0 {
		t.Fatalf("%v restarts with Vault down", r)
	}

	// Vault back, empty: the secret written again, a new value.
	if err := <-startAsync(t, "vault"); err != nil {
		t.Fatal(err)
	}
	putSecret(fileB)
	waitUntil("the new value in the secrets folder and one restart", func() bool {
		b, _ := os.ReadFile(secretFile)
		return string(b) == fileB && a.metric(agentRotations) == 1
	})
	produce("c", 100)
	waitUntil("records in file b after the rotation", inFile(fileB, "c", 100))

	// Both workers stopped, then back.
	control(t, "stop", "connect")
	t.Cleanup(func() {
		if !running("connect") {
			control(t, "start", "connect")
		}
	})
	waitUntil("/healthz 503 without workers", func() bool {
		code, body := a.healthz()
		return code == http.StatusServiceUnavailable && strings.Contains(body, "connect worker")
	})
	control(t, "start", "connect")
	waitUntil("/healthz 200 with the workers back", func() bool {
		code, _ := a.healthz()
		return code == http.StatusOK
	})
	produce("d", 100)
	waitUntil("records in file b with the workers back", inFile(fileB, "d", 100))

	set := lines(fileA, fileB)
	lost := 0
	for _, v := range produced {
		if !set[v] {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d records are in neither file", lost, len(produced))
	}
	if r := a.metric(agentRotations); r != 1 {
		t.Errorf("%v rotation restarts in all, want 1", r)
	}

	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-a.done:
		a.done <- err
		if err != nil {
			t.Errorf("agent after SIGTERM: %v\n%s", err, a.output())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the agent still runs 20s after SIGTERM")
	}
	if strings.Contains(a.output(), p.VaultToken) {
		t.Error("the agent printed the Vault token")
	}
}

const (
	agentLeader    = "streamkit_agent_leader"
	agentRotations = `streamkit_agent_connector_restarts_total{reason="rotation"}`
	secretErrors   = `streamkit_agent_errors_total{kind="secrets"}`
)

// faultAgent is a `streamkit agent` process.
type faultAgent struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func (a *faultAgent) Write(b []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.out.Write(b)
}

func (a *faultAgent) output() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.out.String()
}

// startFaultAgent runs bin's agent against p's workers, Vault and
// secrets folder, on a free port.
func startFaultAgent(t *testing.T, bin string, p *platformtest.Platform, args ...string) *faultAgent {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &faultAgent{addr: l.Addr().String(), done: make(chan error, 1)}
	l.Close()
	a.cmd = exec.Command(bin, append([]string{"agent", "-listen", a.addr}, args...)...)
	a.cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"STREAMKIT_BROKERS=" + strings.Join(p.Brokers, ","),
		"STREAMKIT_CONNECT_URL=" + strings.Join(p.ConnectURLs, ","),
		"VAULT_ADDR=" + p.VaultAddr, "VAULT_TOKEN=" + p.VaultToken,
		"STREAMKIT_CONNECT_SECRETS_DIR=" + p.ConnectSecretsDir,
	}
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

var faultMetricLine = regexp.MustCompile(`(?m)^(streamkit_agent_\w+(?:\{[^}]*\})?) (\S+)$`)

// metric reads one of the agent's metrics; -1 while it does not answer.
func (a *faultAgent) metric(name string) float64 {
	resp, err := http.Get("http://" + a.addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, m := range faultMetricLine.FindAllStringSubmatch(string(b), -1) {
		if m[1] == name {
			v, _ := strconv.ParseFloat(m[2], 64)
			return v
		}
	}
	return 0
}

// healthz returns the agent's /healthz status and body; 0 while it does
// not answer.
func (a *faultAgent) healthz() (int, string) {
	resp, err := http.Get("http://" + a.addr + "/healthz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// folderOf is the <folder>/<key> under the secrets folder that a
// ${dir:<secrets folder>/<folder>:<key>} placeholder names.
func folderOf(t *testing.T, ph string) string {
	t.Helper()
	m := regexp.MustCompile(`^\$\{dir:[^:}]*/([^/:}]+):([^}]+)\}$`).FindStringSubmatch(ph)
	if m == nil {
		t.Fatalf("%q is not a ${dir:...} placeholder", ph)
	}
	return fmt.Sprintf("%s/%s", m[1], m[2])
}
