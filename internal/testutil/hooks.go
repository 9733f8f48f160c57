package testutil

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/herald-mqtt/herald/internal/broker"
)

// Clients is a broker hook that records the ClientInfo of every connected
// client (client id, username, remote address after PROXY protocol,
// certificate fields), as the broker saw it once the client was connected,
// and the reason each connection ended.
type Clients struct {
	mu   sync.Mutex
	seen map[string]broker.ClientInfo
	gone map[string]error
	name string
}

// RecordClients adds a Clients hook to s's broker.
func RecordClients(s *Server) *Clients {
	r := &Clients{seen: map[string]broker.ClientInfo{}, gone: map[string]error{}}
	r.name = fmt.Sprintf("testutil.clients.%p", r)
	s.Broker().Hooks().Add(r)
	return r
}

// Name implements broker.Hook.
func (r *Clients) Name() string { return r.name }

// OnConnected implements broker.ConnectedHook.
func (r *Clients) OnConnected(c *broker.ClientInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen[c.ClientID] = *c
	delete(r.gone, c.ClientID) // a new connection of the id
}

// OnDisconnected implements broker.DisconnectedHook.
func (r *Clients) OnDisconnected(c *broker.ClientInfo, reason error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gone[c.ClientID] = reason
}

// Disconnected waits until the latest connection of the client with id
// has ended and returns the reason the broker gave (nil for a normal
// DISCONNECT).
func (r *Clients) Disconnected(t testing.TB, id string, within time.Duration) error {
	t.Helper()
	var reason error
	Eventually(t, within, func() error {
		r.mu.Lock()
		defer r.mu.Unlock()
		var ok bool
		if reason, ok = r.gone[id]; !ok {
			return fmt.Errorf("client %q is still connected", id)
		}
		return nil
	})
	return reason
}

// Get waits until a client with id has connected and returns its info.
func (r *Clients) Get(t testing.TB, id string) broker.ClientInfo {
	t.Helper()
	var ci broker.ClientInfo
	Eventually(t, Timeout, func() error {
		r.mu.Lock()
		defer r.mu.Unlock()
		var ok bool
		if ci, ok = r.seen[id]; !ok {
			return fmt.Errorf("client %q has not connected", id)
		}
		return nil
	})
	return ci
}

// IDs returns the ids of the clients seen so far.
func (r *Clients) IDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make([]string, 0, len(r.seen))
	for id := range r.seen {
		ids = append(ids, id)
	}
	return ids
}

var (
	_ broker.ConnectedHook    = (*Clients)(nil)
	_ broker.DisconnectedHook = (*Clients)(nil)
)
