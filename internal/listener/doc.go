// Package listener accepts MQTT transports — plain TCP ("tcp"), TLS
// ("ssl"), WebSocket ("ws") and WebSocket over TLS ("wss"), each optionally
// behind the PROXY protocol v1/v2 — and hands every connection, as a
// net.Conn plus a ConnMeta, to a Handler function. It imports nothing of
// the broker.
//
// # Lifecycle
//
// New validates the Config and loads certificate files; Start binds and
// runs the accept loop on its own goroutine; Close stops accepting (the
// accept loop has exited when it returns) and aborts connections still in
// their PROXY, TLS or HTTP-upgrade stage, but leaves connections already
// handed to a Handler alone: the broker closes those on shutdown. Wait
// returns once the listener is closed and every Handler has returned.
//
// # Per connection
//
// The accept loop applies, in order:
//
//   - MaxConnRate: a token bucket (MaxConnRate per second, ConnBurst
//     tokens) taken before each accept; when it is empty accepting pauses,
//     leaving new connections in the kernel backlog (EMQX/esockd
//     behaviour). Stats.RateLimited counts the pauses.
//   - MaxConnections: a connection beyond it is closed at once and counted
//     in Stats.Rejected. A connection counts from accept until its Handler
//     returns (or it is closed before reaching one).
//
// A plain TCP connection without PROXY protocol goes straight to a new
// goroutine running the Handler with the raw *net.TCPConn, so the broker
// can use SyscallConn for buffer-free idle reads. Every other connection
// gets one goroutine that runs the stages below with deadlines, never
// blocking the accept loop, and then the Handler. The listener closes the
// conn after the Handler returns.
//
// # PROXY protocol
//
// With ProxyProtocol set, a v1 or v2 header (github.com/pires/go-proxyproto)
// must arrive within ProxyTimeout; a connection without one, or with a
// malformed or late one, is closed and counted in Stats.ProxyErrors — as
// EMQX (esockd_proxy_protocol) refuses it. The header's source and
// destination become ConnMeta.RemoteAddr/LocalAddr and conn.RemoteAddr()/
// LocalAddr(); a LOCAL command (load balancer health check), "PROXY
// UNKNOWN" or a non-TCP address family keeps the socket's addresses, as
// EMQX does. A PP2_SUBTYPE_SSL_CN TLV is reported as ConnMeta.ProxyClientCN.
// When no byte followed the header in the same read the Handler still gets
// a *net.TCPConn-embedding conn (SyscallConn available); otherwise a
// wrapper that first replays those bytes.
//
// # TLS
//
// The handshake runs on the connection's goroutine under HandshakeTimeout;
// a failure closes the connection, is logged at debug level and counted in
// Stats.HandshakeErrors. VerifyPeer verifies a client certificate when
// one is sent; with FailIfNoPeerCert a client without one is refused.
// ConnMeta.TLS carries the state (PeerCertificates) to the Handler.
//
// # WebSocket
//
// ws/wss connections are served by an http.Server fed by the accept loop
// (after the PROXY/TLS stages) and upgraded with github.com/coder/websocket.
// Only WSPath is upgraded; other paths get 404. Subprotocol negotiation
// follows EMQX (fail_if_no_subprotocol = false): a client offering
// "mqtt" gets "mqtt" [MQTT-6.0.0-4], else the first offered subprotocol
// that WSSubprotocols lists is echoed; a client offering none of them gets
// 400; a client sending no Sec-WebSocket-Protocol header is accepted
// without one unless WSFailIfNoSubprotocol. The Origin header is not
// checked (EMQX check_origin_enable = false) and X-Forwarded-For is
// ignored: RemoteAddr is the PROXY source or the socket peer.
//
// The Handler's conn reads binary message payloads as one byte stream, so
// MQTT packets may span or share frames [MQTT-6.0.0-2]; a text (non-binary)
// message closes the connection with status 1003 [MQTT-6.0.0-1]. Each Write
// is one binary message. One writer goroutine plus Close from another is
// safe. Deadlines work, but a deadline that expires during a blocked Read
// or Write closes the WebSocket (the error wraps os.ErrDeadlineExceeded);
// Close waits at most one second for the close handshake.
package listener
