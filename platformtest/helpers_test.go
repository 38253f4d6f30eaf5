package platformtest

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// withEnv makes Start read variables from env instead of the process.
func withEnv(env map[string]string) Option {
	return optionFunc(func(c *config) { c.getenv = func(k string) string { return env[k] } })
}

// fakePlatform starts kfake and srfake for tests that need a Kafka and a
// registry to point Start at. The package's own backend for them,
// platformtest/embedded, imports this package, so its internal tests
// cannot use it.
func fakePlatform(t *testing.T) Platform {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	reg := srfake.New()
	t.Cleanup(reg.Close)
	return Platform{Brokers: cluster.ListenAddrs(), SchemaRegistryURL: reg.URL()}
}

// recordingTB records Skip and Fatal instead of stopping the goroutine.
type recordingTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recordingTB) Helper()                   {}
func (r *recordingTB) Skip(args ...any)          { r.skipped, r.msg = true, fmt.Sprint(args...) }
func (r *recordingTB) Fatalf(f string, a ...any) { r.failed, r.msg = true, fmt.Sprintf(f, a...) }
