package service

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/herald-mqtt/herald/internal/broker"
)

// Connection states of ClientQuery.ConnState, as EMQX's conn_state.
const (
	ConnStateConnected    = "connected"
	ConnStateIdle         = "idle"
	ConnStateDisconnected = "disconnected"
)

// ClientQuery is GET /clients: one page of the sessions matching every
// filter set. Zero values mean "any".
type ClientQuery struct {
	PageQuery
	Node         string
	ClientIDs    []string // exact, any of
	Usernames    []string // exact, any of
	IPAddress    netip.Addr
	ConnState    string // connected | idle | disconnected; idle matches nothing (see match)
	CleanStart   *bool
	ProtoVer     int // 3, 4 or 5
	LikeClientID string
	LikeUsername string

	CreatedFrom, CreatedTo     time.Time // inclusive bounds of CreatedAt
	ConnectedFrom, ConnectedTo time.Time // inclusive bounds of ConnectedAt
}

// Client is one session (and its connection when connected).
type Client struct {
	ClientID   string
	Username   string
	Node       string
	Listener   string
	Mountpoint string
	Peer       netip.AddrPort // invalid while never connected since restore
	ProtoVer   byte
	Keepalive  uint16
	CleanStart bool
	Expiry     uint32 // seconds
	Persistent bool
	Connected  bool
	IsBridge   bool

	CreatedAt, ConnectedAt, DisconnectedAt time.Time

	InflightCnt, InflightMax           int
	MqueueLen, MqueueMax               int // MqueueMax 0 = unlimited
	MqueueDropped                      uint64
	AwaitingRelCnt, AwaitingRelMax     int // 0 = unlimited
	SubscriptionsCnt, SubscriptionsMax int // 0 = unlimited

	Counters ClientCounters
}

// ClientCounters are the per-connection traffic counters.
type ClientCounters struct {
	RecvCnt, RecvOct, RecvPkt, RecvMsg               uint64
	RecvMsgQoS0, RecvMsgQoS1, RecvMsgQoS2            uint64
	RecvMsgDropped, RecvMsgDroppedAwaitPubrelTimeout uint64
	SendCnt, SendOct, SendPkt, SendMsg               uint64
	SendMsgQoS0, SendMsgQoS1, SendMsgQoS2            uint64
	SendMsgDropped, SendMsgDroppedExpired            uint64
	SendMsgDroppedQueueFull, SendMsgDroppedTooLarge  uint64
}

func clientOf(c *broker.ClientSnapshot) Client {
	return Client{
		ClientID: c.ClientID, Username: c.Username, Node: c.Node, Listener: c.Listener,
		Mountpoint: c.Mountpoint, Peer: c.Peer, ProtoVer: c.ProtoVer, Keepalive: c.Keepalive,
		CleanStart: c.CleanStart, Expiry: c.Expiry, Persistent: c.Persistent, Connected: c.Connected,
		IsBridge: c.IsBridge, CreatedAt: c.CreatedAt, ConnectedAt: c.ConnectedAt, DisconnectedAt: c.DisconnectedAt,
		InflightCnt: c.InflightCnt, InflightMax: c.InflightMax, MqueueLen: c.MqueueLen, MqueueMax: c.MqueueMax,
		MqueueDropped: c.MqueueDropped, AwaitingRelCnt: c.AwaitingRelCnt, AwaitingRelMax: c.AwaitingRelMax,
		SubscriptionsCnt: c.SubscriptionsCnt, SubscriptionsMax: c.SubscriptionsMax,
		Counters: ClientCounters(c.Counters),
	}
}

// validate checks the parts of q that are not checked by their type.
func (q *ClientQuery) validate() error {
	if !q.Valid() {
		return Errorf(ErrBadRequest, "INVALID_PARAMETER", "page_limit_invalid")
	}
	switch q.ConnState {
	case "", ConnStateConnected, ConnStateIdle, ConnStateDisconnected:
	default:
		return Errorf(ErrBadRequest, "INVALID_PARAMETER", "conn_state: %q is not connected, idle or disconnected", q.ConnState)
	}
	return nil
}

