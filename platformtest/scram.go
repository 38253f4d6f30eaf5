package platformtest

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// WaitForSCRAM waits until every broker in SASLBrokers accepts (accept true)
// or refuses (accept false) the SCRAM-SHA-512 credential. Brokers learn of
// a created or changed credential from the controller a moment apart, so a
// test that has just created a user, or rotated a password, waits here
// before it connects. It gives up when ctx ends.
func (p Platform) WaitForSCRAM(ctx context.Context, user, pass string, accept bool) error {
	for _, addr := range p.SASLBrokers {
		for {
			cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RequestRetries(0),
				kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()))
			if err != nil {
				return err
			}
			err = cl.Ping(ctx)
			cl.Close()
			if (err == nil) == accept {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("broker %s still %s the credential of %s: %w", addr,
					map[bool]string{true: "refuses", false: "accepts"}[accept], user, ctx.Err())
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}
