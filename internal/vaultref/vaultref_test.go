package vaultref

import (
	"errors"
	"reflect"
	"testing"
)

func TestSplitKV2(t *testing.T) {
	tests := []struct {
		path        string
		mount, rest string
		version     int
		ok          bool
	}{
		{"secret/data/pricing/db", "secret", "pricing/db", 0, true},
		{"secret/data/pricing/db?version=3", "secret", "pricing/db", 3, true},
		{"/kv/data/a/", "kv", "a", 0, true},
		{"kv/pricing/db", "", "kv/pricing/db", 0, false},
		{"database/creds/app", "", "database/creds/app", 0, false},
		{"secret/data", "", "secret/data", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			mount, rest, version, ok := SplitKV2(tt.path)
			if mount != tt.mount || rest != tt.rest || version != tt.version || ok != tt.ok {
				t.Errorf("got %q, %q, %d, %v, want %q, %q, %d, %v", mount, rest, version, ok, tt.mount, tt.rest, tt.version, tt.ok)
			}
		})
	}
}

func TestFind(t *testing.T) {
	got, err := Find(map[string]string{
		"url":   "jdbc:x?u=${vault:secret/data/db:user}&p=${vault:/secret/data/db/:password}",
		"plain": "no reference",
	})
	want := map[string][]Ref{"url": {{"secret/data/db", "user"}, {"secret/data/db", "password"}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, %v, want %v", got, err, want)
	}
	if got["url"][1].String() != "${vault:secret/data/db:password}" {
		t.Errorf("got %s, want the normalized reference", got["url"][1])
	}
	if _, err := Find(map[string]string{"a": "${vault:secret/data/db}"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("got %v, want ErrInvalid", err)
	}
}
