package connect

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/streamkit/streamkit/internal/backoff"
	"github.com/streamkit/streamkit/internal/tlserr"
)

// EnvConnectURL is the variable WithEnvironment reads: one or more worker
// URLs, comma-separated.
const EnvConnectURL = "STREAMKIT_CONNECT_URL"

// Client talks to the REST API of a Kafka Connect cluster through one or
// more of its workers. A request that fails to reach a worker, or gets a
// 5xx, moves on to the next worker; 409s during a rebalance and 5xx are
// retried with bounded exponential backoff and jitter.
//
// A Client starts no goroutines and is safe for concurrent use by multiple
// goroutines. It prints as its workers' URLs, never its credentials.
type Client struct {
	cfg  config
	hc   *http.Client
	next atomic.Uint32 // the worker to try first
}

type config struct {
	urls []*url.URL
	hc   *http.Client
	tls  *tls.Config
	user string
	// pass is behind a pointer, as in secrets.Value. fmt calls no method
	// of a value in an unexported field: a *Client in another type's
	// field, printed with a verb such as %s, has its fields printed
	// instead of its Format, and a pointer among them as an address.
	pass        *string
	attempts    int
	backoff     backoff.Policy
	logger      *slog.Logger
	userAgent   string
	envErr      error
	invalidURLs []string
}

func defaultConfig() config {
	return config{
		attempts:  5,
		backoff:   backoff.Policy{Min: 250 * time.Millisecond, Max: 5 * time.Second},
		logger:    slog.New(slog.DiscardHandler),
		userAgent: "streamkit-connect",
	}
}

// ClientOpt configures a Client (New).
type ClientOpt interface{ applyClient(*config) }

// HealerOpt configures a Healer (NewHealer).
type HealerOpt interface{ applyHealer(*healConfig) }

// Opt is an option of both New and NewHealer: WithLogger.
type Opt interface {
	ClientOpt
	HealerOpt
}

type optFunc func(*config)

func (f optFunc) applyClient(c *config) { f(c) }

// WithURLs sets the workers' base URLs, e.g. http://127.0.0.1:8083. At
// least one is required (or WithEnvironment). Credentials in a URL's user
// info become basic auth and are removed from the URL, so they never reach
// a log or an error.
func WithURLs(urls ...string) ClientOpt {
	return optFunc(func(c *config) {
		for _, raw := range urls {
			u, err := url.Parse(strings.TrimRight(strings.TrimSpace(raw), "/"))
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
				c.invalidURLs = append(c.invalidURLs, redactURL(raw))
				continue
			}
			if u.User != nil {
				pass, _ := u.User.Password()
				c.user, c.pass = u.User.Username(), &pass
				u.User = nil
			}
			c.urls = append(c.urls, u)
		}
	})
}

// WithEnvironment reads the worker URLs from EnvConnectURL (STREAMKIT_CONNECT_URL),
// comma-separated. It reads no other variable.
func WithEnvironment() ClientOpt {
	return optFunc(func(c *config) {
		v := os.Getenv(EnvConnectURL)
		if strings.TrimSpace(v) == "" {
			c.envErr = fmt.Errorf("%s is not set", EnvConnectURL)
			return
		}
		WithURLs(strings.Split(v, ",")...).applyClient(c)
	})
}

// WithHTTPClient sets the HTTP client, overriding a default with a 30s
// timeout per request. It excludes WithTLSConfig: configure TLS on the
// client's transport instead.
func WithHTTPClient(hc *http.Client) ClientOpt { return optFunc(func(c *config) { c.hc = hc }) }

// WithTLSConfig sets the TLS configuration for https workers.
func WithTLSConfig(t *tls.Config) ClientOpt { return optFunc(func(c *config) { c.tls = t }) }

// WithBasicAuth sets basic-auth credentials for every request.
func WithBasicAuth(user, pass string) ClientOpt {
	return optFunc(func(c *config) { c.user, c.pass = user, &pass })
}

