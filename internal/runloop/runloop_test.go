package runloop

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestGuard(t *testing.T) {
	var g Guard
	leave, err := g.Enter()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Enter(); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Enter: got %v, want ErrRunning", err)
	}
	leave()
	leave2, err := g.Enter()
	if err != nil {
		t.Fatalf("Enter after leave: %v", err)
	}
	leave2()
}

func TestEvery(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int32
	done := make(chan error)
	go func() {
		done <- Every(ctx, 5*time.Millisecond, func(context.Context) {
			if n.Add(1) == 3 {
				cancel()
			}
		})
	}()
	select {
	case err := <-done:
		if err != nil || n.Load() != 3 {
			t.Fatalf("got %v after %d calls, want nil after 3", err, n.Load())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Every did not return when ctx ended")
	}
}

func TestCallRecovers(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	Call(log, "OnEvent", func() { panic("boom") })
	if out := buf.String(); !strings.Contains(out, "callback panicked") || !strings.Contains(out, "callback=OnEvent") ||
		!strings.Contains(out, "panic=boom") {
		t.Fatalf("got log %q, want the panic logged with the callback's name", out)
	}
	Call(nil, "no logger", func() { panic("silent") }) // recovered all the same
	called := false
	Call(log, "ok", func() { called = true })
	if !called {
		t.Fatal("the callback was not called")
	}
}
