package loadgen

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// pipeSession returns a session over net.Pipe and the broker's end.
func pipeSession(t *testing.T, version byte) (*session, net.Conn) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	return &session{conn: a, version: version}, b
}

// expectWrite reads n bytes the session writes, in the background.
func expectWrite(t *testing.T, peer net.Conn, n int) <-chan []byte {
	t.Helper()
	ch := make(chan []byte, 1)
	go func() {
		b := make([]byte, n)
		_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(peer, b); err != nil {
			b = nil
		}
		ch <- b
	}()
	return ch
}

// stampedPublish encodes a PUBLISH whose payload carries stamp st.
func stampedPublish(version, qos byte, pid uint16, st int64) []byte {
	pp := encodePublish(version, "t", qos, make([]byte, 16))
	if pp.pidOff >= 0 {
		binary.BigEndian.PutUint16(pp.pkt[pp.pidOff:], pid)
	}
	binary.BigEndian.PutUint64(pp.pkt[pp.payOff:], uint64(st))
	copy(pp.pkt[pp.payOff+8:], stampMagic[:])
	return pp.pkt
}

func TestLoadgenReceiverQoS1(t *testing.T) {
	s, peer := pipeSession(t, protoV311)
	win := newWindow()
	now := time.Now().UnixNano()
	win.set(now-int64(time.Second), now+int64(time.Second))
	r := newReceiver(s, win, nil)
	in := stampedPublish(protoV311, 1, 0x0102, now-int64(time.Millisecond))
	in = append(in, stampedPublish(protoV311, 0, 0, now-int64(2*time.Second))...) // sent before the window
	got := expectWrite(t, peer, 4)
	used, err := r.consume(in)
	if err != nil || used != len(in) {
		t.Fatalf("consume = %d, %v; want %d", used, err, len(in))
	}
	mustEqualBytes(t, "PUBACK", <-got, []byte{0x40, 0x02, 0x01, 0x02})
	if r.delivered.Load() != 2 || r.lat.n != 1 || r.lat.max < 1000 {
		t.Fatalf("delivered %d, latency n %d max %dus", r.delivered.Load(), r.lat.n, r.lat.max)
	}
}

func TestLoadgenReceiverQoS2V5(t *testing.T) {
	s, peer := pipeSession(t, protoV5)
	r := newReceiver(s, newWindow(), nil)
	// v5 PUBLISH QoS 2 with a Payload Format Indicator property.
	pp := encodePublish(protoV5, "t", 2, nil)
	body := append([]byte{0x00, 0x01, 't', 0x00, 0x09, 0x02, 0x01, 0x00}, make([]byte, 12)...)
	copy(body[8+8:], stampMagic[:])
	in := appendPacket(nil, pp.pkt[0], body)
	in = appendAck(in, typePubrel, 9)
	got := expectWrite(t, peer, 8)
	if used, err := r.consume(in); err != nil || used != len(in) {
		t.Fatalf("consume = %d, %v", used, err)
	}
	mustEqualBytes(t, "PUBREC+PUBCOMP", <-got, []byte{0x50, 0x02, 0x00, 0x09, 0x70, 0x02, 0x00, 0x09})
	if r.delivered.Load() != 1 {
		t.Fatalf("delivered %d, want 1", r.delivered.Load())
	}
}

func TestLoadgenReceiverForeignAndPartial(t *testing.T) {
	s, _ := pipeSession(t, protoV311)
	r := newReceiver(s, newWindow(), nil)
	foreign := encodePublish(protoV311, "t", 0, []byte("0123456789abcdef")).pkt
	short := encodePublish(protoV311, "t", 0, []byte("tiny")).pkt
	in := append(append(append([]byte{}, foreign...), short...), foreign[:5]...)
	used, err := r.consume(in)
	if err != nil || used != len(foreign)+len(short) {
		t.Fatalf("consume = %d, %v; want %d (partial packet left)", used, err, len(foreign)+len(short))
	}
	if r.foreign.Load() != 1 || r.delivered.Load() != 1 {
		t.Fatalf("foreign %d delivered %d; want 1, 1", r.foreign.Load(), r.delivered.Load())
	}
	r.countAll = true
	if _, err := r.consume(foreign); err != nil || r.delivered.Load() != 2 {
		t.Fatalf("countAll: delivered %d, %v", r.delivered.Load(), err)
	}
}

func TestLoadgenReceiverErrors(t *testing.T) {
	s, _ := pipeSession(t, protoV5)
	r := newReceiver(s, newWindow(), nil)
	if _, err := r.consume([]byte{0xe0, 0x01, 0x8e}); !errors.Is(err, ErrServerDisconnect) {
		t.Fatalf("DISCONNECT: %v", err)
	}
	if _, err := r.consume([]byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x01}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("bad length: %v", err)
	}
	if _, err := r.consume([]byte{0x32, 0x03, 0x00, 0x01, 't'}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("QoS 1 PUBLISH without id: %v", err)
	}
	if err := r.classify(io.EOF); !errors.Is(err, ErrClosedByBroker) {
		t.Fatalf("EOF before close: %v", err)
	}
	s.closing.Store(true)
	if err := r.classify(net.ErrClosed); err != nil {
		t.Fatalf("closed by us: %v", err)
	}
}

