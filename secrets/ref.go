package secrets

import (
	"fmt"
	"regexp"
	"strings"
)

// Ref is a reference to one key of a secret, in Kafka's config-provider
// grammar: ${vault:<path>:<key>}, e.g. ${vault:secret/data/pricing/db:password}.
// For a KV v2 mount the path holds "data" after the mount, as Vault's API
// does; a version may follow the key as "?version=N" in the path.
type Ref struct {
	// Path is the Vault API path, e.g. secret/data/pricing/db.
	Path string
	// Key is the key within the secret's data.
	Key string
}

// Provider is the config-provider name of Vault references.
const Provider = "vault"

var refPattern = regexp.MustCompile(`\$\{vault:([^:}]+):([^:}]+)\}`)

// String returns the reference as written: ${vault:path:key}.
func (r Ref) String() string { return "${" + Provider + ":" + r.Path + ":" + r.Key + "}" }

// ParseRef parses a value that is exactly one reference.
func ParseRef(s string) (Ref, error) {
	m := refPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || m[0] != strings.TrimSpace(s) {
		return Ref{}, fmt.Errorf("%w: %q: want ${vault:<path>:<key>}", ErrInvalidRef, s)
	}
	r := Ref{Path: strings.Trim(m[1], "/"), Key: m[2]}
	if r.Path == "" || strings.Contains(r.Path, "//") || strings.Contains(r.Path, "..") {
		return Ref{}, fmt.Errorf("%w: %q: bad path", ErrInvalidRef, s)
	}
	return r, nil
}

// FindRefs returns every reference in a config, by key, in the order they
// appear in each value. A malformed ${vault:...} is an error naming its key.
func FindRefs(config map[string]string) (map[string][]Ref, error) {
	out := map[string][]Ref{}
	var errs []string
	for k, v := range config {
		for _, m := range refPattern.FindAllString(v, -1) {
			r, err := ParseRef(m)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", k, err))
				continue
			}
			out[k] = append(out[k], r)
		}
		if strings.Contains(v, "${vault:") && len(refPattern.FindAllString(v, -1)) != strings.Count(v, "${vault:") {
			errs = append(errs, fmt.Sprintf("%s: malformed ${vault:...} reference", k))
		}
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("%w: %s", ErrInvalidRef, strings.Join(errs, "; "))
	}
	return out, nil
}
