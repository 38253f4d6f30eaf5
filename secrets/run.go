package secrets

import (
	"context"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/streamkit/streamkit/internal/backoff"
)

// Run keeps the client's token alive until ctx ends, then returns nil.
//
// A renewable token is renewed by vault/api's LifetimeWatcher. When
// renewal ends (the token reached its max TTL, or a renewal failed), Run
// logs in again with the client's Auth, retrying with backoff from 1s to
// 1m while Vault is unreachable, and backing off the same way when
// renewable tokens keep ending within a second of their login; reads in
// the meantime fail with typed errors, and secret consumers keep serving
// their last good values (see Credentials). A token that cannot be
// renewed is replaced by a new login at 80% of its TTL; a token without a
// TTL (a root token) needs nothing. Run returns ErrRunning while another
// Run of the client has not returned.
func (c *Client) Run(ctx context.Context) error {
	leave, err := c.run.Enter()
	if err != nil {
		return err
	}
	defer leave()

	for short := 0; ; {
		c.mu.Lock()
		s := c.login
		c.mu.Unlock()
		started := time.Now()
		if err := c.keepAlive(ctx, s); err != nil {
			return nil // ctx ended
		}
		// A token whose renewal ends right after its login (renewals
		// fail while logins work, or a TTL below a second) must not make
		// Run log in again in a tight loop.
		renewed := s != nil && s.Auth != nil && s.Auth.Renewable
		if renewed && time.Since(started) < c.retry.Min {
			if backoff.Sleep(ctx, c.retry.Delay(short)) != nil {
				return nil
			}
			short++
		} else {
			short = 0
		}
		for attempt := 0; ; attempt++ {
			err := c.Login(ctx)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return nil
			}
			c.log.Warn("vault login failed; retrying", "method", c.auth.name(), "attempt", attempt+1, "error", err)
			if backoff.Sleep(ctx, c.retry.Delay(attempt)) != nil {
				return nil
			}
		}
	}
}

// keepAlive returns nil when the token needs a new login, and ctx's error
// when ctx ends.
func (c *Client) keepAlive(ctx context.Context, s *api.Secret) error {
	if s == nil || s.Auth == nil || s.Auth.LeaseDuration <= 0 {
		<-ctx.Done()
		return ctx.Err()
	}
	if !s.Auth.Renewable {
		wait := time.Duration(float64(time.Duration(s.Auth.LeaseDuration)*time.Second) * 0.8)
		if err := backoff.Sleep(ctx, wait); err != nil {
			return err
		}
		return nil
	}
	// RenewBehaviorErrorOnErrors: the default, RenewBehaviorIgnoreErrors,
	// retries a failing renewal until the TTL ends, and near the end (or
	// for a short TTL) without any pause, as its backoff returns a zero
	// delay instead of backoff.Stop: a failed renewal ends it here, and
	// Run logs in again with its own backoff.
	w, err := c.api.NewLifetimeWatcher(&api.LifetimeWatcherInput{Secret: s, RenewBehavior: api.RenewBehaviorErrorOnErrors})
	if err != nil {
		c.log.Warn("vault token watcher", "error", err)
		return nil
	}
	go w.Start()
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-w.DoneCh():
			if err != nil {
				c.log.Warn("vault token renewal ended", "error", classify("renew", "auth/token/renew-self", err))
			} else {
				c.log.Info("vault token reached its max ttl; logging in again")
			}
			return nil
		case r := <-w.RenewCh():
			ttl := 0
			if r != nil && r.Secret != nil && r.Secret.Auth != nil {
				ttl = r.Secret.Auth.LeaseDuration
			}
			c.log.Debug("vault token renewed", "ttl_seconds", ttl)
		}
	}
}
