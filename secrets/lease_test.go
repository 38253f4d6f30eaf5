package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// leaseVault answers a token lookup, a leased read, and lease renewals
// whose granted duration shrinks to zero, as when the max TTL is reached.
func leaseVault(t *testing.T, grants []int, renewStatus int) (*Client, *atomic.Int32) {
	t.Helper()
	var renews atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/auth/token/lookup-self":
			_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"ttl": 0, "renewable": false}})
		case "/v1/database/creds/app":
			_ = json.NewEncoder(w).Encode(map[string]any{"lease_id": "database/creds/app/l1", "lease_duration": 1, "renewable": true,
				"data": map[string]any{"username": "v-app", "password": "p-leased"}})
		case "/v1/sys/leases/renew":
			n := int(renews.Add(1))
			if renewStatus != 0 {
				w.WriteHeader(renewStatus)
				_, _ = w.Write([]byte(`{"errors":["lease not found"]}`))
				return
			}
			grant := 0
			if n <= len(grants) {
				grant = grants[n-1]
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"lease_id": "database/creds/app/l1", "lease_duration": grant, "renewable": grant > 0})
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"errors":[]}`))
		}
	}))
	t.Cleanup(srv.Close)
	c, err := New(context.Background(), WithAddress(srv.URL), WithToken(NewValue("root")))
	if err != nil {
		t.Fatal(err)
	}
	return c, &renews
}

func TestKeepLease(t *testing.T) {
	t.Run("renewed until the max ttl", func(t *testing.T) {
		c, renews := leaseVault(t, []int{1, 1, 0}, 0)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		s, err := c.ReadPath(ctx, "database/creds/app")
		if err != nil {
			t.Fatal(err)
		}
		if s.LeaseID == "" || !s.Renewable || s.LeaseDuration != time.Second {
			t.Fatalf("leased secret: %+v", s)
		}
		if err := c.KeepLease(ctx, s); !errors.Is(err, ErrLeaseEnded) {
			t.Fatalf("got %v, want ErrLeaseEnded", err)
		}
		if n := renews.Load(); n < 2 {
			t.Fatalf("renewed %d times, want at least 2", n)
		}
	})
	t.Run("refused renewal", func(t *testing.T) {
		c, _ := leaseVault(t, nil, http.StatusBadRequest)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		s, err := c.ReadPath(ctx, "database/creds/app")
		if err != nil {
			t.Fatal(err)
		}
		err = c.KeepLease(ctx, s)
		var ve *VaultError
		if !errors.Is(err, ErrLeaseEnded) || !errors.As(err, &ve) || ve.StatusCode != http.StatusBadRequest {
			t.Fatalf("got %v, want ErrLeaseEnded with Vault's 400", err)
		}
	})
	t.Run("ctx ends", func(t *testing.T) {
		c, _ := leaseVault(t, []int{1, 1, 1, 1, 1, 1, 1, 1}, 0)
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		s, _ := c.ReadPath(ctx, "database/creds/app")
		if err := c.KeepLease(ctx, s); err != nil {
			t.Fatalf("got %v, want nil when ctx ends", err)
		}
	})
	t.Run("not renewable", func(t *testing.T) {
		c, _ := leaseVault(t, nil, 0)
		start := time.Now()
		err := c.KeepLease(context.Background(), &Secret{LeaseDuration: 50 * time.Millisecond})
		if !errors.Is(err, ErrLeaseEnded) || time.Since(start) < 50*time.Millisecond {
			t.Fatalf("got %v after %v", err, time.Since(start))
		}
	})
}
