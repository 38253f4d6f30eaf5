package materialize

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/internal/vaultfake"
	"github.com/streamkit/streamkit/secrets"
)

func TestTranslate(t *testing.T) {
	m, err := New(newMatVaultClient(t, vaultfake.NewServer(t)), matNoConnect(t), "/etc/kafka/secrets")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      map[string]string
		want    map[string]string
		wantErr string
	}{
		{
			name: "whole value",
			in:   map[string]string{"database.password": "${vault:secret/data/pricing/db:password}", "tasks.max": "1"},
			want: map[string]string{"database.password": "${dir:/etc/kafka/secrets/secret_data_pricing_db:password}", "tasks.max": "1"},
		},
		{
			name: "embedded and repeated",
			in:   map[string]string{"connection.url": "jdbc:postgresql://db/pricing?user=${vault:secret/data/pricing/db:user}&password=${vault:secret/data/pricing/db:password}"},
			want: map[string]string{"connection.url": "jdbc:postgresql://db/pricing?user=${dir:/etc/kafka/secrets/secret_data_pricing_db:user}&password=${dir:/etc/kafka/secrets/secret_data_pricing_db:password}"},
		},
		{
			name: "leading and trailing slashes name the same secret",
			in:   map[string]string{"a": "${vault:/secret/data/pricing/db/:password}"},
			want: map[string]string{"a": "${dir:/etc/kafka/secrets/secret_data_pricing_db:password}"},
		},
		{
			name: "escaped path characters",
			in:   map[string]string{"a": "${vault:kv/data/team_a/.hidden db?version=2:pw}"},
			want: map[string]string{"a": "${dir:/etc/kafka/secrets/kv_data_team%5Fa_.hidden%20db%3Fversion%3D2:pw}"},
		},
		{
			name: "other providers untouched",
			in:   map[string]string{"a": "${dir:/etc/kafka/secrets/x:pw}", "b": "${file:/etc/kafka/secrets/f.properties:k}", "c": "plain"},
			want: map[string]string{"a": "${dir:/etc/kafka/secrets/x:pw}", "b": "${file:/etc/kafka/secrets/f.properties:k}", "c": "plain"},
		},
		{name: "nil config", in: nil, want: map[string]string{}},
		{name: "kv v1 path", in: map[string]string{"a": "${vault:kv/pricing/db:pw}"}, wantErr: "a: invalid vault reference: kv/pricing/db: the materializer reads KV v2 secrets only"},
		{name: "dynamic path", in: map[string]string{"a": "${vault:database/creds/pricing:password}"}, wantErr: "KV v2 secrets only"},
		{name: "dot key", in: map[string]string{"a": "${vault:secret/data/x:.tmp-1}"}, wantErr: `key ".tmp-1" is not a file name`},
		{name: "dotdot key", in: map[string]string{"a": "${vault:secret/data/x:..}"}, wantErr: `key ".." is not a file name`},
		{name: "slash key", in: map[string]string{"a": "${vault:secret/data/x:a/b}"}, wantErr: "invalid vault reference"},
		{name: "malformed", in: map[string]string{"a": "${vault:secret/data/x}"}, wantErr: "a: malformed ${vault:...} reference"},
		{name: "dotdot path", in: map[string]string{"a": "${vault:secret/data/../x:k}"}, wantErr: "bad path"},
		{name: "too long", in: map[string]string{"a": "${vault:secret/data/" + strings.Repeat("x", 250) + ":k}"}, wantErr: "path too long for a folder name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.Translate(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				if !errors.Is(err, secrets.ErrInvalidRef) {
					t.Errorf("got %v, want it to match secrets.ErrInvalidRef", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTranslateIsDeterministic(t *testing.T) {
	vc := newMatVaultClient(t, vaultfake.NewServer(t))
	cc := matNoConnect(t)
	config := map[string]string{}
	for i := range 50 {
		config[fmt.Sprintf("k%02d", i)] = fmt.Sprintf("x${vault:secret/data/app/s%d:key%d}y${vault:secret/data/app/t:k}", i%7, i%3)
	}
	in := maps.Clone(config)
	var first map[string]string
	for i := range 20 {
		// A new Materializer each time: nothing may depend on its state.
		m, err := New(vc, cc, "/srv/secrets")
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Translate(config)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = got
			continue
		}
		if !reflect.DeepEqual(got, first) {
			t.Fatalf("translation %d differs from the first: got %v, want %v", i, got, first)
		}
	}
	if !reflect.DeepEqual(config, in) {
		t.Errorf("Translate changed its input: got %v, want %v", config, in)
	}
	// Translating a translated config changes nothing.
	m, _ := New(vc, cc, "/srv/secrets")
	again, err := m.Translate(first)
	if err != nil || !reflect.DeepEqual(again, first) {
		t.Errorf("translating twice: got %v, %v, want %v", again, err, first)
	}
}

func matCheckFolderName(t *testing.T, path string) {
	t.Helper()
	name := folderName(path)
	if strings.ContainsAny(name, "/:{}\x00") || name == "." || name == ".." || strings.HasPrefix(name, ".") {
		t.Errorf("folderName(%q) = %q: not a safe single name", path, name)
	}
	// A left inverse proves folderName injective.
	back, ok := decodeFolderName(name)
	if !ok || back != path {
		t.Errorf("folderName(%q) = %q decodes to %q, %v: not injective", path, name, back, ok)
	}
}

func TestFolderNameIsInjective(t *testing.T) {
	// Pairs a naive '/' -> '_' mapping, or '_' -> "__", would merge.
	paths := []string{
		"secret/data/pricing/db", "secret/data/pricing_db", "secret_data/pricing/db",
		"a/b_c", "a_b/c", "a/b/c", "a_b_c", "a__b", "a/_b", "a_/b", "a%5Fb", "a%b",
		".", "..", ".a", "a/.", "a/..b", "ü/ß", "a b", "a?version=1", "a\x00b",
	}
	seen := map[string]string{}
	for _, p := range paths {
		matCheckFolderName(t, p)
		name := folderName(p)
		if other, ok := seen[name]; ok {
			t.Errorf("folderName(%q) = folderName(%q) = %q", p, other, name)
		}
		seen[name] = p
	}
	if got, want := folderName("secret/data/pricing/db"), "secret_data_pricing_db"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func FuzzFolderName(f *testing.F) {
	for _, s := range []string{"secret/data/pricing/db", "a_b/c", "%", ".x", "x?version=3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) { matCheckFolderName(t, path) })
}

func TestTranslateSpecs(t *testing.T) {
	s := newMatSetup(t)
	deployed, err := s.m.TranslateSpecs(s.specs)
	if err != nil {
		t.Fatal(err)
	}
	if len(deployed) != len(s.specs) || deployed[1].Name != "app-b" {
		t.Fatalf("got %v, want the specs in order", deployed)
	}
	want := "jdbc:x://db?password=${dir:" + s.m.Dir() + "/secret_data_app_db:password}"
	if got := deployed[1].Config["url"]; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := s.specs[1].Config["url"]; !strings.Contains(got, "${vault:") {
		t.Errorf("TranslateSpecs changed its input: %q", got)
	}
	// Sync and Run want the specs as written: translated ones would
	// silently sync nothing.
	if _, err := s.m.Sync(context.Background(), deployed); err == nil || !strings.Contains(err.Error(), `connector "app-a": password: a translated placeholder`) {
		t.Errorf("Sync of translated specs: got %v, want an error", err)
	}
	if err := s.m.Run(context.Background(), deployed); err == nil || !strings.Contains(err.Error(), "a translated placeholder") {
		t.Errorf("Run of translated specs: got %v, want an error", err)
	}
	// A folder someone else keeps in the secrets folder is not ours.
	mixed := []connect.Spec{{Name: "app-a", Config: map[string]string{
		"password": "${vault:secret/data/app/db:password}",
		"ssl":      "${dir:" + s.m.Dir() + "/tls:keystore.password}",
		"other":    "${dir:" + s.m.Dir() + "/secret_data_x:k}${dir:/elsewhere/secret_data_x:k}",
	}}}
	if _, err := s.m.Sync(context.Background(), mixed); err == nil || !strings.Contains(err.Error(), "other: a translated placeholder") ||
		strings.Contains(err.Error(), "ssl:") {
		t.Errorf("Sync of mixed placeholders: got %v, want an error for other only", err)
	}
	delete(mixed[0].Config, "other")
	if _, err := s.m.Sync(context.Background(), mixed); err != nil {
		t.Errorf("Sync with a placeholder of another folder: %v", err)
	}
	bad := []connect.Spec{{Name: "x", Config: map[string]string{"a": "${vault:kv/app:pw}"}}}
	if _, err := s.m.TranslateSpecs(bad); !errors.Is(err, secrets.ErrInvalidRef) || !strings.Contains(err.Error(), `connector "x"`) {
		t.Errorf("got %v, want secrets.ErrInvalidRef naming the connector", err)
	}
}
