// Package backoff computes bounded exponential delays with jitter, for the
// retry loops of streamkit's HTTP clients and background loops.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy is an exponential backoff: the n-th retry (from 0) waits a random
// duration in [d/2, d], where d is Min doubled n times, capped at Max.
// Jitter spreads out clients that failed together (a worker rebalance
// answers every client's request with 409 at once).
type Policy struct {
	Min, Max time.Duration
}

// Delay returns the wait before retry n (from 0).
func (p Policy) Delay(n int) time.Duration {
	d := p.Min
	for i := 0; i < n && d < p.Max; i++ {
		d *= 2
	}
	if d > p.Max {
		d = p.Max
	}
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// Sleep waits for d or until ctx ends, returning ctx's error in that case.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