// newTestPublisher returns a publisher with window 4 over a pipe.
func newTestPublisher(t *testing.T, version, qos byte) (*publisher, *receiver) {
	t.Helper()
	s, _ := pipeSession(t, version)
	p := newPublisher(s, pubSpec{version: version, topic: "t", qos: qos, size: 16, batchBytes: 1 << 10, window: 4})
	return p, newReceiver(s, newWindow(), p)
}

func TestLoadgenPublisherQoS2Flow(t *testing.T) {
	p, r := newTestPublisher(t, protoV5, 2)
	p.assignIDs(3) // ids 1, 2, 3
	in := appendAck(nil, typePubrec, 1)
	in = append(in, 0x50, 0x03, 0x00, 0x02, 0x87) // v5 PUBREC refusing id 2 [MQTT-3.3.4-7]
	if _, err := r.consume(in); err != nil {
		t.Fatalf("consume PUBRECs: %v", err)
	}
	mustEqualBytes(t, "queued PUBREL", p.ctrl.swap(nil), []byte{0x62, 0x02, 0x00, 0x01})
	if p.inflight.Load() != 2 || p.rejected.Load() != 1 || p.acked.Load() != 0 {
		t.Fatalf("after PUBREC: inflight %d rejected %d acked %d", p.inflight.Load(), p.rejected.Load(), p.acked.Load())
	}
	in = appendAck(appendAck(nil, typePubcomp, 1), typePubcomp, 1) // duplicate ignored
	if _, err := r.consume(in); err != nil {
		t.Fatalf("consume PUBCOMP: %v", err)
	}
	if p.inflight.Load() != 1 || p.acked.Load() != 1 || p.ids.state[1].Load() != idFree {
		t.Fatalf("after PUBCOMP: inflight %d acked %d", p.inflight.Load(), p.acked.Load())
	}
	select {
	case <-p.roomCh: // window 4, minRoom 1: room freed
	default:
		t.Fatalf("no room signal after PUBCOMP")
	}
}

func TestLoadgenPublisherQoS1Batch(t *testing.T) {
	p, r := newTestPublisher(t, protoV311, 1)
	if p.maxMsgs != 1024/p.pktLen || p.minRoom != 1 || len(p.batch) != p.maxMsgs*p.pktLen {
		t.Fatalf("batch %d msgs of %d bytes, minRoom %d", p.maxMsgs, p.pktLen, p.minRoom)
	}
	p.assignIDs(2)
	p.stamp(2)
	for j := range 2 {
		pkt := p.batch[j*p.pktLen : (j+1)*p.pktLen]
		if id := binary.BigEndian.Uint16(pkt[p.pidOff:]); id != uint16(j+1) {
			t.Fatalf("message %d has id %d", j, id)
		}
		if st := int64(binary.BigEndian.Uint64(pkt[p.stampOff:])); time.Since(time.Unix(0, st)) > time.Minute {
			t.Fatalf("message %d stamp %d", j, st)
		}
	}
	in := appendAck(appendAck(nil, typePuback, 2), typePuback, 77) // unknown id ignored
	if _, err := r.consume(in); err != nil || p.acked.Load() != 1 || p.inflight.Load() != 1 {
		t.Fatalf("PUBACK: %v, acked %d inflight %d", err, p.acked.Load(), p.inflight.Load())
	}
}

func TestLoadgenIDTableWraps(t *testing.T) {
	ids := newIDTable()
	ids.next = 65534
	if a, b := ids.take(), ids.take(); a != 65535 || b != 1 { // never 0 [MQTT-2.2.1-3]
		t.Fatalf("ids %d, %d; want 65535, 1", a, b)
	}
	if id := ids.take(); id != 2 {
		t.Fatalf("next id %d", id)
	}
	ids.next = 0
	if id := ids.take(); id != 3 { // 1 and 2 still in use
		t.Fatalf("skipping ids in use: got %d", id)
	}
}

// After the publishing phase the publisher still writes what the receiver
// queues (the PUBRELs of the last QoS 2 publishes), until stopped.
func TestLoadgenPublisherServesCtrlAfterPublishing(t *testing.T) {
	s, peer := pipeSession(t, protoV311)
	p := newPublisher(s, pubSpec{version: protoV311, topic: "t", qos: 2, size: 16, batchBytes: 64, window: 4})
	stop := make(chan struct{})
	go p.run(time.Now(), stop) // publishing phase already over
	<-p.published
	got := expectWrite(t, peer, 4)
	p.queueCtrl(appendAck(nil, typePubrel, 5))
	mustEqualBytes(t, "PUBREL", <-got, []byte{0x62, 0x02, 0x00, 0x05})
	close(stop)
	<-p.done
	if p.err != nil || p.sent.Load() != 0 {
		t.Fatalf("err %v, sent %d", p.err, p.sent.Load())
	}
}
