package platformtest

import (
	"context"
	"sync"
	"time"
)

// OnClose registers fn to run when p is closed; Close runs the functions
// once, the newest first, with a context that ends after 2 minutes.
// Backends register what stops the platform they started, and Start the
// closing of the clients; a test may register cleanups of its own. Copies
// of p made after the first OnClose share its functions. A function
// registered once Close has run is never run. OnClose is safe to call from
// several goroutines.
func (p *Platform) OnClose(fn func(ctx context.Context) error) {
	closerInit.Lock()
	if p.closer == nil {
		p.closer = &closer{}
	}
	c := p.closer
	closerInit.Unlock()
	c.add(fn)
}

// closerInit guards the lazy creation of Platform.closer.
var closerInit sync.Mutex

// Close runs the functions registered with OnClose: it closes the clients
// and stops what a backend started (containers and their network, or the
// embedded cluster), but never the platform an external one names. It
// blocks until they return, returns the first error met, does nothing for
// a Platform without any (FromEnvironment, Require), and is safe to call
// more than once and from several goroutines.
func (p *Platform) Close() error {
	if p == nil {
		return nil
	}
	closerInit.Lock()
	c := p.closer
	closerInit.Unlock()
	if c == nil {
		return nil
	}
	return c.close()
}

// closer runs cleanups once, newest first.
type closer struct {
	mu    sync.Mutex
	fns   []func(context.Context) error
	done  bool
	first error
}

func (c *closer) add(fn func(context.Context) error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fns = append(c.fns, fn)
}

func (c *closer) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return c.first
	}
	c.done = true
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i := len(c.fns) - 1; i >= 0; i-- {
		if err := c.fns[i](ctx); err != nil && c.first == nil {
			c.first = err
		}
	}
	c.fns = nil
	return c.first
}
