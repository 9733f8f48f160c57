package loadgen

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// session is one MQTT connection after a successful CONNACK.
type session struct {
	conn    net.Conn
	wmu     sync.Mutex // serialises writers (pinger, publisher or receiver acks)
	version byte
	ack     connack
	closing atomic.Bool // set before the tool closes the connection itself
}

// dialer opens sessions to the broker.
type dialer struct {
	addr    string
	opts    connectOpts // client id filled per connection
	timeout time.Duration
	nd      net.Dialer
}

func newDialer(c *config) *dialer {
	return &dialer{
		addr: c.addr,
		opts: connectOpts{
			version: c.version, keepalive: uint16(c.keepalive), clean: c.clean,
			username: c.username, password: c.password,
		},
		timeout: c.setup,
		nd:      net.Dialer{Timeout: c.setup},
	}
}

// connect dials, sends CONNECT and waits for a CONNACK accepting it.
func (d *dialer) connect(clientID string) (*session, error) {
	conn, err := d.nd.Dial("tcp", d.addr)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	s := &session{conn: conn, version: d.opts.version}
	if err := s.handshake(d.opts, clientID, d.timeout); err != nil {
		conn.Close()
		return nil, fmt.Errorf("client %s: %w", clientID, err)
	}
	return s, nil
}

func (s *session) handshake(o connectOpts, clientID string, timeout time.Duration) error {
	o.clientID = clientID
	_ = s.conn.SetDeadline(time.Now().Add(timeout))
	if _, err := s.conn.Write(encodeConnect(&o)); err != nil {
		return fmt.Errorf("writing CONNECT: %w", err)
	}
	ca, err := s.readConnack()
	if err != nil {
		return err
	}
	s.ack = ca
	return s.conn.SetDeadline(time.Time{})
}

func (s *session) readConnack() (connack, error) {
	hdr, body, err := readPacket(s.conn)
	if err != nil {
		return connack{}, fmt.Errorf("reading CONNACK: %w", err)
	}
	if hdr>>4 != typeConnack {
		return connack{}, fmt.Errorf("%w: type %d instead of CONNACK", ErrUnexpected, hdr>>4)
	}
	ca, err := parseConnack(s.version, body)
	if err != nil {
		return ca, err
	}
	return ca, ca.check()
}

// subscribe sends a SUBSCRIBE for filter and waits for its SUBACK. Nothing
// else may arrive first: the session has no subscription yet (retained
// messages after the SUBACK are left for the receiver).
func (s *session) subscribe(filter string, qos byte, timeout time.Duration) error {
	_ = s.conn.SetDeadline(time.Now().Add(timeout))
	defer s.conn.SetDeadline(time.Time{})
	if _, err := s.conn.Write(encodeSubscribe(s.version, 1, filter, qos)); err != nil {
		return fmt.Errorf("writing SUBSCRIBE: %w", err)
	}
	hdr, body, err := readPacket(s.conn)
	if err != nil {
		return fmt.Errorf("reading SUBACK: %w", err)
	}
	if hdr>>4 != typeSuback {
		return fmt.Errorf("%w: type %d instead of SUBACK", ErrUnexpected, hdr>>4)
	}
	code, err := parseSuback(s.version, body)
	if err == nil && code >= 0x80 {
		err = fmt.Errorf("%w: SUBACK code 0x%02x for %q", ErrRefused, code, filter)
	}
	return err
}

// write writes b under the session's write lock.
func (s *session) write(b []byte) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.conn.Write(b)
}

// close sends DISCONNECT (bounded by a one second deadline) and closes.
func (s *session) close() {
	s.closing.Store(true)
	s.wmu.Lock()
	_ = s.conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = s.conn.Write(pktDisconnect)
	s.wmu.Unlock()
	s.conn.Close()
}

// keepAlive is the keepalive in force: the server's if it sent one
// [MQTT-3.2.2-21], else ours.
func (s *session) keepAlive(ours int) time.Duration {
	if s.ack.serverKeepAlive >= 0 {
		return time.Duration(s.ack.serverKeepAlive) * time.Second
	}
	return time.Duration(ours) * time.Second
}

// pingLoop sends PINGREQ every keepalive/2 until stop is closed, so an
// otherwise silent client stays connected: 3.1.1 [MQTT-3.1.2-23], 5.0
// [MQTT-3.1.2-20].
func (s *session) pingLoop(every time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			_, _ = s.write(pktPingreq)
		}
	}
}

// setRcvLowat sets SO_RCVLOWAT: the socket polls readable only once v bytes
// are queued, so a receiver wakes up once per many packets.
func setRcvLowat(c net.Conn, v int) error {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT, v)
	})
	if err != nil {
		return err
	}
	return serr
}
