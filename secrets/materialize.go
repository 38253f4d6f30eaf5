package secrets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/internal/vaultref"
)

// DirProvider is the config-provider name the Materializer writes
// placeholders for: Kafka's DirectoryConfigProvider, configured on the
// workers as config.providers.dir.class.
const DirProvider = "dir"

// Materializer delivers Vault secrets to a Kafka Connect worker's secrets
// folder, so that connector configs hold only ${dir:...} placeholders and
// Connect never stores a secret:
//
//	m, err := secrets.NewMaterializer(vault, "/etc/kafka/secrets", secrets.MaterializeRestarts(cc))
//	deployed, err := m.TranslateSpecs(specs) // ${vault:secret/data/pricing/db:password} -> ${dir:/etc/kafka/secrets/secret_data_pricing_db:password}
//	_, err = m.Sync(ctx, specs)              // writes /etc/kafka/secrets/secret_data_pricing_db/password
//	plan, err := cc.Plan(ctx, deployed, connect.PlanOptions{Namespace: "pricing-"})
//	_, err = cc.Apply(ctx, plan, connect.ApplyOptions{})
//	err = m.Run(ctx, specs) // on rotation: rewrite the files, restart the connectors
//
// Sync and Run take the specs as written, with their ${vault:...}
// references; Plan and Apply take the translated ones.
//
// The folder must be one the workers' DirectoryConfigProvider may read
// (its allowed.paths), at the same path for the workers as for this
// process: the worker runs on this machine, or shares the folder as a
// volume mounted at the same path.
//
// Only KV v2 secrets are materialized: their versions tell Run when to
// rewrite, where a KV v1 secret would have to be read in full at every
// poll and a dynamic secret's lease would expire in its file.
//
// A Materializer never deletes files: a file of a reference no connector
// uses any more stays until an operator removes it. It does not keep the
// Vault client's token alive: run the Client's Run beside it.
//
// A Materializer is safe for concurrent use by multiple goroutines; Sync
// and Run serialize their writes. Run must not be called twice at once.
type Materializer struct {
	vault    *Client
	dir      string
	restarts *connect.Client
	interval time.Duration
	log      *slog.Logger
	events   func(MaterializeEvent)

	mu       sync.Mutex     // guards versions and running; held while a secret's files are written
	versions map[string]int // the KV v2 version last written, by Vault path
	running  bool
}

type materializerConfig struct {
	restarts *connect.Client
	interval time.Duration
	logger   *slog.Logger
	events   func(MaterializeEvent)
}

func defaultMaterializerConfig() materializerConfig {
	return materializerConfig{interval: 30 * time.Second, logger: slog.New(slog.DiscardHandler)}
}

// MaterializerOpt configures a Materializer.
type MaterializerOpt interface{ applyMaterializer(*materializerConfig) }

type materializerOptFunc func(*materializerConfig)

func (f materializerOptFunc) applyMaterializer(c *materializerConfig) { f(c) }

// MaterializeRestarts sets the Connect client Run restarts connectors
// with. Run needs it; Sync and Translate do not. There is no default.
func MaterializeRestarts(c *connect.Client) MaterializerOpt {
	return materializerOptFunc(func(cfg *materializerConfig) { cfg.restarts = c })
}

// MaterializeInterval sets how often Run reads the metadata of every
// referenced secret, overriding the default 30s.
func MaterializeInterval(d time.Duration) MaterializerOpt {
	return materializerOptFunc(func(cfg *materializerConfig) { cfg.interval = d })
}

// MaterializeLogger sets the logger, overriding the default that
// discards. It must be safe for concurrent use. It gets paths, keys,
// versions and connector names, never a secret.
func MaterializeLogger(l *slog.Logger) MaterializerOpt {
	return materializerOptFunc(func(cfg *materializerConfig) { cfg.logger = l })
}

