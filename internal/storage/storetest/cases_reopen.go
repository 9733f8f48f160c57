package storetest

import "testing"

// skipUnlessPersistent skips a reopen check for a store whose data does not
// outlive Close (the capability flag; the rest of the suite still runs).
func skipUnlessPersistent(t *testing.T, h *harness) {
	t.Helper()
	if !h.persistent() {
		t.Skip("store is not Persistent: nothing to reopen")
	}
}

// refState stores two sessions and a retained message sharing messages.
func refState(h *harness) {
	h.t.Helper()
	h.commit(putSession(session("a")), putSession(session("b")),
		putQueue("a", entry(1, message(1, "t"))), putQueue("a", entry(2, message(2, "t"))),
		putQueue("b", entry(1, message(1, "t"))), putRetained(message(2, "r")), putRetained(message(3, "s")))
	h.wantMessages(3)
}

// dropRefs deletes the references of refState step by step, checking that
// each message goes with its last reference.
func dropRefs(h *harness) {
	h.t.Helper()
	h.commit(deleteQueue("a", 2))
	h.wantMessages(3) // 2 is still retained
	h.commit(putRetained(message(4, "r")))
	h.wantMessages(3) // 2 replaced by 4
	h.commit(deleteSession("a"))
	h.wantMessages(3) // 1 still queued for b
	h.commit(deleteQueue("b", 1), deleteRetained("s"), deleteRetained("r"))
	h.wantMessages(0)
}

// testReopenRefCount checks that Load rebuilds the reference counts.
func testReopenRefCount(t *testing.T, h *harness) {
	skipUnlessPersistent(t, h)
	refState(h)
	h.reopen()
	h.load()
	h.wantMessages(3)
	dropRefs(h)
}

// testReopenCommitBeforeLoad checks that a Commit coming before any Load
// still sees the stored references.
func testReopenCommitBeforeLoad(t *testing.T, h *harness) {
	skipUnlessPersistent(t, h)
	refState(h)
	h.reopen()
	dropRefs(h)
	h.reopen()
	s := h.load()
	s.wantSessions(t, "b")
	if len(s.retained) != 0 {
		t.Fatalf("loaded %d retained messages, want 0", len(s.retained))
	}
}
