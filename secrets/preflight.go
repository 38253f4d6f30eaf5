package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/streamkit/streamkit/internal/vaultref"
)

// PreflightCheck is the verdict on one reference of one connector's
// config key. It holds no secret.
type PreflightCheck struct {
	Connector string
	// ConfigKey is the connector config key holding the reference.
	ConfigKey string
	// Ref is the reference; zero when the value did not parse.
	Ref Ref
	OK  bool
	// Problem says what is wrong when OK is false: it names paths and
	// keys, never a value.
	Problem string
	// Note qualifies an OK verdict, e.g. that existence was not checked.
	Note string
	// Err is the error behind Problem, for errors.Is against ErrNotFound,
	// ErrPermissionDenied or ErrInvalidRef.
	Err error
}

// PreflightReport is what Preflight found, one check per reference in the
// order of the connectors' names and, within a connector, of its config
// keys. It prints as
// text (String) and JSON (MarshalJSON), with no secret in either.
type PreflightReport struct {
	Checks []PreflightCheck
}

// OK reports whether every check passed.
func (r *PreflightReport) OK() bool { return r.Problems() == 0 }

// Problems returns how many checks failed.
func (r *PreflightReport) Problems() int {
	n := 0
	for _, c := range r.Checks {
		if !c.OK {
			n++
		}
	}
	return n
}

// String renders the report for a CI log: a summary line, then one line
// per reference.
func (r *PreflightReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "vault preflight: %d references, %d problems\n", len(r.Checks), r.Problems())
	for _, c := range r.Checks {
		ref := "(invalid reference)"
		if c.Ref != (Ref{}) {
			ref = c.Ref.String()
		}
		switch {
		case !c.OK:
			fmt.Fprintf(&b, "FAIL %s %s %s: %s\n", c.Connector, c.ConfigKey, ref, c.Problem)
		case c.Note != "":
			fmt.Fprintf(&b, "ok   %s %s %s (%s)\n", c.Connector, c.ConfigKey, ref, c.Note)
		default:
			fmt.Fprintf(&b, "ok   %s %s %s\n", c.Connector, c.ConfigKey, ref)
		}
	}
	return b.String()
}

// GoString is String, so %#v prints no more than %v.
func (r *PreflightReport) GoString() string { return r.String() }

type jsonPreflightCheck struct {
	Connector string `json:"connector"`
	ConfigKey string `json:"config_key"`
	Ref       string `json:"ref,omitempty"`
	OK        bool   `json:"ok"`
	Problem   string `json:"problem,omitempty"`
	Note      string `json:"note,omitempty"`
}

// MarshalJSON renders the report for CI:
// {"ok":...,"references":n,"problems":n,"checks":[{"connector","config_key","ref","ok","problem","note"}]}.
func (r *PreflightReport) MarshalJSON() ([]byte, error) {
	out := struct {
		OK         bool                 `json:"ok"`
		References int                  `json:"references"`
		Problems   int                  `json:"problems"`
		Checks     []jsonPreflightCheck `json:"checks"`
	}{OK: r.OK(), References: len(r.Checks), Problems: r.Problems(), Checks: []jsonPreflightCheck{}}
	for _, c := range r.Checks {
		jc := jsonPreflightCheck{Connector: c.Connector, ConfigKey: c.ConfigKey, OK: c.OK, Problem: c.Problem, Note: c.Note}
		if c.Ref != (Ref{}) {
			jc.Ref = c.Ref.String()
		}
		out.Checks = append(out.Checks, jc)
	}
	return json.Marshal(out)
}

// pathVerdict is what Preflight learned of one Vault path.
type pathVerdict struct {
	err  error
	note string
	keys map[string]bool // the secret's keys; nil when not read
}

