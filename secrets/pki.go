package secrets

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/streamkit/streamkit/internal/backoff"
	"github.com/streamkit/streamkit/internal/runloop"
)

// CertificateRequest asks Vault's PKI secrets engine for a certificate
// (POST <Mount>/issue/<Role>). Vault makes the private key; it never
// leaves the process that asked.
type CertificateRequest struct {
	// Mount is the PKI engine's mount path, e.g. "pki". Required.
	Mount string
	// Role is the engine's role that the certificate is issued under;
	// the role decides what names, key types, usages and TTLs are
	// allowed. Required.
	Role string
	// CommonName is the certificate's common name: for Kafka's SSL
	// listeners, the client's principal (ssl.principal.mapping.rules).
	// Required.
	CommonName string
	// AltNames are DNS subject alternative names, and IPSANs IP ones.
	AltNames, IPSANs []string
	// TTL is the certificate's lifetime; 0 means the role's default. Vault
	// caps it at the role's max_ttl.
	TTL time.Duration
}

func (r CertificateRequest) validate() error {
	var errs []error
	if strings.Trim(r.Mount, "/") == "" {
		errs = append(errs, errors.New("no mount"))
	}
	if r.Role == "" || strings.Contains(r.Role, "/") {
		errs = append(errs, fmt.Errorf("role %q: want one path segment", r.Role))
	}
	if r.CommonName == "" {
		errs = append(errs, errors.New("no common name"))
	}
	for _, ip := range r.IPSANs {
		if net.ParseIP(ip) == nil {
			errs = append(errs, fmt.Errorf("IP SAN %q is no IP address", ip))
		}
	}
	if r.TTL < 0 {
		errs = append(errs, fmt.Errorf("negative TTL %s", r.TTL))
	}
	return errors.Join(errs...)
}

// IssuedCertificate is a certificate from Vault's PKI engine with its
// private key. Its fmt and slog forms show the serial number, the common
// name and the validity, never the key.
type IssuedCertificate struct {
	// TLS is the certificate chain (the leaf, then the issuing CA's
	// chain as Vault gave it) and the private key; TLS.Leaf is set.
	TLS tls.Certificate
	// SerialNumber is Vault's, colon-separated hex: what revoking takes.
	SerialNumber string
	// NotBefore and NotAfter bound the certificate's validity.
	NotBefore, NotAfter time.Time
	// Issued is when this process received it.
	Issued time.Time
}

// Format prints the certificate without its private key, for every verb
// (a value receiver: a copy prints the same way).
func (ic IssuedCertificate) Format(f fmt.State, _ rune) {
	d := ic.describe()
	_, _ = fmt.Fprintf(f, "secrets.IssuedCertificate{cn: %s, serial: %s, not_after: %s}",
		d.CommonName, d.SerialNumber, d.NotAfter.UTC().Format(time.RFC3339))
}

// MarshalJSON encodes the certificate's common name, serial number and
// validity, never its key. Its receiver is a value, so that a copy held in
// another struct is encoded the same way.
func (ic IssuedCertificate) MarshalJSON() ([]byte, error) {
	return json.Marshal(ic.describe())
}

// LogValue is the JSON form, for slog.
func (ic IssuedCertificate) LogValue() slog.Value {
	d := ic.describe()
	return slog.GroupValue(slog.String("common_name", d.CommonName), slog.String("serial", d.SerialNumber),
		slog.Time("not_after", d.NotAfter))
}

type certDescription struct {
	CommonName   string    `json:"common_name"`
	SerialNumber string    `json:"serial_number"`
	NotBefore    time.Time `json:"not_before"`
	NotAfter     time.Time `json:"not_after"`
}

func (ic IssuedCertificate) describe() certDescription {
	d := certDescription{SerialNumber: ic.SerialNumber, NotBefore: ic.NotBefore, NotAfter: ic.NotAfter}
	if ic.TLS.Leaf != nil {
		d.CommonName = ic.TLS.Leaf.Subject.CommonName
	}
	return d
}

