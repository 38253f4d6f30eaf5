package configdiff

import (
	"encoding/json"
	"fmt"
	"testing"
)

func TestDiff(t *testing.T) {
	cur := map[string]string{"a": "1", "b": "2", "c": "3"}
	des := map[string]string{"a": "1", "b": "20", "d": "4"}
	show := func(es []Entry) string {
		s := ""
		for _, e := range es {
			o, n := "-", "-"
			if e.Old != nil {
				o = *e.Old
			}
			if e.New != nil {
				n = *e.New
			}
			s += fmt.Sprintf("%s:%s>%s ", e.Key, o, n)
		}
		return s
	}
	if got, want := show(Diff(cur, des, false)), "b:2>20 d:->4 "; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got, want := show(Diff(cur, des, true)), "b:2>20 c:3>- d:->4 "; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := Diff(cur, cur, true); len(got) != 0 {
		t.Fatalf("equal configs differ: %v", show(got))
	}
}

func TestEntryJSONRedacts(t *testing.T) {
	got, err := json.Marshal(Diff(
		map[string]string{"database.password": "old-secret", "database.user": "app", "sasl.jaas.config": "${vault:secret/data/x:jaas}"},
		map[string]string{"database.password": "new-secret", "database.user": "svc"}, true))
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"Key":"database.password","Old":"[redacted]","New":"[redacted]"},` +
		`{"Key":"database.user","Old":"app","New":"svc"},` +
		`{"Key":"sasl.jaas.config","Old":"${vault:secret/data/x:jaas}","New":null}]`
	if string(got) != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
