package validate_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/streamkit/streamkit/validate"
)

const benchLib = `local sk = import 'streamkit.libsonnet';
{
  sink(name, topic):: sk.fileSink(name, [topic], '/data/' + name + '.txt') + {
    config+: { 'tasks.max': '2', 'errors.tolerance': 'none' },
  },
  topic(name):: sk.topic(name, partitions=6, replication=3, configs={ 'retention.ms': '604800000' }),
}
`

// writeRepo writes n manifests, each with one topic and one connector
// built from a shared team library.
func writeRepo(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "team.libsonnet"), []byte(benchLib), 0o644); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i++ {
		m := fmt.Sprintf(`local team = import 'team.libsonnet';
{
  topics: [team.topic('pricing.dataset%04d.v1')],
  connectors: [team.sink('pricing-sink-%04d', 'pricing.dataset%04d.v1')],
}
`, i, i, i)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("m%04d.jsonnet", i)), []byte(m), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// BenchmarkValidateRepo validates, offline, repositories of n manifests
// (n topics and n connectors importing a shared library) with every
// built-in rule. n=500 is the size; the others show the growth.
func BenchmarkValidateRepo(b *testing.B) {
	for _, n := range []int{125, 250, 500, 1000} {
		b.Run(fmt.Sprintf("manifests=%d", n), func(b *testing.B) {
			dir := writeRepo(b, n)
			cfg := validate.Config{Policy: validate.Policy{Namespace: "pricing"}}
			b.ReportAllocs()
			for b.Loop() {
				res, err := validate.Validate(context.Background(), validate.Options{Dir: dir}, cfg)
				if err != nil {
					b.Fatal(err)
				}
				if !res.OK() || len(res.Manifest.Connectors) != n || len(res.Manifest.Topics) != n {
					b.Fatalf("ok=%v connectors=%d topics=%d:\n%s", res.OK(), len(res.Manifest.Connectors), len(res.Manifest.Topics), res.Text())
				}
			}
		})
	}
}
