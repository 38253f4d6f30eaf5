// Package runloop is what streamkit's background loops share: the
// connector Healer, the secrets Materializer, the metrics Collector and
// the Vault client's token renewal. Each is a Run(ctx) error that returns
// when ctx ends; only one Run of a value may run at a time; callbacks
// supplied by users (event functions) must not take the process down when
// they panic.
package runloop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// ErrRunning is returned by Guard.Enter when another Run of the same
// value has not returned yet. Packages re-export it as their ErrRunning.
var ErrRunning = errors.New("already running")

// Guard admits one Run at a time. The zero value is ready to use and is
// safe for concurrent use by multiple goroutines.
type Guard struct{ running atomic.Bool }

// Enter reports ErrRunning when a Run holds the guard, and otherwise holds
// it until the returned function is called.
func (g *Guard) Enter() (leave func(), err error) {
	if !g.running.CompareAndSwap(false, true) {
		return nil, ErrRunning
	}
	return func() { g.running.Store(false) }, nil
}

// Every calls fn at once and then every interval until ctx ends, and
// returns nil then. A call that takes longer than interval delays the
// next one; calls never overlap.
func Every(ctx context.Context, interval time.Duration, fn func(context.Context)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		fn(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Call calls a user-supplied callback and turns a panic in it into a
// logged error, so that a bug in the callback stops neither the loop nor
// the process. what names the callback in the log.
func Call(log *slog.Logger, what string, fn func()) {
	defer func() {
		if p := recover(); p != nil && log != nil {
			log.Error("callback panicked", "callback", what, "panic", fmt.Sprint(p))
		}
	}()
	fn()
}
