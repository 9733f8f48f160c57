package broker

import (
	"syscall"
	"time"
	"unsafe"

	"github.com/herald-mqtt/herald/internal/bufpool"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

const (
	outBufSize    = 4 << 10         // first outbound buffer of a burst
	closeDeadline = 2 * time.Second // how long a closing connection may take to flush
)

// bytesOf returns s's bytes without copying. The result must not be written.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// pending is the number of outbound bytes not yet written. Lock held.
func (c *client) pending() int {
	if c.outp == nil {
		return c.writing
	}
	return len(*c.outp) + c.writing
}

// reserve makes room for n more outbound bytes and returns the buffer to
// append to. Lock held.
func (c *client) reserve(n int) []byte {
	if c.outp == nil {
		c.outp = bufpool.Get(max(outBufSize, n))
		*c.outp = (*c.outp)[:0]
	}
	if cap(*c.outp)-len(*c.outp) < n {
		nb := bufpool.Get(2*cap(*c.outp) + n)
		*nb = append((*nb)[:0], *c.outp...)
		bufpool.Put(c.outp)
		c.outp = nb
	}
	return *c.outp
}

// wake makes sure a flusher will write the outbound buffer. With a work the
// start is deferred to the end of its batch. Lock held.
func (c *client) wake(w *work) {
	if c.flushing {
		return
	}
	c.flushing = true
	if w != nil {
		w.kick(c)
		return
	}
	go c.flushLoop()
}

// writeRaw appends an encoded packet. Lock held.
func (c *client) writeRaw(w *work, p []byte) {
	if c.closing {
		return
	}
	buf := c.reserve(len(p))
	*c.outp = append(buf, p...)
	c.wake(w)
}

// writePacket encodes pk into the outbound buffer. Lock held.
func (c *client) writePacket(w *work, pk packet.Packet) {
	if c.closing {
		return
	}
	c.fit(pk)
	buf := c.reserve(256)
	out, err := pk.Append(buf, c.version)
	if err != nil {
		c.b.log.Warn("encode failed", "clientid", c.info.ClientID, "packet", pk.Type().String(), "err", err)
		return
	}
	*c.outp = out
	c.out.otherPkt++
	c.wake(w)
}

// flushLoop writes the outbound buffer until it is empty, then exits. It
// closes the connection once a closing client has been flushed. A write that
// makes no progress for mqtt.send_timeout fails and closes the connection.
func (c *client) flushLoop() {
	s := c.sess
	var wrote int
	var werr error
	for {
		s.mu.Lock()
		c.writing = 0
		if werr != nil {
			c.noteEnd(0, writeFailed(werr))
			c.closing, c.lingers = true, false
			c.releaseOut()
		}
		if c.outp == nil || len(*c.outp) == 0 {
			c.flushing = false
			closing, lingers := c.closing, c.lingers
			c.releaseOut()
			s.mu.Unlock()
			c.b.metrics.add(0, MBytesSent, uint64(wrote))
			if closing {
				c.endFlushed(lingers)
			}
			return
		}
		bp := c.outp
		c.outp = nil
		c.writing = len(*bp)
		timeout := c.b.conf().SendTimeout
		if c.closing {
			timeout = 0 // shutdown set a short deadline already
		}
		s.mu.Unlock()
		if timeout > 0 {
			_ = c.nc.SetWriteDeadline(time.Now().Add(timeout))
		}
		var n int
		n, werr = c.nc.Write(*bp)
		c.ctr.wrote(n)
		wrote += n
		bufpool.Put(bp)
	}
}

// flushNow writes c's outbound buffer from the calling goroutine with one
// non-blocking write; what the socket does not take at once (or anything on
// a transport without a raw socket) goes to a flusher goroutine. The caller
// owns the flushing role (set by wake).
func (c *client) flushNow() {
	if c.raw == nil {
		go c.flushLoop()
		return
	}
	s := c.sess
	s.mu.Lock()
	if c.outp == nil || len(*c.outp) == 0 || c.closing {
		s.mu.Unlock()
		go c.flushLoop()
		return
	}
	bp := c.outp
	c.outp = nil
	c.writing = len(*bp)
	s.mu.Unlock()
	c.wbuf = *bp
	c.wn, c.werr = 0, nil
	if c.writeFn == nil {
		c.writeFn = c.rawWrite // made on first use: many connections never receive
	}
	if err := c.raw.Write(c.writeFn); err != nil {
		c.werr = err
	}
	n, err := c.wn, c.werr
	c.wbuf = nil
	c.ctr.wrote(n)
	c.b.metrics.add(0, MBytesSent, uint64(n))
	if err != nil && err != syscall.EAGAIN {
		bufpool.Put(bp)
		go c.flushLoop() // sees the closed state after a failed write
		return
	}
	if n < len(*bp) {
		go c.flushRest(bp, n)
		return
	}
	bufpool.Put(bp)
	s.mu.Lock()
	c.writing = 0
	if c.outp == nil || len(*c.outp) == 0 {
		c.flushing = false
		closing, lingers := c.closing, c.lingers // a shutdown while we held the flushing role
		c.releaseOut()
		s.mu.Unlock()
		if closing {
			c.endFlushed(lingers)
		}
		return
	}
	s.mu.Unlock()
	go c.flushLoop()
}

// rawWrite is the one non-blocking write syscall of flushNow.
func (c *client) rawWrite(fd uintptr) bool {
	for {
		n, err := rawSys(syscall.SYS_WRITE, fd, c.wbuf)
		if err == syscall.EINTR {
			continue
		}
		c.wn, c.werr = max(n, 0), err
		return true
	}
}

// flushRest writes the remainder of a partial inline write (blocking), then
// carries on as the flusher.
func (c *client) flushRest(bp *[]byte, off int) {
	if d := c.b.conf().SendTimeout; d > 0 {
		_ = c.nc.SetWriteDeadline(time.Now().Add(d))
	}
	n, err := c.nc.Write((*bp)[off:])
	c.ctr.wrote(n)
	c.b.metrics.add(0, MBytesSent, uint64(n))
	bufpool.Put(bp)
	if err != nil {
		s := c.sess
		s.mu.Lock()
		c.noteEnd(0, writeFailed(err))
		c.closing, c.lingers = true, false
		s.mu.Unlock()
	}
	c.flushLoop()
}

// releaseOut returns an empty outbound buffer to the pool. Lock held.
func (c *client) releaseOut() {
	if c.outp != nil && (len(*c.outp) == 0 || c.closing) {
		bufpool.Put(c.outp)
		c.outp = nil
	}
}

// shutdown ends the connection from the server side: a v5 client gets a
// DISCONNECT with rc, then the connection closes once flushed (after a
// linger, linger.go). Lock held.
func (c *client) shutdown(rc packet.ReasonCode) { c.shutdownWith(rc, "") }

// shutdownWith is shutdown with a Reason String for the DISCONNECT. When
// mqtt.server_reference is set, a shutting-down server sends 0x9C Use
// another server with the reference instead of 0x8B. Lock held.
func (c *client) shutdownWith(rc packet.ReasonCode, why string) {
	if c.closing {
		return
	}
	c.noteEnd(rc, why)
	if c.version == packet.V5 && c.connected {
		d := &packet.Disconnect{ReasonCode: rc}
		if why != "" {
			d.Props.ReasonString = []byte(why)
			d.Props.Set(packet.PropReasonString)
		}
		if ref := c.b.conf().ServerReference; ref != "" && rc == packet.ServerShuttingDown {
			d.ReasonCode = packet.UseAnotherServer
			d.Props.ServerReference = []byte(ref)
			d.Props.Set(packet.PropServerReference)
		}
		c.writePacket(nil, d)
		c.b.metrics.Inc(MPacketsDisconnectSent)
		c.b.metrics.Inc(MPacketsSent)
		c.lingers = true
	}
	c.closing = true
	_ = c.nc.SetWriteDeadline(time.Now().Add(closeDeadline))
	c.wake(nil)
}

// fit drops the Reason String and User Properties of a response that would
// otherwise exceed the client's Maximum Packet Size [MQTT-3.1.2-24; 3.4.2-2,
// 3.9.2-1, 3.11.2-1, 3.14.2-3 and the like for the other packets].
func (c *client) fit(pk packet.Packet) {
	if c.maxOut == 0 {
		return
	}
	pr := responseProps(pk)
	if pr == nil || (!pr.Has(packet.PropReasonString) && len(pr.User) == 0) || pk.Size(c.version) <= c.maxOut {
		return
	}
	pr.Clear(packet.PropReasonString)
	pr.ReasonString, pr.User = nil, nil
}

// responseProps returns the properties of a packet that may carry a Reason
// String, or nil.
func responseProps(pk packet.Packet) *packet.Properties {
	switch p := pk.(type) {
	case *packet.Ack:
		return &p.Props
	case *packet.Suback:
		return &p.Props
	case *packet.Unsuback:
		return &p.Props
	case *packet.Disconnect:
		return &p.Props
	case *packet.Auth:
		return &p.Props
	}
	return nil
}

// closeConn closes the network connection once.
func (c *client) closeConn() {
	c.closeOnce.Do(func() {
		_ = c.nc.Close()
		c.closed.Store(true)
	})
}

// queueResponse appends a response (PUBACK, SUBACK, ...) to the read batch's
// responses; they are written at the end of the batch, after any durable
// commit the batch needs.
func (c *client) queueResponse(pk packet.Packet) {
	c.fit(pk)
	out, err := pk.Append(c.w.resp, c.version)
	if err == nil {
		c.w.resp = out
		c.ctr.inc(rdSendPkt)
	}
}

// releaseResponses moves the batch's responses to the outbound buffer, or
// holds them until a durable commit completes when the batch stored anything.
func (c *client) releaseResponses() {
	if len(c.w.resp) == 0 && !c.w.barrier {
		return
	}
	s := c.sess
	if s == nil {
		c.writeDirect(c.w.resp)
		c.w.resp = c.w.resp[:0]
		return
	}
	barrier := c.w.barrier
	c.w.barrier = false
	s.mu.Lock()
	if !barrier && c.held.Len() == 0 {
		c.writeRaw(c.w, c.w.resp)
		s.mu.Unlock()
		c.w.resp = c.w.resp[:0]
		return
	}
	g := &ackGroup{buf: append([]byte(nil), c.w.resp...), ready: !barrier}
	c.held.Push(g)
	s.mu.Unlock()
	c.w.resp = c.w.resp[:0]
	if barrier {
		c.b.store.Commit(nil, true, func(err error) { c.durableDone(g, err) })
	}
}

// durableDone releases held responses once their commit is durable.
func (c *client) durableDone(g *ackGroup, err error) {
	s := c.sess
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		c.b.metrics.Inc(MStoreCommitErrors)
		c.b.log.Error("store commit failed; closing connection without acknowledging", "clientid", c.info.ClientID, "err", err)
		c.shutdown(packet.UnspecifiedError)
		return
	}
	g.ready = true
	for c.held.Len() > 0 && c.held.Peek().ready {
		c.writeRaw(nil, c.held.Pop().buf)
	}
}

// writeDirect writes bytes before the client is attached to a session (the
// read goroutine is then the only writer) and reports whether they all
// went out.
func (c *client) writeDirect(p []byte) bool {
	if len(p) == 0 {
		return true
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(closeDeadline))
	n, err := c.nc.Write(p)
	c.ctr.wrote(n)
	_ = c.nc.SetWriteDeadline(time.Time{})
	c.b.metrics.Add(MBytesSent, uint64(n))
	return err == nil
}
