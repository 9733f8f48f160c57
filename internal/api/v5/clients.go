package v5

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/herald-mqtt/herald/internal/api"
	"github.com/herald-mqtt/herald/internal/service"
	"github.com/swaggest/jsonschema-go"
)

// Limit is a configured maximum: a number, or "infinity" when unlimited
// (0), as EMQX renders subscriptions_max.
type Limit int

// MarshalJSON renders 0 as "infinity".
func (l Limit) MarshalJSON() ([]byte, error) {
	if l == 0 {
		return []byte(`"infinity"`), nil
	}
	return strconv.AppendInt(nil, int64(l), 10), nil
}

// JSONSchema documents Limit as an integer or "infinity".
func (Limit) JSONSchema() (jsonschema.Schema, error) {
	var n, inf, out jsonschema.Schema
	n.AddType(jsonschema.Integer)
	inf.AddType(jsonschema.String)
	inf.WithEnum("infinity")
	out.WithOneOf(n.ToSchemaOrBool(), inf.ToSchemaOrBool())
	return out, nil
}

// ClientInfo is EMQX's client record (section 4 of the spec): the 48
// schema fields plus listener, enable_authn and is_persistent.
//
// heap_size, mailbox_len and reductions describe EMQX's per-connection
// Erlang process; a Herald connection has no process of its own, so they
// are always 0.
type ClientInfo struct {
	AwaitingRelCnt   int     `json:"awaiting_rel_cnt"`
	AwaitingRelMax   Limit   `json:"awaiting_rel_max"`
	CleanStart       bool    `json:"clean_start"`
	ClientID         string  `json:"clientid"`
	Connected        bool    `json:"connected"`
	ConnectedAt      *string `json:"connected_at"`
	CreatedAt        *string `json:"created_at"`
	DisconnectedAt   *string `json:"disconnected_at"`
	ExpiryInterval   uint32  `json:"expiry_interval"`
	HeapSize         int     `json:"heap_size"`
	InflightCnt      int     `json:"inflight_cnt"`
	InflightMax      int     `json:"inflight_max"`
	IPAddress        *string `json:"ip_address"`
	IsBridge         bool    `json:"is_bridge"`
	Keepalive        uint16  `json:"keepalive"`
	MailboxLen       int     `json:"mailbox_len"`
	MqueueDropped    uint64  `json:"mqueue_dropped"`
	MqueueLen        int     `json:"mqueue_len"`
	MqueueMax        Limit   `json:"mqueue_max"`
	Node             string  `json:"node"`
	Port             *uint16 `json:"port"`
	ProtoName        string  `json:"proto_name"`
	ProtoVer         byte    `json:"proto_ver"`
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
	SubscriptionsMax Limit   `json:"subscriptions_max"`
	Username         *string `json:"username"`
	Mountpoint       *string `json:"mountpoint"`

	Listener     string `json:"listener"`
	EnableAuthn  bool   `json:"enable_authn"`
	IsPersistent bool   `json:"is_persistent"`
}

// clientFields is the set of names fields= accepts: the 48 schema fields.
var clientFields = map[string]bool{}

