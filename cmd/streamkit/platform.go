package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/schema"
	"github.com/streamkit/streamkit/secrets"
	"github.com/streamkit/streamkit/secrets/materialize"
	"github.com/streamkit/streamkit/topics"
	"github.com/streamkit/streamkit/validate"
)

// The environment variables streamkit reads, and no others.
const (
	EnvBrokers           = "STREAMKIT_BROKERS"
	EnvConnectURL        = "STREAMKIT_CONNECT_URL"
	EnvSchemaRegistryURL = schema.EnvSchemaRegistryURL
	EnvVaultAddr         = "VAULT_ADDR"
	EnvVaultToken        = "VAULT_TOKEN"
	EnvSecretsDir        = "STREAMKIT_CONNECT_SECRETS_DIR"
	// EnvTLSCAFile is the PEM file of the authority that signed the
	// certificates of the platform's TLS endpoints: https:// registry and
	// Connect URLs trust it, and so do the connections to the Kafka
	// clusters the team file marks tls.
	EnvTLSCAFile = "STREAMKIT_TLS_CA_FILE"
	// EnvTLSCertFile and EnvTLSKeyFile are the client certificate (and
	// key) the CLI presents: its principal on Kafka's SSL listeners, and
	// to https:// registry and Connect URLs that ask for one (the
	// platform's authorizing proxies).
	EnvTLSCertFile = "STREAMKIT_TLS_CERT_FILE"
	EnvTLSKeyFile  = "STREAMKIT_TLS_KEY_FILE"
	// The HTTP basic authentication of the registry and of Connect, sent
	// only to https:// URLs: a password never goes over plain text.
	EnvRegistryUser     = "STREAMKIT_SCHEMA_REGISTRY_USER"
	EnvRegistryPassword = "STREAMKIT_SCHEMA_REGISTRY_PASSWORD"
	EnvConnectUser      = "STREAMKIT_CONNECT_USER"
	EnvConnectPassword  = "STREAMKIT_CONNECT_PASSWORD"
	// EnvVaultCACert is the PEM file of the authority of Vault's
	// certificate, as Vault's own CLI reads it.
	EnvVaultCACert = "VAULT_CACERT"
	// EnvVaultPKIMount is the Vault PKI mount where principals apply
	// gives each principal a role that issues its client certificates:
	// CN=<principal>, OU=<role>, O=<namespace>, what the platform's
	// authorizing proxies of the registry and Connect read.
	EnvVaultPKIMount = "STREAMKIT_VAULT_PKI_MOUNT"
)

// clusterEnv returns the variable that holds a team cluster's brokers, or
// its Connect URLs (base EnvBrokers or EnvConnectURL): the base itself for
// the default cluster, the base, an underscore and the name in upper case
// (dashes as underscores) for another: STREAMKIT_BROKERS_SECURE and
// STREAMKIT_CONNECT_URL_SECURE for the cluster secure.
func clusterEnv(base, cluster string, isDefault bool) string {
	if isDefault {
		return base
	}
	return base + "_" + strings.ToUpper(strings.ReplaceAll(cluster, "-", "_"))
}

// clients holds the clients of the components the environment names; a
// nil client is a component that is not configured.
type clients struct {
	// topics and connect are the default cluster's; clusters are the
	// others of the team's data policy, by name.
	topics   *topics.Client
	connect  *connect.Client
	clusters map[string]*cluster
	registry *schema.Registry
	vault    *secrets.Client
	// secrets delivers ${vault:...} references to the workers' secrets
	// folder; nil without a folder, Vault or Connect.
	secrets *materialize.Materializer
	// secretsMissing names what the environment lacks for secrets.
	secretsMissing []string
	// pkiMount is EnvVaultPKIMount's, without slashes around it.
	pkiMount string
}

// cluster is the clients of one more Kafka cluster of the team, and of
// the Connect workers that run on it; nil when its variable is unset.
type cluster struct {
	topics  *topics.Client
	connect *connect.Client
	// secrets delivers ${vault:...} references to the secrets folder of
	// this cluster's workers (STREAMKIT_CONNECT_SECRETS_DIR_<NAME>); nil
	// without it, Vault or the workers, which secretsMissing names.
	secrets        *materialize.Materializer
	secretsMissing []string
}

func (p *clients) close() {
	if p.topics != nil {
		p.topics.Close()
	}
	for _, c := range p.clusters {
		if c.topics != nil {
			c.topics.Close()
		}
	}
}

