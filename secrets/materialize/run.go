package materialize

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

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
// nothing either. A secret deleted with its metadata and written again
// (its versions start over at 1, each written at a new time), as after a
// restore of Vault, is read again too. A path pinned to a version ("?version=N") is written
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
	return runloop.Every(ctx, m.interval, func(ctx context.Context) { m.poll(ctx, w, owed, nil, false) })
}

// Watch is Run for the agent of a connector node, which is told nothing:
// at once and then every interval it finds the connectors to watch on the
// workers themselves (Discover), keeps their secrets' files up to date as
// Run does, and restarts a connector whose secrets changed only while
// leader reports true. Every node of a Connect cluster runs one Watch on
// its own secrets folder; leader is true on one of them at a time (an
// agent elects it through a Kafka consumer group), so a rotation restarts
// each connector once per cluster, not once per node. A value is known to
// have changed from the value this Materializer read before, so the leader
// restarts even when another node's Watch, sharing its folder, wrote the
// file first. A file this node's folder did not have is written but
// restarts nothing: a node that joins, or whose folder was emptied, is not
// a rotation, and its connectors could not have run with a missing file.
// A nil leader is always true.
//
// A discovery that fails is logged and reported (a Failed event) and
// tried again at the next interval; the files keep their content. Watch
// returns nil when ctx ends, and ErrRunning while another Run or Watch of
// the Materializer has not returned.
func (m *Materializer) Watch(ctx context.Context, leader func() bool) error {
	leave, err := m.run.Enter()
	if err != nil {
		return err
	}
	defer leave()
	owed := map[string][]string{}
	return runloop.Every(ctx, m.interval, func(ctx context.Context) {
		specs, err := m.Discover(ctx)
		if err != nil {
			if ctx.Err() == nil {
				m.log.Warn("connectors not listed; retrying at the next poll", "error", err)
				m.emit(Event{Kind: Failed, Err: err})
			}
			return
		}
		w, err := m.collect(specs)
		if err != nil {
			m.log.Warn("a connector's placeholders cannot be watched", "error", err)
			m.emit(Event{Kind: Failed, Err: err})
			return
		}
		m.poll(ctx, w, owed, leader, true)
	})
}

// Discover lists the workers' connectors and returns those whose configs
// hold placeholders of this Materializer's files, each placeholder turned
// back into the ${vault:...} reference it was translated from: the specs
// Sync, Run and Watch take. With WithNamespaces, only the connectors of
// those namespaces. Placeholders of other folders, and of folders
// of this one that are not the encoding of a KV v2 path, stay as they are.
func (m *Materializer) Discover(ctx context.Context) ([]connect.Spec, error) {
	listed, err := m.connect.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("discover connectors: %w", err)
	}
	var out []connect.Spec
	for _, name := range slices.Sorted(maps.Keys(listed)) {
		if len(m.prefixes) > 0 && !slices.ContainsFunc(m.prefixes, func(p string) bool { return strings.HasPrefix(name, p) }) {
			continue
		}
		cfg := maps.Clone(listed[name].Info.Config)
		found := false
		for k, v := range cfg {
			cfg[k] = dirPattern.ReplaceAllStringFunc(v, func(ph string) string {
				sm := dirPattern.FindStringSubmatch(ph)
				dir, folder := path.Split(sm[1])
				if dir != m.dir+"/" {
					return ph
				}
				p, ok := decodeFolderName(folder)
				if !ok {
					return ph
				}
				if _, _, _, kv2 := vaultref.SplitKV2(p); !kv2 {
					return ph
				}
				found = true
				return "${vault:" + p + ":" + sm[2] + "}"
			})
		}
		if found {
			out = append(out, connect.Spec{Name: name, Config: cfg})
		}
	}
	return out, nil
}

// poll is one round of Run and Watch: it rewrites the paths whose
// version changed, and restarts the connectors owed a restart. With
// onlyReplaced, a file written where there was none owes none.
func (m *Materializer) poll(ctx context.Context, w *watchList, owed map[string][]string, leader func() bool, onlyReplaced bool) {
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
			m.mu.Lock()
			at := m.written[p]
			// A secret deleted and written again starts over at version 1:
			// forget the version written, or syncPath would keep the old
			// files as newer.
			recreated := md.CurrentVersion < known ||
				(md.CurrentVersion == known && !at.IsZero() && !md.CurrentVersionTime.IsZero() && !md.CurrentVersionTime.Equal(at))
			if recreated {
				delete(m.versions, p)
			}
			m.mu.Unlock()
			switch {
			case recreated:
				m.log.Info("vault secret was deleted and written again", "path", p, "version", md.CurrentVersion, "was", known)
				due = append(due, p)
			case md.CurrentVersion != known:
				m.log.Info("vault secret has a new version", "path", p, "version", md.CurrentVersion, "was", known)
				due = append(due, p)
			}
		}
	}
	if len(due) > 0 {
		// sync logs and reports its own failures.
		// A file this node did not have is not a rotation: under Watch,
		// one node among several, only a value replaced owes a restart;
		// the node's connectors could not have run with a missing file.
		// Run, alone, restarts for any file it wrote.
		changed, replaced, _ := m.sync(ctx, w, due)
		if onlyReplaced {
			changed = replaced
		}
		for name, refs := range changed {
			for _, r := range refs {
				if !slices.Contains(owed[name], r.Path) {
					owed[name] = append(owed[name], r.Path)
				}
			}
		}
	}
	if leader != nil && !leader() {
		// Another node's agent restarts; this one only keeps its files.
		clear(owed)
		return
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