// MaterializeEvents sets a function called with every file write, restart
// and failure, for metrics or tests; by default there is none. It is
// called synchronously from Sync and Run, so it must be safe for
// concurrent use and fast, and it must not call the Materializer.
func MaterializeEvents(fn func(MaterializeEvent)) MaterializerOpt {
	return materializerOptFunc(func(cfg *materializerConfig) { cfg.events = fn })
}

// MaterializeEventKind says what a MaterializeEvent reports.
type MaterializeEventKind string

// The kinds of MaterializeEvent.
const (
	// MaterializeWritten: the files of Keys of Path were rewritten with
	// Version's content.
	MaterializeWritten MaterializeEventKind = "written"
	// MaterializeRestarted: Connector and its tasks were restarted
	// because the secrets at Paths changed.
	MaterializeRestarted MaterializeEventKind = "restarted"
	// MaterializeFailed: reading Path, writing its files, or restarting
	// Connector failed with Err; Run tries again at the next poll.
	MaterializeFailed MaterializeEventKind = "failed"
)

// MaterializeEvent is something a Materializer did. It holds no secret.
type MaterializeEvent struct {
	Kind MaterializeEventKind
	// Path is the Vault path of a write or failure; Paths the paths whose
	// change caused a restart.
	Path  string
	Paths []string
	// Keys are the keys whose files were written.
	Keys []string
	// Version is the KV v2 version written.
	Version int
	// Connector is the connector restarted, or whose restart failed.
	Connector string
	Err       error
}

