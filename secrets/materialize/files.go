package materialize

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

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
// reports whether it had to write it and whether it replaced another
// content (not a missing file).
func writeIfChanged(folder, name string, content []byte) (written, replaced bool, err error) {
	file := filepath.Join(folder, name)
	old, err := os.ReadFile(file)
	switch {
	case err == nil && bytes.Equal(old, content):
		fi, err := os.Stat(file)
		if err == nil && fi.Mode().Perm() != 0o600 {
			err = os.Chmod(file, 0o600)
		}
		return false, false, err
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return false, false, err
	}
	replaced = err == nil
	// CreateTemp makes the file 0600. Its name starts with '.', which no
	// key may, so it never shadows a key, and the worker's provider reads
	// only the keys it is asked for.
	tmp, err := os.CreateTemp(folder, ".tmp-*")
	if err != nil {
		return false, false, err
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
		return false, false, err
	}
	// The rename is durable once the folder is synced.
	if d, err := os.Open(folder); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return true, replaced, nil
}