// IssueCertificate asks Vault's PKI engine for a new certificate and key.
// A refusal is a *VaultError: ErrPermissionDenied when the token may not
// use the role, a 400 when the role does not allow the request (a common
// name outside allowed_domains, a TTL above max_ttl), ErrNotFound for a
// mount or role that does not exist; ErrUnavailable when Vault cannot be
// reached.
func (c *Client) IssueCertificate(ctx context.Context, req CertificateRequest) (*IssuedCertificate, error) {
	if err := req.validate(); err != nil {
		return nil, fmt.Errorf("issue certificate: %w", err)
	}
	path := strings.Trim(req.Mount, "/") + "/issue/" + req.Role
	body := map[string]any{"common_name": req.CommonName, "format": "pem", "private_key_format": "pkcs8"}
	if len(req.AltNames) > 0 {
		body["alt_names"] = strings.Join(req.AltNames, ",")
	}
	if len(req.IPSANs) > 0 {
		body["ip_sans"] = strings.Join(req.IPSANs, ",")
	}
	if req.TTL > 0 {
		body["ttl"] = fmt.Sprintf("%ds", int64((req.TTL+time.Second-1)/time.Second))
	}
	s, err := c.api.Logical().WriteWithContext(ctx, path, body)
	if err != nil {
		return nil, classify("issue", path, err)
	}
	if s == nil || s.Data == nil {
		return nil, &VaultError{Op: "issue", Path: path, Errors: []string{"empty answer"}}
	}
	ic, err := parseIssued(s.Data)
	if err != nil {
		return nil, &VaultError{Op: "issue", Path: path, Errors: []string{err.Error()}, err: err}
	}
	ic.Issued = c.now()
	return ic, nil
}

// RevokeCertificate revokes the certificate of serial (an
// IssuedCertificate's SerialNumber) at the PKI engine mounted at mount:
// Vault puts it on the mount's certificate revocation list, and a server
// that checks the list refuses it from then on (the platform's
// authorizing proxies do, once `scripts/platform crl` has read the list
// again; Kafka's listeners check no list). Revoking one that is revoked
// already succeeds. The token needs update on <mount>/revoke, which a
// principal's policy does not give: revoking is the platform
// administrator's. Errors are those of IssueCertificate; a serial the
// mount never issued is a *VaultError with status 400.
func (c *Client) RevokeCertificate(ctx context.Context, mount, serial string) error {
	mount = strings.Trim(mount, "/")
	if mount == "" || serial == "" {
		return fmt.Errorf("revoke certificate: %w", errors.New("mount and serial number are required"))
	}
	path := mount + "/revoke"
	if _, err := c.api.Logical().WriteWithContext(ctx, path, map[string]any{"serial_number": serial}); err != nil {
		return classify("revoke", path, err)
	}
	return nil
}

// parseIssued reads the PKI engine's answer to an issue request.
func parseIssued(data map[string]any) (*IssuedCertificate, error) {
	str := func(k string) string { s, _ := data[k].(string); return s }
	chain := []byte(str("certificate") + "\n")
	if cas, ok := data["ca_chain"].([]any); ok && len(cas) > 0 {
		for _, ca := range cas {
			if s, ok := ca.(string); ok {
				chain = append(chain, s+"\n"...)
			}
		}
	} else if ca := str("issuing_ca"); ca != "" {
		chain = append(chain, ca+"\n"...)
	}
	key := str("private_key")
	if str("certificate") == "" || key == "" {
		return nil, errors.New("answer without a certificate or a private key")
	}
	cert, err := tls.X509KeyPair(chain, []byte(key))
	if err != nil {
		// The message of X509KeyPair names no key material.
		return nil, fmt.Errorf("certificate and key: %w", err)
	}
	leaf := cert.Leaf
	if leaf == nil {
		block, _ := pem.Decode([]byte(str("certificate")))
		if block == nil {
			return nil, errors.New("certificate is not PEM")
		}
		if leaf, err = x509.ParseCertificate(block.Bytes); err != nil {
			return nil, fmt.Errorf("certificate: %w", err)
		}
		cert.Leaf = leaf
	}
	serial := str("serial_number")
	if serial == "" {
		serial = colonHex(leaf.SerialNumber.Bytes())
	}
	return &IssuedCertificate{TLS: cert, SerialNumber: serial, NotBefore: leaf.NotBefore, NotAfter: leaf.NotAfter}, nil
}