// NewMaterializer returns a Materializer that reads secrets with vault and
// writes them under dir, an absolute path. It validates every option
// together, touches no file and starts no goroutine.
func NewMaterializer(vault *Client, dir string, opts ...MaterializerOpt) (*Materializer, error) {
	cfg := defaultMaterializerConfig()
	for _, o := range opts {
		if o != nil {
			o.applyMaterializer(&cfg)
		}
	}
	var errs []error
	if vault == nil {
		errs = append(errs, errors.New("nil vault client"))
	}
	clean := filepath.Clean(dir)
	switch {
	case dir == "":
		errs = append(errs, errors.New("empty secrets folder"))
	case !filepath.IsAbs(clean):
		// The worker's allowed.paths check compares absolute paths.
		errs = append(errs, fmt.Errorf("secrets folder %q: want an absolute path", dir))
	case clean == string(filepath.Separator):
		errs = append(errs, fmt.Errorf("secrets folder %q: want a folder of its own", dir))
	case strings.ContainsAny(clean, ":{}$") || strings.ContainsFunc(clean, isControl):
		// ':' ends the path of a ${dir:<path>:<key>} placeholder and '}'
		// the placeholder.
		errs = append(errs, fmt.Errorf("secrets folder %q: a placeholder path may not hold ':', '{', '}', '$' or control characters", dir))
	}
	if cfg.interval <= 0 {
		errs = append(errs, fmt.Errorf("interval %v: want more than 0", cfg.interval))
	}
	if cfg.logger == nil {
		errs = append(errs, errors.New("nil logger"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("new materializer: %w", errors.Join(errs...))
	}
	return &Materializer{
		vault: vault, dir: clean, restarts: cfg.restarts, interval: cfg.interval,
		log: cfg.logger, events: cfg.events, versions: map[string]int{},
	}, nil
}

// Dir returns the secrets folder.
func (m *Materializer) Dir() string { return m.dir }

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
	if _, err := FindRefs(config); err != nil {
		return nil, fmt.Errorf("translate: %w", err)
	}
	out := make(map[string]string, len(config))
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(config)) {
		out[k] = vaultref.Pattern.ReplaceAllStringFunc(config[k], func(match string) string {
			r, err := ParseRef(match)
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
func (m *Materializer) placeholder(r Ref) string {
	// A placeholder names the worker's path, which is a slash path.
	return "${" + DirProvider + ":" + m.dir + "/" + folderName(r.Path) + ":" + r.Key + "}"
}

// maxName is the longest file name Linux and macOS file systems allow.
const maxName = 255

// materializable reports why r cannot be written to a file, if it cannot.
func materializable(r Ref) error {
	if _, _, _, ok := vaultref.SplitKV2(r.Path); !ok {
		return fmt.Errorf("%w: %s: the materializer reads KV v2 secrets only (<mount>/data/<path>)", ErrInvalidRef, r.Path)
	}
	if n := len(folderName(r.Path)); n > maxName {
		return fmt.Errorf("%w: %s: path too long for a folder name (%d bytes encoded, at most %d)", ErrInvalidRef, r.Path, n, maxName)
	}
	k := r.Key
	switch {
	case k == "", k == ".", k == "..", strings.HasPrefix(k, "."), strings.ContainsAny(k, "/\x00"), len(k) > maxName:
		return fmt.Errorf("%w: %s: key %q is not a file name (empty, '.', '..', a leading '.', '/' or NUL, or longer than %d bytes)",
			ErrInvalidRef, r.Path, k, maxName)
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

// watchList is the references of a set of connectors, by Vault path.
type watchList struct {
	paths []string                    // sorted
	keys  map[string][]string         // path -> its referenced keys, sorted
	users map[string]map[string][]Ref // path -> connector -> its refs of path
}

// collect gathers the references of specs, and fails on any that cannot
// be materialized, and on translated specs, which would sync nothing.
func (m *Materializer) collect(specs []connect.Spec) (*watchList, error) {
	w := &watchList{keys: map[string][]string{}, users: map[string]map[string][]Ref{}}
	var errs []error
	for _, s := range specs {
		for _, k := range slices.Sorted(maps.Keys(s.Config)) {
			if m.translated(s.Config[k]) {
				errs = append(errs, fmt.Errorf("connector %q: %s: a translated placeholder: give Sync and Run the specs with their ${vault:...} references", s.Name, k))
			}
		}
		refs, err := FindRefs(s.Config)
		if err != nil {
			errs = append(errs, fmt.Errorf("connector %q: %w", s.Name, err))
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(refs)) {
			for _, r := range refs[k] {
				if err := materializable(r); err != nil {
					errs = append(errs, fmt.Errorf("connector %q: %s: %w", s.Name, k, err))
					continue
				}
				if w.users[r.Path] == nil {
					w.users[r.Path] = map[string][]Ref{}
					w.paths = append(w.paths, r.Path)
				}
				if !slices.Contains(w.keys[r.Path], r.Key) {
					w.keys[r.Path] = append(w.keys[r.Path], r.Key)
				}
				if !slices.Contains(w.users[r.Path][s.Name], r) {
					w.users[r.Path][s.Name] = append(w.users[r.Path][s.Name], r)
				}
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Strings(w.paths)
	for _, ks := range w.keys {
		sort.Strings(ks)
	}
	return w, nil
}

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

// Sync writes every secret the specs' ${vault:...} references name (the
// specs as written, not translated: a translated spec is an error) to the
// secrets folder: key <key> of <path> goes to
// <folder>/<encoded path>/<key>, holding the value's bytes exactly, mode
// 0600 in a folder of mode 0700. Each path is read once, and its files
// are written only after every referenced key was found. A file whose
// content is already right is not written; one that changes is replaced
// atomically (a temporary file in the same folder, fsync, rename), so the
// worker reads the old value or the new one, never a mix.
//
// Sync returns, for each connector, its references whose file changed:
// those connectors run with stale values until they restart, which Sync
// does not do (Run does, and a first Apply starts them with the new
// files). On partial failure it returns what changed along with one error
// listing each path that failed; those paths keep their files. Errors name
// paths and keys, never a value.
func (m *Materializer) Sync(ctx context.Context, specs []connect.Spec) (map[string][]Ref, error) {
	w, err := m.collect(specs)
	if err != nil {
		return nil, fmt.Errorf("sync: %w", err)
	}
	changed, err := m.sync(ctx, w, w.paths)
	if err != nil {
		return changed, fmt.Errorf("sync: %w", err)
	}
	return changed, nil
}

// sync writes paths of w and returns the refs that changed by connector.
func (m *Materializer) sync(ctx context.Context, w *watchList, paths []string) (map[string][]Ref, error) {
	changed := map[string][]Ref{}
	var errs []error
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		written, version, err := m.syncPath(ctx, p, w.keys[p])
		if err != nil {
			m.log.Warn("vault secret not materialized; its files keep their content", "path", p, "error", err)
			m.emit(MaterializeEvent{Kind: MaterializeFailed, Path: p, Err: err})
			errs = append(errs, err)
		}
		switch {
		case len(written) > 0:
			// Even when a later key failed: the keys written changed.
			m.log.Info("vault secret materialized", "path", p, "keys", written, "version", version)
			m.emit(MaterializeEvent{Kind: MaterializeWritten, Path: p, Keys: written, Version: version})
		case err == nil:
			m.log.Debug("vault secret unchanged", "path", p, "version", version)
		}
		for _, name := range slices.Sorted(maps.Keys(w.users[p])) {
			for _, r := range w.users[p][name] {
				if slices.Contains(written, r.Key) {
					changed[name] = append(changed[name], r)
				}
			}
		}
	}
	return changed, errors.Join(errs...)
}

// syncPath reads the secret at path once and writes the keys whose file
// differs. It returns the keys written and the version read.
func (m *Materializer) syncPath(ctx context.Context, path string, keys []string) (written []string, version int, err error) {
	// One writer at a time: two Syncs of one path must not interleave a
	// stale read with a fresh write.
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.vault.ReadPath(ctx, path)
	if err != nil {
		return nil, 0, err
	}
	var missing []string
	for _, k := range keys {
		if _, ok := s.Data[k]; !ok {
			missing = append(missing, fmt.Sprintf("no key %q", k))
		}
	}
	if len(missing) > 0 {
		// Writing the keys that are there could pair a new user with an
		// old password; write none.
		return nil, 0, &VaultError{Op: "read", Path: s.Path, StatusCode: 404, sentinel: ErrNotFound, Errors: missing}
	}
	folder := filepath.Join(m.dir, folderName(path))
	if err := ensureFolder(m.dir, folder); err != nil {
		return nil, 0, fmt.Errorf("materialize %s: %w", path, err)
	}
	for _, k := range keys {
		ok, err := writeIfChanged(folder, k, []byte(s.Data[k].Reveal()))
		if err != nil {
			return written, s.Version, fmt.Errorf("materialize %s key %q: %w", path, k, err)
		}
		if ok {
			written = append(written, k)
		}
	}
	m.versions[path] = s.Version
	return written, s.Version, nil
}

// ensureFolder creates root and folder, and makes folder mode 0700.
func ensureFolder(root, folder string) error {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return err
	}
	if err := os.Mkdir(folder, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	fi, err := os.Lstat(folder)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: not a folder", folder)
	}
	if fi.Mode().Perm() != 0o700 {
		return os.Chmod(folder, 0o700)
	}
	return nil
}

// writeIfChanged makes folder/name hold content with mode 0600, and
// reports whether it had to write it.
func writeIfChanged(folder, name string, content []byte) (bool, error) {
	file := filepath.Join(folder, name)
	old, err := os.ReadFile(file)
	switch {
	case err == nil && bytes.Equal(old, content):
		fi, err := os.Stat(file)
		if err == nil && fi.Mode().Perm() != 0o600 {
			err = os.Chmod(file, 0o600)
		}
		return false, err
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return false, err
	}
	// CreateTemp makes the file 0600. Its name starts with '.', which no
	// key may, so it never shadows a key, and the worker's provider reads
	// only the keys it is asked for.
	tmp, err := os.CreateTemp(folder, ".tmp-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	_, err = tmp.Write(content)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		return false, err
	}
	// The rename is durable once the folder is synced.
	if d, err := os.Open(folder); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return true, nil
}

// Run keeps the files of the specs' references up to date until ctx ends,
// then returns nil. It needs MaterializeRestarts.
//
// At once and then every interval (MaterializeInterval), Run reads the KV
// v2 metadata of every referenced path, which needs the "read" capability
// on <mount>/metadata/<path> but never reads a secret. Only a path whose
// current version differs from the one last written (or that no Sync has
// written yet) is read and written again, as Sync does; then each
// connector whose files changed is restarted with its tasks (POST
// /connectors/{name}/restart?includeTasks=true), so its config providers
// read the new files. A poll where nothing changed restarts nothing, and
// a new version that leaves the referenced keys as they were restarts
// nothing either. A path pinned to a version ("?version=N") is written
// once and not polled.
//
// Failures never end Run: a Vault error (403, 5xx, unreachable) is logged
// with its path and tried again at the next poll while the files keep
// their last good content; a failed restart is tried again at the next
// poll; a connector that does not exist (404) is not restarted, since it
// reads the current files when it is created. A spec whose references
// cannot be materialized is an error before Run starts. Run returns
// ErrRunning while another Run of the Materializer has not returned.
func (m *Materializer) Run(ctx context.Context, specs []connect.Spec) error {
	if m.restarts == nil {
		return errors.New("materializer run: no connect client to restart connectors with: use MaterializeRestarts")
	}
	w, err := m.collect(specs)
	if err != nil {
		return fmt.Errorf("materializer run: %w", err)
	}
	m.mu.Lock()
	if m.running {
		m.mu.Unlock()
		return ErrRunning
	}
	m.running = true
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.running = false
		m.mu.Unlock()
	}()

	owed := map[string][]string{} // connector -> the paths that changed under it
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		m.poll(ctx, w, owed)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// poll is one round of Run: it rewrites the paths whose version changed,
// and restarts the connectors owed a restart.
func (m *Materializer) poll(ctx context.Context, w *watchList, owed map[string][]string) {
	var due []string
	for _, p := range w.paths {
		if ctx.Err() != nil {
			return
		}
		mount, rest, pinned, _ := vaultref.SplitKV2(p)
		m.mu.Lock()
		known, ok := m.versions[p]
		m.mu.Unlock()
		switch {
		case !ok:
			due = append(due, p)
		case pinned > 0:
		default:
			md, err := m.vault.KV2Metadata(ctx, mount, rest)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				m.log.Warn("vault secret metadata not read; retrying at the next poll", "path", p, "error", err)
				m.emit(MaterializeEvent{Kind: MaterializeFailed, Path: p, Err: err})
				continue
			}
			if md.CurrentVersion != known {
				m.log.Info("vault secret has a new version", "path", p, "version", md.CurrentVersion, "was", known)
				due = append(due, p)
			}
		}
	}
	if len(due) > 0 {
		// sync logs and reports its own failures.
		changed, _ := m.sync(ctx, w, due)
		for name, refs := range changed {
			for _, r := range refs {
				if !slices.Contains(owed[name], r.Path) {
					owed[name] = append(owed[name], r.Path)
				}
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(owed)) {
		if ctx.Err() != nil {
			return
		}
		paths := owed[name]
		_, err := m.restarts.Restart(ctx, name, connect.RestartOptions{IncludeTasks: true})
		switch {
		case err == nil:
			delete(owed, name)
			m.log.Info("connector restarted to read rotated secrets", "connector", name, "paths", paths)
			m.emit(MaterializeEvent{Kind: MaterializeRestarted, Connector: name, Paths: paths})
		case errors.Is(err, connect.ErrNotFound):
			delete(owed, name)
			m.log.Info("connector not deployed; it reads the rotated secrets when created", "connector", name, "paths", paths)
		case ctx.Err() != nil:
			return
		default:
			m.log.Warn("connector restart failed; retrying at the next poll", "connector", name, "paths", paths, "error", err)
			m.emit(MaterializeEvent{Kind: MaterializeFailed, Connector: name, Paths: paths, Err: err})
		}
	}
}

func (m *Materializer) emit(e MaterializeEvent) {
	if m.events != nil {
		m.events(e)
	}
}
