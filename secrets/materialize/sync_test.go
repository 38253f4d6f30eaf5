package materialize

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/secrets"
)

func TestSyncWritesFiles(t *testing.T) {
	s := newMatSetup(t)
	changed, err := s.m.Sync(context.Background(), s.specs)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]secrets.Ref{
		"app-a": {{Path: matDBPath, Key: "password"}, {Path: matDBPath, Key: "user"}},
		"app-b": {{Path: matDBPath, Key: "password"}},
		"app-c": {{Path: matOtherPath, Key: "token"}},
	}
	if !reflect.DeepEqual(changed, want) {
		t.Errorf("got changed %v, want %v", changed, want)
	}
	for _, f := range []struct{ path, key, want string }{
		{matDBPath, "user", "user-s3cr3t"}, {matDBPath, "password", "pw-v1-s3cr3t"}, {matOtherPath, "token", "tok-v1-s3cr3t"},
	} {
		file := s.file(f.path, f.key)
		if got := matReadFile(t, file); got != f.want {
			t.Errorf("%s holds %q, want %q (exactly, no newline)", file, got, f.want)
		}
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode(); got != 0o600 {
			t.Errorf("%s: mode %v, want -rw-------", file, got)
		}
		di, err := os.Stat(filepath.Dir(file))
		if err != nil {
			t.Fatal(err)
		}
		if got := di.Mode(); got != fs.ModeDir|0o700 {
			t.Errorf("%s: mode %v, want drwx------", filepath.Dir(file), got)
		}
	}
	// Only the referenced keys, and no temporary file left behind.
	entries, err := os.ReadDir(filepath.Dir(s.file(matDBPath, "user")))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"password", "user"}; !reflect.DeepEqual(names, want) {
		t.Errorf("folder holds %v, want %v", names, want)
	}
	// One read per path, however many references.
	if got := s.vault.Count("secret/data/app/db"); got != 1 {
		t.Errorf("got %d reads of app/db, want 1", got)
	}
	// The files are where the translated placeholders point.
	translated, err := s.m.Translate(s.specs[0].Config)
	if err != nil {
		t.Fatal(err)
	}
	ph := translated["password"]
	inner := strings.TrimSuffix(strings.TrimPrefix(ph, "${dir:"), "}")
	i := strings.LastIndex(inner, ":")
	if got := filepath.Join(inner[:i], inner[i+1:]); got != s.file(matDBPath, "password") {
		t.Errorf("placeholder %s names %s, want %s", ph, got, s.file(matDBPath, "password"))
	}
	if s.m.versions[matDBPath] != 1 || s.m.versions[matOtherPath] != 1 {
		t.Errorf("got versions %v, want 1 for both paths", s.m.versions)
	}
}

func TestSyncDoesNotRewriteUnchanged(t *testing.T) {
	s := newMatSetup(t)
	ctx := context.Background()
	if _, err := s.m.Sync(ctx, s.specs); err != nil {
		t.Fatal(err)
	}
	file := s.file(matDBPath, "password")
	before, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	// A loose mode is tightened without a rewrite.
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	changed, err := s.m.Sync(ctx, s.specs)
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 0 {
		t.Errorf("got changed %v, want none", changed)
	}
	after, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Errorf("%s was replaced though its content did not change", file)
	}
	if after.Mode() != 0o600 {
		t.Errorf("got mode %v, want -rw-------", after.Mode())
	}

	// A new version changes only the file of the key that changed.
	s.vault.Put("app/db", map[string]any{"user": "user-s3cr3t", "password": "pw-v2-s3cr3t"})
	userBefore, _ := os.Stat(s.file(matDBPath, "user"))
	changed, err = s.m.Sync(ctx, s.specs)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]secrets.Ref{"app-a": {{Path: matDBPath, Key: "password"}}, "app-b": {{Path: matDBPath, Key: "password"}}}
	if !reflect.DeepEqual(changed, want) {
		t.Errorf("got changed %v, want %v", changed, want)
	}
	if got := matReadFile(t, file); got != "pw-v2-s3cr3t" {
		t.Errorf("got %q, want the new password", got)
	}
	userAfter, _ := os.Stat(s.file(matDBPath, "user"))
	if !os.SameFile(userBefore, userAfter) {
		t.Error("the user file was replaced though its content did not change")
	}
	if s.m.versions[matDBPath] != 2 {
		t.Errorf("got version %d, want 2", s.m.versions[matDBPath])
	}
}

func TestSyncFailuresWriteNothing(t *testing.T) {
	s := newMatSetup(t)
	ctx := context.Background()
	if _, err := s.m.Sync(ctx, s.specs); err != nil {
		t.Fatal(err)
	}
	// A new version without the user key: neither file may change, or
	// the connector would pair a new password with an old user.
	s.vault.Put("app/db", map[string]any{"password": "pw-v2-s3cr3t"})
	s.vault.FailWith("secret/data/app/other", http.StatusForbidden)
	changed, err := s.m.Sync(ctx, s.specs)
	if !errors.Is(err, secrets.ErrNotFound) || !errors.Is(err, secrets.ErrPermissionDenied) {
		t.Fatalf("got %v, want an error matching secrets.ErrNotFound and secrets.ErrPermissionDenied", err)
	}
	for _, want := range []string{`secret/data/app/db: 404: no key "user"`, "secret/data/app/other: 403: permission denied"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if len(changed) != 0 {
		t.Errorf("got changed %v, want none", changed)
	}
	if got := matReadFile(t, s.file(matDBPath, "password")); got != "pw-v1-s3cr3t" {
		t.Errorf("password file holds %q, want the last good one", got)
	}
	if got := matReadFile(t, s.file(matOtherPath, "token")); got != "tok-v1-s3cr3t" {
		t.Errorf("token file holds %q, want the last good one", got)
	}
	if s.m.versions[matDBPath] != 1 {
		t.Errorf("got version %d, want 1: a failed sync must not advance it", s.m.versions[matDBPath])
	}
}

func TestSyncRefusesUnmaterializableRefs(t *testing.T) {
	s := newMatSetup(t)
	specs := []connect.Spec{{Name: "x", Config: map[string]string{"a": "${vault:kv/app:pw}"}}}
	if _, err := s.m.Sync(context.Background(), specs); !errors.Is(err, secrets.ErrInvalidRef) {
		t.Fatalf("got %v, want secrets.ErrInvalidRef", err)
	}
	if n := s.vault.Count("secret/data/app/db"); n != 0 {
		t.Errorf("Vault was read %d times before the specs were validated", n)
	}
}
