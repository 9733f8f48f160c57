package httplimit

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// wait is a failure bound for events.
const wait = 30 * time.Second

func listen(t *testing.T, max int, send time.Duration, onRefuse func(uint64)) *Listener {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := New(raw, max, send, onRefuse)
	t.Cleanup(func() { l.Close() })
	return l
}

func dial(t *testing.T, l net.Listener, control func(string, string, syscall.RawConn) error) net.Conn {
	t.Helper()
	c, err := (&net.Dialer{Timeout: wait, Control: control}).Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestListenerRefusesOverMax: with max 2, a third connection is closed as
// it arrives and counted; closing a served one (twice) frees one slot.
func TestListenerRefusesOverMax(t *testing.T) {
	refusals := make(chan uint64, 1)
	l := listen(t, 2, 0, func(n uint64) { refusals <- n })
	accepted := make(chan net.Conn)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	dial(t, l, nil)
	dial(t, l, nil)
	a1, a2 := <-accepted, <-accepted
	third := dial(t, l, nil)
	if n := <-refusals; n != 1 {
		t.Fatalf("refused total %d, want 1", n)
	}
	_ = third.SetReadDeadline(time.Now().Add(wait))
	if _, err := third.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("third connection: read %v, want it closed", err)
	}
	if st := l.Stats(); st != (Stats{Open: 2, Accepted: 2, Refused: 1}) {
		t.Fatalf("stats %+v", st)
	}
	a1.Close()
	a1.Close() // idempotent for the count
	dial(t, l, nil)
	a3 := <-accepted
	if st := l.Stats(); st != (Stats{Open: 2, Accepted: 3, Refused: 1}) {
		t.Fatalf("stats after a close %+v", st)
	}
	a2.Close()
	a3.Close()
}

// TestListenerSendTimeout: a write the peer does not take fails once the
// send timeout has passed; a peer that reads gets everything (its send
// timeout is a failure bound: a busy machine may pause the reader).
func TestListenerSendTimeout(t *testing.T) {
	l := listen(t, 10, 200*time.Millisecond, nil)
	small := func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}
	dial(t, l, small) // reads nothing
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	_, err = s.Write(make([]byte, 64<<20)) // far more than the socket buffers hold
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write to a peer that reads nothing: %v", err)
	}
	if el := time.Since(start); el < 200*time.Millisecond {
		t.Fatalf("write failed after %v, before the send timeout", el)
	}

	patient := listen(t, 10, wait, nil)
	reader := dial(t, patient, nil)
	s2, err := patient.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got := make(chan int64, 1)
	go func() { n, _ := io.Copy(io.Discard, reader); got <- n }()
	if n, err := s2.Write(make([]byte, 1<<20)); err != nil || n != 1<<20 {
		t.Fatalf("write to a reading peer: %d, %v", n, err)
	}
	s2.Close()
	if n := <-got; n != 1<<20 {
		t.Fatalf("peer got %d bytes", n)
	}
}
