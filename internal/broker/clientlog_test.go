package broker

import (
	"io"
	"log/slog"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

// TestBrokerClientLogEndings: how the end of a connection is classified
// for the log (the integration tests drive most of these over sockets;
// write failures and client error codes are hard to provoke there).
func TestBrokerClientLogEndings(t *testing.T) {
	none := serverClose{}
	cases := []struct {
		name   string
		server serverClose
		err    error
		disc   packet.ReasonCode
		level  slog.Level
		msg    string
		rc     string // "" = no reason_code
		reason string
	}{
		{"normal", none, errNormalDisconnect, 0, slog.LevelDebug, msgDisconnected, "0x00", "normal disconnection"},
		{"client error code", none, errNormalDisconnect, packet.ImplementationSpecificError, slog.LevelInfo, msgDisconnected, "0x83", "implementation specific error"},
		{"keep alive", none, os.ErrDeadlineExceeded, 0, slog.LevelInfo, msgConnLost, "0x8d", "keep alive timeout"},
		{"eof", none, io.EOF, 0, slog.LevelInfo, msgConnLost, "", "closed by the client without DISCONNECT"},
		{"reset", none, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, 0, slog.LevelInfo, msgConnLost, "", "socket error: read tcp: connection reset by peer"},
		{"protocol", none, protoErr("second CONNECT"), 0, slog.LevelInfo, msgProtocolError, "0x82", "protocol error: second CONNECT"},
		{"kicked", serverClose{rc: packet.AdministrativeAction}, net.ErrClosed, 0, slog.LevelInfo, msgDisconnected, "0x98", "administrative action"},
		{"taken over", serverClose{rc: packet.SessionTakenOver}, net.ErrClosed, 0, slog.LevelDebug, msgDisconnected, "0x8e", "session taken over"},
		{"shutdown", serverClose{rc: packet.ServerShuttingDown}, io.EOF, 0, slog.LevelDebug, msgDisconnected, "0x8b", "server shutting down"},
		{"server keep alive", serverClose{rc: packet.KeepAliveTimeout, why: "no packet for 90s"}, net.ErrClosed, 0, slog.LevelInfo, msgConnLost, "0x8d", "keep alive timeout: no packet for 90s"},
		{"send timeout", serverClose{why: writeFailed(os.ErrDeadlineExceeded)}, net.ErrClosed, 0, slog.LevelInfo, msgConnLost, "", "send timeout: the client took nothing for mqtt.send_timeout"},
		{"write failed", serverClose{why: writeFailed(syscall.EPIPE)}, net.ErrClosed, 0, slog.LevelInfo, msgConnLost, "", "socket write failed: broken pipe"},
		{"closed by server", none, net.ErrClosed, 0, slog.LevelInfo, msgConnLost, "", "closed by the server"},
	}
	for _, tc := range cases {
		c := &client{discRC: tc.disc}
		e := c.endingOf(tc.server, tc.err)
		rc := ""
		if e.hasRC {
			rc = rcAttr(e.rc).Value.String()
		}
		if e.level != tc.level || e.msg != tc.msg || rc != tc.rc || e.text() != tc.reason {
			t.Errorf("%s: got %v %q %q %q, want %v %q %q %q", tc.name, e.level, e.msg, rc, e.text(),
				tc.level, tc.msg, tc.rc, tc.reason)
		}
	}
}
