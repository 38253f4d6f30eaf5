package secrets

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/streamkit/streamkit/internal/vaultref"
)

// Secret is the data of one secret, every value a Value.
type Secret struct {
	Path string
	Data map[string]Value
	// Version is the KV v2 version read, 0 for KV v1 and other engines.
	Version int
	// VersionTime is when that KV v2 version was written, zero for other
	// engines.
	VersionTime time.Time
	// LeaseID, LeaseDuration and Renewable describe a leased (dynamic)
	// secret.
	LeaseID       string
	LeaseDuration time.Duration
	Renewable     bool
}

// ReadKV2 reads a KV v2 secret at mount and path (e.g. "secret",
// "pricing/db"): the latest version, or version when it is above 0.
func (c *Client) ReadKV2(ctx context.Context, mount, path string, version int) (*Secret, error) {
	apiPath := strings.Trim(mount, "/") + "/data/" + strings.Trim(path, "/")
	var q map[string][]string
	if version > 0 {
		q = map[string][]string{"version": {strconv.Itoa(version)}}
	}
	s, err := c.api.Logical().ReadWithDataWithContext(ctx, apiPath, q)
	if err != nil {
		return nil, classify("read", apiPath, err)
	}
	if s == nil || s.Data == nil {
		return nil, &VaultError{Op: "read", Path: apiPath, StatusCode: 404, sentinel: ErrNotFound, Errors: []string{"no secret"}}
	}
	data, _ := s.Data["data"].(map[string]any)
	if data == nil {
		// A deleted or destroyed version answers with data null.
		return nil, &VaultError{Op: "read", Path: apiPath, StatusCode: 404, sentinel: ErrNotFound, Errors: []string{"version deleted"}}
	}
	out := &Secret{Path: apiPath, Data: values(data)}
	if md, ok := s.Data["metadata"].(map[string]any); ok {
		out.Version = intOf(md["version"])
		out.VersionTime = timeOf(md["created_time"])
	}
	return out, nil
}

// ReadKV1 reads a KV v1 secret (or any engine that answers a read with its
// data at the top level).
func (c *Client) ReadKV1(ctx context.Context, mount, path string) (*Secret, error) {
	return c.read(ctx, strings.Trim(mount, "/")+"/"+strings.Trim(path, "/"))
}

func (c *Client) read(ctx context.Context, apiPath string) (*Secret, error) {
	s, err := c.api.Logical().ReadWithContext(ctx, apiPath)
	if err != nil {
		return nil, classify("read", apiPath, err)
	}
	if s == nil || s.Data == nil {
		return nil, &VaultError{Op: "read", Path: apiPath, StatusCode: 404, sentinel: ErrNotFound, Errors: []string{"no secret"}}
	}
	return &Secret{Path: apiPath, Data: values(s.Data), LeaseID: s.LeaseID,
		LeaseDuration: time.Duration(s.LeaseDuration) * time.Second, Renewable: s.Renewable}, nil
}

// Read reads the secret a reference names and returns its key. A path with
// "/data/" as its second segment is read as KV v2 (a "?version=N" suffix
// picks a version); any other path as KV v1 or a dynamic engine.
func (c *Client) Read(ctx context.Context, ref Ref) (Value, error) {
	s, err := c.ReadPath(ctx, ref.Path)
	if err != nil {
		return Value{}, err
	}
	if err := s.Require(ref.Key); err != nil {
		return Value{}, err
	}
	return s.Data[ref.Key], nil
}