func (p *clients) any() bool {
	for _, c := range p.clusters {
		if c.topics != nil || c.connect != nil {
			return true
		}
	}
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

// allHTTPS reports whether there are URLs and each is https://.
func allHTTPS(urls []string) bool {
	for _, u := range urls {
		if !strings.HasPrefix(strings.ToLower(u), "https://") {
			return false
		}
	}
	return len(urls) > 0
}

// tlsFromEnv is the TLS config of EnvTLSCAFile, with EnvTLSCertFile's
// client certificate when it is set; nil when the CA is unset.
func tlsFromEnv(env func(string) string) (*tls.Config, error) {
	caFile := env(EnvTLSCAFile)
	if caFile == "" {
		if env(EnvTLSCertFile) != "" {
			return nil, fmt.Errorf("%s is set without %s", EnvTLSCertFile, EnvTLSCAFile)
		}
		return nil, nil
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvTLSCAFile, err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("%s: %s holds no PEM certificate", EnvTLSCAFile, caFile)
	}
	cfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if certFile := env(EnvTLSCertFile); certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, env(EnvTLSKeyFile))
		if err != nil {
			return nil, fmt.Errorf("%s and %s: %w", EnvTLSCertFile, EnvTLSKeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// dial builds the clients from env, counting their requests in st when
// it is not nil: the default cluster's from EnvBrokers and EnvConnectURL,
// and each other cluster of data's from its own variables (clusterEnv).
// It asks nothing of Kafka, Connect and the registry (an unreachable one
// is found by the first call that needs it), but the Vault client logs
// in: a Vault that cannot be reached stops every command before it
// starts.
func dial(ctx context.Context, env func(string) string, st *stats, data validate.DataPolicy, defaultTLS bool) (*clients, error) {
	p := &clients{pkiMount: strings.Trim(env(EnvVaultPKIMount), "/")}
	var (
		kafkaOpts   []kgo.Opt
		connectOpts []connect.ClientOpt
		srOpts      []sr.ClientOpt
	)
	kafkaTLS, err := tlsFromEnv(env)
	if err != nil {
		return nil, err
	}
	var httpTLS *tls.Config
	if kafkaTLS != nil {
		httpTLS = kafkaTLS.Clone()
	}
	switch {
	case st != nil:
		kafkaOpts = append(kafkaOpts, kgo.WithHooks(kafkaHook{st}))
		connectOpts = append(connectOpts, connect.WithHTTPClient(st.httpClient("connect", httpTLS)))
		srOpts = append(srOpts, sr.HTTPClient(st.httpClient("registry", httpTLS)))
	case httpTLS != nil:
		connectOpts = append(connectOpts, connect.WithTLSConfig(httpTLS))
		srOpts = append(srOpts, sr.DialTLSConfig(httpTLS))
	}
	if user := env(EnvRegistryUser); user != "" && allHTTPS(splitList(env(EnvSchemaRegistryURL))) {
		srOpts = append(srOpts, sr.BasicAuth(user, env(EnvRegistryPassword)))
	}
	// clusterTLS: the team file marks the cluster tls, or marks its one
	// cluster (a team without data clusters) tls.
	clusterTLS := func(name string) bool {
		if len(data.Clusters) == 0 {
			return defaultTLS
		}
		return data.Clusters[name].TLS
	}
	// A TLS-only cluster whose brokers are named needs the CA; one that is
	// not named is not dialled (offline validate needs none).
	if len(data.Clusters) == 0 && defaultTLS && env(EnvBrokers) != "" && kafkaTLS == nil {
		return nil, fmt.Errorf("the team file's cluster is TLS-only: set %s (and %s and %s for a client certificate)",
			EnvTLSCAFile, EnvTLSCertFile, EnvTLSKeyFile)
	}
	for _, name := range slices.Sorted(maps.Keys(data.Clusters)) {
		named := env(clusterEnv(EnvBrokers, name, name == data.DefaultCluster)) != ""
		if data.Clusters[name].TLS && named && kafkaTLS == nil {
			return nil, fmt.Errorf("cluster %s of the team file is TLS-only: set %s (and %s and %s for a client certificate)",
				name, EnvTLSCAFile, EnvTLSCertFile, EnvTLSKeyFile)
		}
	}
	// A cluster the team file marks tls is reached over TLS with the
	// client certificate; the others, as the platform's PLAINTEXT
	// listeners, without.
	kafka := func(cluster string, brokers []string) (*topics.Client, error) {
		if len(brokers) == 0 {
			return nil, nil
		}
		opts := append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, kafkaOpts...)
		if clusterTLS(cluster) {
			opts = append(opts, kgo.DialTLSConfig(kafkaTLS.Clone()))
		}
		return topics.NewFromOptions(opts)
	}
	workers := func(urls []string) (*connect.Client, error) {
		if len(urls) == 0 {
			return nil, nil
		}
		opts := append([]connect.ClientOpt{connect.WithURLs(urls...)}, connectOpts...)
		if user := env(EnvConnectUser); user != "" && allHTTPS(urls) {
			opts = append(opts, connect.WithBasicAuth(user, env(EnvConnectPassword)))
		}
		return connect.New(opts...)
	}
	if p.topics, err = kafka(data.DefaultCluster, splitList(env(EnvBrokers))); err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	if p.connect, err = workers(splitList(env(EnvConnectURL))); err != nil {
		p.close()
		return nil, fmt.Errorf("connect client: %w", err)
	}
	secretsDirs := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(data.Clusters)) {
		if name == data.DefaultCluster {
			continue
		}
		if p.clusters == nil {
			p.clusters = map[string]*cluster{}
		}
		c := &cluster{}
		p.clusters[name] = c
		if c.topics, err = kafka(name, splitList(env(clusterEnv(EnvBrokers, name, false)))); err != nil {
			p.close()
			return nil, fmt.Errorf("kafka client of cluster %s: %w", name, err)
		}
		if c.connect, err = workers(splitList(env(clusterEnv(EnvConnectURL, name, false)))); err != nil {
			p.close()
			return nil, fmt.Errorf("connect client of cluster %s: %w", name, err)
		}
		secretsDirs[name] = clusterEnv(EnvSecretsDir, name, false)
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
		if ca := env(EnvVaultCACert); ca != "" {
			opts = append(opts, secrets.WithCACert(ca))
		}
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
	// Each cluster's workers read the secrets of its connectors from a
	// folder of their own.
	materializer := func(dirEnv, connectEnv string, cc *connect.Client) (*materialize.Materializer, []string, error) {
		var missing []string
		dir := env(dirEnv)
		if dir == "" {
			missing = append(missing, dirEnv)
		}
		if p.vault == nil {
			missing = append(missing, EnvVaultAddr)
		}
		if cc == nil {
			missing = append(missing, connectEnv)
		}
		if len(missing) > 0 {
			return nil, missing, nil
		}
		m, err := materialize.New(p.vault, cc, dir)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", dirEnv, err)
		}
		return m, nil, nil
	}
	if p.secrets, p.secretsMissing, err = materializer(EnvSecretsDir, EnvConnectURL, p.connect); err != nil {
		p.close()
		return nil, err
	}
	for name, dirEnv := range secretsDirs {
		c := p.clusters[name]
		if c.secrets, c.secretsMissing, err = materializer(dirEnv, clusterEnv(EnvConnectURL, name, false), c.connect); err != nil {
			p.close()
			return nil, err
		}
	}
	return p, nil
}

// secretsOf returns the materializer of the cluster's workers, and what
// the environment lacks for one: the default cluster's for "".
func (p *clients) secretsOf(cluster string) (*materialize.Materializer, []string) {
	if c := p.clusters[cluster]; cluster != "" && c != nil {
		return c.secrets, c.secretsMissing
	}
	return p.secrets, p.secretsMissing
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

// workerSpecs returns the connectors of cluster ("" for the default
// one) as its workers get them: each ${vault:...} reference replaced by
// the ${dir:...} placeholder of the file the cluster's materializer
// writes. It writes nothing.
func (p *clients) workerSpecs(cluster string, specs []connect.Spec) ([]connect.Spec, error) {
	if !hasVaultRefs(specs) {
		return specs, nil
	}
	m, missing := p.secretsOf(cluster)
	if m == nil {
		return nil, fmt.Errorf("connectors with ${vault:...} references need %s: %w", strings.Join(missing, ", "), errMissing)
	}
	return m.TranslateSpecs(specs)
}

// deliver writes the secrets the default cluster's connectors reference
// to its workers' secrets folder, from Vault, and returns the connectors
// as the workers get them. A file already right is not written again.
func (p *clients) deliver(ctx context.Context, specs []connect.Spec) ([]connect.Spec, error) {
	return p.deliverTo(ctx, "", specs)
}

// deliverTo is deliver for the workers of cluster.
func (p *clients) deliverTo(ctx context.Context, cluster string, specs []connect.Spec) ([]connect.Spec, error) {
	out, err := p.workerSpecs(cluster, specs)
	m, _ := p.secretsOf(cluster)
	if err != nil || m == nil || !hasVaultRefs(specs) {
		return out, err
	}
	if _, err := m.Sync(ctx, specs); err != nil {
		return nil, err
	}
	return out, nil
}
