// Package httplimit bounds the connections an HTTP server accepts: at most
// a given number open at once (one more is accepted and closed at once,
// and counted), and a write that makes no progress for a send timeout
// fails, which makes the server close the connection.
//
// It wraps the server's net.Listener, below TLS, so a refused connection
// costs no handshake. http.Server's own ReadHeaderTimeout, ReadTimeout and
// IdleTimeout bound the reading side. Herald's HTTP API uses it so that
// idle, stalled or too many clients cannot hold file descriptors and memory
// that the MQTT listeners share.
package httplimit
