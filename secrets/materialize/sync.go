package materialize

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"

	"github.com/streamkit/streamkit/connect"
	"github.com/streamkit/streamkit/secrets"
)

// watchList is the references of a set of connectors, by Vault path.
type watchList struct {
	paths []string                            // sorted
	keys  map[string][]string                 // path -> its referenced keys, sorted
	users map[string]map[string][]secrets.Ref // path -> connector -> its refs of path
}

// collect gathers the references of specs, and fails on any that cannot
// be materialized, and on translated specs, which would sync nothing.
func (m *Materializer) collect(specs []connect.Spec) (*watchList, error) {
	w := &watchList{keys: map[string][]string{}, users: map[string]map[string][]secrets.Ref{}}
	var errs []error
	for _, s := range specs {
		for _, k := range slices.Sorted(maps.Keys(s.Config)) {
			if m.translated(s.Config[k]) {
				errs = append(errs, fmt.Errorf("connector %q: %s: a translated placeholder: give Sync and Run the specs with their ${vault:...} references", s.Name, k))
			}
		}
		refs, err := secrets.FindRefs(s.Config)
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
					w.users[r.Path] = map[string][]secrets.Ref{}
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
func (m *Materializer) Sync(ctx context.Context, specs []connect.Spec) (map[string][]secrets.Ref, error) {
	w, err := m.collect(specs)
	if err != nil {
		return nil, fmt.Errorf("sync: %w", err)
	}
	changed, _, err := m.sync(ctx, w, w.paths)
	if err != nil {
		return changed, fmt.Errorf("sync: %w", err)
	}
	return changed, nil
}

// sync writes paths of w and returns the refs that changed by connector.
//
// changed are the references whose files were written, by connector;
// replaced those whose files held another value before (not a missing
// file), which a connector may have been running with.
func (m *Materializer) sync(ctx context.Context, w *watchList, paths []string) (changed, replaced map[string][]secrets.Ref, err error) {
	changed, replaced = map[string][]secrets.Ref{}, map[string][]secrets.Ref{}
	var errs []error
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		written, over, version, err := m.syncPath(ctx, p, w.keys[p])
		if err != nil {
			m.log.Warn("vault secret not materialized; its files keep their content", "path", p, "error", err)
			m.emit(Event{Kind: Failed, Path: p, Err: err})
			errs = append(errs, err)
		}
		switch {
		case len(written) > 0:
			// Even when a later key failed: the keys written changed.
			m.log.Info("vault secret materialized", "path", p, "keys", written, "version", version)
			m.emit(Event{Kind: Written, Path: p, Keys: written, Version: version})
		case err == nil:
			m.log.Debug("vault secret unchanged", "path", p, "version", version)
		}
		for _, name := range slices.Sorted(maps.Keys(w.users[p])) {
			for _, r := range w.users[p][name] {
				if slices.Contains(written, r.Key) {
					changed[name] = append(changed[name], r)
				}
				if slices.Contains(over, r.Key) {
					replaced[name] = append(replaced[name], r)
				}
			}
		}
	}
	return changed, replaced, errors.Join(errs...)
}

// syncPath reads the secret at path once and writes the keys whose file
// differs. It returns the keys written, those of them whose files held
// another value (or whose value this Materializer saw change), and the
// version read.
func (m *Materializer) syncPath(ctx context.Context, path string, keys []string) (written, replaced []string, version int, err error) {
	// Vault is read without the lock, so that a hung read does not hold
	// up the Syncs and polls of other paths beyond their own contexts.
	s, err := m.vault.ReadPath(ctx, path)
	if err != nil {
		return nil, nil, 0, err
	}
	if err := s.Require(keys...); err != nil {
		// Writing the keys that are there could pair a new user with an
		// old password; write none.
		return nil, nil, 0, err
	}
	// One writer at a time, and never an older version over a newer one
	// that another Sync read and wrote meanwhile.
	m.mu.Lock()
	defer m.mu.Unlock()
	if known, ok := m.versions[path]; ok && known > s.Version {
		return nil, nil, known, nil
	}
	folder := filepath.Join(m.dir, folderName(path))
	if err := ensureFolder(m.dir, folder); err != nil {
		return nil, nil, 0, fmt.Errorf("materialize %s: %w", path, err)
	}
	for _, k := range keys {
		value := []byte(s.Data[k].Reveal())
		ok, over, err := writeIfChanged(folder, k, value)
		if err != nil {
			return written, replaced, s.Version, fmt.Errorf("materialize %s key %q: %w", path, k, err)
		}
		sum, id := sha256.Sum256(value), path+"\x00"+k
		prev, seen := m.seen[id]
		m.seen[id] = sum
		changed := seen && prev != sum
		if ok || changed {
			written = append(written, k)
		}
		if over || changed {
			replaced = append(replaced, k)
		}
	}
	m.versions[path] = s.Version
	m.written[path] = s.VersionTime
	return written, replaced, s.Version, nil
}
