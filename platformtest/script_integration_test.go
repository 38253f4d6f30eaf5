package platformtest_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamkit/streamkit/platformtest"
)

// TestIntegrationPlatformScript checks scripts/platform on the platform it
// started: a second `up` is a no-op that installs and starts nothing, and
// `env` prints the variables the tests were given.
func TestIntegrationPlatformScript(t *testing.T) {
	p := platformtest.Require(t)
	script, err := filepath.Abs(filepath.Join("..", "scripts", "platform"))
	if err != nil {
		t.Fatal(err)
	}

	statusBefore, err := runScript(t, script, "status")
	if err != nil {
		platformtest.SkipOrFail(t, "the platform in the environment was not started by scripts/platform: "+statusBefore)
	}

	out, err := runScript(t, script, "up")
	if err != nil {
		t.Fatalf("second up: %v\n%s", err, out)
	}
	for _, c := range []string{"vault", "registry", "postgres", "kafka-1", "connect-1", "connect-2"} {
		if !strings.Contains(out, c+" already running") {
			t.Errorf("second up did not find %s running:\n%s", c, out)
		}
	}
	for _, bad := range []string{"installing", "started "} {
		if strings.Contains(out, bad) {
			t.Errorf("second up printed %q; it must install and start nothing:\n%s", bad, out)
		}
	}
	statusAfter, err := runScript(t, script, "status")
	if err != nil || statusAfter != statusBefore {
		t.Errorf("status changed across a second up (err %v):\nbefore:\n%s\nafter:\n%s", err, statusBefore, statusAfter)
	}

	env, err := runScript(t, script, "env")
	if err != nil {
		t.Fatalf("env: %v\n%s", err, env)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(env), "\n") {
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok {
			t.Fatalf("env printed %q, want export NAME=value lines", line)
		}
		vars[k] = v
	}
	for k, want := range map[string]string{
		platformtest.EnvBrokers:            strings.Join(p.Brokers, ","),
		platformtest.EnvSchemaRegistryURL:  p.SchemaRegistryURL,
		platformtest.EnvConnectURL:         strings.Join(p.ConnectURLs, ","),
		platformtest.EnvVaultAddr:          p.VaultAddr,
		platformtest.EnvVaultToken:         p.VaultToken,
		platformtest.EnvSASLBrokers:        strings.Join(p.SASLBrokers, ","),
		platformtest.EnvKafkaAdminUser:     p.KafkaAdminUser,
		platformtest.EnvKafkaAdminPassword: p.KafkaAdminPassword,
		platformtest.EnvPostgresHost:       p.PostgresHost,
		platformtest.EnvPostgresPort:       p.PostgresPort,
		platformtest.EnvPostgresUser:       p.PostgresUser,
		platformtest.EnvPostgresPassword:   p.PostgresPassword,
		platformtest.EnvPostgresDB:         p.PostgresDB,
	} {
		if vars[k] != want {
			t.Errorf("env: %s: got %q, want %q", k, vars[k], want)
		}
	}
}

func runScript(t *testing.T, script string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(script, args...)
	cmd.Dir = filepath.Dir(filepath.Dir(script))
	cmd.Env = os.Environ()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}
