package integration

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
	"github.com/herald-mqtt/herald/internal/testutil"
)

// publishSeqs streams QoS 1 messages first..first+count-1 to t/... from a new
// raw client and returns the acknowledged seqs (all of them, or it fails).
func publishSeqs(t testing.TB, addr string, first, count int) []int {
	t.Helper()
	pub, _ := connectRaw(t, addr, packet.V5, "dpub", true, 0)
	msg := func(seq int) (string, []byte) { return "t/" + strconv.Itoa(seq%16), seqPayload(first + seq) }
	st := durStartStream(pub, streamConfig{QoS: 1, Total: count, Window: crashWindow, Msg: msg}, count)
	if err := st.Wait(t, 30*time.Second); err != nil || st.AckCount() != count {
		t.Fatalf("stream: %d of %d acks: %v", st.AckCount(), count, err)
	}
	seqs := st.Acked()
	for i := range seqs {
		seqs[i] += first
	}
	return seqs
}

// newestWAL returns the path of the newest WAL file of a Pebble store.
func newestWAL(t testing.TB, dir string) string {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("no WAL in %s: %v", dir, err)
	}
	slices.Sort(logs)
	return logs[len(logs)-1]
}

// TestDurabilityDamagedWAL: the node is killed, and the tail of its newest
// WAL damaged while it is down, as a crash in the middle of a write (or a
// disk that lost the last sectors) would. The node must start, say so in its
// log, serve, and keep everything written before the damage: the messages
// queued before an earlier clean restart, and those of the damaged WAL up to
// the damage (the messages lost, if any, are the last ones).
func TestDurabilityDamagedWAL(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, wal string)
	}{
		{"GarbageAppended", func(t *testing.T, wal string) {
			f, err := os.OpenFile(wal, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatalf("open WAL: %v", err)
			}
			defer f.Close()
			if _, err := f.Write([]byte("\xa5\x5a\x01\x02garbage after the last record\xff\xfe")); err != nil {
				t.Fatalf("append: %v", err)
			}
		}},
		{"Truncated", func(t *testing.T, wal string) {
			fi, err := os.Stat(wal)
			if err != nil {
				t.Fatalf("stat WAL: %v", err)
			}
			if err := os.Truncate(wal, fi.Size()-7); err != nil {
				t.Fatalf("truncate: %v", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := startNode(t, t.TempDir(), crashSets...)
			persistentV5(t, n.Addr(), "dmg", "t/#", 1)
			before := publishSeqs(t, n.Addr(), 0, 100)
			publishRetained(t, n.Addr(), "keep/a", "A")
			n.Stop()
			n.Restart() // the first WAL is replayed into a table; a new WAL takes the next writes
			after := publishSeqs(t, n.Addr(), 100, 50)
			n.Kill()
			tc.damage(t, newestWAL(t, n.storeDir()))

			mark := len(n.Log())
			n.Restart()
			if log := n.Log()[mark:]; !strings.Contains(log, "does not end cleanly") {
				t.Fatalf("the damaged WAL is not reported in the log:\n%s", log)
			}
			sub, ack := testutil.ConnectV5(t, n.Addr(), v5Persistent("dmg", false))
			if !ack.SessionPresent {
				t.Fatalf("session lost")
			}
			got := awaitV5Seqs(t, sub, before)
			// A message published now queues behind every message still
			// owed to the session: what arrives before it is all there is.
			publishQoS1(t, n.Addr(), "t/after", strconv.Itoa(1000))
			for seq, c := range collectV5SeqsUntil(t, sub, 1000) {
				got[seq] += c
			}
			lost := missing(after, got)
			if len(lost) > 0 && (tc.name != "Truncated" || !slices.Equal(lost, after[len(after)-len(lost):])) {
				t.Fatalf("lost %v of the damaged WAL's messages", lost)
			}
			t.Logf("%d of the damaged WAL's %d messages lost", len(lost), len(after))
			if r := retainedSnapshot(t, n.Addr(), "keep/#"); r["keep/a"] != "A" {
				t.Fatalf("retained message lost: %v", r)
			}
		})
	}
}

// collectV5SeqsUntil returns the seqs c receives before marker.
func collectV5SeqsUntil(t testing.TB, c *testutil.V5, marker int) map[int]int {
	t.Helper()
	got := map[int]int{}
	for {
		seq := payloadSeq(t, c.Next(t).Payload)
		if seq == marker {
			return got
		}
		got[seq]++
	}
}

// TestDurabilityStoreCannotOpen: a store that cannot be opened at all stops
// the node at start with a clear error and a non-zero exit, not a panic.
func TestDurabilityStoreCannotOpen(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string) // dir is the data dir
		want  string                         // in the log
	}{
		{"CorruptManifest", func(t *testing.T, dir string) {
			n := startNode(t, dir)
			persistentV5(t, n.Addr(), "m", "t/#", 1)
			n.Stop()
			manifests, err := filepath.Glob(filepath.Join(dir, "store", "MANIFEST-*"))
			if err != nil || len(manifests) == 0 {
				t.Fatalf("no MANIFEST: %v", err)
			}
			slices.Sort(manifests)
			if err := os.WriteFile(manifests[len(manifests)-1], []byte("\xa5\x5a\xa5\x5a not a manifest"), 0o600); err != nil {
				t.Fatalf("damage MANIFEST: %v", err)
			}
		}, "cannot open"},
		{"StoreIsAFile", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "store"), []byte("x"), 0o600); err != nil {
				t.Fatalf("write: %v", err)
			}
		}, "store"},
		{"LockedByAnotherNode", func(t *testing.T, dir string) {
			startNode(t, dir) // keeps running, holding the store's lock
		}, "locked by another process"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(t, dir)
			n := newNode(t, dir)
			n.Launch()
			code := n.Wait(30 * time.Second)
			log := n.Log()
			if code == 0 || strings.Contains(log, "panic") || strings.Contains(log, "goroutine ") {
				t.Fatalf("exit code %d; want a clean failure:\n%s", code, log)
			}
			if !strings.Contains(log, "start failed") || !strings.Contains(log, tc.want) {
				t.Fatalf("no clear error in the log:\n%s", log)
			}
			t.Logf("exit %d: %s", code, lastLine(log))
		})
	}
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