// Preflight checks, before a deploy, that the client's token can serve
// every ${vault:...} reference in the connectors' configs, given by
// connector name (a connect.Spec's Name and Config): that the token has
// the "read" capability on the path (POST sys/capabilities-self), and for
// a KV v2 path that the secret exists (its metadata first, then its
// latest or pinned version) and holds the key. It reads a secret to learn
// its keys and keeps no value. A path of another engine gets the
// capability check only: a read of a dynamic engine would issue a
// credential.
//
// A path without "data" as its second segment is looked up first (GET
// sys/internal/ui/mounts/<path>, which any token with access to the path
// may read; once per mount): on a KV v2 mount, such as
// secret/pricing/db on "secret/", Vault serves no secret there, and the
// check fails matching ErrInvalidRef with the path it should be,
// secret/data/pricing/db. When the mount cannot be looked up, the path
// gets the capability check alone, as before.
//
// The report has one check per reference. When any check fails, Preflight
// returns the report with an error that lists each failure and matches
// ErrNotFound, ErrPermissionDenied or ErrInvalidRef with errors.Is. An
// error with a nil report means Vault could not be asked at all.
func (c *Client) Preflight(ctx context.Context, connectors map[string]map[string]string) (*PreflightReport, error) {
	rep := &PreflightReport{}
	for _, name := range slices.Sorted(maps.Keys(connectors)) {
		config := connectors[name]
		for _, k := range slices.Sorted(maps.Keys(config)) {
			refs, err := FindRefs(map[string]string{k: config[k]})
			if err != nil {
				rep.Checks = append(rep.Checks, PreflightCheck{Connector: name, ConfigKey: k, Problem: err.Error(), Err: err})
				continue
			}
			for _, r := range refs[k] {
				rep.Checks = append(rep.Checks, PreflightCheck{Connector: name, ConfigKey: k, Ref: r})
			}
		}
	}

	var paths []string // unversioned API paths, for the capability check
	for _, ch := range rep.Checks {
		if ch.Err == nil {
			if p := apiPath(ch.Ref.Path); !slices.Contains(paths, p) {
				paths = append(paths, p)
			}
		}
	}
	caps, err := c.capabilities(ctx, paths)
	if err != nil {
		return nil, fmt.Errorf("vault preflight: %w", err)
	}

	verdicts := map[string]*pathVerdict{}
	mounts := &mountCache{}
	for i := range rep.Checks {
		ch := &rep.Checks[i]
		if ch.Err != nil {
			continue
		}
		v, ok := verdicts[ch.Ref.Path]
		if !ok {
			v = c.checkPath(ctx, ch.Ref.Path, caps[apiPath(ch.Ref.Path)], mounts)
			verdicts[ch.Ref.Path] = v
		}
		switch {
		case v.err != nil:
			ch.Err = v.err
		case v.keys != nil && !v.keys[ch.Ref.Key]:
			ch.Err = &VaultError{Op: "read", Path: apiPath(ch.Ref.Path), StatusCode: 404, sentinel: ErrNotFound,
				Errors: []string{fmt.Sprintf("no key %q", ch.Ref.Key)}}
		default:
			ch.OK, ch.Note = true, v.note
		}
		if ch.Err != nil {
			ch.Problem = ch.Err.Error()
		}
	}

	var errs []error
	for _, ch := range rep.Checks {
		if !ch.OK {
			errs = append(errs, fmt.Errorf("connector %q %s: %w", ch.Connector, ch.ConfigKey, ch.Err))
		}
	}
	if len(errs) > 0 {
		return rep, fmt.Errorf("vault preflight: %d of %d references failed: %w", len(errs), len(rep.Checks), errors.Join(errs...))
	}
	return rep, nil
}

