package pebble

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/broker"
)

// crashEnv, when set, makes TestPebbleCrash run as the child: it commits
// into the store in that directory until it is killed.
const crashEnv = "HERALD_PEBBLE_CRASH_DIR"

const (
	crashClient     = "crash"
	crashCommitters = 8
	crashAcks       = 300 // acknowledged commits the parent waits for before SIGKILL
)

// TestPebbleCrash proves the fsync path: a child process commits durable
// PutQueue ops and prints each seq once its done callback has run; the
// parent SIGKILLs it mid-stream, reopens the store and checks that every
// acknowledged seq is there.
func TestPebbleCrash(t *testing.T) {
	if dir := os.Getenv(crashEnv); dir != "" {
		crashChild(dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestPebbleCrash$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("StdoutPipe: %v", err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() }) // if the test fails before it is killed
	acked := readAcks(t, cmd, bufio.NewScanner(stdout))
	_ = cmd.Wait() // killed: the error is expected
	if len(acked) < crashAcks {
		t.Fatalf("child acknowledged only %d commits; stderr:\n%s", len(acked), stderr.String())
	}
	checkAcked(t, dir, acked)
}

// readAcks reads the child's acknowledged seqs, kills it with SIGKILL once
// crashAcks have arrived, and returns every seq it printed before dying.
func readAcks(t *testing.T, cmd *exec.Cmd, sc *bufio.Scanner) []uint64 {
	t.Helper()
	timer := time.AfterFunc(30*time.Second, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	var acked []uint64
	for sc.Scan() {
		seq, ok := strings.CutPrefix(sc.Text(), "ack ")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(seq, 10, 64)
		if err != nil {
			t.Fatalf("bad ack line %q", sc.Text())
		}
		if acked = append(acked, n); len(acked) == crashAcks {
			_ = cmd.Process.Kill() // SIGKILL: no deferred code, no Close
		}
	}
	return acked
}

// checkAcked reopens dir and checks that every acknowledged seq is stored.
func checkAcked(t *testing.T, dir string, acked []uint64) {
	t.Helper()
	s := openStore(t, dir, Options{})
	sessions, _ := loadAll(t, s)
	stored := map[uint64]bool{}
	if ls := sessions[crashClient]; ls != nil {
		for _, e := range ls.Queue {
			stored[e.Seq] = true
		}
	}
	for _, seq := range acked {
		if !stored[seq] {
			t.Fatalf("seq %d was acknowledged but is not stored after SIGKILL (%d stored, %d acked)", seq, len(stored), len(acked))
		}
	}
	if st := s.Stats(); st.Skipped != 0 {
		t.Fatalf("Load skipped %d records after the crash", st.Skipped)
	}
	t.Logf("%d acknowledged, %d stored after SIGKILL", len(acked), len(stored))
}

// crashChild commits until killed (or 30 s pass) and exits without Close.
func crashChild(dir string) {
	s, err := Open(dir, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	acks := make(chan uint64, 1<<16)
	go func() {
		for seq := range acks {
			fmt.Printf("ack %d\n", seq) // unbuffered: reaches the pipe at once
		}
	}()
	sess := &broker.SessionRecord{ClientID: crashClient, ExpiryInterval: broker.NeverExpire}
	s.Commit([]broker.StoreOp{{Kind: broker.OpPutSession, Session: sess}}, true, nil)
	var wg sync.WaitGroup
	for g := range crashCommitters {
		wg.Go(func() { crashCommitter(s, uint64(g), acks) })
	}
	wg.Wait()
	os.Exit(0)
}

// crashCommitter commits seqs first, first+crashCommitters, ... one at a
// time, each after the previous one's done.
func crashCommitter(s *Store, first uint64, acks chan<- uint64) {
	deadline := time.Now().Add(30 * time.Second)
	done := make(chan error, 1)
	for seq := first; time.Now().Before(deadline); seq += crashCommitters {
		m := &broker.Message{ID: seq, Topic: "crash/t", Payload: make([]byte, 64), QoS: 1}
		e := &broker.QueueEntry{Seq: seq, Msg: m, QoS: 1}
		s.Commit([]broker.StoreOp{{Kind: broker.OpPutQueue, ClientID: crashClient, Entry: e}}, true,
			func(err error) { done <- err })
		if err := <-done; err != nil {
			fmt.Fprintln(os.Stderr, "commit:", err)
			os.Exit(3)
		}
		acks <- seq
	}
}
