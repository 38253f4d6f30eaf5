package secrets

import (
	"context"
	"errors"
	"time"

	"github.com/hashicorp/vault/api"
)

// KeepLease renews a leased (dynamic) secret, such as a database
// credential, with vault/api's LifetimeWatcher until ctx ends (it returns
// nil) or the lease can no longer be renewed (it returns an error matching
// ErrLeaseEnded, with Vault's reason when there is one). A secret without
// a renewable lease returns ErrLeaseEnded at once after its lease
// duration, so a caller's read-again loop works for both.
func (c *Client) KeepLease(ctx context.Context, s *Secret) error {
	if s == nil || s.LeaseID == "" || !s.Renewable {
		d := time.Duration(0)
		if s != nil {
			d = s.LeaseDuration
		}
		if d <= 0 {
			<-ctx.Done()
			return nil
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			return ErrLeaseEnded
		}
	}
	w, err := c.api.NewLifetimeWatcher(&api.LifetimeWatcherInput{
		Secret: &api.Secret{LeaseID: s.LeaseID, LeaseDuration: int(s.LeaseDuration.Seconds()), Renewable: true},
		// A failed renewal ends the watch; the caller reads the secret
		// again rather than have vault/api retry without pause.
		RenewBehavior: api.RenewBehaviorErrorOnErrors,
	})
	if err != nil {
		return classify("renew lease", s.Path, err)
	}
	go w.Start()
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-w.DoneCh():
			if err != nil {
				return errors.Join(ErrLeaseEnded, classify("renew lease", s.Path, err))
			}
			return ErrLeaseEnded
		case r := <-w.RenewCh():
			if r != nil && r.Secret != nil {
				c.log.Debug("vault lease renewed", "path", s.Path, "ttl_seconds", r.Secret.LeaseDuration)
			}
		}
	}
}