// fuzzy reports whether q has a substring filter (then no count, as EMQX).
func (q *ClientQuery) fuzzy() bool { return q.LikeClientID != "" || q.LikeUsername != "" }

// match reports whether a session passes every filter of q.
func (q *ClientQuery) match(c *broker.ClientSnapshot) bool {
	switch {
	case len(q.ClientIDs) > 0 && !slices.Contains(q.ClientIDs, c.ClientID),
		len(q.Usernames) > 0 && !slices.Contains(q.Usernames, c.Username),
		q.IPAddress.IsValid() && (!c.Peer.IsValid() || c.Peer.Addr().Unmap() != q.IPAddress.Unmap()),
		q.CleanStart != nil && *q.CleanStart != c.CleanStart,
		q.ProtoVer != 0 && int(c.ProtoVer) != q.ProtoVer,
		q.LikeClientID != "" && !strings.Contains(c.ClientID, q.LikeClientID),
		q.LikeUsername != "" && !strings.Contains(c.Username, q.LikeUsername),
		!inRange(c.CreatedAt, q.CreatedFrom, q.CreatedTo),
		!inRange(c.ConnectedAt, q.ConnectedFrom, q.ConnectedTo):
		return false
	}
	switch q.ConnState {
	case ConnStateConnected:
		return c.Connected
	case ConnStateDisconnected:
		return !c.Connected
	case ConnStateIdle:
		// EMQX's idle is a channel whose socket is open but whose CONNECT
		// has not been handled yet; Herald has no session before CONNECT.
		return false
	}
	return true
}

// inRange reports whether t is within the inclusive bounds (zero = open).
// A zero t (never happened) is outside any bounded range.
func inRange(t, from, to time.Time) bool {
	if from.IsZero() && to.IsZero() {
		return true
	}
	if t.IsZero() {
		return false
	}
	return (from.IsZero() || !t.Before(from)) && (to.IsZero() || !t.After(to))
}

// ListClients returns one page of the sessions of every node in scope that
// match q, sorted by client id (EMQX walks its channel table, an ordered
// set keyed by client id, in the same order). A substring filter
// (like_clientid, like_username) leaves the page uncounted, as EMQX.
//
// The scan keeps only the ids of the matches; the page's sessions are then
// read again, so a session that ended (or stopped matching) in between is
// left out of the page rather than shown stale.
func (s *Service) ListClients(ctx context.Context, q ClientQuery) (Page[Client], error) {
	if err := q.validate(); err != nil {
		return Page[Client]{}, err
	}
	nodes, err := s.nodesIn(q.Node)
	if err != nil {
		return Page[Client]{}, err
	}
	type key struct {
		id string
		n  *node
	}
	hint := 0
	for _, n := range nodes {
		hint += int(n.b.Stats().Sessions.Value())
	}
	keys := make([]key, 0, hint)
	for _, n := range nodes {
		n.b.Clients(func(c *broker.ClientSnapshot) bool {
			if q.match(c) {
				keys = append(keys, key{c.ClientID, n})
			}
			return true
		})
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(strings.Compare(a.id, b.id), strings.Compare(a.n.name, b.n.name))
	})
	p := paginate(keys, q.PageQuery, !q.fuzzy())
	out := Page[Client]{Page: p.Page, Limit: p.Limit, Count: p.Count, HasCount: p.HasCount, HasNext: p.HasNext,
		Items: make([]Client, 0, len(p.Items))}
	for _, k := range p.Items {
		c, err := k.n.b.Client(k.id)
		if err != nil || !q.match(&c) {
			continue
		}
		out.Items = append(out.Items, clientOf(&c))
	}
	return out, nil
}

// GetClient returns one session, or ErrNotFound (CLIENTID_NOT_FOUND).
func (s *Service) GetClient(ctx context.Context, clientID string) (Client, error) {
	for _, n := range s.nodes {
		c, err := n.b.Client(clientID)
		if err == nil {
			return clientOf(&c), nil
		}
		if !errors.Is(err, broker.ErrNotFound) {
			return Client{}, fmt.Errorf("client %q on %s: %w", clientID, n.name, err)
		}
	}
	return Client{}, clientNotFound(clientID)
}

func clientNotFound(clientID string) error {
	return Errorf(ErrNotFound, "CLIENTID_NOT_FOUND", "Client ID not found: %q", clientID)
}

