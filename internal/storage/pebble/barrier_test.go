package pebble

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/herald-mqtt/herald/internal/broker"
)

// TestPebbleBarrierSyncsEarlierCommits: the broker makes a publisher's ack
// wait for a durable Commit without ops (a barrier) issued after the
// non-durable commits of the message. When the barrier is alone in its
// group, the earlier commits must still be on disk once its done runs. The
// test snapshots the files the OS holds at that moment, as a SIGKILL would
// leave them, and opens the copy.
func TestPebbleBarrierSyncsEarlierCommits(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, Options{SyncInterval: 1 << 40})
	commit(t, s, broker.StoreOp{Kind: broker.OpPutSession, Session: &broker.SessionRecord{ClientID: "c"}})
	applied := make(chan error, 1)
	s.Commit([]broker.StoreOp{{Kind: broker.OpPutIncoming, ClientID: "c", PacketID: 7}}, false, func(err error) { applied <- err })
	if err := <-applied; err != nil { // applied without fsync, in a group of its own
		t.Fatalf("Commit: %v", err)
	}
	commit(t, s) // the barrier
	crashed := t.TempDir()
	copyDir(t, dir, crashed)
	if got := loadSession(t, openStore(t, crashed, Options{})).Incoming; len(got) != 1 || got[0] != 7 {
		t.Fatalf("after a durable barrier, the earlier commit is not on disk: incoming ids %v", got)
	}
}

// copyDir copies the regular files of src (but the lock) into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatalf("read dir: %v", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || e.Name() == "LOCK" {
			continue
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			t.Fatalf("copy %s: %v", e.Name(), err)
		}
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
