package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ClientInfo is a client (session) as GET /clients returns it: EMQX's 48
// fields plus listener, enable_authn and is_persistent. Nullable fields
// are pointers; the maxima are a number or "infinity" (json.Number-like
// any).
type ClientInfo struct {
	AwaitingRelCnt   int     `json:"awaiting_rel_cnt"`
	AwaitingRelMax   any     `json:"awaiting_rel_max"`
	CleanStart       bool    `json:"clean_start"`
	ClientID         string  `json:"clientid"`
	Connected        bool    `json:"connected"`
	ConnectedAt      *string `json:"connected_at"`
	CreatedAt        *string `json:"created_at"`
	DisconnectedAt   *string `json:"disconnected_at"`
	ExpiryInterval   int64   `json:"expiry_interval"`
	HeapSize         int     `json:"heap_size"`
	InflightCnt      int     `json:"inflight_cnt"`
	InflightMax      int     `json:"inflight_max"`
	IPAddress        *string `json:"ip_address"`
	IsBridge         bool    `json:"is_bridge"`
	Keepalive        int     `json:"keepalive"`
	MailboxLen       int     `json:"mailbox_len"`
	MqueueDropped    uint64  `json:"mqueue_dropped"`
	MqueueLen        int     `json:"mqueue_len"`
	MqueueMax        any     `json:"mqueue_max"`
	Node             string  `json:"node"`
	Port             *int    `json:"port"`
	ProtoName        string  `json:"proto_name"`
	ProtoVer         int     `json:"proto_ver"`
	RecvCnt          uint64  `json:"recv_cnt"`
	RecvMsg          uint64  `json:"recv_msg"`
	RecvMsgDropped   uint64  `json:"recv_msg.dropped"`
	RecvMsgDroppedAP uint64  `json:"recv_msg.dropped.await_pubrel_timeout"`
	RecvMsgQoS0      uint64  `json:"recv_msg.qos0"`
	RecvMsgQoS1      uint64  `json:"recv_msg.qos1"`
	RecvMsgQoS2      uint64  `json:"recv_msg.qos2"`
	RecvOct          uint64  `json:"recv_oct"`
	RecvPkt          uint64  `json:"recv_pkt"`
	Reductions       int     `json:"reductions"`
	SendCnt          uint64  `json:"send_cnt"`
	SendMsg          uint64  `json:"send_msg"`
	SendMsgDropped   uint64  `json:"send_msg.dropped"`
	SendMsgDroppedEx uint64  `json:"send_msg.dropped.expired"`
	SendMsgDroppedQF uint64  `json:"send_msg.dropped.queue_full"`
	SendMsgDroppedTL uint64  `json:"send_msg.dropped.too_large"`
	SendMsgQoS0      uint64  `json:"send_msg.qos0"`
	SendMsgQoS1      uint64  `json:"send_msg.qos1"`
	SendMsgQoS2      uint64  `json:"send_msg.qos2"`
	SendOct          uint64  `json:"send_oct"`
	SendPkt          uint64  `json:"send_pkt"`
	SubscriptionsCnt int     `json:"subscriptions_cnt"`
	SubscriptionsMax any     `json:"subscriptions_max"`
	Username         *string `json:"username"`
	Mountpoint       *string `json:"mountpoint"`
	Listener         string  `json:"listener"`
	EnableAuthn      bool    `json:"enable_authn"`
	IsPersistent     bool    `json:"is_persistent"`
}

// ClientsQuery filters ListClients; zero values are left out.
type ClientsQuery struct {
	Page, Limit                    int
	Node                           string
	ClientID, Username             []string // exact, any of
	IPAddress                      string
	ConnState                      string // connected | idle | disconnected
	CleanStart                     *bool
	ProtoVer                       int
	LikeClientID, LikeUsername     string
	GteCreatedAt, LteCreatedAt     time.Time
	GteConnectedAt, LteConnectedAt time.Time
	Fields                         []string // nil: all
}

// Values encodes q as query parameters (times as epoch milliseconds).
func (q ClientsQuery) Values() url.Values {
	v := url.Values{}
	setInt(v, "page", q.Page)
	setInt(v, "limit", q.Limit)
	setStr(v, "node", q.Node)
	v["clientid"], v["username"] = q.ClientID, q.Username
	setStr(v, "ip_address", q.IPAddress)
	setStr(v, "conn_state", q.ConnState)
	if q.CleanStart != nil {
		v.Set("clean_start", strconv.FormatBool(*q.CleanStart))
	}
	setInt(v, "proto_ver", q.ProtoVer)
	setStr(v, "like_clientid", q.LikeClientID)
	setStr(v, "like_username", q.LikeUsername)
	for name, t := range map[string]time.Time{"gte_created_at": q.GteCreatedAt, "lte_created_at": q.LteCreatedAt,
		"gte_connected_at": q.GteConnectedAt, "lte_connected_at": q.LteConnectedAt} {
		if !t.IsZero() {
			v.Set(name, strconv.FormatInt(t.UnixMilli(), 10))
		}
	}
	if len(q.Fields) > 0 {
		v.Set("fields", strings.Join(q.Fields, ","))
	}
	for k, x := range v {
		if len(x) == 0 {
			delete(v, k)
		}
	}
	return v
}