func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02x", x)
	}
	return strings.Join(parts, ":")
}

// CertificateSourceOptions tune a CertificateSource.
type CertificateSourceOptions struct {
	// RenewAt is the part of a certificate's remaining life, counted from
	// when it was issued, after which Run asks for the next one: 0 means
	// 2/3, so a certificate of a minute is replaced after 40s and the
	// next 20s are left for Vault to answer. It must be below 1.
	RenewAt float64
	// Retry bounds the backoff between failed requests: zero values mean
	// 1s and 30s. Run retries until the certificate has expired and
	// after, for as long as it runs.
	RetryMin, RetryMax time.Duration
	// OnIssue, if set, is called with each certificate the source takes,
	// the first included, from the goroutine that took it.
	OnIssue func(*IssuedCertificate)
}

// CertificateSource keeps a client certificate from Vault's PKI engine
// current: NewCertificateSource issues the first, Run replaces each one
// before it expires, and GetClientCertificate hands the current one to
// every new TLS connection. A Kafka client given TLSConfig's config (kgo
// .DialTLSConfig) thus presents a fresh certificate on each connection it
// opens, without a restart, as Credentials gives new connections a
// rotated SCRAM password; connections already open keep theirs (Kafka
// checks a client certificate at the handshake only).
//
// When Vault is unavailable, Run retries with backoff and the current
// certificate is served until it expires; after that GetClientCertificate
// fails with ErrUnavailable, so a new connection waits for Vault rather
// than present a certificate the broker would refuse. It is safe for
// concurrent use by multiple goroutines.
type CertificateSource struct {
	client  *Client
	req     CertificateRequest
	opts    CertificateSourceOptions
	current atomic.Pointer[IssuedCertificate]
	run     runloop.Guard

	mu      sync.Mutex
	lastErr error // the last failed request, while the current certificate is expired
}

// NewCertificateSource validates req and opts and issues the first
// certificate; a refusal or an outage is returned as IssueCertificate's
// error. Call Run to keep it current.
func NewCertificateSource(ctx context.Context, c *Client, req CertificateRequest, opts CertificateSourceOptions) (*CertificateSource, error) {
	if c == nil {
		return nil, errors.New("new certificate source: nil client")
	}
	var errs []error
	if err := req.validate(); err != nil {
		errs = append(errs, err)
	}
	if opts.RenewAt < 0 || opts.RenewAt >= 1 {
		errs = append(errs, fmt.Errorf("RenewAt %v: want 0 (the default) or a part of the life in (0, 1)", opts.RenewAt))
	}
	if opts.RetryMin < 0 || opts.RetryMax < 0 || (opts.RetryMax > 0 && opts.RetryMin > opts.RetryMax) {
		errs = append(errs, fmt.Errorf("retry backoff %s..%s", opts.RetryMin, opts.RetryMax))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("new certificate source: %w", errors.Join(errs...))
	}
	if opts.RenewAt == 0 {
		opts.RenewAt = 2.0 / 3
	}
	if opts.RetryMin == 0 {
		opts.RetryMin = time.Second
	}
	if opts.RetryMax == 0 {
		opts.RetryMax = 30 * time.Second
	}
	opts.RetryMax = max(opts.RetryMax, opts.RetryMin)
	s := &CertificateSource{client: c, req: req, opts: opts}
	ic, err := c.IssueCertificate(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("new certificate source: %w", err)
	}
	s.take(ic)
	return s, nil
}

