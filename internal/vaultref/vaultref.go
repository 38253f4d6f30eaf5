// Package vaultref is the grammar of streamkit's Vault references,
// ${vault:<path>:<key>} in Kafka's config-provider syntax, and the split
// of a KV v2 path into its mount, path and version. It reads no secret
// and imports no Vault client: secrets, secrets/materialize and validate
// share it, and validate needs nothing more than the parser.
//
// secrets re-exports it as secrets.Ref, secrets.ParseRef and
// secrets.FindRefs; its types appear in no exported signature.
package vaultref

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Provider is the config-provider name of Vault references.
const Provider = "vault"

// ErrInvalid is returned for a ${vault:...} reference that does not
// parse. secrets.ErrInvalidRef is this value.
var ErrInvalid = errors.New("invalid vault reference")

// Pattern matches one well-formed reference; its groups are the path and
// the key.
var Pattern = regexp.MustCompile(`\$\{vault:([^:}]+):([^:}]+)\}`)

// Ref is a reference to one key of a secret.
type Ref struct {
	// Path is the Vault API path, e.g. secret/data/pricing/db, with an
	// optional "?version=N".
	Path string
	// Key is the key within the secret's data.
	Key string
}

// String returns the reference as written: ${vault:path:key}.
func (r Ref) String() string { return "${" + Provider + ":" + r.Path + ":" + r.Key + "}" }

// Parse parses a value that is exactly one reference.
func Parse(s string) (Ref, error) {
	m := Pattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || m[0] != strings.TrimSpace(s) {
		return Ref{}, fmt.Errorf("%w: %q: want ${vault:<path>:<key>}", ErrInvalid, s)
	}
	r := Ref{Path: strings.Trim(m[1], "/"), Key: m[2]}
	if r.Path == "" || strings.Contains(r.Path, "//") || strings.Contains(r.Path, "..") {
		return Ref{}, fmt.Errorf("%w: %q: bad path", ErrInvalid, s)
	}
	return r, nil
}

// Find returns every reference in a config, by key, in the order they
// appear in each value. A malformed ${vault:...} is an error naming its
// key; the references that parsed are returned with it.
func Find(config map[string]string) (map[string][]Ref, error) {
	out := map[string][]Ref{}
	var errs []string
	for k, v := range config {
		for _, m := range Pattern.FindAllString(v, -1) {
			r, err := Parse(m)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", k, err))
				continue
			}
			out[k] = append(out[k], r)
		}
		if strings.Contains(v, "${vault:") && len(Pattern.FindAllString(v, -1)) != strings.Count(v, "${vault:") {
			errs = append(errs, fmt.Sprintf("%s: malformed ${vault:...} reference", k))
		}
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("%w: %s", ErrInvalid, strings.Join(errs, "; "))
	}
	return out, nil
}

// SplitKV2 splits "secret/data/pricing/db?version=3" into its mount
// ("secret"), path in the mount ("pricing/db") and version (3, or 0 for
// the latest). ok is false for a path without "data" as its second
// segment, which is not a KV v2 path; rest is then the path without its
// query.
func SplitKV2(path string) (mount, rest string, version int, ok bool) {
	if i := strings.Index(path, "?"); i >= 0 {
		q, err := url.ParseQuery(path[i+1:])
		if err == nil {
			version, _ = strconv.Atoi(q.Get("version"))
		}
		path = path[:i]
	}
	parts := strings.SplitN(strings.Trim(path, "/"), "/", 3)
	if len(parts) == 3 && parts[1] == "data" {
		return parts[0], parts[2], version, true
	}
	return "", path, version, false
}
