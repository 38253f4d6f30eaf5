package secrets

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/streamkit/streamkit/internal/backoff"
	"github.com/streamkit/streamkit/internal/runloop"
)

// The variables WithEnvironment reads, and no others.
const (
	EnvVaultAddr      = "VAULT_ADDR"
	EnvVaultToken     = "VAULT_TOKEN"
	EnvVaultNamespace = "VAULT_NAMESPACE"
	EnvVaultCACert    = "VAULT_CACERT"
)

// Client reads secrets from Vault (or OpenBao, which serves the same API)
// with github.com/hashicorp/vault/api, logged in by an Auth method.
//
// New logs in. Run keeps the token alive: it renews it while it can, logs
// in again when renewal ends, and backs off while Vault is unreachable.
// A Client is safe for concurrent use by multiple goroutines; Run must not
// be called twice at once.
type Client struct {
	api  *api.Client
	auth Auth
	log  *slog.Logger

	mu    sync.Mutex
	login *api.Secret // the last login's answer; nil for a static token
	run   runloop.Guard

	now   func() time.Time
	retry backoff.Policy // Run's delays between failed logins
}

type config struct {
	apiClient *api.Client
	address   string
	token     Value
	namespace string
	caCert    string
	auth      Auth
	logger    *slog.Logger
	errs      []error

	// Set by WithEnvironment and used only where no option set the
	// setting, so options override variables whatever their order.
	envAddress, envNamespace, envCACert string
	envToken                            Value
}

// Opt configures a Client.
type Opt interface{ apply(*config) }

type optFunc func(*config)

func (f optFunc) apply(c *config) { f(c) }

// WithAPIClient uses an existing vault/api client, its address, TLS and
// token included. The other connection options must not be given with it.
func WithAPIClient(c *api.Client) Opt { return optFunc(func(cfg *config) { cfg.apiClient = c }) }

// WithAddress sets Vault's address, e.g. https://vault.internal:8200.
func WithAddress(addr string) Opt { return optFunc(func(c *config) { c.address = addr }) }

// WithToken logs in with a token (TokenAuth).
func WithToken(token Value) Opt { return optFunc(func(c *config) { c.token = token }) }

// WithNamespace sets the Vault Enterprise namespace.
func WithNamespace(ns string) Opt { return optFunc(func(c *config) { c.namespace = ns }) }

// WithCACert trusts the PEM certificates in the file for Vault's TLS.
func WithCACert(path string) Opt { return optFunc(func(c *config) { c.caCert = path }) }

// WithAuth sets how the client logs in: TokenAuth, AppRoleAuth or
// KubernetesAuth.
func WithAuth(a Auth) Opt { return optFunc(func(c *config) { c.auth = a }) }

// WithLogger sets the logger, overriding the default that discards. It
// must be safe for concurrent use. No secret reaches it.
func WithLogger(l *slog.Logger) Opt { return optFunc(func(c *config) { c.logger = l }) }

// WithEnvironment reads VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE and
// VAULT_CACERT, and nothing else. Options override them, given before or
// after it: VAULT_TOKEN is used only without WithToken and WithAuth, and
// VAULT_ADDR and VAULT_CACERT only without WithAPIClient.
// Without it, New reads no variable: it clears the token and namespace
// that vault/api itself picks up from VAULT_TOKEN and VAULT_NAMESPACE.
// (vault/api still reads its own tuning variables, such as
// VAULT_MAX_RETRIES, for settings streamkit leaves at their defaults.)
func WithEnvironment() Opt {
	return optFunc(func(c *config) {
		c.envAddress = os.Getenv(EnvVaultAddr)
		c.envToken = NewValue(os.Getenv(EnvVaultToken))
		c.envNamespace = os.Getenv(EnvVaultNamespace)
		c.envCACert = os.Getenv(EnvVaultCACert)
	})
}

