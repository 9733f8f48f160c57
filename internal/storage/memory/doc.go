// Package memory is the in-memory broker.Store, used with durability = off
// and in broker tests.
//
// Everything lives in maps behind one mutex. Commit deep-copies what its ops
// point at before it returns and calls done synchronously, before returning,
// whatever durable says: nothing outlives the process. Messages shared by
// several queue entries and the retained index are held once with reference
// counts, like the durable store, and Load gives back fresh copies, one
// *Message per message ID across LoadSessions and LoadRetained of one
// generation (the copies are made again after the next Commit).
package memory