func init() {
	b, _ := json.Marshal(ClientInfo{})
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	for k := range m {
		clientFields[k] = true
	}
	for _, k := range []string{"listener", "enable_authn", "is_persistent"} {
		delete(clientFields, k)
	}
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func clientInfo(c *service.Client) ClientInfo {
	k := &c.Counters
	out := ClientInfo{
		AwaitingRelCnt: c.AwaitingRelCnt, AwaitingRelMax: Limit(c.AwaitingRelMax), CleanStart: c.CleanStart,
		ClientID: c.ClientID, Connected: c.Connected, ConnectedAt: api.FormatTime(c.ConnectedAt),
		CreatedAt: api.FormatTime(c.CreatedAt), ExpiryInterval: c.Expiry,
		InflightCnt: c.InflightCnt, InflightMax: c.InflightMax, IsBridge: c.IsBridge, Keepalive: c.Keepalive,
		MqueueDropped: c.MqueueDropped, MqueueLen: c.MqueueLen, MqueueMax: Limit(c.MqueueMax), Node: c.Node,
		ProtoName: "MQTT", ProtoVer: c.ProtoVer,
		RecvCnt: k.RecvCnt, RecvMsg: k.RecvMsg, RecvMsgDropped: k.RecvMsgDropped,
		RecvMsgDroppedAP: k.RecvMsgDroppedAwaitPubrelTimeout, RecvMsgQoS0: k.RecvMsgQoS0,
		RecvMsgQoS1: k.RecvMsgQoS1, RecvMsgQoS2: k.RecvMsgQoS2, RecvOct: k.RecvOct, RecvPkt: k.RecvPkt,
		SendCnt: k.SendCnt, SendMsg: k.SendMsg, SendMsgDropped: k.SendMsgDropped,
		SendMsgDroppedEx: k.SendMsgDroppedExpired, SendMsgDroppedQF: k.SendMsgDroppedQueueFull,
		SendMsgDroppedTL: k.SendMsgDroppedTooLarge, SendMsgQoS0: k.SendMsgQoS0, SendMsgQoS1: k.SendMsgQoS1,
		SendMsgQoS2: k.SendMsgQoS2, SendOct: k.SendOct, SendPkt: k.SendPkt,
		SubscriptionsCnt: c.SubscriptionsCnt, SubscriptionsMax: Limit(c.SubscriptionsMax),
		Username: nullable(c.Username), Mountpoint: nullable(c.Mountpoint),
		Listener: c.Listener, EnableAuthn: true, IsPersistent: c.Persistent,
	}
	if c.ProtoVer == 3 {
		out.ProtoName = "MQIsdp"
	}
	if !c.Connected {
		out.DisconnectedAt = api.FormatTime(c.DisconnectedAt)
	}
	if c.Peer.IsValid() {
		ip, port := c.Peer.Addr().Unmap().String(), c.Peer.Port()
		out.IPAddress, out.Port = &ip, &port
	}
	return out
}

// ClientsQuery documents GET /clients' parameters.
type ClientsQuery struct {
	Page           int          `query:"page" default:"1" minimum:"1" maximum:"2147483647" description:"Page number of the results"`
	Limit          int          `query:"limit" default:"100" minimum:"1" maximum:"10000" description:"Results per page"`
	Node           string       `query:"node" description:"Only clients on this node"`
	Username       []string     `query:"username" description:"User name, repeatable (any of)"`
	IPAddress      IPAddress    `query:"ip_address" description:"Client's IP address (IPv4 or IPv6)"`
	ConnState      string       `query:"conn_state" enum:"connected,idle,disconnected" description:"Connection state (idle never matches: Herald has no session before CONNECT)"`
	CleanStart     bool         `query:"clean_start" description:"Whether the client uses a new session"`
	ProtoVer       int          `query:"proto_ver" minimum:"3" maximum:"5" description:"Client protocol version (3, 4 or 5)"`
	LikeClientID   string       `query:"like_clientid" description:"Substring of the client id (no meta.count)"`
	LikeUsername   string       `query:"like_username" description:"Substring of the user name (no meta.count)"`
	GteCreatedAt   TimeParam    `query:"gte_created_at" description:"Session created at or after"`
	LteCreatedAt   TimeParam    `query:"lte_created_at" description:"Session created at or before"`
	GteConnectedAt TimeParam    `query:"gte_connected_at" description:"Connected at or after"`
	LteConnectedAt TimeParam    `query:"lte_connected_at" description:"Connected at or before"`
	ClientID       []string     `query:"clientid" description:"Client id, repeatable (any of)"`
	Fields         ClientFields `query:"fields" default:"all" description:"Comma-separated client fields to return, or all"`
}

// ClientMessagesQuery documents the mqueue/inflight listing parameters.
type ClientMessagesQuery struct {
	Payload         string   `query:"payload" enum:"none,base64,plain" default:"base64" description:"How to render payloads"`
	MaxPayloadBytes string   `query:"max_payload_bytes" default:"1MB" pattern:"^[1-9][0-9]{0,8}([KkMmGg][Bb]?|[Bb])?$" description:"Payload bytes per response (at least one message is always returned): a number, with B, K(B), M(B) or G(B)"`
	Position        Position `query:"position" description:"Cursor: none (or absent) for the first chunk, then meta.position of the previous one"`
	Limit           int      `query:"limit" default:"100" minimum:"1" maximum:"10000" description:"Messages per chunk"`
}

// SessionsCountQuery documents GET /sessions_count's parameter.
type SessionsCountQuery struct {
	Since int64 `query:"since" default:"0" minimum:"0" maximum:"253402300799" description:"Epoch seconds; Herald keeps no expired-session history, so it does not change the count"`
}

// SubscribeBody is POST /clients/{clientid}/subscribe's body.
type SubscribeBody struct {
	Topic TopicFilter `json:"topic" required:"true"`
	QoS   *int        `json:"qos,omitempty" minimum:"0" maximum:"2"`
	NL    *int        `json:"nl,omitempty" minimum:"0" maximum:"1"`
	RAP   *int        `json:"rap,omitempty" minimum:"0" maximum:"1"`
	RH    *int        `json:"rh,omitempty" minimum:"0" maximum:"2"`
}

// UnsubscribeBody is POST /clients/{clientid}/unsubscribe's body.
type UnsubscribeBody struct {
	Topic TopicFilter `json:"topic" required:"true"`
}

// KickoutBody is POST /clients/kickout/bulk's body: client ids.
type KickoutBody []string

// AuthzCacheEntry is one cached authorization decision.
type AuthzCacheEntry struct {
	Access      string `json:"access"`
	Result      string `json:"result"`
	Topic       string `json:"topic"`
	UpdatedTime int64  `json:"updated_time"` // epoch ms
}

// ClientMessage is one queued or in-flight message.
type ClientMessage struct {
	MsgID          string  `json:"msgid"`
	Topic          string  `json:"topic"`
	QoS            byte    `json:"qos"`
	PublishAt      int64   `json:"publish_at"` // epoch ms
	FromClientID   string  `json:"from_clientid"`
	FromUsername   string  `json:"from_username"`
	Payload        *string `json:"payload,omitempty"` // absent with payload=none
	InsertedAt     string  `json:"inserted_at"`       // epoch ns, as a string (EMQX)
	MqueuePriority *int    `json:"mqueue_priority,omitempty"`
}

// MessagesMeta is the cursor of a message listing.
type MessagesMeta struct {
	Start    string `json:"start"`
	Position string `json:"position"`
}

// ClientMessages is a message listing response.
type ClientMessages struct {
	Data []ClientMessage `json:"data"`
	Meta MessagesMeta    `json:"meta"`
}

func (a *API) clientRoutes() []route {
	const tag = "Clients"
	return []route{
		{method: http.MethodGet, path: "/clients", tag: tag, summary: "List clients",
			query: &ClientsQuery{}, resp: &PagedList[ClientInfo]{}, errs: nodeErrs, example: example{query: kv("conn_state", "connected", "limit", "10", "like_clientid", "example", "gte_created_at", "0")}, h: a.listClients},
		{method: http.MethodPost, path: "/clients/kickout/bulk", tag: tag, summary: "Kick out a batch of client by client IDs",
			body: &KickoutBody{}, status: http.StatusNoContent, example: example{body: []any{"example-gone"}}, h: a.kickClients},
		{method: http.MethodGet, path: "/sessions_count", tag: tag, summary: "Get the total number of sessions in the cluster.",
			query: &SessionsCountQuery{}, resp: new(string), contentType: "text/plain", example: example{query: kv("since", "0")}, h: a.sessionsCount},
		{method: http.MethodGet, path: "/clients/{clientid}", tag: tag, summary: "Get clients info by client ID",
			resp: &ClientInfo{}, errs: clientErrs, example: example{path: kv("clientid", exampleClient)}, h: a.getClient},
		{method: http.MethodDelete, path: "/clients/{clientid}", tag: tag, summary: "Kick out client by client ID",
			status: http.StatusNoContent, errs: clientErrs, example: example{path: kv("clientid", exampleClient)}, h: a.kickClient},
		{method: http.MethodGet, path: "/clients/{clientid}/authorization/cache", tag: tag, summary: "Get client authz cache in the cluster.",
			resp: &[]AuthzCacheEntry{}, errs: clientErrs, example: example{path: kv("clientid", exampleClient)}, h: a.authzCache},
		{method: http.MethodDelete, path: "/clients/{clientid}/authorization/cache", tag: tag, summary: "Clean client authz cache in the cluster.",
			status: http.StatusNoContent, errs: clientErrs, example: example{path: kv("clientid", exampleClient)}, h: a.clearAuthzCache},
		{method: http.MethodGet, path: "/clients/{clientid}/subscriptions", tag: tag, summary: "Get client subscriptions",
			resp: &[]SubscriptionInfo{}, errs: clientErrs, example: example{path: kv("clientid", exampleClient)}, h: a.clientSubscriptions},
		{method: http.MethodPost, path: "/clients/{clientid}/subscribe", tag: tag, summary: "Subscribe",
			body: &SubscribeBody{}, resp: &SubscriptionInfo{}, errs: subscribeErrs, fieldCodes: topicCodes, example: example{path: kv("clientid", exampleClient), body: obj{"topic": "example/sub", "qos": 1}}, h: a.subscribe},
		{method: http.MethodPost, path: "/clients/{clientid}/subscribe/bulk", tag: tag, summary: "Subscribe bulk",
			body: &[]SubscribeBody{}, resp: &[]SubscriptionInfo{}, errs: subscribeErrs, fieldCodes: topicCodes, example: example{path: kv("clientid", exampleClient), body: []any{obj{"topic": "example/bulk/+", "qos": 0, "nl": 0, "rap": 1, "rh": 0}}}, h: a.subscribeBulk},
		{method: http.MethodPost, path: "/clients/{clientid}/unsubscribe", tag: tag, summary: "Unsubscribe",
			body: &UnsubscribeBody{}, status: http.StatusNoContent, errs: subscribeErrs, fieldCodes: topicCodes, example: example{path: kv("clientid", exampleClient), body: obj{"topic": "example/sub"}}, h: a.unsubscribe},
		{method: http.MethodPost, path: "/clients/{clientid}/unsubscribe/bulk", tag: tag, summary: "Unsubscribe bulk",
			body: &[]UnsubscribeBody{}, status: http.StatusNoContent, errs: subscribeErrs, fieldCodes: topicCodes, example: example{path: kv("clientid", exampleClient), body: []any{obj{"topic": "example/bulk/+"}}}, h: a.unsubscribeBulk},
		{method: http.MethodGet, path: "/clients/{clientid}/mqueue_messages", tag: tag, summary: "Get client mqueue messages",
			query: &ClientMessagesQuery{}, resp: &ClientMessages{}, errs: clientErrs, example: example{path: kv("clientid", exampleClient), query: kv("payload", "plain", "limit", "10", "max_payload_bytes", "64KB")}, h: a.clientMessages(service.MqueueMessages)},
		{method: http.MethodGet, path: "/clients/{clientid}/inflight_messages", tag: tag, summary: "Get client in-flight messages",
			query: &ClientMessagesQuery{}, resp: &ClientMessages{}, errs: clientErrs, example: example{path: kv("clientid", exampleClient), query: kv("payload", "base64", "limit", "10")}, h: a.clientMessages(service.InflightMessages)},
	}
}

func invalidParam(format string, a ...any) error {
	return api.Errorf(http.StatusBadRequest, "INVALID_PARAMETER", format, a...)
}

func (a *API) listClients(w http.ResponseWriter, r *http.Request) error {
	q, err := parseClientQuery(r)
	if err != nil {
		return err
	}
	fields, err := parseFields(r.URL.Query().Get("fields"))
	if err != nil {
		return err
	}
	p, err := a.svc.ListClients(r.Context(), q)
	if err != nil {
		return err
	}
	page := pagedList(p, clientInfo)
	if fields == nil {
		return api.WriteJSON(w, http.StatusOK, page)
	}
	return api.WriteJSON(w, http.StatusOK, PagedList[map[string]json.RawMessage]{Data: project(page.Data, fields), Meta: page.Meta})
}

// parseFields reads fields= ("all" or a comma list of client fields); nil
// means all.
func parseFields(s string) ([]string, error) {
	if s == "" || s == "all" {
		return nil, nil
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !clientFields[f] {
			return nil, invalidParam("fields: %q is not a client field", f)
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, invalidParam("fields: empty list")
	}
	return out, nil
}

// project keeps only the named fields of each client.
func project(cs []ClientInfo, fields []string) []map[string]json.RawMessage {
	out := make([]map[string]json.RawMessage, len(cs))
	for i := range cs {
		b, _ := json.Marshal(&cs[i])
		var all map[string]json.RawMessage
		_ = json.Unmarshal(b, &all)
		m := make(map[string]json.RawMessage, len(fields))
		for _, f := range fields {
			m[f] = all[f]
		}
		out[i] = m
	}
	return out
}

func parseClientQuery(r *http.Request) (service.ClientQuery, error) {
	pq, err := api.ParsePage(r, "INVALID_PARAMETER")
	if err != nil {
		return service.ClientQuery{}, err
	}
	v := r.URL.Query()
	q := service.ClientQuery{PageQuery: pq, Node: v.Get("node"), ClientIDs: v["clientid"], Usernames: v["username"],
		ConnState: v.Get("conn_state"), LikeClientID: v.Get("like_clientid"), LikeUsername: v.Get("like_username")}
	if s := v.Get("ip_address"); s != "" {
		if q.IPAddress, err = netip.ParseAddr(s); err != nil {
			return q, invalidParam("the ip_address parameter expected type is ip, but the value is %s", s)
		}
	}
	if s := v.Get("proto_ver"); s != "" {
		if q.ProtoVer, err = strconv.Atoi(s); err != nil {
			return q, invalidParam("the proto_ver parameter expected type is integer, but the value is %s", s)
		}
	}
	if s := v.Get("clean_start"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return q, invalidParam("the clean_start parameter expected type is boolean, but the value is %s", s)
		}
		q.CleanStart = &b
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{
		{"gte_created_at", &q.CreatedFrom}, {"lte_created_at", &q.CreatedTo},
		{"gte_connected_at", &q.ConnectedFrom}, {"lte_connected_at", &q.ConnectedTo},
	} {
		if *t.dst, err = api.QueryTime(r, t.name, time.Millisecond, "INVALID_PARAMETER"); err != nil {
			return q, err
		}
	}
	return q, nil
}

func (a *API) getClient(w http.ResponseWriter, r *http.Request) error {
	c, err := a.svc.GetClient(r.Context(), pathParam(r, "clientid"))
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, clientInfo(&c))
}

func (a *API) kickClient(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.KickClient(r.Context(), pathParam(r, "clientid")); err != nil {
		return err
	}
	return api.NoContent(w)
}

func (a *API) kickClients(w http.ResponseWriter, r *http.Request) error {
	var ids KickoutBody
	if err := api.DecodeJSON(w, r, &ids); err != nil {
		return err
	}
	if err := a.svc.KickClients(r.Context(), ids); err != nil {
		return err
	}
	return api.NoContent(w)
}

func (a *API) sessionsCount(w http.ResponseWriter, r *http.Request) error {
	since, err := api.QueryInt(r, "since", 0, 0, 1<<62, "BAD_REQUEST")
	if err != nil {
		return err
	}
	n, err := a.svc.SessionsCount(r.Context(), time.Unix(int64(since), 0))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(strconv.AppendInt(nil, int64(n), 10))
	return nil
}

func (a *API) authzCache(w http.ResponseWriter, r *http.Request) error {
	es, err := a.svc.AuthzCache(r.Context(), pathParam(r, "clientid"))
	if err != nil {
		return err
	}
	out := make([]AuthzCacheEntry, len(es))
	for i, e := range es {
		out[i] = AuthzCacheEntry{Access: e.Access, Result: e.Result, Topic: e.Topic, UpdatedTime: e.Updated.UnixMilli()}
	}
	return api.WriteJSON(w, http.StatusOK, out)
}

func (a *API) clearAuthzCache(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.ClearAuthzCache(r.Context(), pathParam(r, "clientid")); err != nil {
		return err
	}
	return api.NoContent(w)
}

func (a *API) clientMessages(kind service.MessageKind) api.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v := r.URL.Query()
		format := v.Get("payload")
		switch format {
		case "":
			format = "base64"
		case "none", "base64", "plain":
		default:
			return invalidParam("payload: %q is not none, base64 or plain", format)
		}
		maxBytes, err := parseByteSize(v.Get("max_payload_bytes"), 1<<20)
		if err != nil || maxBytes <= 0 {
			return invalidParam("max_payload_bytes: %q must be a size above 0 (\"1MB\", \"512KB\", 1024)", v.Get("max_payload_bytes"))
		}
		limit, err := api.QueryInt(r, "limit", service.DefaultLimit, 1, service.MaxLimit, "INVALID_PARAMETER")
		if err != nil {
			return err
		}
		c, err := a.svc.ClientMessages(r.Context(), pathParam(r, "clientid"), kind,
			service.MessageQuery{Position: v.Get("position"), Limit: limit})
		if err != nil {
			return err
		}
		return api.WriteJSON(w, http.StatusOK, messagesOf(c, kind, format, maxBytes))
	}
}

