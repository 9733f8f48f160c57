package broker

import "sync/atomic"

// Per-connection traffic counters (ClientCounters). They are counted where
// the node-wide Metrics are, by whoever already owns the state, so the hot
// path takes no extra lock and makes no extra atomic operation per packet:
//
//   - rd: what the connection's read goroutine counts (bytes and reads,
//     packets and messages received, the responses it queues). Plain
//     fields, published to pub (atomics) at the end of each read batch.
//   - out: what is counted under the session lock (the outbound side of
//     the client is guarded by it): PUBLISH and other packets written to
//     the connection, messages dropped for it.
//   - sendOct, sendCnt: bytes written and write calls, added by whichever
//     goroutine writes (once per write call).
//
// Exactness: recv_cnt and send_cnt count read and write calls (one call
// may carry many packets, or part of one); recv_pkt counts the packets
// handled, send_pkt the packets encoded for the connection (a packet still
// buffered when the connection breaks is counted). Counters are published
// per read batch, so a snapshot may lag the last batch being handled.
// recv_msg.dropped counts received PUBLISH packets refused (authorization,
// limits), dropped by a hook or matching no subscriber (as the node's
// messages.dropped); send_msg.dropped.queue_full counts both session queue
// overflow and QoS 0 messages refused by a full outbound buffer (the
// slow-consumer policy). Drops while the session is offline are not counted
// on any connection: ClientSnapshot.MqueueDropped has the queue's.
type connCounters struct {
	rd               [numRd]uint64
	rdDirty          bool
	pub              [numRd]atomic.Uint64
	out              outCounts
	sendOct, sendCnt atomic.Uint64
}

// Indexes of rd and pub.
const (
	rdRecvCnt = iota
	rdRecvOct
	rdRecvPkt
	rdRecvMsg
	rdRecvQoS0
	rdRecvQoS1
	rdRecvQoS2
	rdRecvDropped
	rdRecvDroppedRel
	rdSendPkt // responses queued by the reader (PUBACK, SUBACK, PINGRESP, ...)
	numRd
)

// outCounts are the counters kept under the session lock.
type outCounts struct {
	sendPkt, sendMsg        uint64
	sendQoS                 [3]uint64
	dropped, droppedExpired uint64
	droppedQueueFull        uint64
	droppedTooLarge         uint64
}

// inc adds 1 to a reader counter. Read goroutine only.
func (cc *connCounters) inc(i int) { cc.rd[i]++; cc.rdDirty = true }

// add adds n to a reader counter. Read goroutine only.
func (cc *connCounters) add(i, n int) { cc.rd[i] += uint64(n); cc.rdDirty = true }

// publish makes the reader's counters visible to snapshots; it runs at the
// end of a read batch. Read goroutine only.
func (cc *connCounters) publish() {
	if !cc.rdDirty {
		return
	}
	for i, v := range cc.rd {
		cc.pub[i].Store(v)
	}
	cc.rdDirty = false
}

// wrote counts one write call of n bytes. Any goroutine.
func (cc *connCounters) wrote(n int) {
	cc.sendCnt.Add(1)
	cc.sendOct.Add(uint64(max(n, 0)))
}

// sent counts a PUBLISH written with qos. Session lock held.
func (o *outCounts) sent(qos byte) {
	o.sendPkt++
	o.sendMsg++
	o.sendQoS[min(qos, 2)]++
}

// drop counts a message dropped for the connection. Session lock held.
func (o *outCounts) drop(why DropReason) {
	o.dropped++
	switch why {
	case DropExpired:
		o.droppedExpired++
	case DropQueueFull, DropSlowConsumer:
		o.droppedQueueFull++
	case DropTooLarge:
		o.droppedTooLarge++
	}
}

// snapshot returns the counters. Session lock held (for out).
func (cc *connCounters) snapshot() ClientCounters {
	p := &cc.pub
	o := &cc.out
	return ClientCounters{
		RecvCnt: p[rdRecvCnt].Load(), RecvOct: p[rdRecvOct].Load(), RecvPkt: p[rdRecvPkt].Load(),
		RecvMsg: p[rdRecvMsg].Load(), RecvMsgQoS0: p[rdRecvQoS0].Load(), RecvMsgQoS1: p[rdRecvQoS1].Load(),
		RecvMsgQoS2: p[rdRecvQoS2].Load(), RecvMsgDropped: p[rdRecvDropped].Load(),
		RecvMsgDroppedAwaitPubrelTimeout: p[rdRecvDroppedRel].Load(),
		SendCnt:                          cc.sendCnt.Load(), SendOct: cc.sendOct.Load(), SendPkt: o.sendPkt + p[rdSendPkt].Load(),
		SendMsg: o.sendMsg, SendMsgQoS0: o.sendQoS[0], SendMsgQoS1: o.sendQoS[1], SendMsgQoS2: o.sendQoS[2],
		SendMsgDropped: o.dropped, SendMsgDroppedExpired: o.droppedExpired,
		SendMsgDroppedQueueFull: o.droppedQueueFull, SendMsgDroppedTooLarge: o.droppedTooLarge,
	}
}

// ClientCounters returns the traffic counters of a client's current
// connection, or of its last one while it is disconnected (zero for a
// session restored from the store and not connected since). It returns an
// error wrapping ErrNotFound for an unknown client id.
func (b *Broker) ClientCounters(clientID string) (ClientCounters, error) {
	cs, err := b.Client(clientID)
	return cs.Counters, err
}