// notFoundAs turns the broker's ErrNotFound into CLIENTID_NOT_FOUND.
func notFoundAs(clientID string, err error) error {
	if errors.Is(err, broker.ErrNotFound) {
		return clientNotFound(clientID)
	}
	return err
}

// KickClient disconnects a client at once (DISCONNECT 0x98 Administrative
// action to a v5 client) and discards its session, connected or not, as
// EMQX's DELETE /clients/{clientid} (emqx_cm:kick_session) does.
func (s *Service) KickClient(ctx context.Context, clientID string) error {
	n, err := s.ownerOf(clientID)
	if err != nil {
		return err
	}
	if err := n.b.DiscardSession(clientID); err != nil {
		return notFoundAs(clientID, err)
	}
	s.log.Info("client kicked", "clientid", clientID, "node", n.name)
	return nil
}

// KickClients kicks every listed client; unknown ids are skipped, as EMQX.
func (s *Service) KickClients(ctx context.Context, clientIDs []string) error {
	for _, id := range clientIDs {
		if err := s.KickClient(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// SessionsCount returns the number of sessions on every node. Herald keeps
// no history of expired sessions (EMQX's broker.session_history_retain), so
// since, which only narrows that history, does not change the answer.
func (s *Service) SessionsCount(ctx context.Context, since time.Time) (int, error) {
	total := 0
	for _, n := range s.nodes {
		total += int(n.b.Stats().Sessions.Value())
	}
	return total, nil
}

// AuthzCacheEntry is one cached authorization decision of a client.
type AuthzCacheEntry struct {
	Access  string // publish | subscribe
	Result  string // allow | deny
	Topic   string
	Updated time.Time
}

// AuthzCache returns a client's cached authorization decisions (an empty
// list when the authorizer keeps no cache), or ErrNotFound
// (CLIENTID_NOT_FOUND).
func (s *Service) AuthzCache(ctx context.Context, clientID string) ([]AuthzCacheEntry, error) {
	n, err := s.ownerOf(clientID)
	if err != nil {
		return nil, err
	}
	es, err := n.b.AuthzCache(clientID)
	if err != nil {
		return nil, notFoundAs(clientID, err)
	}
	out := make([]AuthzCacheEntry, len(es))
	for i, e := range es {
		out[i] = AuthzCacheEntry{Access: e.Action, Result: "deny", Topic: e.Topic, Updated: e.UpdatedAt}
		if e.Allowed {
			out[i].Result = "allow"
		}
	}
	return out, nil
}

// ClearAuthzCache drops a client's cached authorization decisions, or
// returns ErrNotFound (CLIENTID_NOT_FOUND).
func (s *Service) ClearAuthzCache(ctx context.Context, clientID string) error {
	n, err := s.ownerOf(clientID)
	if err != nil {
		return err
	}
	if err := n.b.ClearAuthzCache(clientID); err != nil {
		return notFoundAs(clientID, err)
	}
	s.log.Info("authorization cache cleared", "clientid", clientID)
	return nil
}

// MessageKind picks a session's queue in ClientMessages.
type MessageKind int

// Message kinds.
const (
	MqueueMessages   MessageKind = iota // waiting in the session's queue
	InflightMessages                    // sent and not yet acknowledged
)

// Cursor positions of the message listings.
const (
	PositionNone      = "none"        // before the first message
	PositionEndOfData = "end_of_data" // after the last message
)

// MessageQuery asks for one chunk of a session's queued or in-flight
// messages after Position ("" or PositionNone for the first chunk).
type MessageQuery struct {
	Position string
	Limit    int
}

// QueuedMessage is one message queued for, or in flight to, a session.
type QueuedMessage struct {
	MsgID      string // as PublishResult.ID
	Topic      string
	QoS        byte
	Payload    []byte
	From       string
	FromUser   string
	PublishAt  time.Time
	InsertedAt time.Time
	Position   string // the cursor that continues after this message
}

// MessageChunk is one chunk of a message listing. Start is the position of
// the queue's first message (PositionNone when it is empty); Position is
// that of the chunk's last message, PositionEndOfData for an empty chunk.
type MessageChunk struct {
	Items    []QueuedMessage
	Start    string
	Position string
}

// msgPos is a message's place in a queue: positions are
// "<inserted unix ns>_<message sequence>" (EMQX's are "<msgpos>_<priopos>"
// for the mqueue and "<ns>" for the inflight window; both are opaque).
type msgPos struct{ ns, id uint64 }

func posOf(m *broker.QueuedMessage) msgPos {
	return msgPos{ns: uint64(m.InsertedAt.UnixNano()), id: m.MsgID}
}

func (p msgPos) String() string { return fmt.Sprintf("%d_%d", p.ns, p.id) }

func (p msgPos) after(q msgPos) bool { return p.ns > q.ns || (p.ns == q.ns && p.id > q.id) }

// PositionPattern matches the positions parsePos reads (with 19 digits at
// most each, so they fit in 64 bits), none and end_of_data; the API
// documents it from here.
const PositionPattern = `^(none|end_of_data|[0-9]{1,19}_[0-9]{1,19})$`

func parsePos(s string) (msgPos, bool) {
	var p msgPos
	a, b, ok := strings.Cut(s, "_")
	if !ok {
		return p, false
	}
	if _, err := fmt.Sscanf(a+" "+b, "%d %d", &p.ns, &p.id); err != nil {
		return p, false
	}
	return p, true
}

// ClientMessages returns one chunk of a session's queued (mqueue) or
// in-flight messages, oldest first, with cursor paging as EMQX's
// /clients/{clientid}/mqueue_messages and /inflight_messages. A malformed
// position or a limit outside 1..MaxLimit is ErrBadRequest
// (INVALID_PARAMETER); an unknown client ErrNotFound (CLIENTID_NOT_FOUND).
func (s *Service) ClientMessages(ctx context.Context, clientID string, kind MessageKind, q MessageQuery) (MessageChunk, error) {
	if q.Limit < 1 || q.Limit > MaxLimit {
		return MessageChunk{}, Errorf(ErrBadRequest, "INVALID_PARAMETER", "position_limit_invalid")
	}
	var after msgPos
	switch q.Position {
	case "", PositionNone:
	case PositionEndOfData:
		after = msgPos{ns: ^uint64(0), id: ^uint64(0)}
	default:
		p, ok := parsePos(q.Position)
		if !ok {
			return MessageChunk{}, Errorf(ErrBadRequest, "INVALID_PARAMETER", "position_limit_invalid")
		}
		after = p
	}
	n, err := s.ownerOf(clientID)
	if err != nil {
		return MessageChunk{}, err
	}
	list := n.b.QueuedMessages
	if kind == InflightMessages {
		list = n.b.InflightMessages
	}
	msgs, err := list(clientID)
	if err != nil {
		return MessageChunk{}, notFoundAs(clientID, err)
	}
	return chunkOf(msgs, after, q.Limit), nil
}

func chunkOf(msgs []broker.QueuedMessage, after msgPos, limit int) MessageChunk {
	c := MessageChunk{Items: []QueuedMessage{}, Start: PositionNone, Position: PositionEndOfData}
	// Page in position order, so a cursor splits the list the same way
	// however the queue moved between two requests.
	slices.SortStableFunc(msgs, func(a, b broker.QueuedMessage) int {
		pa, pb := posOf(&a), posOf(&b)
		return cmp.Or(cmp.Compare(pa.ns, pb.ns), cmp.Compare(pa.id, pb.id))
	})
	if len(msgs) > 0 {
		c.Start = posOf(&msgs[0]).String()
	}
	for i := range msgs {
		m := &msgs[i]
		p := posOf(m)
		if !p.after(after) {
			continue
		}
		c.Items = append(c.Items, QueuedMessage{MsgID: fmt.Sprintf("%016X%016X", uint64(m.PublishAt.UnixMicro()), m.MsgID),
			Topic: m.Topic, QoS: m.QoS, Payload: m.Payload, From: m.From, FromUser: m.FromUser,
			PublishAt: m.PublishAt, InsertedAt: m.InsertedAt, Position: p.String()})
		c.Position = p.String()
		if len(c.Items) == limit {
			break
		}
	}
	return c
}
