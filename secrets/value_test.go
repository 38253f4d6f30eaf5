package secrets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestValueNeverPrints(t *testing.T) {
	v := NewValue("hunter2")
	var logs bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&logs, nil))
	l.Info("login", "password", v)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("login", "password", v)
	js, err := json.Marshal(map[string]any{"password": v})
	if err != nil {
		t.Fatal(err)
	}
	outs := []string{
		fmt.Sprint(v), fmt.Sprintf("%v %+v %#v %s %q %x %X %d", v, v, v, v, v, v, v, v),
		fmt.Sprintf("%v", struct{ P Value }{v}), fmt.Sprintf("%+v", &struct{ P Value }{v}),
		string(js), logs.String(),
	}
	for _, out := range outs {
		if strings.Contains(out, "hunter2") || strings.Contains(out, fmt.Sprintf("%x", "hunter2")) {
			t.Fatalf("secret printed: %s", out)
		}
		if !strings.Contains(out, Redacted) {
			t.Fatalf("no redaction marker in %s", out)
		}
	}
	if v.Reveal() != "hunter2" || v.IsZero() || !NewValue("").IsZero() {
		t.Fatal("Reveal/IsZero")
	}
}

func TestParseRef(t *testing.T) {
	tests := []struct {
		in   string
		want Ref
		ok   bool
	}{
		{"${vault:secret/data/pricing/db:password}", Ref{"secret/data/pricing/db", "password"}, true},
		{" ${vault:kv/app:token} ", Ref{"kv/app", "token"}, true},
		{"${vault:secret/data/x?version=3:pw}", Ref{"secret/data/x?version=3", "pw"}, true},
		{"${vault:secret/data/x}", Ref{}, false},
		{"${dir:/x:y}", Ref{}, false},
		{"${vault::pw}", Ref{}, false},
		{"${vault:a/../b:pw}", Ref{}, false},
		{"prefix${vault:a/b:c}", Ref{}, false},
	}
	for _, tt := range tests {
		got, err := ParseRef(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("ParseRef(%q): got %+v, %v; want %+v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidRef) {
			t.Errorf("ParseRef(%q): error %v does not match ErrInvalidRef", tt.in, err)
		}
		if err == nil && got.String() != strings.TrimSpace(tt.in) {
			t.Errorf("String: got %q, want %q", got.String(), strings.TrimSpace(tt.in))
		}
	}
	refs, err := FindRefs(map[string]string{
		"database.password": "${vault:secret/data/pricing/db:password}",
		"connection.url":    "jdbc:postgresql://db/${vault:secret/data/pricing/db:name}?user=${vault:secret/data/pricing/db:user}",
		"topic":             "orders",
	})
	if err != nil || len(refs) != 2 || len(refs["connection.url"]) != 2 {
		t.Fatalf("FindRefs: %v, %v", refs, err)
	}
	if _, err := FindRefs(map[string]string{"x": "${vault:broken"}); !errors.Is(err, ErrInvalidRef) {
		t.Fatalf("malformed: got %v", err)
	}
}
