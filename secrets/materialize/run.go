package materialize

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/internal/runloop"
	"github.com/streamkit/streamkit/internal/vaultref"
)

// Run keeps the files of the specs' references up to date until ctx ends,
// then returns nil.
//
// At once and then every interval (WithInterval), Run reads the KV
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
	w, err := m.collect(specs)
	if err != nil {
		return fmt.Errorf("materializer run: %w", err)
	}
	leave, err := m.run.Enter()
	if err != nil {
		return err
	}
	defer leave()
	owed := map[string][]string{} // connector -> the paths that changed under it
	return runloop.Every(ctx, m.interval, func(ctx context.Context) { m.poll(ctx, w, owed) })
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
				m.emit(Event{Kind: Failed, Path: p, Err: err})
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
		_, err := m.connect.Restart(ctx, name, connect.RestartOptions{IncludeTasks: true})
		switch {
		case err == nil:
			delete(owed, name)
			m.log.Info("connector restarted to read rotated secrets", "connector", name, "paths", paths)
			m.emit(Event{Kind: Restarted, Connector: name, Paths: paths})
		case errors.Is(err, connect.ErrNotFound):
			delete(owed, name)
			m.log.Info("connector not deployed; it reads the rotated secrets when created", "connector", name, "paths", paths)
		case ctx.Err() != nil:
			return
		default:
			m.log.Warn("connector restart failed; retrying at the next poll", "connector", name, "paths", paths, "error", err)
			m.emit(Event{Kind: Failed, Connector: name, Paths: paths, Err: err})
		}
	}
}
