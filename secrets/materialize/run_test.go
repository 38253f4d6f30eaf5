package materialize

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/internal/vaultfake"
	"github.com/streamkit/streamkit/secrets"
)

func TestRunRestartsOnlyOnVersionChange(t *testing.T) {
	s := newMatSetup(t)
	if _, err := s.m.Sync(context.Background(), s.specs); err != nil {
		t.Fatal(err)
	}
	matStartRun(t, s.m, s.specs)

	s.waitPolls(t, 5)
	if got := s.connect.counts(); len(got) != 0 {
		t.Fatalf("restarts %v while nothing changed, want none", got)
	}
	if got := s.vault.Count("secret/data/app/db"); got != 1 {
		t.Errorf("got %d reads of app/db, want only Sync's: polls read metadata", got)
	}

	// Rotate the password: the connectors that reference it restart once.
	s.vault.Put("app/db", map[string]any{"user": "user-s3cr3t", "password": "pw-v2-s3cr3t"})
	matWaitFor(t, "restarts of app-a and app-b", func() bool {
		c := s.connect.counts()
		return c["app-a"] == 1 && c["app-b"] == 1
	})
	if got := matReadFile(t, s.file(matDBPath, "password")); got != "pw-v2-s3cr3t" {
		t.Errorf("got %q, want the rotated password", got)
	}
	s.waitPolls(t, 5)
	if got, want := s.connect.counts(), map[string]int{"app-a": 1, "app-b": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("got restarts %v, want %v", got, want)
	}

	// A new version that leaves the referenced keys as they were
	// rewrites nothing and restarts nothing.
	reads := s.vault.Count("secret/data/app/db")
	s.vault.Put("app/db", map[string]any{"user": "user-s3cr3t", "password": "pw-v2-s3cr3t", "comment": "touched"})
	matWaitFor(t, "a read of version 3", func() bool { return s.vault.Count("secret/data/app/db") > reads })
	s.waitPolls(t, 5)
	if got, want := s.connect.counts(), map[string]int{"app-a": 1, "app-b": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("got restarts %v, want %v", got, want)
	}
	if got := s.vault.Count("secret/data/app/db"); got != reads+1 {
		t.Errorf("got %d reads of app/db after version 3, want 1", got-reads)
	}

	var kinds []string
	for _, e := range s.events.all() {
		kinds = append(kinds, fmt.Sprintf("%s %s%s", e.Kind, e.Path, e.Connector))
	}
	want := []string{
		"written " + matDBPath, "written " + matOtherPath, // Sync
		"written " + matDBPath, "restarted app-a", "restarted app-b", // rotation
	}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("got events %q, want %q", kinds, want)
	}
}

// TestRunSecretDeletedAndWrittenAgain: a secret deleted with its metadata
// (Vault restored empty, `vault kv metadata delete`) keeps its files while
// it is missing; written again, its version is 1 again, the same number as
// the one written or below it, and still its new value reaches the files
// and the connectors restart once.
func TestRunSecretDeletedAndWrittenAgain(t *testing.T) {
	for _, versionsBefore := range []int{1, 2} {
		t.Run(fmt.Sprintf("from version %d", versionsBefore), func(t *testing.T) {
			s := newMatSetup(t)
			if versionsBefore == 2 {
				s.vault.Put("app/db", map[string]any{"user": "user-s3cr3t", "password": "pw-v2-s3cr3t"})
			}
			if _, err := s.m.Sync(context.Background(), s.specs); err != nil {
				t.Fatal(err)
			}
			before := matReadFile(t, s.file(matDBPath, "password"))
			matStartRun(t, s.m, s.specs)
			s.waitPolls(t, 2)

			s.vault.Delete("app/db")
			matWaitFor(t, "a failed poll of the missing secret", func() bool {
				for _, e := range s.events.all() {
					if e.Kind == Failed && e.Path == matDBPath && errors.Is(e.Err, secrets.ErrNotFound) {
						return true
					}
				}
				return false
			})
			if got := matReadFile(t, s.file(matDBPath, "password")); got != before {
				t.Fatalf("while the secret is missing, its file holds %q, want the last good value", got)
			}
			if v := s.vault.Put("app/db", map[string]any{"user": "user-s3cr3t", "password": "pw-new-s3cr3t"}); v != 1 {
				t.Fatalf("the secret written again is version %d, want 1", v)
			}
			matWaitFor(t, "restarts of app-a and app-b", func() bool {
				c := s.connect.counts()
				return c["app-a"] == 1 && c["app-b"] == 1
			})
			if got := matReadFile(t, s.file(matDBPath, "password")); got != "pw-new-s3cr3t" {
				t.Errorf("got %q, want the value written again", got)
			}
			s.waitPolls(t, 5)
			if got, want := s.connect.counts(), map[string]int{"app-a": 1, "app-b": 1}; !reflect.DeepEqual(got, want) {
				t.Errorf("got restarts %v, want %v", got, want)
			}
		})
	}
}

