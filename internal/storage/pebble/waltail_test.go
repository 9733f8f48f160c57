package pebble

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/herald-mqtt/herald/internal/broker"
)

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// openLogged opens dir with a logger writing to the returned buffer.
func openLogged(t *testing.T, dir string) (*Store, *syncBuffer) {
	t.Helper()
	var out syncBuffer
	s := openStore(t, dir, Options{Logger: slog.New(slog.NewTextHandler(&out, nil))})
	return s, &out
}

// crashedCopy commits a few records, then copies the open store as a crash
// would leave it (the WAL without its end-of-log trailer).
func crashedCopy(t *testing.T) string {
	t.Helper()
	src := t.TempDir()
	s := openStore(t, src, Options{})
	commit(t, s, broker.StoreOp{Kind: broker.OpPutSession, Session: &broker.SessionRecord{ClientID: "c"}})
	for i := range 10 {
		commit(t, s, broker.StoreOp{Kind: broker.OpPutIncoming, ClientID: "c", PacketID: uint16(i + 1)})
	}
	dir := t.TempDir()
	copyDir(t, src, dir) // not closed: no end-of-log trailer
	return dir
}

// TestPebbleWALTailReported: a WAL whose tail is torn or damaged opens with
// the records before the damage and a warning in the log; a crash that left
// whole records, and a clean close, open without one.
func TestPebbleWALTailReported(t *testing.T) {
	t.Run("Clean", func(t *testing.T) {
		dir := t.TempDir()
		fillWAL(t, dir, 0)
		_, out := openLogged(t, dir)
		if strings.Contains(out.String(), "does not end cleanly") {
			t.Fatalf("warning after a clean close:\n%s", out)
		}
	})
	t.Run("CrashedOnRecordBoundary", func(t *testing.T) {
		_, out := openLogged(t, crashedCopy(t))
		if strings.Contains(out.String(), "does not end cleanly") {
			t.Fatalf("warning for a WAL ending with a whole record:\n%s", out)
		}
	})
	for _, tc := range []struct {
		name   string
		damage func(f *os.File, size int64) error
	}{
		{"Truncated", func(f *os.File, size int64) error { return f.Truncate(size - 3) }},
		{"GarbageAppended", func(f *os.File, size int64) error {
			_, err := f.WriteAt([]byte("\xa5\x5a\xa5\x5a garbage \x01\x02"), size)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := crashedCopy(t)
			name, size := newestWAL(t, dir)
			damageFile(t, filepath.Join(dir, name), func(f *os.File) error { return tc.damage(f, size) })
			s, out := openLogged(t, dir)
			if !strings.Contains(out.String(), "does not end cleanly") {
				t.Fatalf("no warning for a damaged WAL tail:\n%s", out)
			}
			if n := len(loadSession(t, s).Incoming); n < 9 {
				t.Fatalf("%d of 10 incoming ids recovered", n)
			}
		})
	}
}
