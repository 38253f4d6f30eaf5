package secrets

import (
	"context"
	"testing"

	"github.com/streamkit/streamkit/internal/vaultfake"
)

// TestMain fails the run when a secret of the fake Vault reached a log or
// an error the tests collected (see vaultfake.Collect).
func TestMain(m *testing.M) { vaultfake.Main(m) }

// fakeVaultNew builds a client on the fake with a logger into the
// returned buffer.
func fakeVaultNew(t *testing.T, f *vaultfake.Server, opts ...Opt) (*Client, *vaultfake.Log) {
	t.Helper()
	l, logs := vaultfake.NewLogger()
	c, err := New(context.Background(), append([]Opt{WithAddress(f.Addr()), WithLogger(l)}, opts...)...)
	vaultfake.NoErr(t, err)
	return c, logs
}
