package listener

import (
	"errors"
	"log/slog"
	"net"
	"time"
)

// acceptLoop accepts until ln is closed. It pauses while the connection
// rate limiter is empty and backs off on accept errors (EMFILE, ...).
func (l *Listener) acceptLoop(ln net.Listener) {
	defer close(l.loopDone)
	var backoff time.Duration
	for l.waitRate() {
		c, err := ln.Accept()
		if err == nil {
			backoff = 0
			l.dispatch(c)
			continue
		}
		if l.isClosing(err) {
			return
		}
		backoff = nextBackoff(backoff)
		l.log.Warn("accept failed, retrying", slog.Any("err", err), slog.Duration("backoff", backoff))
		if !l.sleep(backoff) {
			return
		}
	}
}

func (l *Listener) isClosing(err error) bool {
	select {
	case <-l.done:
		return true
	default:
		return errors.Is(err, net.ErrClosed)
	}
}

func nextBackoff(d time.Duration) time.Duration {
	if d == 0 {
		return minAcceptBackoff
	}
	return min(2*d, maxAcceptBackoff)
}

// sleep waits for d; false if the listener closed meanwhile.
func (l *Listener) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-l.done:
		return false
	}
}

// waitRate takes a token from the connection rate limiter, waiting for
// one when the bucket is empty; false if the listener closed meanwhile.
func (l *Listener) waitRate() bool {
	if l.limiter == nil {
		return true
	}
	r := l.limiter.Reserve()
	d := r.Delay()
	if d == 0 {
		return true
	}
	l.stats.rateLimited.Add(1)
	if !l.sleep(d) {
		r.Cancel()
		return false
	}
	return true
}

// dispatch applies MaxConnections and starts the connection's goroutine.
func (l *Listener) dispatch(c net.Conn) {
	l.stats.accepted.Add(1)
	if !l.acquire() {
		l.stats.rejected.Add(1)
		l.log.Debug("max connections reached, closing", slog.String("peername", c.RemoteAddr().String()))
		_ = c.Close()
		return
	}
	tcp, raw := c.(*net.TCPConn)
	switch {
	case !raw || l.cfg.ProxyProtocol || l.tls != nil || l.ws != nil:
	case l.cfg.Adopt != nil:
		l.adopt(tcp)
		return
	default:
		go l.serveRaw(tcp)
		return
	}
	go l.serveWrapped(c)
}
