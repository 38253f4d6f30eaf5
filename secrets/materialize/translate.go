package materialize

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/internal/vaultref"
	"github.com/streamkit/streamkit/secrets"
)

// DirProvider is the config-provider name the Materializer writes
// placeholders for: Kafka's DirectoryConfigProvider, configured on the
// workers as config.providers.dir.class.
const DirProvider = "dir"

// Translate returns a copy of config with every ${vault:<path>:<key>}
// replaced by ${dir:<folder>/<encoded path>:<key>}, the file Sync writes
// the key to. A reference inside a longer value ("jdbc:...${vault:...}")
// is translated in place: Kafka's ConfigTransformer resolves placeholders
// anywhere in a value. Other text, and placeholders of other providers,
// stay as they are.
//
// The translation is a pure function of the folder and the reference, so
// the same config always gives the same placeholders and a connect plan
// stays empty from one deploy to the next. Different paths always get
// different folders (see Sync for the encoding).
//
// A reference that cannot be materialized is an error naming its key: a
// path that is not KV v2 (<mount>/data/<path>), or a key that is not a
// file name (empty, ".", "..", holding '/' or NUL, or starting with '.',
// which Sync keeps for its temporary files).
func (m *Materializer) Translate(config map[string]string) (map[string]string, error) {
	if _, err := secrets.FindRefs(config); err != nil {
		return nil, fmt.Errorf("translate: %w", err)
	}
	out := make(map[string]string, len(config))
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(config)) {
		out[k] = vaultref.Pattern.ReplaceAllStringFunc(config[k], func(match string) string {
			r, err := secrets.ParseRef(match)
			if err == nil {
				err = materializable(r)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", k, err))
				return match
			}
			return m.placeholder(r)
		})
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("translate: %w", errors.Join(errs...))
	}
	return out, nil
}

// TranslateSpecs returns a copy of specs with each config translated as
// Translate does: the specs to plan and apply. Keep the untranslated ones
// for Sync and Run, which read the ${vault:...} references.
func (m *Materializer) TranslateSpecs(specs []connect.Spec) ([]connect.Spec, error) {
	out := make([]connect.Spec, len(specs))
	var errs []error
	for i, s := range specs {
		cfg, err := m.Translate(s.Config)
		if err != nil {
			errs = append(errs, fmt.Errorf("connector %q: %w", s.Name, err))
		}
		s.Config = cfg
		out[i] = s
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// placeholder returns the ${dir:...} placeholder of a materializable ref.
func (m *Materializer) placeholder(r secrets.Ref) string {
	// A placeholder names the worker's path, which is a slash path.
	return "${" + DirProvider + ":" + m.dir + "/" + folderName(r.Path) + ":" + r.Key + "}"
}

// maxName is the longest file name Linux and macOS file systems allow.
const maxName = 255

// materializable reports why r cannot be written to a file, if it cannot.
func materializable(r secrets.Ref) error {
	if _, _, _, ok := vaultref.SplitKV2(r.Path); !ok {
		return fmt.Errorf("%w: %s: the materializer reads KV v2 secrets only (<mount>/data/<path>)", secrets.ErrInvalidRef, r.Path)
	}
	if n := len(folderName(r.Path)); n > maxName {
		return fmt.Errorf("%w: %s: path too long for a folder name (%d bytes encoded, at most %d)", secrets.ErrInvalidRef, r.Path, n, maxName)
	}
	k := r.Key
	switch {
	case k == "", k == ".", k == "..", strings.HasPrefix(k, "."), strings.ContainsAny(k, "/\x00"), len(k) > maxName:
		return fmt.Errorf("%w: %s: key %q is not a file name (empty, '.', '..', a leading '.', '/' or NUL, or longer than %d bytes)",
			secrets.ErrInvalidRef, r.Path, k, maxName)
	}
	return nil
}

// folderName encodes a Vault path as one file name, injectively: '/'
// becomes '_'; ASCII letters, digits, '-' and '.' stay, but for a leading
// '.'; every other byte becomes %XX (so '_' becomes %5F, '%' %25). A
// name decodes unambiguously, so two paths never share a folder, and it
// never holds '/' nor is "." or "..".
func folderName(path string) string {
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case c == '/':
			b.WriteByte('_')
		case c == '.' && i > 0, c == '-',
			'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// dirPattern matches a ${dir:<path>:<key>} placeholder as Kafka's
// ConfigTransformer reads it.
var dirPattern = regexp.MustCompile(`\$\{` + DirProvider + `:([^:}]*):([^}]*)\}`)

// translated reports whether v holds a placeholder Translate would write:
// one in the Materializer's folder whose folder name is the encoding of a
// KV v2 path. A placeholder of a folder someone else keeps there (say,
// "tls") is not one.
func (m *Materializer) translated(v string) bool {
	for _, sm := range dirPattern.FindAllStringSubmatch(v, -1) {
		dir, name := path.Split(sm[1])
		if dir != m.dir+"/" {
			continue
		}
		if p, ok := decodeFolderName(name); ok {
			if _, _, _, kv2 := vaultref.SplitKV2(p); kv2 {
				return true
			}
		}
	}
	return false
}

// decodeFolderName inverts folderName, and fails on a name folderName
// does not produce.
func decodeFolderName(name string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		switch c := name[i]; c {
		case '_':
			b.WriteByte('/')
		case '%':
			if i+2 >= len(name) {
				return "", false
			}
			n, err := strconv.ParseUint(name[i+1:i+3], 16, 8)
			if err != nil {
				return "", false
			}
			b.WriteByte(byte(n))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	p := b.String()
	return p, folderName(p) == name
}
