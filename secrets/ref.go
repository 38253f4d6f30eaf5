package secrets

import "github.com/streamkit/streamkit/internal/vaultref"

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
const Provider = vaultref.Provider

// String returns the reference as written: ${vault:path:key}.
func (r Ref) String() string { return vaultref.Ref(r).String() }

// ParseRef parses a value that is exactly one reference.
func ParseRef(s string) (Ref, error) {
	r, err := vaultref.Parse(s)
	return Ref(r), err
}

// FindRefs returns every reference in a config, by key, in the order they
// appear in each value. A malformed ${vault:...} is an error naming its key.
func FindRefs(config map[string]string) (map[string][]Ref, error) {
	found, err := vaultref.Find(config)
	out := make(map[string][]Ref, len(found))
	for k, rs := range found {
		refs := make([]Ref, len(rs))
		for i, r := range rs {
			refs[i] = Ref(r)
		}
		out[k] = refs
	}
	return out, err
}