// WithRetries sets how many times a request is tried in all, overriding
// the default 5. 1 disables retries.
func WithRetries(attempts int) ClientOpt { return optFunc(func(c *config) { c.attempts = attempts }) }

// WithBackoff sets the delays between tries, overriding the default 250ms
// doubling up to 5s, each with jitter.
func WithBackoff(min, max time.Duration) ClientOpt {
	return optFunc(func(c *config) { c.backoff = backoff.Policy{Min: min, Max: max} })
}

// WithLogger sets the logger, overriding the default that discards: a
// Client's for retries and failovers, a Healer's for what it does. It
// must be safe for concurrent use.
func WithLogger(l *slog.Logger) Opt { return loggerOpt{l} }

type loggerOpt struct{ l *slog.Logger }

func (o loggerOpt) applyClient(c *config)     { c.logger = o.l }
func (o loggerOpt) applyHealer(c *healConfig) { c.logger = o.l }

// New returns a Client. It validates every option together.
func New(opts ...ClientOpt) (*Client, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o.applyClient(&cfg)
		}
	}
	var errs []error
	if cfg.envErr != nil {
		errs = append(errs, cfg.envErr)
	}
	for _, u := range cfg.invalidURLs {
		errs = append(errs, fmt.Errorf("invalid worker url %q: want http(s)://host:port", u))
	}
	if len(cfg.urls) == 0 && len(cfg.invalidURLs) == 0 && cfg.envErr == nil {
		errs = append(errs, errors.New("no worker url: use WithURLs or WithEnvironment"))
	}
	if cfg.attempts < 1 {
		errs = append(errs, fmt.Errorf("retries: %d attempts, want at least 1", cfg.attempts))
	}
	if cfg.backoff.Min < 0 || cfg.backoff.Max < cfg.backoff.Min {
		errs = append(errs, fmt.Errorf("backoff: min %v, max %v", cfg.backoff.Min, cfg.backoff.Max))
	}
	if cfg.hc != nil && cfg.tls != nil {
		errs = append(errs, errors.New("WithHTTPClient and WithTLSConfig exclude each other"))
	}
	if cfg.logger == nil {
		errs = append(errs, errors.New("nil logger"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("new connect client: %w", errors.Join(errs...))
	}
	hc := cfg.hc
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = cfg.tls
		hc = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	}
	return &Client{cfg: cfg, hc: hc}, nil
}

// password returns the basic-auth password, "" when there is none.
func (c *config) password() string {
	if c.pass == nil {
		return ""
	}
	return *c.pass
}

// Format prints the client as its workers' URLs, which hold no
// credentials, and whether it uses basic auth, for every verb: the
// password is in a field that fmt would print.
func (c *Client) Format(f fmt.State, _ rune) {
	if c == nil {
		_, _ = io.WriteString(f, "connect.Client(nil)")
		return
	}
	auth := "none"
	if c.cfg.user != "" || c.cfg.password() != "" {
		auth = "basic"
	}
	_, _ = fmt.Fprintf(f, "connect.Client{urls: %v, auth: %s}", c.URLs(), auth)
}

var _ fmt.Formatter = (*Client)(nil)

// URLs returns the workers' URLs, without credentials.
func (c *Client) URLs() []string {
	out := make([]string, len(c.cfg.urls))
	for i, u := range c.cfg.urls {
		out[i] = u.String()
	}
	return out
}

// request is one REST call.
type request struct {
	method string
	path   string // escaped, from the API root
	query  url.Values
	body   any
	out    any // decoded from a 2xx body when not nil
	// emptyOK accepts a success without a body even though out is set.
	emptyOK bool
}

