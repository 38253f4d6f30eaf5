package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamkit/streamkit/platformtest"
)

// scale is the size of a team repository: its topics, connectors and
// subjects.
type scale struct{ topics, connectors, subjects int }

func (s scale) String() string {
	return fmt.Sprintf("topics=%d/connectors=%d/subjects=%d", s.topics, s.connectors, s.subjects)
}

// writeScaleRepo writes a team repository of size s in the template's
// style: a team library that computes the names, one line per resource,
// one .avsc file per subject. The connectors are stopped, so that the
// platform does not run hundreds of tasks; a plan reads them all the same.
// Resource i has the same name in every size, so a smaller repository is
// a part of a larger one.
func writeScaleRepo(t testing.TB, dir, ns string, s scale) string {
	t.Helper()
	writeFile(t, filepath.Join(dir, ".git", "HEAD"), "ref: refs/heads/main\n")
	team := filepath.Join(dir, "team")
	writeFile(t, filepath.Join(team, DefaultTeamFile), fmt.Sprintf(`{
  namespace: %q,
  manifests: 'manifests',
  services: ['app'],
  ext_vars: { data_dir: '/tmp/streamkit-scale' },
}
`, ns))
	m := filepath.Join(team, "manifests")
	writeFile(t, filepath.Join(m, "team.libsonnet"), `local sk = import 'streamkit.libsonnet';
local ns = std.extVar('ns');
{
  name(short):: ns + short,
  event(dataset, partitions=1):: sk.topic(ns + dataset + '.v1', partitions=partitions, configs={
    'retention.ms': 7 * 24 * 3600 * 1000,
  }),
  sink(short, dataset):: sk.fileSink(ns + short, [ns + dataset + '.v1'], std.extVar('data_dir') + '/' + short + '.txt') + {
    state: 'STOPPED',
  },
  value(dataset):: { subject: ns + dataset + '.v1-value', file: 'schemas/' + dataset + '.avsc', compatibility: 'BACKWARD' },
}
`)
	var b strings.Builder
	lines := func(file, head string, n int, line func(i int) string) {
		b.Reset()
		b.WriteString(head + "\n{\n  " + strings.TrimSuffix(filepath.Base(file), ".jsonnet") + ": [\n")
		for i := range n {
			b.WriteString("    " + line(i) + ",\n")
		}
		b.WriteString("  ],\n}\n")
		writeFile(t, filepath.Join(m, file), b.String())
	}
	const lib = "local p = import 'team.libsonnet';"
	lines("topics.jsonnet", lib, s.topics, func(i int) string { return fmt.Sprintf("p.event('ds-%04d')", i) })
	lines("connectors.jsonnet", lib, s.connectors, func(i int) string {
		return fmt.Sprintf("p.sink('sink-%04d', 'ds-%04d')", i, i%s.topics)
	})
	lines("schemas.jsonnet", lib, s.subjects, func(i int) string { return fmt.Sprintf("p.value('ds-%04d')", i) })
	for i := range s.subjects {
		writeFile(t, filepath.Join(m, "schemas", fmt.Sprintf("ds-%04d.avsc", i)), fmt.Sprintf(`{
  "type": "record",
  "name": "Event%04d",
  "namespace": "scale",
  "doc": "An event of dataset %04d.",
  "fields": [
    {"name": "id", "type": "string", "doc": "The event's key."},
    {"name": "amount_cents", "type": "long", "doc": "The amount, in cents."},
    {"name": "note", "type": ["null", "string"], "default": null, "doc": "Free text."}
  ]
}
`, i, i))
	}
	return team
}

// planStats is what one `plan -stats` reported.
type planStats struct {
	took     time.Duration
	requests map[string]int // "component kind" -> requests
}

var statsLine = regexp.MustCompile(`(?m)^stats: (\w+) \d+ requests: (.*)$`)

