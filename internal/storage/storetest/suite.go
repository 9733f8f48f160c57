package storetest

import (
	"testing"

	"github.com/herald-mqtt/herald/internal/broker"
)

// Run is the conformance suite. open opens the store kept in dir; each
// subtest starts from a fresh t.TempDir and the suite closes what it opens.
func Run(t *testing.T, open func(t *testing.T, dir string) broker.Store) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"Empty", testEmpty},
		{"PutSession", testPutSession},
		{"DeleteSession", testDeleteSession},
		{"ClientIDs", testClientIDs},
		{"Subscriptions", testSubscriptions},
		{"Queue", testQueue},
		{"Incoming", testIncoming},
		{"Retained", testRetained},
		{"MessageFields", testMessageFields},
		{"OrderWithinCommit", testOrderWithinCommit},
		{"OrderAcrossCommits", testOrderAcrossCommits},
		{"Atomicity", testAtomicity},
		{"DeepCopy", testDeepCopy},
		{"SharedMessage", testSharedMessage},
		{"RefCount", testRefCount},
		{"DoneOnce", testDoneOnce},
		{"CommitAfterClose", testCommitAfterClose},
		{"CloseFlushes", testCloseFlushes},
		{"Concurrent", testConcurrent},
		{"LoadError", testLoadError},
		{"RandomOps", testRandomOps},
		{"ReopenRefCount", testReopenRefCount},
		{"ReopenCommitBeforeLoad", testReopenCommitBeforeLoad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newHarness(t, open))
		})
	}
}
