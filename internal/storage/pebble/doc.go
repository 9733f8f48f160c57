// Package pebble is the durable broker.Store, on top of the Pebble LSM
// key-value store (github.com/cockroachdb/pebble/v2).
//
// # Key layout
//
// Every key starts with a one-byte prefix. All the records of one session
// share the client prefix, so a session is one contiguous key range:
//
//	'c' uvarint(len(clientID)) clientID 0x01                 session record
//	'c' uvarint(len(clientID)) clientID 0x02 filter          subscription
//	'c' uvarint(len(clientID)) clientID 0x03 u64be(seq)      queue entry
//	'c' uvarint(len(clientID)) clientID 0x04 u16be(packetID) incoming QoS 2 id
//	'm' u64be(messageID)                                     message
//	'r' topic                                                retained index
//
// The length prefix keeps one client's range from containing another
// client's keys, so OpDeleteSession is a single range deletion. Because the
// session record sorts first within its client, Load is one ordered scan that
// sees each session record before its subscriptions, queue (in Seq order,
// thanks to the big-endian sequence) and incoming ids.
//
// # Value encoding
//
// Values are compact binary (encoding/binary varints, length-prefixed
// strings) and start with a format-version byte (currently 1) so that later
// versions can keep reading old records. Queue entries and retained index
// records hold the message ID; the message itself is stored once under 'm'
// with every Message field, including the MQTT 5 properties the broker
// forwards (payload format, content type, response topic, correlation data,
// user properties). A session's will message is stored inline in the session
// record.
//
// # Reference counts
//
// The store keeps in memory, for every queue entry and retained topic, the
// message ID it references, and a reference count per message. A message is
// written with its first reference and deleted, in the same atomic batch,
// with its last one. The index is rebuilt by LoadSessions and LoadRetained;
// call them before the first Commit (a Commit that comes first builds the
// missing part with its own scan, so this is a matter of speed, not
// correctness). Load must not run concurrently with Commit.
//
// # Group commit
//
// Commit validates and encodes its ops into the pending batch under a mutex
// and returns. A single committer goroutine repeatedly takes everything
// pending as one group, applies it as one Pebble batch (atomic), fsyncs the
// WAL once if any commit of the group asked for durability and the store is
// in Sync mode, then calls the group's done callbacks in commit order.
// Commits that arrive while a group is being synced form the next group, so
// concurrent durable commits share fsyncs. In Async mode groups are applied
// without fsync and done is called as soon as they are applied; the WAL is
// fsynced every SyncInterval (in both modes, whenever unsynced writes exist)
// and on Close.
//
// # Recovery
//
// Pebble replays its WAL on Open and treats a torn or garbage tail of the
// newest WAL as its end, so a crash in the middle of a write does not prevent
// opening; corruption elsewhere makes Open fail with an error wrapping
// ErrOpen. Records that cannot be decoded are logged, counted in
// Stats().Skipped and skipped by Load.
package pebble