func TestRunWithoutSyncWritesAndRestartsOnlyOnChange(t *testing.T) {
	s := newMatSetup(t)
	// A file already right, as a previous process left it.
	if _, err := s.m.Sync(context.Background(), s.specs[2:3]); err != nil {
		t.Fatal(err)
	}
	fresh, err := New(s.m.vault, s.connect.client(t), s.m.Dir(), WithInterval(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	s.m = fresh
	matStartRun(t, s.m, s.specs)
	matWaitFor(t, "restarts of app-a and app-b", func() bool {
		c := s.connect.counts()
		return c["app-a"] == 1 && c["app-b"] == 1
	})
	s.waitPolls(t, 3)
	if got, want := s.connect.counts(), map[string]int{"app-a": 1, "app-b": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("got restarts %v, want %v: app-c's file was already right", got, want)
	}
}

func TestRunVaultErrorsKeepFilesAndRestartNothing(t *testing.T) {
	logs := &vaultfake.Log{} // also fed to the leak check
	s := newMatSetup(t, WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	if _, err := s.m.Sync(context.Background(), s.specs); err != nil {
		t.Fatal(err)
	}
	matStartRun(t, s.m, s.specs)
	s.waitPolls(t, 1)
	s.vault.Put("app/db", map[string]any{"user": "user-s3cr3t", "password": "pw-v2-s3cr3t"})

	for _, status := range []int{http.StatusForbidden, http.StatusInternalServerError, http.StatusServiceUnavailable} {
		s.vault.FailWith("secret/metadata/app/db", status)
		s.waitPolls(t, 3)
		s.vault.FailWith("secret/metadata/app/db", 0)
		if got := matReadFile(t, s.file(matDBPath, "password")); got != "pw-v1-s3cr3t" {
			t.Fatalf("metadata %d: the file holds %q, want the last good one", status, got)
		}
		if got := s.connect.counts(); len(got) != 0 {
			t.Fatalf("metadata %d: restarts %v, want none", status, got)
		}
	}
	// The metadata shows the new version but its read fails: retried at
	// every poll, nothing written, nothing restarted.
	for _, status := range []int{http.StatusForbidden, http.StatusInternalServerError} {
		s.vault.FailWith("secret/data/app/db", status)
		reads := s.vault.Count("secret/data/app/db")
		matWaitFor(t, "3 failed reads", func() bool { return s.vault.Count("secret/data/app/db") >= reads+3 })
		if got := matReadFile(t, s.file(matDBPath, "password")); got != "pw-v1-s3cr3t" {
			t.Fatalf("read %d: the file holds %q, want the last good one", status, got)
		}
		if got := s.connect.counts(); len(got) != 0 {
			t.Fatalf("read %d: restarts %v, want none", status, got)
		}
	}
	// Vault is back: one write, one restart per connector.
	s.vault.FailWith("secret/data/app/db", 0)
	matWaitFor(t, "restarts of app-a and app-b", func() bool {
		c := s.connect.counts()
		return c["app-a"] == 1 && c["app-b"] == 1
	})
	s.waitPolls(t, 3)
	if got, want := s.connect.counts(), map[string]int{"app-a": 1, "app-b": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("got restarts %v, want %v", got, want)
	}
	if got := matReadFile(t, s.file(matDBPath, "password")); got != "pw-v2-s3cr3t" {
		t.Errorf("got %q, want the rotated password", got)
	}
	for _, want := range []string{
		`level=WARN msg="vault secret metadata not read; retrying at the next poll" path=secret/data/app/db error="vault read metadata secret/metadata/app/db: 403: permission denied"`,
		`level=WARN msg="vault secret not materialized; its files keep their content" path=secret/data/app/db error="vault read secret/data/app/db: 500: internal error"`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log does not hold %s", want)
		}
	}
}

func TestRunRetriesFailedRestarts(t *testing.T) {
	s := newMatSetup(t)
	if _, err := s.m.Sync(context.Background(), s.specs); err != nil {
		t.Fatal(err)
	}
	// The connect client tries 5 times a call: 7 failures fail one poll's
	// restart and the next poll's first tries.
	s.connect.mu.Lock()
	s.connect.failures["app-a"] = 7
	s.connect.missing["app-b"] = true
	s.connect.mu.Unlock()
	matStartRun(t, s.m, s.specs)
	s.vault.Put("app/db", map[string]any{"user": "user-s3cr3t", "password": "pw-v2-s3cr3t"})
	matWaitFor(t, "the restart of app-a", func() bool { return s.connect.counts()["app-a"] == 1 })
	s.waitPolls(t, 3)
	if got, want := s.connect.counts(), map[string]int{"app-a": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("got restarts %v, want %v (app-b is not deployed)", got, want)
	}
	var failed, restarted int
	for _, e := range s.events.all() {
		switch {
		case e.Kind == Failed && e.Connector == "app-a":
			failed++
		case e.Kind == Restarted && e.Connector == "app-a":
			restarted++
			if want := []string{matDBPath}; !reflect.DeepEqual(e.Paths, want) {
				t.Errorf("got paths %v, want %v", e.Paths, want)
			}
		}
	}
	if failed != 1 || restarted != 1 {
		t.Errorf("got %d failed and %d restarted events for app-a, want 1 and 1", failed, restarted)
	}
}

func TestRunPreconditions(t *testing.T) {
	s := newMatSetup(t)
	ctx := context.Background()
	// Run restarts connectors: New refuses a Materializer without the
	// client to restart them with.
	if _, err := New(s.m.vault, nil, s.m.Dir()); err == nil || !strings.Contains(err.Error(), "nil connect client") {
		t.Errorf("got %v, want an error naming the missing connect client", err)
	}
	bad := []connect.Spec{{Name: "x", Config: map[string]string{"a": "${vault:kv/app:pw}"}}}
	if err := s.m.Run(ctx, bad); !errors.Is(err, secrets.ErrInvalidRef) {
		t.Errorf("got %v, want secrets.ErrInvalidRef", err)
	}
	stop := matStartRun(t, s.m, s.specs)
	s.waitPolls(t, 1)
	if err := s.m.Run(ctx, s.specs); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run: got %v, want ErrRunning", err)
	}
	stop()
	// Once the first returned, Run may run again.
	ctx2, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := s.m.Run(ctx2, s.specs); err != nil {
		t.Errorf("Run after Run: %v", err)
	}
}

func TestRunPinnedVersionIsNotPolled(t *testing.T) {
	s := newMatSetup(t)
	s.vault.Put("app/db", map[string]any{"user": "u2", "password": "pw-v2-s3cr3t"})
	specs := []connect.Spec{{Name: "pinned", Config: map[string]string{"p": "${vault:secret/data/app/db?version=1:password}"}}}
	matStartRun(t, s.m, specs)
	matWaitFor(t, "the pinned file", func() bool {
		b, _ := os.ReadFile(s.file(matDBPath+"?version=1", "password"))
		return string(b) == "pw-v1-s3cr3t"
	})
	time.Sleep(30 * time.Millisecond)
	if n := s.polls("app/db"); n != 0 {
		t.Errorf("a pinned version's metadata was read %d times, want 0", n)
	}
}

func TestRunSurvivesPanickingEvents(t *testing.T) {
	logs := &vaultfake.Log{}
	var calls atomic.Int32
	s := newMatSetup(t, WithLogger(slog.New(slog.NewTextHandler(logs, nil))),
		WithEvents(func(Event) { calls.Add(1); panic("boom") }))
	if _, err := s.m.Sync(context.Background(), s.specs); err != nil {
		t.Fatal(err)
	}
	if got := matReadFile(t, s.file(matDBPath, "password")); got != "pw-v1-s3cr3t" {
		t.Errorf("got %q, want the password written despite the panicking callback", got)
	}
	matStartRun(t, s.m, s.specs)
	s.vault.Put("app/db", map[string]any{"user": "user-s3cr3t", "password": "pw-v2-s3cr3t"})
	vaultfake.Eventually(t, "restarts of app-a and app-b", func() bool {
		c := s.connect.counts()
		return c["app-a"] == 1 && c["app-b"] == 1
	})
	if n := calls.Load(); n < 4 {
		t.Errorf("the callback was called %d times, want every event (at least 4)", n)
	}
	if !strings.Contains(logs.String(), `msg="callback panicked" callback="materialize events" panic=boom`) {
		t.Errorf("the log does not hold the recovered panic:\n%s", logs)
	}
}

// TestHungVaultHoldsUpNothingElse: while a Run poll waits on a Vault that
// hangs on one secret, a Sync of another secret is not held up beyond its
// own work, and the hung read ends with Run's context.
func TestHungVaultHoldsUpNothingElse(t *testing.T) {
	s := newMatSetup(t)
	s.vault.Fault(matDBPath, vaultfake.Fault{Hang: true})
	stop := matStartRun(t, s.m, s.specs)
	matWaitFor(t, "Run's read of app/db", func() bool { return s.vault.Count(matDBPath) > 0 })

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := s.m.Sync(ctx, s.specs[2:3]); err != nil {
		t.Fatalf("Sync of app/other while app/db hangs: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("Sync of app/other took %s behind the hung read of app/db", took)
	}
	if got := matReadFile(t, s.file(matOtherPath, "token")); got != "tok-v1-s3cr3t" {
		t.Fatalf("got %q, want app/other written", got)
	}
	start = time.Now()
	stop()
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Run took %s to return with its read hung", took)
	}
	if got := s.connect.counts(); len(got) != 0 {
		t.Fatalf("restarts %v with Vault hung, want none", got)
	}
}

// TestWatchTwoNodesOneCluster runs the agents of two connector nodes that
// share one secrets folder: each Watch finds the connectors on the worker
// (their ${dir:...} placeholders name the Vault paths), keeps the files,
// and only the leader restarts. A rotation restarts each connector that
// reads the secret once, whichever node wrote the new file first; a new
// version with the same values restarts nothing.
func TestWatchTwoNodesOneCluster(t *testing.T) {
	s := newMatSetup(t)
	s.deploy(t)
	s.connect.mu.Lock()
	s.connect.configs["other-team"] = map[string]string{"connector.class": "X", "password": "${dir:/elsewhere/x:password}"}
	s.connect.mu.Unlock()

	discovered, err := s.m.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(discovered) != 3 || discovered[0].Name != "app-a" || discovered[0].Config["password"] != "${vault:secret/data/app/db:password}" ||
		discovered[1].Config["url"] != "jdbc:x://db?password=${vault:secret/data/app/db:password}" {
		t.Fatalf("discovered %+v, want app-a, app-b and app-c with their references back", discovered)
	}
	scoped := newMatMaterializer(t, newMatVaultClient(t, s.vault), s.connect.client(t), WithNamespaces("app-c", "nobody-"))
	scoped.dir = s.m.dir
	if only, err := scoped.Discover(context.Background()); err != nil || len(only) != 1 || only[0].Name != "app-c" {
		t.Fatalf("discovered with WithNamespaces: %+v (%v), want app-c alone", only, err)
	}
	// The files are there, as apply left them.
	if _, err := s.m.Sync(context.Background(), s.specs); err != nil {
		t.Fatal(err)
	}
	follower := newMatMaterializer(t, newMatVaultClient(t, s.vault), s.connect.client(t), WithInterval(5*time.Millisecond))
	follower.dir = s.m.dir // the same folder: two nodes on one host share it
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- s.m.Watch(ctx, func() bool { return true }) }()
	go func() { done <- follower.Watch(ctx, func() bool { return false }) }()
	defer func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	}()
	s.waitPolls(t, 3)
	if got := s.connect.counts(); len(got) != 0 {
		t.Fatalf("restarts before any rotation: %v", got)
	}
	s.vault.Put("app/db", map[string]any{"user": "user-s3cr3t", "password": "pw-v2-s3cr3t", "unused": "unused-s3cr3t"})
	matWaitFor(t, "one restart of each reader of app/db", func() bool {
		c := s.connect.counts()
		return c["app-a"] == 1 && c["app-b"] == 1
	})
	if got := matReadFile(t, s.file(matDBPath, "password")); got != "pw-v2-s3cr3t" {
		t.Fatalf("password file after the rotation: %q", got)
	}
	s.vault.Put("app/db", map[string]any{"user": "user-s3cr3t", "password": "pw-v2-s3cr3t", "unused": "changed-s3cr3t"})
	s.waitPolls(t, 3)
	if got := s.connect.counts(); got["app-a"] != 1 || got["app-b"] != 1 || got["app-c"] != 0 || len(got) != 2 {
		t.Fatalf("restarts: %v, want app-a and app-b once each", got)
	}
}