func (s *CertificateSource) take(ic *IssuedCertificate) {
	s.current.Store(ic)
	s.mu.Lock()
	s.lastErr = nil
	s.mu.Unlock()
	s.client.log.Info("vault client certificate issued", "mount", s.req.Mount, "role", s.req.Role,
		"common_name", s.req.CommonName, "serial", ic.SerialNumber, "not_after", ic.NotAfter)
	if s.opts.OnIssue != nil {
		runloop.Call(s.client.log, "certificate OnIssue", func() { s.opts.OnIssue(ic) })
	}
}

// Current returns the certificate the source serves now.
func (s *CertificateSource) Current() *IssuedCertificate { return s.current.Load() }

// GetClientCertificate implements tls.Config.GetClientCertificate: the
// current certificate, or, once it has expired and Vault has not issued
// the next, an error that wraps ErrUnavailable and the last failure.
func (s *CertificateSource) GetClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	ic := s.current.Load()
	if now := s.client.now(); !now.Before(ic.NotAfter) {
		s.mu.Lock()
		last := s.lastErr
		s.mu.Unlock()
		return nil, fmt.Errorf("client certificate %s expired at %s and Vault has not issued the next: %w",
			ic.SerialNumber, ic.NotAfter.UTC().Format(time.RFC3339), errors.Join(ErrUnavailable, last))
	}
	return &ic.TLS, nil
}

// TLSConfig returns a clone of base (a new config when base is nil) that
// presents the source's current certificate on every handshake; base's
// Certificates are dropped.
func (s *CertificateSource) TLSConfig(base *tls.Config) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if base != nil {
		cfg = base.Clone()
	}
	cfg.Certificates = nil
	cfg.GetClientCertificate = s.GetClientCertificate
	return cfg
}

// renewAt is when the certificate should be replaced.
func (s *CertificateSource) renewAt(ic *IssuedCertificate) time.Time {
	life := ic.NotAfter.Sub(ic.Issued)
	return ic.Issued.Add(time.Duration(float64(life) * s.opts.RenewAt))
}

// Run replaces the certificate before it expires until ctx ends, then
// returns nil. A failed request is logged and retried with backoff; Run
// returns ErrRunning while another Run of the source has not returned.
func (s *CertificateSource) Run(ctx context.Context) error {
	leave, err := s.run.Enter()
	if err != nil {
		return err
	}
	defer leave()
	retry := backoff.Policy{Min: s.opts.RetryMin, Max: s.opts.RetryMax}
	for {
		// At least RetryMin between two requests, however short the
		// life Vault gave the last certificate (an issuing CA that ends
		// soon truncates it; clocks may differ).
		wait := s.renewAt(s.current.Load()).Sub(s.client.now())
		if backoff.Sleep(ctx, max(wait, s.opts.RetryMin)) != nil {
			return nil
		}
		for attempt := 0; ; attempt++ {
			ic, err := s.client.IssueCertificate(ctx, s.req)
			if err == nil {
				s.take(ic)
				break
			}
			if ctx.Err() != nil {
				return nil
			}
			cur := s.current.Load()
			s.mu.Lock()
			s.lastErr = err
			s.mu.Unlock()
			s.client.log.Warn("vault client certificate renewal failed; retrying", "mount", s.req.Mount, "role", s.req.Role,
				"attempt", attempt+1, "serving", cur.SerialNumber, "expires_in", cur.NotAfter.Sub(s.client.now()).Round(time.Second), "error", err)
			if backoff.Sleep(ctx, retry.Delay(attempt)) != nil {
				return nil
			}
		}
	}
}

// Format prints the source's request and current serial number.
func (s *CertificateSource) Format(f fmt.State, _ rune) {
	serial := ""
	if ic := s.current.Load(); ic != nil {
		serial = ic.SerialNumber
	}
	_, _ = fmt.Fprintf(f, "secrets.CertificateSource{mount: %s, role: %s, cn: %s, serial: %s}",
		s.req.Mount, s.req.Role, s.req.CommonName, serial)
}