// do runs r against the workers, retrying and failing over, and returns
// the status of the successful response.
func (c *Client) do(ctx context.Context, r request) (int, error) {
	var payload []byte
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return 0, fmt.Errorf("%s %s: encode body: %w", r.method, r.path, err)
		}
	}
	var lastErr error
	for attempt := 0; attempt < c.cfg.attempts; attempt++ {
		if attempt > 0 {
			if err := backoff.Sleep(ctx, c.cfg.backoff.Delay(attempt-1)); err != nil {
				return 0, fmt.Errorf("%s %s: %w (last error: %w)", r.method, r.path, err, lastErr)
			}
		}
		idx := int(c.next.Load()) % len(c.cfg.urls)
		status, retry, failover, err := c.once(ctx, c.cfg.urls[idx], r, payload)
		if err == nil {
			return status, nil
		}
		lastErr = err
		if ctx.Err() != nil || !retry {
			return status, err
		}
		if failover && len(c.cfg.urls) > 1 {
			c.next.CompareAndSwap(uint32(idx), uint32((idx+1)%len(c.cfg.urls)))
		}
		if attempt+1 < c.cfg.attempts {
			c.cfg.logger.Warn("connect request failed; retrying", "method", r.method, "path", r.path,
				"worker", c.cfg.urls[idx].Host, "attempt", attempt+1, "error", err)
		}
	}
	return 0, lastErr
}

// once makes one try and says whether another try may succeed, and
// whether on another worker.
func (c *Client) once(ctx context.Context, base *url.URL, r request, payload []byte) (status int, retry, failover bool, err error) {
	target := base.String() + r.path
	if q := r.query.Encode(); q != "" {
		target += "?" + q
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return 0, false, false, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.userAgent)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if pass := c.cfg.password(); c.cfg.user != "" || pass != "" {
		req.SetBasicAuth(c.cfg.user, pass)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// The URL in a *url.Error has no credentials: they were moved to
		// basic auth in WithURLs.
		if ctx.Err() != nil {
			return 0, false, false, fmt.Errorf("%s %s: %w", r.method, r.path, err)
		}
		if tlserr.IsRefusal(err) {
			return 0, false, false, fmt.Errorf("%s %s: %w: %w", r.method, r.path, ErrCertificate, err)
		}
		return 0, true, true, fmt.Errorf("%s %s: %w: %w", r.method, r.path, ErrUnavailable, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, true, true, fmt.Errorf("%s %s: read response: %w: %w", r.method, r.path, ErrUnavailable, err)
	}
	if resp.StatusCode/100 == 2 {
		if r.out != nil && len(bytes.TrimSpace(raw)) > 0 {
			if err := json.Unmarshal(raw, r.out); err != nil {
				return resp.StatusCode, false, false, fmt.Errorf("%s %s: %w: %w", r.method, r.path, ErrMalformedResponse, err)
			}
		} else if r.out != nil && !r.emptyOK {
			return resp.StatusCode, false, false, fmt.Errorf("%s %s: %w: empty body", r.method, r.path, ErrMalformedResponse)
		}
		return resp.StatusCode, false, false, nil
	}
	apiErr := &APIError{Method: r.method, Path: r.path, StatusCode: resp.StatusCode}
	var e struct {
		ErrorCode int    `json:"error_code"`
		Message   string `json:"message"`
	}
	if json.Unmarshal(raw, &e) == nil {
		apiErr.ErrorCode, apiErr.Message = e.ErrorCode, e.Message
	} else {
		// A proxy's HTML page or plain text: its first non-blank line.
		apiErr.Message = strings.TrimSpace(firstLine(strings.TrimSpace(string(raw))))
	}
	switch {
	case resp.StatusCode >= 500:
		return resp.StatusCode, true, true, apiErr
	case resp.StatusCode == http.StatusConflict:
		// A rebalance, or a config read while it changes, passes; an
		// existing connector does not.
		return resp.StatusCode, !strings.Contains(apiErr.Message, "already exists"), false, apiErr
	}
	return resp.StatusCode, false, false, apiErr
}

// redactURL removes a password from a URL for an error message.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		// The last @ ends the user info: a password may hold an @.
		if i := strings.LastIndex(raw, "@"); i >= 0 {
			return "[redacted]@" + raw[i+1:]
		}
		return raw
	}
	return u.Redacted()
}

// pathEscape escapes one path segment: connector names may hold any
// character, and plugin class names hold dots.
func pathEscape(s string) string { return url.PathEscape(s) }
