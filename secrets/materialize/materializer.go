package materialize

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/internal/runloop"
	"github.com/streamkit/streamkit/secrets"
)

// Materializer keeps a Kafka Connect worker's secrets folder in step with
// Vault (see the package doc).
//
// The folder must be one the workers' DirectoryConfigProvider may read
// (its allowed.paths), at the same path for the workers as for this
// process: the worker runs on this machine, or shares the folder as a
// volume mounted at the same path.
//
// A Materializer is safe for concurrent use by multiple goroutines; Sync
// and Run serialize their writes. Only one Run may be active at a time.
type Materializer struct {
	vault    *secrets.Client
	connect  *connect.Client
	dir      string
	interval time.Duration
	log      *slog.Logger
	events   func(Event)
	prefixes []string // Discover's namespaces; none is all

	run      runloop.Guard
	mu       sync.Mutex     // guards versions; held while a secret's files are written
	versions map[string]int // the KV v2 version last written, by Vault path
	// written is when the version last written was written in Vault, by
	// path: a version of that number written at another time is a secret
	// deleted and written again, whose versions started over at 1.
	written map[string]time.Time
	// seen are the SHA-256 sums of the values last read, by path and
	// key: a value that changed is reported changed even when another
	// writer of a shared folder put its file in place first.
	seen map[string][sha256.Size]byte
}

// New returns a Materializer that reads secrets with vault, writes them
// under dir, an absolute path, and restarts connectors with cc when Run
// rewrites their files. vault and cc are required. New validates them and
// every option together, touches no file and starts no goroutine: Run
// works in its caller's.
func New(vault *secrets.Client, cc *connect.Client, dir string, opts ...Opt) (*Materializer, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	var errs []error
	if vault == nil {
		errs = append(errs, errors.New("nil vault client"))
	}
	if cc == nil {
		errs = append(errs, errors.New("nil connect client"))
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
		vault: vault, connect: cc, dir: clean, interval: cfg.interval,
		log: cfg.logger, events: cfg.events, prefixes: cfg.prefixes, versions: map[string]int{}, written: map[string]time.Time{}, seen: map[string][sha256.Size]byte{},
	}, nil
}

// Dir returns the secrets folder.
func (m *Materializer) Dir() string { return m.dir }

// Format prints the materializer as its folder and interval, for every
// verb: its state changes under Run while fmt would read it.
func (m *Materializer) Format(f fmt.State, _ rune) {
	if m == nil {
		_, _ = io.WriteString(f, "materialize.Materializer(nil)")
		return
	}
	_, _ = fmt.Fprintf(f, "materialize.Materializer{dir: %s, interval: %s}", m.dir, m.interval)
}

var _ fmt.Formatter = (*Materializer)(nil)