// checkPath checks one path: that it is not a KV v2 secret without its
// data/ segment, its capability, then existence and keys for KV v2.
func (c *Client) checkPath(ctx context.Context, path string, caps []string, mounts *mountCache) *pathVerdict {
	p := apiPath(path)
	if _, _, _, isKV2 := vaultref.SplitKV2(path); !isKV2 {
		// Before the capability: a token granted secret/data/pricing/*
		// may not read secret/pricing/db, and "may not read" would hide
		// the mistake.
		if m, ok := c.mountOf(ctx, p, mounts); ok && m.kv2() {
			want := m.path + "data/" + strings.TrimPrefix(p, m.path) + strings.TrimPrefix(path, p)
			return &pathVerdict{err: &VaultError{Op: "check path", Path: p, sentinel: ErrInvalidRef,
				Errors: []string{fmt.Sprintf("%s is a KV v2 mount: the path should be %s", m.path, want)}}}
		}
	}
	if !canRead(caps) {
		have := strings.Join(caps, ", ")
		if have == "" {
			have = "none"
		}
		return &pathVerdict{err: &VaultError{Op: "capabilities", Path: p, sentinel: ErrPermissionDenied,
			Errors: []string{fmt.Sprintf("token may not read (capabilities: %s)", have)}}}
	}
	mount, rest, _, isKV2 := vaultref.SplitKV2(path)
	if !isKV2 {
		return &pathVerdict{note: "read capability checked; existence not checked for a path that is not KV v2"}
	}
	// Metadata tells a missing secret without reading it. A token may read
	// data without metadata: then the read below tells.
	if _, err := c.KV2Metadata(ctx, mount, rest); err != nil && !errors.Is(err, ErrPermissionDenied) {
		return &pathVerdict{err: err}
	}
	s, err := c.ReadPath(ctx, path)
	if err != nil {
		return &pathVerdict{err: err}
	}
	v := &pathVerdict{keys: make(map[string]bool, len(s.Data))}
	for k := range s.Data {
		v.keys[k] = true
	}
	return v
}

// mountInfo is what Vault says of the mount of a path.
type mountInfo struct {
	path    string // with its trailing slash: "secret/"
	typ     string // "kv", "database", ...
	version string // a KV mount's version, "1" or "2"
}

func (m mountInfo) kv2() bool { return m.typ == "kv" && m.version == "2" }

// mountCache holds the mounts one Preflight learned, so that the paths of
// one mount cost one request.
type mountCache struct{ known []mountInfo }

// mountOf returns the mount of the API path p (GET
// sys/internal/ui/mounts/<p>), or false when Vault does not say: an older
// server, or a token that may not look.
func (c *Client) mountOf(ctx context.Context, p string, cache *mountCache) (mountInfo, bool) {
	for _, m := range cache.known {
		if strings.HasPrefix(p+"/", m.path) {
			return m, true
		}
	}
	s, err := c.api.Logical().ReadWithContext(ctx, "sys/internal/ui/mounts/"+p)
	if err != nil || s == nil || s.Data == nil {
		c.log.Debug("vault mount not known; the path gets the capability check only", "path", p, "error", classify("read mount", p, err))
		return mountInfo{}, false
	}
	m := mountInfo{}
	m.path, _ = s.Data["path"].(string)
	m.typ, _ = s.Data["type"].(string)
	if opts, ok := s.Data["options"].(map[string]any); ok {
		m.version, _ = opts["version"].(string)
	}
	if m.path == "" || !strings.HasPrefix(p+"/", m.path) {
		return mountInfo{}, false
	}
	cache.known = append(cache.known, m)
	return m, true
}

// capabilities returns the token's capabilities on each path, with one
// request.
func (c *Client) capabilities(ctx context.Context, paths []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(paths) == 0 {
		return out, nil
	}
	s, err := c.api.Logical().WriteWithContext(ctx, "sys/capabilities-self", map[string]any{"paths": paths})
	if err != nil {
		return nil, classify("capabilities", "sys/capabilities-self", err)
	}
	if s == nil || s.Data == nil {
		return nil, &VaultError{Op: "capabilities", Path: "sys/capabilities-self", Errors: []string{"empty answer"}}
	}
	for _, p := range paths {
		raw, _ := s.Data[p].([]any)
		if raw == nil && len(paths) == 1 {
			// Older servers answer a single path under "capabilities".
			raw, _ = s.Data["capabilities"].([]any)
		}
		for _, x := range raw {
			if cp, ok := x.(string); ok {
				out[p] = append(out[p], cp)
			}
		}
	}
	return out, nil
}

// canRead reports whether capabilities allow a read.
func canRead(caps []string) bool {
	if slices.Contains(caps, "deny") {
		return false
	}
	return slices.Contains(caps, "read") || slices.Contains(caps, "root")
}

// apiPath strips a reference path's "?version=N".
func apiPath(path string) string {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		return path[:i]
	}
	return path
}
