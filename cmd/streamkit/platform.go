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
	"github.com/streamkit/streamkit/secrets/materialize"
	"github.com/streamkit/streamkit/topics"
)

// The environment variables streamkit reads, and no others.
const (
	EnvBrokers           = "STREAMKIT_BROKERS"
	EnvConnectURL        = "STREAMKIT_CONNECT_URL"
	EnvSchemaRegistryURL = schema.EnvSchemaRegistryURL
	EnvVaultAddr         = "VAULT_ADDR"
	EnvVaultToken        = "VAULT_TOKEN"
	EnvSecretsDir        = "STREAMKIT_CONNECT_SECRETS_DIR"
)

// clients holds the clients of the components the environment names; a
// nil client is a component that is not configured.
type clients struct {
	topics   *topics.Client
	connect  *connect.Client
	registry *schema.Registry
	vault    *secrets.Client
	// secrets delivers ${vault:...} references to the workers' secrets
	// folder; nil without a folder, Vault or Connect.
	secrets *materialize.Materializer
	// secretsMissing names what the environment lacks for secrets.
	secretsMissing []string
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

// dial builds the clients from env, counting their requests in st when
// it is not nil. It asks nothing of Kafka, Connect and the registry (an
// unreachable one is found by the first call that needs it), but the
// Vault client logs in: a Vault that cannot be reached stops every
// command before it starts.
func dial(ctx context.Context, env func(string) string, st *stats) (*clients, error) {
	p := &clients{}
	var (
		kafkaOpts   []kgo.Opt
		connectOpts []connect.ClientOpt
		srOpts      []sr.ClientOpt
	)
	if st != nil {
		kafkaOpts = append(kafkaOpts, kgo.WithHooks(kafkaHook{st}))
		connectOpts = append(connectOpts, connect.WithHTTPClient(st.httpClient("connect")))
		srOpts = append(srOpts, sr.HTTPClient(st.httpClient("registry")))
	}
	if brokers := splitList(env(EnvBrokers)); len(brokers) > 0 {
		tc, err := topics.NewFromOptions(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, kafkaOpts...))
		if err != nil {
			return nil, fmt.Errorf("kafka client: %w", err)
		}
		p.topics = tc
	}
	if urls := splitList(env(EnvConnectURL)); len(urls) > 0 {
		cc, err := connect.New(append([]connect.ClientOpt{connect.WithURLs(urls...)}, connectOpts...)...)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("connect client: %w", err)
		}
		p.connect = cc
	}
	if urls := splitList(env(EnvSchemaRegistryURL)); len(urls) > 0 {
		reg, err := schema.NewRegistryFromOptions(append([]sr.ClientOpt{sr.URLs(urls...)}, srOpts...)...)
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
	dir := env(EnvSecretsDir)
	if dir == "" {
		p.secretsMissing = append(p.secretsMissing, EnvSecretsDir)
	}
	if p.vault == nil {
		p.secretsMissing = append(p.secretsMissing, EnvVaultAddr)
	}
	if p.connect == nil {
		p.secretsMissing = append(p.secretsMissing, EnvConnectURL)
	}
	if len(p.secretsMissing) == 0 {
		m, err := materialize.New(p.vault, p.connect, dir)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("%s: %w", EnvSecretsDir, err)
		}
		p.secrets = m
	}
	return p, nil
}

// hasVaultRefs reports whether any connector holds a ${vault:...}
// reference.
func hasVaultRefs(specs []connect.Spec) bool {
	for _, s := range specs {
		for _, v := range s.Config {
			if strings.Contains(v, "${vault:") {
				return true
			}
		}
	}
	return false
}

// workerSpecs returns the connectors as the workers get them: each
// ${vault:...} reference replaced by the ${dir:...} placeholder of the
// file the materializer writes. It writes nothing.
func (p *clients) workerSpecs(specs []connect.Spec) ([]connect.Spec, error) {
	if !hasVaultRefs(specs) {
		return specs, nil
	}
	if p.secrets == nil {
		return nil, fmt.Errorf("connectors with ${vault:...} references need %s: %w", strings.Join(p.secretsMissing, ", "), errMissing)
	}
	return p.secrets.TranslateSpecs(specs)
}

// deliver writes the secrets the connectors reference to the workers'
// secrets folder, from Vault, and returns the connectors as the workers
// get them. A file already right is not written again.
func (p *clients) deliver(ctx context.Context, specs []connect.Spec) ([]connect.Spec, error) {
	out, err := p.workerSpecs(specs)
	if err != nil || p.secrets == nil || !hasVaultRefs(specs) {
		return out, err
	}
	if _, err := p.secrets.Sync(ctx, specs); err != nil {
		return nil, err
	}
	return out, nil
}
