package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/schema"
	"github.com/streamkit/streamkit/secrets"
	"github.com/streamkit/streamkit/topics"
)

// The environment variables streamkit reads, and no others.
const (
	EnvBrokers           = "STREAMKIT_BROKERS"
	EnvConnectURL        = "STREAMKIT_CONNECT_URL"
	EnvSchemaRegistryURL = schema.EnvSchemaRegistryURL
	EnvVaultAddr         = "VAULT_ADDR"
	EnvVaultToken        = "VAULT_TOKEN"
)

// clients holds the clients of the components the environment names; a
// nil client is a component that is not configured.
type clients struct {
	topics   *topics.Client
	connect  *connect.Client
	registry *schema.Registry
	vault    *secrets.Client
}

func (p *clients) close() {
	if p.topics != nil {
		p.topics.Close()
	}
}

func (p *clients) any() bool {
	return p.topics != nil || p.connect != nil || p.registry != nil || p.vault != nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// dial builds the clients from env. It makes no request: an unreachable
// component is found by the first call that needs it.
func dial(ctx context.Context, env func(string) string) (*clients, error) {
	p := &clients{}
	if brokers := splitList(env(EnvBrokers)); len(brokers) > 0 {
		tc, err := topics.NewFromOptions([]kgo.Opt{kgo.SeedBrokers(brokers...)})
		if err != nil {
			return nil, fmt.Errorf("kafka client: %w", err)
		}
		p.topics = tc
	}
	if urls := splitList(env(EnvConnectURL)); len(urls) > 0 {
		cc, err := connect.New(connect.WithURLs(urls...))
		if err != nil {
			p.close()
			return nil, fmt.Errorf("connect client: %w", err)
		}
		p.connect = cc
	}
	if urls := splitList(env(EnvSchemaRegistryURL)); len(urls) > 0 {
		reg, err := schema.NewRegistryFromOptions(sr.URLs(urls...))
		if err != nil {
			p.close()
			return nil, fmt.Errorf("registry client: %w", err)
		}
		p.registry = reg
	}
	if addr := env(EnvVaultAddr); addr != "" {
		opts := []secrets.Opt{secrets.WithAddress(addr)}
		if tok := env(EnvVaultToken); tok != "" {
			opts = append(opts, secrets.WithToken(secrets.NewValue(tok)))
		}
		vc, err := secrets.New(ctx, opts...)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("vault client: %w", err)
		}
		p.vault = vc
	}
	return p, nil
}
