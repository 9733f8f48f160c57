package service

import (
	"context"
	"errors"
	"time"

	"github.com/herald-mqtt/herald/internal/banned"
	"github.com/herald-mqtt/herald/internal/broker"
)

// banSweepInterval is how often expired bans are removed from the list
// (an expired ban stops matching at once; the sweep only reclaims it).
const banSweepInterval = time.Minute

// Ban is one entry of the ban list. As is clientid, username, peerhost,
// clientid_re, username_re or peerhost_net.
type Ban struct {
	As     string
	Who    string
	By     string
	Reason string
	At     time.Time
	Until  time.Time // zero: never expires
}

// BanExistsError is CreateBan's error when an unexpired ban of the same
// as and who exists: ErrBadRequest with code ALREADY_EXISTS (EMQX answers
// 400), carrying the existing ban.
type BanExistsError struct {
	Existing Ban
	err      *Error
}

func (e *BanExistsError) Error() string { return e.err.Msg }

// Unwrap returns the *Error, which unwraps to ErrBadRequest.
func (e *BanExistsError) Unwrap() error { return e.err }

// initBanned adopts the node's ban list and starts its sweeper.
func (s *Service) initBanned() error {
	s.bans = s.opts.Banned
	if s.bans == nil {
		l, err := banned.New(nil, s.now)
		if err != nil {
			return err
		}
		s.bans = l
	}
	s.every(banSweepInterval, s.sweepBans)
	return nil
}

// sweepBans drops expired bans.
func (s *Service) sweepBans() {
	if n, err := s.bans.Sweep(); err != nil {
		s.log.Error("ban list sweep", "err", err)
	} else if n > 0 {
		s.log.Info("expired bans removed", "count", n)
	}
}

// BanKinds are the values of a ban's as, in EMQX's order.
func BanKinds() []string {
	out := make([]string, len(banned.Kinds))
	for i, k := range banned.Kinds {
		out[i] = string(k)
	}
	return out
}

// ListBanned returns one page of the unexpired bans, oldest first.
func (s *Service) ListBanned(ctx context.Context, q PageQuery) (Page[Ban], error) {
	all := s.bans.All()
	out := make([]Ban, len(all))
	for i, b := range all {
		out[i] = banDTO(b)
	}
	return paginate(out, q, true), nil
}

// CreateBan adds a ban (By defaults to mgmt_api, At to now, Until to At +
// one year as EMQX 5.6) and kicks every connected client it catches at
// once. A bad as or who, or an until in the past, is ErrBadRequest; an
// existing unexpired ban is a *BanExistsError.
func (s *Service) CreateBan(ctx context.Context, b Ban) (Ban, error) {
	got, err := s.bans.Add(banned.Ban{As: banned.Kind(b.As), Who: b.Who, By: b.By, Reason: b.Reason, At: b.At, Until: b.Until})
	var ee *banned.ExistsError
	switch {
	case errors.As(err, &ee):
		e := Errorf(ErrBadRequest, "ALREADY_EXISTS", "%s %q is already banned", ee.Existing.As, ee.Existing.Who).(*Error)
		return Ban{}, &BanExistsError{err: e, Existing: banDTO(ee.Existing)}
	case errors.Is(err, banned.ErrInvalid):
		return Ban{}, Errorf(ErrBadRequest, "BAD_REQUEST", "%s", err.Error())
	case err != nil:
		return Ban{}, err
	}
	s.log.Info("ban added", "as", got.As, "who", got.Who, "by", got.By, "until", got.Until)
	s.kickBanned(got)
	return banDTO(got), nil
}

// kickBanned disconnects the connected clients a new ban catches.
func (s *Service) kickBanned(b banned.Ban) {
	if b.As == banned.ClientID {
		for _, n := range s.nodes {
			if n.b.Kick(b.Who) == nil {
				s.log.Info("banned client kicked", "clientid", b.Who)
			}
		}
		return
	}
	match, err := banned.Matcher(b)
	if err != nil {
		return
	}
	for _, n := range s.nodes {
		var ids []string
		n.b.Clients(func(c *broker.ClientSnapshot) bool {
			if c.Connected && match(c.ClientID, c.Username, c.Peer.Addr()) {
				ids = append(ids, c.ClientID)
			}
			return true
		})
		for _, id := range ids {
			if n.b.Kick(id) == nil {
				s.log.Info("banned client kicked", "clientid", id, "as", b.As, "who", b.Who)
			}
		}
	}
}

// DeleteBan removes the ban of as and who; ErrNotFound when there is none
// (or it has expired), ErrBadRequest for an unknown as.
func (s *Service) DeleteBan(ctx context.Context, as, who string) error {
	if !banned.ValidKind(as) {
		return Errorf(ErrBadRequest, "BAD_REQUEST", "as must be one of clientid, username, peerhost, clientid_re, username_re, peerhost_net")
	}
	err := s.bans.Delete(banned.Kind(as), who)
	switch {
	case errors.Is(err, banned.ErrNotFound), errors.Is(err, banned.ErrInvalid):
		return Errorf(ErrNotFound, "NOT_FOUND", "%s %q is not banned", as, who)
	case err != nil:
		return err
	}
	s.log.Info("ban removed", "as", as, "who", who)
	return nil
}

// ClearBanned removes every ban.
func (s *Service) ClearBanned(ctx context.Context) error {
	if err := s.bans.Clear(); err != nil {
		return err
	}
	s.log.Info("ban list cleared")
	return nil
}

func banDTO(b banned.Ban) Ban {
	return Ban{As: string(b.As), Who: b.Who, By: b.By, Reason: b.Reason, At: b.At, Until: b.Until}
}
