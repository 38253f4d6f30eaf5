package configdiff

import (
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
