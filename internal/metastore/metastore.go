// Package metastore keeps the node's management metadata (API keys,
// dashboard users, bans, configuration overrides) as small JSON documents
// in the data dir. Each Save is atomic and durable: write a temp file,
// fsync, rename, fsync the directory. In a cluster this state moves to the
// replicated metadata store; the documents and their shapes stay.
package metastore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// Store is a directory of JSON documents. Safe for concurrent use.
type Store struct {
	dir string
	mu  sync.Mutex
}

// Open returns the store in dir, creating the directory.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("metastore: %w", err)
	}
	return &Store{dir: dir}, nil
}

func (s *Store) path(name string) string { return filepath.Join(s.dir, name+".json") }

// Load decodes document name into v. It reports false (and leaves v alone)
// when the document does not exist.
func (s *Store) Load(name string, v any) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := os.ReadFile(s.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("metastore: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("metastore: %s: %w", s.path(name), err)
	}
	return true, nil
}

// Save writes v as document name, atomically and durably.
func (s *Store) Save(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("metastore: encode %s: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return writeAtomic(s.dir, s.path(name), b)
}

func writeAtomic(dir, path string, b []byte) error {
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("metastore: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("metastore: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("metastore: sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("metastore: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("metastore: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("metastore: %w", err)
	}
	defer d.Close()
	return d.Sync()
}
