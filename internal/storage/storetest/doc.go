// Package storetest is the conformance suite of broker.Store: Run exercises
// every op kind, ordering within and across commits, atomicity, deep copies,
// message sharing and reference counts, done semantics, concurrency and,
// for persistent stores, everything again after a reopen.
//
// The suite discovers what a store can do through optional interfaces:
// Persistent (data outlives Close; the reopen checks run only then) and
// MessageCounter (the number of stored messages, to check that a message
// goes with its last reference).
package storetest