// Require returns a *VaultError matching ErrNotFound that names every one
// of keys the secret does not hold, and nil when it holds them all: a
// check before using several keys of one read together, such as a user
// and its password.
func (s *Secret) Require(keys ...string) error {
	var missing []string
	for _, k := range keys {
		if _, ok := s.Data[k]; !ok {
			missing = append(missing, fmt.Sprintf("no key %q", k))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &VaultError{Op: "read", Path: s.Path, StatusCode: 404, sentinel: ErrNotFound, Errors: missing}
}

// ReadPath reads the secret at a reference's path.
func (c *Client) ReadPath(ctx context.Context, path string) (*Secret, error) {
	mount, rest, version, isKV2 := vaultref.SplitKV2(path)
	if isKV2 {
		return c.ReadKV2(ctx, mount, rest, version)
	}
	return c.read(ctx, path)
}

// Resolve returns a copy of config with every ${vault:...} reference
// replaced by the secret it names, for a client-side config held in
// memory (never for a connector config, which Connect stores and returns:
// see package secrets/materialize). Each secret path is read once.
func (c *Client) Resolve(ctx context.Context, config map[string]string) (map[string]string, error) {
	refs, err := FindRefs(config)
	if err != nil {
		return nil, err
	}
	secrets := map[string]*Secret{}
	out := make(map[string]string, len(config))
	for k, v := range config {
		out[k] = v
	}
	for k, rs := range refs {
		vals := make([]string, len(rs))
		for i, r := range rs {
			s, ok := secrets[r.Path]
			if !ok {
				if s, err = c.ReadPath(ctx, r.Path); err != nil {
					return nil, fmt.Errorf("resolve %s: %w", k, err)
				}
				secrets[r.Path] = s
			}
			val, ok := s.Data[r.Key]
			if !ok {
				return nil, fmt.Errorf("resolve %s: %w", k, &VaultError{Op: "read", Path: r.Path, StatusCode: 404,
					sentinel: ErrNotFound, Errors: []string{fmt.Sprintf("no key %q", r.Key)}})
			}
			vals[i] = val.Reveal()
		}
		// Replace the references as written (r.String() is normalized:
		// a leading "/" is gone), in one pass over the original value so
		// a secret that looks like a reference is not replaced again.
		i := 0
		out[k] = vaultref.Pattern.ReplaceAllStringFunc(config[k], func(string) string {
			i++
			return vals[i-1]
		})
	}
	return out, nil
}

// Metadata is a KV v2 secret's version information, read without its data.
type Metadata struct {
	CurrentVersion int
	// CurrentVersionTime is when the current version was written: a
	// secret deleted with its metadata and written again (its versions
	// start over at 1), or restored from an older backup, may have a
	// version of the same number as before, but not of the same time.
	CurrentVersionTime time.Time
	// UpdatedTime is when the secret or its metadata was last written.
	UpdatedTime time.Time
}

// KV2Metadata reads a KV v2 secret's metadata, which needs no read
// permission on the data itself.
func (c *Client) KV2Metadata(ctx context.Context, mount, path string) (Metadata, error) {
	apiPath := strings.Trim(mount, "/") + "/metadata/" + strings.Trim(path, "/")
	s, err := c.api.Logical().ReadWithContext(ctx, apiPath)
	if err != nil {
		return Metadata{}, classify("read metadata", apiPath, err)
	}
	if s == nil || s.Data == nil {
		return Metadata{}, &VaultError{Op: "read metadata", Path: apiPath, StatusCode: 404, sentinel: ErrNotFound, Errors: []string{"no secret"}}
	}
	md := Metadata{CurrentVersion: intOf(s.Data["current_version"]), UpdatedTime: timeOf(s.Data["updated_time"])}
	if vs, ok := s.Data["versions"].(map[string]any); ok {
		if v, ok := vs[strconv.Itoa(md.CurrentVersion)].(map[string]any); ok {
			md.CurrentVersionTime = timeOf(v["created_time"])
		}
	}
	return md, nil
}

// timeOf parses one of Vault's RFC 3339 times; zero when v is none.
func timeOf(v any) time.Time {
	s, _ := v.(string)
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func values(m map[string]any) map[string]Value {
	out := make(map[string]Value, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case string:
			out[k] = NewValue(x)
		default:
			b, _ := json.Marshal(x)
			out[k] = NewValue(string(b))
		}
	}
	return out
}

func intOf(v any) int {
	switch x := v.(type) {
	case json.Number:
		n, _ := x.Int64()
		return int(n)
	case float64:
		return int(x)
	case int:
		return x
	}
	return 0
}
