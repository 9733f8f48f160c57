package server

import (
	"fmt"
	"path/filepath"

	"github.com/herald-mqtt/herald/internal/banned"
	"github.com/herald-mqtt/herald/internal/broker"
	"github.com/herald-mqtt/herald/internal/metastore"
	"github.com/herald-mqtt/herald/internal/mqtt/packet"
)

// openBanned loads the ban list from DataDir/mgmt and installs the
// broker hook that refuses a banned client's CONNECT.
func (s *Server) openBanned() error {
	st, err := metastore.Open(filepath.Join(s.cfg.Node.DataDir, "mgmt"))
	if err != nil {
		return fmt.Errorf("server: ban list: %w", err)
	}
	l, err := banned.New(st, nil)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	s.bans = l
	s.broker.Hooks().Add(banHook{l})
	return nil
}

// banHook refuses the CONNECT of a banned client with 0x8A Banned (3.1.1
// clients get return code 5, not authorized), before authentication, as
// EMQX checks bans before the authenticators run.
type banHook struct{ l *banned.List }

func (banHook) Name() string { return "banned" }

func (h banHook) OnConnect(c *broker.ClientInfo, _ *packet.Connect) error {
	if b, ok := h.l.Check(c.ClientID, c.Username, c.RemoteAddr.Addr()); ok {
		return fmt.Errorf("%w: %s %q is banned", packet.Banned, b.As, b.Who)
	}
	return nil
}