func setInt(v url.Values, k string, n int) {
	if n != 0 {
		v.Set(k, strconv.Itoa(n))
	}
}

func setStr(v url.Values, k, s string) {
	if s != "" {
		v.Set(k, s)
	}
}

// ListClients returns one page of clients (GET /clients). With Fields
// set, only those fields are filled in.
func (c *Client) ListClients(ctx context.Context, q ClientsQuery) (Page[ClientInfo], error) {
	var out Page[ClientInfo]
	_, err := c.Do(ctx, http.MethodGet, "/clients", q.Values(), nil, &out)
	return out, err
}

// GetClient returns one client (GET /clients/{clientid}).
func (c *Client) GetClient(ctx context.Context, clientID string) (ClientInfo, error) {
	var out ClientInfo
	_, err := c.Do(ctx, http.MethodGet, "/clients/"+escape(clientID), nil, nil, &out)
	return out, err
}

// KickClient disconnects a client and discards its session (DELETE
// /clients/{clientid}).
func (c *Client) KickClient(ctx context.Context, clientID string) error {
	_, err := c.Do(ctx, http.MethodDelete, "/clients/"+escape(clientID), nil, nil, nil)
	return err
}

// KickClients kicks several clients (POST /clients/kickout/bulk).
func (c *Client) KickClients(ctx context.Context, clientIDs []string) error {
	_, err := c.Do(ctx, http.MethodPost, "/clients/kickout/bulk", nil, clientIDs, nil)
	return err
}

// SessionsCount returns the number of sessions (GET /sessions_count).
func (c *Client) SessionsCount(ctx context.Context) (int, error) {
	resp, err := c.Do(ctx, http.MethodGet, "/sessions_count", nil, nil, nil)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(resp.Body)))
}

// AuthzCacheEntry is one cached authorization decision.
type AuthzCacheEntry struct {
	Access      string `json:"access"`
	Result      string `json:"result"`
	Topic       string `json:"topic"`
	UpdatedTime int64  `json:"updated_time"`
}

// AuthzCache returns a client's authorization cache (GET
// /clients/{clientid}/authorization/cache).
func (c *Client) AuthzCache(ctx context.Context, clientID string) ([]AuthzCacheEntry, error) {
	var out []AuthzCacheEntry
	_, err := c.Do(ctx, http.MethodGet, "/clients/"+escape(clientID)+"/authorization/cache", nil, nil, &out)
	return out, err
}

// ClearAuthzCache empties a client's authorization cache.
func (c *Client) ClearAuthzCache(ctx context.Context, clientID string) error {
	_, err := c.Do(ctx, http.MethodDelete, "/clients/"+escape(clientID)+"/authorization/cache", nil, nil, nil)
	return err
}

// ClientMessage is one queued or in-flight message.
type ClientMessage struct {
	MsgID          string  `json:"msgid"`
	Topic          string  `json:"topic"`
	QoS            int     `json:"qos"`
	PublishAt      int64   `json:"publish_at"`
	FromClientID   string  `json:"from_clientid"`
	FromUsername   string  `json:"from_username"`
	Payload        *string `json:"payload"`
	InsertedAt     string  `json:"inserted_at"`
	MqueuePriority *int    `json:"mqueue_priority"`
}

// ClientMessages is one chunk of a message listing.
type ClientMessages struct {
	Data []ClientMessage `json:"data"`
	Meta struct {
		Start    string `json:"start"`
		Position string `json:"position"`
	} `json:"meta"`
}

// MessagesQuery asks for one chunk: Position "" for the first one, then
// the previous chunk's Meta.Position.
type MessagesQuery struct {
	Position        string
	Limit           int
	Payload         string // none | base64 (default) | plain
	MaxPayloadBytes string // "1MB"
}

func (q MessagesQuery) values() url.Values {
	v := url.Values{}
	setStr(v, "position", q.Position)
	setInt(v, "limit", q.Limit)
	setStr(v, "payload", q.Payload)
	setStr(v, "max_payload_bytes", q.MaxPayloadBytes)
	return v
}

// MqueueMessages lists messages queued for a client.
func (c *Client) MqueueMessages(ctx context.Context, clientID string, q MessagesQuery) (ClientMessages, error) {
	var out ClientMessages
	_, err := c.Do(ctx, http.MethodGet, "/clients/"+escape(clientID)+"/mqueue_messages", q.values(), nil, &out)
	return out, err
}

// InflightMessages lists messages sent to a client and not yet acknowledged.
func (c *Client) InflightMessages(ctx context.Context, clientID string, q MessagesQuery) (ClientMessages, error) {
	var out ClientMessages
	_, err := c.Do(ctx, http.MethodGet, "/clients/"+escape(clientID)+"/inflight_messages", q.values(), nil, &out)
	return out, err
}
