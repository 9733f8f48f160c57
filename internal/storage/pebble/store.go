package pebble

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	pebbledb "github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/storage"
)

// Sentinel errors.
var (
	// ErrClosed is passed to done by a Commit after Close.
	ErrClosed = storage.ErrClosed
	// ErrOpen is wrapped by every error of Open.
	ErrOpen = errors.New("pebble store: cannot open")
	// ErrInvalidOp is passed to done for a Commit with a malformed op; none
	// of that Commit's ops is applied.
	ErrInvalidOp = storage.ErrInvalidOp
)

var _ broker.Store = (*Store)(nil)

// Store is a broker.Store on a Pebble database. It is safe for concurrent use.
type Store struct {
	db   *pebbledb.DB
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	pending *pebbledb.Batch // ops of the commits not yet taken by the committer
	waiters []func(error)   // their done callbacks, in commit order
	durable bool            // a pending commit asked for durability
	idx     *index
	enc     encoder // value scratch buffer
	key     []byte  // key scratch buffer
	err     error   // sticky: ErrClosed, or the failure that broke the store
	closing bool

	kick      chan struct{} // wakes the committer; capacity 1
	stopped   chan struct{} // closed when the committer has exited
	dirty     bool          // committer only: applied writes not yet fsynced
	closeOnce sync.Once
	closeErr  error

	loadMu    sync.Mutex               // serializes Load calls
	loadCache atomic.Pointer[msgCache] // shares messages between Loads; dropped by Commit

	stats counters
}

// msgCache maps message IDs to the messages Load handed out.
type msgCache map[uint64]*broker.Message

// counters back Stats.
type counters struct {
	commits, groups, syncs, skipped atomic.Uint64
}

// Stats are cumulative counters since Open.
type Stats struct {
	Commits uint64 // Commit calls that were accepted
	Groups  uint64 // batches applied to Pebble (one per group commit)
	Syncs   uint64 // WAL fsyncs
	Skipped uint64 // records Load could not decode or resolve and skipped
}

// Open opens or creates the store in dir. Call LoadSessions and LoadRetained
// before the first Commit (see the package documentation).
func Open(dir string, opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOpen, err)
	}
	db, err := openDB(dir, opts.Logger)
	if errors.Is(err, syscall.EWOULDBLOCK) { // Pebble's flock of LOCK
		return nil, fmt.Errorf("%w %s: locked by another process (another node on this data dir?): %w", ErrOpen, dir, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrOpen, dir, err)
	}
	s := &Store{
		db: db, opts: opts, log: opts.Logger,
		pending: db.NewBatch(), idx: newIndex(),
		kick: make(chan struct{}, 1), stopped: make(chan struct{}),
	}
	go s.run()
	return s, nil
}

// openDB opens the Pebble database in dir. A database created (or upgraded
// from a format without WAL sync chunks) by this call is reopened once: the
// WAL Pebble starts before it ratchets the format lacks the synced offsets
// that let recovery tell corruption in the middle of a WAL from a torn tail.
//
// A panic inside Pebble while opening (an invariant violated by damaged
// files) is returned as an error.
func openDB(dir string, log *slog.Logger) (db *pebbledb.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("pebble panicked: %v", r)
		}
	}()
	desc, err := pebbledb.Peek(dir, vfs.Default)
	fresh := err != nil || !desc.Exists || desc.FormatMajorVersion < pebbledb.FormatWALSyncChunks
	if !fresh {
		reportWALTail(dir, log)
	}
	opts := &pebbledb.Options{FormatMajorVersion: pebbledb.FormatNewest, Logger: pebbleLogger{log}}
	db, err = pebbledb.Open(dir, opts)
	if err != nil || !fresh {
		return db, err
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	return pebbledb.Open(dir, opts)
}

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	return Stats{
		Commits: s.stats.commits.Load(),
		Groups:  s.stats.groups.Load(),
		Syncs:   s.stats.syncs.Load(),
		Skipped: s.stats.skipped.Load(),
	}
}

// Close applies the pending commits (their done callbacks run), fsyncs the
// WAL and closes the database. Later Commits get ErrClosed. Close is
// idempotent: later calls return the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Store) close() error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.wake()
	<-s.stopped
	s.mu.Lock()
	syncErr := s.err // a failure of the final fsync, if any
	s.err = ErrClosed
	_ = s.pending.Close() // never applied: nothing to report
	s.mu.Unlock()
	if err := s.db.Close(); err != nil {
		return errors.Join(syncErr, fmt.Errorf("pebble store: close: %w", err))
	}
	return syncErr
}

// wake kicks the committer without blocking.
func (s *Store) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// fail makes err sticky: every later Commit gets it.
func (s *Store) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.log.Error("pebble store failed", "err", err)
}

// run is the committer goroutine: it applies the pending group whenever a
// Commit wakes it, and fsyncs unsynced writes every SyncInterval and before it
// exits on Close.
func (s *Store) run() {
	defer close(s.stopped)
	tick := time.NewTicker(s.opts.SyncInterval)
	defer tick.Stop()
	for {
		periodic := false
		select {
		case <-s.kick:
		case <-tick.C:
			periodic = true
		}
		open := s.flush()
		if periodic || !open {
			_ = s.syncWAL() // a failure is sticky: later commits get it
		}
		if !open {
			return
		}
	}
}

// syncWAL fsyncs the WAL if writes were applied without a sync since the
// last one. An empty LogData record with Sync is the cheapest way Pebble
// offers to fsync the WAL.
func (s *Store) syncWAL() error {
	if !s.dirty {
		return nil
	}
	if err := s.db.LogData(nil, pebbledb.Sync); err != nil {
		err = fmt.Errorf("pebble store: fsync: %w", err)
		s.fail(err)
		return err
	}
	s.dirty = false
	s.stats.syncs.Add(1)
	return nil
}

// Persistent reports that the store's data outlives Close (the
// storetest.Persistent capability).
func (s *Store) Persistent() bool { return true }