// planWithStats runs `streamkit plan -stats` in process on the team in
// dir, and fails unless the plan is empty.
func planWithStats(ctx context.Context, tb testing.TB, dir string, env func(string) string) planStats {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run(ctx, []string{"plan", "-stats", "-team", filepath.Join(dir, DefaultTeamFile)}, env, &stdout, &stderr)
	took := time.Since(start)
	if code != exitOK || !strings.Contains(stdout.String(), "plan: 0 to create, 0 to update, 0 to delete,") {
		tb.Fatalf("plan: exit %d\n%s\n%s", code, tail(stdout.String(), 2000), stderr.String())
	}
	ps := planStats{took: took, requests: map[string]int{}}
	for _, m := range statsLine.FindAllStringSubmatch(stderr.String(), -1) {
		for _, kv := range strings.Split(m[2], ", ") {
			k, v, _ := strings.Cut(kv, "=")
			n, err := strconv.Atoi(v)
			if err != nil {
				tb.Fatalf("stats %q: %v", kv, err)
			}
			ps.requests[m[1]+" "+k] = n
		}
	}
	if len(ps.requests) == 0 {
		tb.Fatalf("no stats on stderr:\n%s", stderr.String())
	}
	return ps
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// BenchmarkValidatePlanAtScale runs `streamkit plan` (validation with
// the platform's own checks, then the plan) of a team repository with no
// change against the real platform, at two sizes: a tenth, then 500
// topics, 500 connectors and 200 subjects. The fastest plan must take
// under 3 s at the large size, and the requests of each kind must not grow faster
// than the resources they are about: a kind of request made once per run
// (a listing) is made as often at both sizes, and one made per resource is
// made as often per resource. The setup applies the large repository with
// `streamkit apply`, and the cleanup prunes it with `apply -prune -force`;
// both durations are logged.
//
//	go test -run '^$' -bench AtScale -benchtime 5x ./cmd/streamkit
func BenchmarkValidatePlanAtScale(b *testing.B) {
	p := platformtest.Require(b, platformtest.Kafka, platformtest.SchemaRegistry, platformtest.Connect)
	ctx := context.Background()
	vars := map[string]string{}
	for _, kv := range platformEnv(p) {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	env := func(k string) string { return vars[k] }
	ns := platformtest.UniqueName("skscale") + "."
	large := scale{topics: 500, connectors: 500, subjects: 200}
	small := scale{topics: large.topics / 10, connectors: large.connectors / 10, subjects: large.subjects / 10}

	// Setup: apply the large repository, as a team would.
	dir := writeScaleRepo(b, b.TempDir(), ns, large)
	var out, errOut bytes.Buffer
	start := time.Now()
	if code := run(ctx, []string{"apply", "-team", filepath.Join(dir, DefaultTeamFile)}, env, &out, &errOut); code != exitOK {
		b.Fatalf("apply: exit %d\n%s\n%s", code, tail(out.String(), 2000), errOut.String())
	}
	b.Logf("setup: apply of %v took %s", large, time.Since(start).Round(time.Millisecond))
	b.Cleanup(func() {
		empty := filepath.Join(b.TempDir(), "team")
		writeFile(b, filepath.Join(empty, DefaultTeamFile), fmt.Sprintf("{ namespace: %q }\n", ns))
		writeFile(b, filepath.Join(empty, "manifests", "empty.jsonnet"), "{}\n")
		var out, errOut bytes.Buffer
		start := time.Now()
		if code := run(context.Background(), []string{"apply", "-prune", "-force", "-team", filepath.Join(empty, DefaultTeamFile)}, env, &out, &errOut); code != exitOK {
			b.Errorf("cleanup: apply -prune -force: exit %d\n%s\n%s", code, tail(out.String(), 2000), errOut.String())
		}
		b.Logf("cleanup: apply -prune -force took %s", time.Since(start).Round(time.Millisecond))
	})

	measured := map[scale]planStats{}
	for _, s := range []scale{small, large} {
		b.Run(s.String(), func(b *testing.B) {
			dir := dir
			if s != large {
				dir = writeScaleRepo(b, b.TempDir(), ns, s)
			}
			var runs []planStats
			for b.Loop() {
				runs = append(runs, planWithStats(ctx, b, dir, env))
			}
			var took []time.Duration
			for _, r := range runs {
				took = append(took, r.took)
			}
			slices.Sort(took)
			fastest, median := took[0], took[len(took)/2]
			first := runs[0].requests
			for _, r := range runs[1:] {
				for k, n := range r.requests {
					first[k] = max(first[k], n)
				}
			}
			measured[s] = planStats{took: median, requests: first}
			b.ReportMetric(float64(sum(first, "connect ")), "connect-req/op")
			b.ReportMetric(float64(sum(first, "registry ")), "registry-req/op")
			b.ReportMetric(float64(sum(first, "kafka ")), "kafka-req/op")
			b.Logf("%v: fastest %s, median %s over %d plans; requests: %v", s, fastest.Round(time.Millisecond), median.Round(time.Millisecond), len(runs), first)
			// The fastest run is what the code costs; the others add what
			// else the two cores were doing (three brokers, the worker and
			// the registry run on them too).
			if s == large && fastest > 3*time.Second {
				b.Errorf("validate and plan of %v: fastest of %d runs %s, want under 3s", s, len(runs), fastest)
			}
		})
	}
	if len(measured) < 2 {
		return // -bench selected one size only
	}
	checkRequestGrowth(b, small, large, measured[small].requests, measured[large].requests)
}

// checkRequestGrowth fails when a kind of request grows faster than the
// resources it is about. Kafka requests must not grow at all (topics,
// configs, ACLs and groups are read in batches); a Connect or registry
// request may be made once per connector or subject, and must then keep
// its count per resource.
func checkRequestGrowth(tb testing.TB, small, large scale, a, b map[string]int) {
	tb.Helper()
	per := func(s scale, component string) int {
		switch component {
		case "connect":
			return s.connectors
		case "registry":
			return s.subjects
		}
		return 0
	}
	kinds := map[string]bool{}
	for k := range a {
		kinds[k] = true
	}
	for k := range b {
		kinds[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		component := strings.Fields(k)[0]
		na, nb := a[k], b[k]
		if per(large, component) == 0 {
			// A few more connections (ApiVersions) are not growth.
			if nb > na+3 {
				tb.Errorf("%s: %d requests for %v, %d for %v: want as many", k, na, small, nb, large)
			}
			continue
		}
		ra, rb := float64(na)/float64(per(small, component)), float64(nb)/float64(per(large, component))
		if nb > na && rb > ra {
			tb.Errorf("%s: %d requests for %v, %d for %v: %.2f per resource, up from %.2f", k, na, small, nb, large, rb, ra)
		}
	}
}

func sum(m map[string]int, prefix string) int {
	n := 0
	for k, v := range m {
		if strings.HasPrefix(k, prefix) {
			n += v
		}
	}
	return n
}

// TestCheckRequestGrowth: the growth check accepts listings and
// per-resource requests, and refuses requests that grow faster than the
// resources.
func TestCheckRequestGrowth(t *testing.T) {
	small, large := scale{10, 10, 4}, scale{100, 100, 40}
	ok := &recorder{TB: t}
	checkRequestGrowth(ok, small, large,
		map[string]int{"connect GET /connectors": 1, "connect PUT /connector-plugins/{class}/config/validate": 10, "registry GET /subjects/{name}/versions/latest": 8},
		map[string]int{"connect GET /connectors": 1, "connect PUT /connector-plugins/{class}/config/validate": 100, "registry GET /subjects/{name}/versions/latest": 80})
	if len(ok.errors) != 0 {
		t.Errorf("linear requests refused: %v", ok.errors)
	}
	bad := &recorder{TB: t}
	checkRequestGrowth(bad, small, large,
		map[string]int{"connect GET /connectors/{name}/status": 10, "kafka Metadata": 2},
		map[string]int{"connect GET /connectors/{name}/status": 1000, "kafka Metadata": 20})
	if len(bad.errors) != 2 {
		t.Errorf("growing requests: got %d errors %v, want 2", len(bad.errors), bad.errors)
	}
}

// recorder records Errorf calls instead of failing the test.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Helper() {}
