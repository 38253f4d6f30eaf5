package schema

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/internal/platformenv"
)

// envPipelineChild, set to "input,output,group,transactional ID", makes
// this test binary a pipeline process instead of running tests: the
// process that TestIntegrationPipelineKilled kills.
const envPipelineChild = "STREAMKIT_TEST_PIPELINE_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(envPipelineChild); spec != "" {
		os.Exit(pipelineChild(spec))
	}
	os.Exit(m.Run())
}

// pipelineChild runs a pipeline that doubles each order's quantity until
// SIGTERM, and returns the exit code.
func pipelineChild(spec string) int {
	f := strings.Split(spec, ",")
	if len(f) != 4 {
		fmt.Fprintln(os.Stderr, "child: bad spec", spec)
		return 2
	}
	in, out, group, txid := f[0], f[1], f[2], f[3]
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	reg, err := NewRegistryFromOptions(sr.URLs(os.Getenv("STREAMKIT_SCHEMA_REGISTRY_URL")))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	outSchema, err := Parse(orderV2Schema)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	brokers := strings.Split(os.Getenv("STREAMKIT_BROKERS"), ",")
	p, err := NewPipeline[orderV1, orderV2](ctx, reg, group, []string{in}, out,
		WithTransactionalID(txid), WithInputAnyRecordName(), WithOutputSchema(outSchema), WithTransactionTimeout(10*time.Second), WithTransactionRecords(50),
		WithPipelineClientOpts(kgo.SeedBrokers(brokers...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
			kgo.SessionTimeout(6*time.Second)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	defer p.Close()
	err = p.Run(ctx, func(ctx context.Context, r *Record[orderV1]) ([]Message[orderV2], error) {
		time.Sleep(time.Millisecond) // some work: kills land inside transactions
		return []Message[orderV2]{{Key: r.Key, Value: orderV2{ID: r.Value.ID, Quantity: 2 * r.Value.Quantity, Currency: "EUR"}}}, nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "child: stopped cleanly: %+v\n", p.Stats())
	return 0
}

// TestIntegrationPipelineKilled runs a transactional pipeline as a process
// of its own on the real platform and kills it with SIGKILL five times
// mid-stream, restarting it with the same transactional ID each time,
// then lets a last one finish and stops it with SIGTERM. A read_committed
// reader of the output sees every input order transformed exactly once,
// and the group's offsets cover every input.
func TestIntegrationPipelineKilled(t *testing.T) {
	ctx, rp := requireReal(t)
	in := rp.topic(t, ctx, "it-eos-in", 3)
	out := rp.topic(t, ctx, "it-eos-out", 3)
	group := platformenv.UniqueName("it-eos")
	const n, keys = 5000, 50
	keyedOrders(t, ctx, rp.reg, rp.brokers, in, n, keys)
	if _, err := rp.reg.Register(ctx, out+"-value", mustParse(t, orderV2Schema)); err != nil {
		t.Fatal(err)
	}
	spec := strings.Join([]string{in, out, group, group + "-1"}, ",")
	start := func() (*exec.Cmd, *strings.Builder) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envPipelineChild+"="+spec)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &stderr
	}
	adm := kadm.NewClient(rawClient(t, rp.brokers))
	committedSum := func() int64 {
		offs, err := adm.FetchOffsets(ctx, group)
		if err != nil {
			return 0
		}
		var sum int64
		offs.Each(func(o kadm.OffsetResponse) { sum += o.At })
		return sum
	}

	kills := 0
	for kills < 5 {
		cmd, stderr := start()
		before := committedSum()
		// Wait for progress, then kill at a random moment.
		deadline := time.Now().Add(time.Minute)
		for committedSum() == before && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(time.Duration(rand.N(300)) * time.Millisecond)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		kills++
		got := committedSum()
		t.Logf("kill %d: %d of %d inputs committed", kills, got, n)
		if got == before {
			t.Fatalf("no progress before kill %d:\n%s", kills, stderr.String())
		}
		if got >= n {
			t.Fatalf("the pipeline finished before kill %d: make the input larger", kills)
		}
	}
	cmd, stderr := start()
	deadline := time.Now().Add(2 * time.Minute)
	for committedSum() < n {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("the last pipeline did not finish: %d of %d committed\n%s", committedSum(), n, stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the last pipeline after SIGTERM: %v\n%s", err, stderr.String())
	}

	committed := readAll(t, ctx, rp.brokers, out, n, kgo.ReadCommitted())
	all := readAll(t, ctx, rp.brokers, out, len(committed), kgo.ReadUncommitted())
	t.Logf("output: %d records read_committed, %d read_uncommitted (the rest were in aborted transactions)", len(committed), len(all))
	s, err := NewSerde[orderV2](rp.reg, WithSchema(mustParse(t, orderV2Schema)))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, r := range committed {
		var o orderV2
		if err := s.Decode(ctx, r.Value, &o); err != nil {
			t.Fatal(err)
		}
		counts[o.ID]++
	}
	wrong := 0
	for i := range n {
		if c := counts[fmt.Sprintf("o%d", i)]; c != 1 {
			wrong++
			if wrong <= 10 {
				t.Errorf("order o%d: %d outputs, want exactly 1", i, c)
			}
		}
	}
	if wrong > 0 || len(committed) != n {
		t.Fatalf("%d orders not transformed exactly once; %d committed outputs for %d inputs", wrong, len(committed), n)
	}
}
