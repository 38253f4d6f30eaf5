package platformenv

import (
	"strings"
	"testing"
)

func TestIsTrue(t *testing.T) {
	for v, want := range map[string]bool{"1": true, "true": true, " TRUE ": true, "yes": true, "": false, "0": false, "false": false, "no": false} {
		if got := IsTrue(v); got != want {
			t.Errorf("IsTrue(%q): got %v, want %v", v, got, want)
		}
	}
}

func TestUniqueName(t *testing.T) {
	a, b := UniqueName("smoke/orders test"), UniqueName("smoke/orders test")
	if a == b {
		t.Fatalf("two calls returned %q", a)
	}
	if !strings.HasPrefix(a, "smoke-orders-test-") || len(a) != len("smoke-orders-test-")+12 {
		t.Fatalf("got %q, want smoke-orders-test- and 12 hex digits", a)
	}
}