// New builds a client and logs in. It starts no goroutines; Run does.
func New(ctx context.Context, opts ...Opt) (*Client, error) {
	cfg := config{logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if cfg.apiClient == nil {
		if cfg.address == "" {
			cfg.address = cfg.envAddress
		}
		if cfg.caCert == "" {
			cfg.caCert = cfg.envCACert
		}
	}
	if cfg.token.IsZero() && cfg.auth == nil {
		cfg.token = cfg.envToken
	}
	if cfg.namespace == "" {
		cfg.namespace = cfg.envNamespace
	}
	errs := cfg.errs
	if cfg.logger == nil {
		errs = append(errs, errors.New("nil logger"))
	}
	if !cfg.token.IsZero() && cfg.auth != nil {
		errs = append(errs, errors.New("WithToken and WithAuth exclude each other"))
	}
	if cfg.apiClient != nil && (cfg.address != "" || cfg.caCert != "") {
		errs = append(errs, errors.New("WithAPIClient excludes WithAddress and WithCACert"))
	}
	if cfg.apiClient == nil && cfg.address == "" {
		errs = append(errs, errors.New("no address: use WithAddress, WithAPIClient or WithEnvironment"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("new vault client: %w", errors.Join(errs...))
	}

	ac := cfg.apiClient
	if ac == nil {
		acfg := &api.Config{Address: cfg.address, HttpClient: &http.Client{Timeout: 30 * time.Second}}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if tr.TLSClientConfig == nil {
			// ConfigureTLS adds the CA to this config and silently skips
			// a nil one; Clone leaves it nil with GODEBUG=http2client=0.
			tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		acfg.HttpClient.Transport = tr
		if cfg.caCert != "" {
			if err := acfg.ConfigureTLS(&api.TLSConfig{CACert: cfg.caCert}); err != nil {
				return nil, fmt.Errorf("new vault client: tls: %w", err)
			}
		}
		acfg.MaxRetries = 0 // retries are streamkit's: bounded, logged, typed
		var err error
		if ac, err = api.NewClient(acfg); err != nil {
			return nil, fmt.Errorf("new vault client: %w", err)
		}
		ac.ClearToken()
		ac.ClearNamespace()
	}
	if cfg.namespace != "" {
		ac.SetNamespace(cfg.namespace)
	}
	auth := cfg.auth
	switch {
	case !cfg.token.IsZero():
		auth = TokenAuth(cfg.token)
	case auth == nil && ac.Token() != "":
		auth = TokenAuth(NewValue(ac.Token()))
	case auth == nil:
		return nil, errors.New("new vault client: no token and no auth method")
	}
	c := &Client{api: ac, auth: auth, log: cfg.logger, now: time.Now, retry: backoff.Policy{Min: time.Second, Max: time.Minute}}
	if err := c.Login(ctx); err != nil {
		return nil, fmt.Errorf("new vault client: %w", err)
	}
	return c, nil
}

// Format prints the client as its auth method's name, for every verb: a
// *Client holds its token and credentials in fields that fmt would print.
func (c *Client) Format(f fmt.State, _ rune) {
	name := "none"
	if c != nil && c.auth != nil {
		name = c.auth.name()
	}
	_, _ = fmt.Fprintf(f, "secrets.Client{auth: %s}", name)
}

var _ fmt.Formatter = (*Client)(nil)

// API returns the underlying vault/api client, for the Vault API this
// package does not wrap.
func (c *Client) API() *api.Client { return c.api }

// Login logs in again with the client's Auth and uses the new token.
func (c *Client) Login(ctx context.Context) error {
	secret, err := c.auth.login(ctx, c.api)
	if err != nil {
		return fmt.Errorf("%w (%s): %w", ErrAuth, c.auth.name(), classify("login", "", err))
	}
	c.mu.Lock()
	c.login = secret
	c.mu.Unlock()
	c.log.Info("vault login", "method", c.auth.name(), "renewable", secret != nil && secret.Auth != nil && secret.Auth.Renewable)
	return nil
}
