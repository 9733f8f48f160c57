package testutil

import (
	"fmt"
	"sync"
	"testing"

	"github.com/herald-mqtt/herald/internal/broker"
)

// Clients is a broker hook that records the ClientInfo of every connected
// client (client id, username, remote address after PROXY protocol,
// certificate fields), as the broker saw it once the client was connected.
type Clients struct {
	mu   sync.Mutex
	seen map[string]broker.ClientInfo
	name string
}

// RecordClients adds a Clients hook to s's broker.
func RecordClients(s *Server) *Clients {
	r := &Clients{seen: map[string]broker.ClientInfo{}, name: fmt.Sprintf("testutil.clients.%p", s)}
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

var _ broker.ConnectedHook = (*Clients)(nil)