// TestWatchNewNodeRestartsNothing: the leader's Watch on a node whose
// folder is empty (a node that joins) writes every file and restarts
// nothing; a rotation then restarts each reader once. Run, alone, would
// restart for the files it wrote (TestRunWithoutSyncWritesAndRestartsOnlyOnChange).
func TestWatchNewNodeRestartsNothing(t *testing.T) {
	s := newMatSetup(t)
	s.deploy(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.m.Watch(ctx, func() bool { return true }) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	matWaitFor(t, "the node's files", func() bool {
		b, err := os.ReadFile(s.file(matDBPath, "password"))
		return err == nil && string(b) == "pw-v1-s3cr3t"
	})
	s.waitPolls(t, 3)
	if got := s.connect.counts(); len(got) != 0 {
		t.Fatalf("restarts for a node's first files: %v, want none", got)
	}
	s.vault.Put("app/db", map[string]any{"user": "user-s3cr3t", "password": "pw-v2-s3cr3t"})
	matWaitFor(t, "one restart of each reader of app/db", func() bool {
		c := s.connect.counts()
		return c["app-a"] == 1 && c["app-b"] == 1
	})
	s.waitPolls(t, 3)
	if got := s.connect.counts(); len(got) != 2 {
		t.Fatalf("restarts %v, want app-a and app-b once", got)
	}
}