// messagesOf renders a chunk, cut after the message that brings the
// rendered payloads over maxBytes (the first message is always kept), as
// EMQX; meta.position is that of the last message kept, so nothing is
// skipped by the next request.
func messagesOf(c service.MessageChunk, kind service.MessageKind, format string, maxBytes int) ClientMessages {
	out := ClientMessages{Data: []ClientMessage{}, Meta: MessagesMeta{Start: c.Start, Position: c.Position}}
	size := 0
	for i := range c.Items {
		m := &c.Items[i]
		cm := ClientMessage{MsgID: m.MsgID, Topic: m.Topic, QoS: m.QoS, PublishAt: m.PublishAt.UnixMilli(),
			FromClientID: m.From, FromUsername: m.FromUser, InsertedAt: strconv.FormatInt(m.InsertedAt.UnixNano(), 10)}
		var p string
		switch format {
		case "base64":
			p = base64Std(m.Payload)
		case "plain":
			p = string(m.Payload)
		}
		if format != "none" {
			cm.Payload = &p
		}
		if kind == service.MqueueMessages {
			prio := 0
			cm.MqueuePriority = &prio
		}
		if i > 0 && size+len(p) > maxBytes {
			break
		}
		size += len(p)
		out.Data = append(out.Data, cm)
		out.Meta.Position = m.Position
	}
	return out
}

// parseByteSize reads "1MB", "512KB", "10B" or a plain number of bytes;
// def when s is "".
func parseByteSize(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	u := strings.ToUpper(strings.TrimSpace(s))
	mult := 1
	for _, x := range []struct {
		suffix string
		m      int
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(u, x.suffix) {
			u, mult = strings.TrimSuffix(u, x.suffix), x.m
			break
		}
	}
	n, err := strconv.Atoi(strings.TrimSpace(u))
	if err != nil {
		return 0, err
	}
	return n * mult, nil
}
