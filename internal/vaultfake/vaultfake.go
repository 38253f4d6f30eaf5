// Package vaultfake is a fake Vault for the unit tests of secrets and
// secrets/materialize: an httptest server with the part of Vault's HTTP
// API the secrets client uses, and the leak check those tests share.
//
//	func TestMain(m *testing.M) { vaultfake.Main(m) } // fails the run on a leaked secret
//
//	f := vaultfake.NewServer(t)
//	f.Put("app/db", map[string]any{"password": "pw-s3cr3t"}) // secret/data/app/db, version 2 after this
//	f.Fault("secret/data/app/db", vaultfake.Fault{Status: 503})
//	c, err := secrets.New(ctx, secrets.WithAddress(f.Addr()), secrets.WithToken(secrets.NewValue(vaultfake.RootToken)))
//
// Every secret the fake holds or issues contains Marker, so a test that
// feeds its logs and errors to Collect (Log and WantErr do) finds a leak
// by looking for Marker: Main fails the test binary when one shows.
//
// It is test support: only tests import it, it imports nothing of
// streamkit (so secrets' own tests can), and it is no model of Vault
// beyond what those tests need. It does not check policies (every known
// token may read everything unless SetCaps says otherwise for
// sys/capabilities-self) and it does not expire tokens.
package vaultfake

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Marker is part of every secret the fake holds or issues (tokens,
// secret IDs, JWTs, wrapping tokens, KV values), so that a leak check
// only has to look for it. No path, key or error message contains it.
const Marker = "s3cr3t"

// leaks collects every log line and every error string the tests
// produce, for the leak check in Main.
var leaks struct {
	mu   sync.Mutex
	text bytes.Buffer
}

// Collect feeds s to the leak check.
func Collect(s string) {
	leaks.mu.Lock()
	defer leaks.mu.Unlock()
	leaks.text.WriteString(s)
	leaks.text.WriteByte('\n')
}

// Leaked returns the collected lines that hold a secret (Marker).
func Leaked() []string {
	leaks.mu.Lock()
	defer leaks.mu.Unlock()
	var out []string
	for _, line := range strings.Split(leaks.text.String(), "\n") {
		if strings.Contains(line, Marker) {
			out = append(out, line)
		}
	}
	return out
}

// TB is the part of testing.TB the fake uses. It is declared here so that
// the package links no "testing": only test support under platformtest
// may, and it is imported by tests alone anyway.
type TB interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	TempDir() string
	Cleanup(func())
}

// Main runs the tests and exits, failing when a collected line holds a
// secret. Call it from TestMain with its *testing.M.
func Main(m interface{ Run() int }) {
	code := m.Run()
	if leaked := Leaked(); len(leaked) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: a secret reached a log or an error:\n%s\n", strings.Join(leaked, "\n"))
		code = 1
	}
	os.Exit(code)
}

// Log is a log buffer safe for concurrent use that also feeds the leak
// check.
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write collects p and appends it to the buffer.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	Collect(string(p))
	return l.buf.Write(p)
}

// String returns everything written.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// NewLogger returns a debug-level JSON logger into a new Log.
func NewLogger() (*slog.Logger, *Log) {
	l := &Log{}
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug})), l
}

// WantErr fails unless err matches every target, and feeds the error's
// text to the leak check.
func WantErr(t TB, err error, targets ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want %v", targets)
	}
	Collect(err.Error())
	Collect(fmt.Sprintf("%+v %#v", err, err))
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Fatalf("got %v, want errors.Is %v", err, target)
		}
	}
	if strings.Contains(err.Error(), Marker) {
		t.Fatalf("error holds a secret: %v", err)
	}
}

// NoErr fails on err, after feeding it to the leak check.
func NoErr(t TB, err error) {
	t.Helper()
	if err != nil {
		Collect(err.Error())
		t.Fatal(err)
	}
}

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at 2025-01-01T00:00:00Z.
func NewClock() *Clock {
	return &Clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Eventually polls cond every few milliseconds for up to 5s.
func Eventually(t TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// WriteFile writes s to a new file name in a temporary directory and
// returns its path.
func WriteFile(t TB, name, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
