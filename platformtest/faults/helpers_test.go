package faults

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/streamkit/streamkit/internal/platformenv"
	"github.com/streamkit/streamkit/platformtest"
)

// EnvFaults, when true, runs this package's tests. make faults sets it.
const EnvFaults = "STREAMKIT_FAULTS"

// requireFaults skips t unless the fault suite was asked for, and returns
// the platform from the environment with ready-made clients for the
// components named. Asked for, a missing platform fails t.
func requireFaults(t *testing.T, components ...platformtest.Component) *platformtest.Platform {
	t.Helper()
	if !platformenv.IsTrue(os.Getenv(EnvFaults)) {
		t.Skipf("the fault suite stops platform components under every other test: it runs with %s=1 (make faults)", EnvFaults)
	}
	return platformtest.StartT(t, platformtest.WithComponents(components...))
}

// script is scripts/platform, from this package's folder.
var script = filepath.Join("..", "..", "scripts", "platform")

// controlMu keeps two faults from racing on one component.
var controlMu sync.Mutex

// control runs `scripts/platform VERB NAME` and fails t when it fails.
func control(t *testing.T, verb, name string) {
	t.Helper()
	controlMu.Lock()
	defer controlMu.Unlock()
	start := time.Now()
	out, err := exec.Command(script, verb, name).CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/platform %s %s: %v\n%s", verb, name, err, out)
	}
	t.Logf("scripts/platform %s %s: %s", verb, name, time.Since(start).Round(100*time.Millisecond))
}

// kill SIGKILLs a component and makes sure it is started again when the
// test ends, whatever happens in between.
func kill(t *testing.T, name string) {
	t.Helper()
	t.Cleanup(func() {
		if t.Failed() || !running(name) {
			// start waits until ready; on a running component it only waits.
			if out, err := exec.Command(script, "start", name).CombinedOutput(); err != nil {
				t.Errorf("restore %s: %v\n%s", name, err, out)
			}
		}
	})
	control(t, "kill", name)
}

// running reports whether scripts/platform status lists name as running;
// "connect" is every Connect worker.
func running(name string) bool {
	out, _ := exec.Command(script, "status").CombinedOutput()
	found := false
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || (f[0] != name && !(name == "connect" && strings.HasPrefix(f[0], "connect-"))) {
			continue
		}
		if f[1] != "running" {
			return false
		}
		found = true
	}
	return found
}

// startAsync starts a component in the background and returns a channel
// that receives the result when it is ready.
func startAsync(t *testing.T, name string) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		controlMu.Lock()
		defer controlMu.Unlock()
		start := time.Now()
		out, err := exec.Command(script, "start", name).CombinedOutput()
		if err != nil {
			err = fmt.Errorf("scripts/platform start %s: %w\n%s", name, err, out)
		} else {
			t.Logf("scripts/platform start %s: ready after %s", name, time.Since(start).Round(100*time.Millisecond))
		}
		done <- err
	}()
	return done
}

// buildCLI builds cmd/streamkit for t and returns the binary's path.
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "streamkit")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/streamkit").CombinedOutput(); err != nil {
		t.Fatalf("build streamkit: %v\n%s", err, out)
	}
	return bin
}

// suiteCtx bounds a fault test.
func suiteCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// committed returns group's committed offsets by partition of topic.
func committed(ctx context.Context, adm *kadm.Client, group, topic string) (map[int32]int64, error) {
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return nil, err
	}
	out := map[int32]int64{}
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic {
			out[o.Partition] = o.At
		}
	})
	return out, nil
}

// ledger tracks, per partition, which offsets a consumer has delivered,
// and which are known bad. Its first unhandled offset is the most a
// commit may reach.
type ledger struct {
	mu        sync.Mutex
	delivered map[int32]map[int64]bool
	bad       map[int32]map[int64]bool
	max       map[int32]int64
}

func newLedger(bad map[int32]map[int64]bool) *ledger {
	return &ledger{delivered: map[int32]map[int64]bool{}, bad: bad, max: map[int32]int64{}}
}

// deliver records a delivered offset and returns an error if it was
// delivered before or came out of order.
func (l *ledger) deliver(p int32, o int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.delivered[p] == nil {
		l.delivered[p] = map[int64]bool{}
		l.max[p] = -1
	}
	if l.delivered[p][o] {
		return fmt.Errorf("partition %d offset %d delivered twice", p, o)
	}
	if o <= l.max[p] {
		return fmt.Errorf("partition %d offset %d delivered after %d", p, o, l.max[p])
	}
	l.delivered[p][o] = true
	l.max[p] = o
	return nil
}

// firstUnhandled returns the first offset of p that is neither delivered
// nor a bad record. Bad records count as passable here: whether each was
// dead-lettered is counted at the end, exactly; what a commit must never
// pass is a good record not yet delivered.
func (l *ledger) firstUnhandled(p int32) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var o int64
	for l.delivered[p][o] || l.bad[p][o] {
		o++
	}
	return o
}

// checkCommitted fails when a committed offset of group passes a record
// the consumer has not handled.
func (l *ledger) checkCommitted(ctx context.Context, adm *kadm.Client, group, topic string) error {
	offs, err := committed(ctx, adm, group, topic)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return nil // the check is best effort while brokers are down
	}
	for p, at := range offs {
		if first := l.firstUnhandled(p); at > first {
			return fmt.Errorf("partition %d committed at %d, past unhandled offset %d", p, at, first)
		}
	}
	return nil
}

// wantCommittedTotal fails t unless group's committed offsets of topic add
// up to want: every record handled and committed.
func wantCommittedTotal(t *testing.T, ctx context.Context, adm *kadm.Client, group, topic string, want int64) {
	t.Helper()
	offs, err := committed(ctx, adm, group, topic)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, o := range offs {
		total += o
	}
	if total != want {
		t.Fatalf("committed offsets add up to %d, want %d", total, want)
	}
}
