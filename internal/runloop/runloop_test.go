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
	err := Call(log, "OnEvent", func() { panic("boom") })
	if err == nil || !strings.Contains(err.Error(), "OnEvent panicked: boom") {
		t.Fatalf("got %v, want the panic as an error", err)
	}
	if !strings.Contains(buf.String(), "callback panicked") {
		t.Fatalf("got log %q, want the panic logged", buf.String())
	}
	if err := Call(nil, "ok", func() {}); err != nil {
		t.Fatalf("got %v for a callback that returns", err)
	}
}
