package v5

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/herald-mqtt/herald/internal/api"
	"github.com/herald-mqtt/herald/internal/service"
	"github.com/swaggest/jsonschema-go"
)

// defaultAcceptors is shown as a listener's acceptors: Herald accepts on
// one goroutine per listener and has no acceptor pool; the value is
// EMQX's default and a body's acceptors is ignored.
const defaultAcceptors = 16

// ListenerStatus is a listener's live state (status and node_status[].status).
type ListenerStatus struct {
	Running            any `json:"running"`         // true, false or "inconsistent"
	MaxConnections     any `json:"max_connections"` // integer or "infinity"
	CurrentConnections int `json:"current_connections"`
}

// ListenerNodeStatus is a listener's state on one node.
type ListenerNodeStatus struct {
	Node   string         `json:"node"`
	Status ListenerStatus `json:"status"`
}

// ListenerIDStatus is one item of GET /listeners.
type ListenerIDStatus struct {
	ID         string               `json:"id"`
	Type       string               `json:"type"`
	Name       string               `json:"name"`
	Enable     bool                 `json:"enable"`
	Number     int                  `json:"number"`
	Bind       string               `json:"bind"`
	Acceptors  int                  `json:"acceptors"`
	Status     ListenerStatus       `json:"status"`
	NodeStatus []ListenerNodeStatus `json:"node_status"`
}

// ListenerTypeStatus is one item of GET /listeners_status.
type ListenerTypeStatus struct {
	Type       string               `json:"type"`
	Enable     bool                 `json:"enable"`
	IDs        []string             `json:"ids"`
	Status     ListenerStatus       `json:"status"`
	NodeStatus []ListenerNodeStatus `json:"node_status"`
}

// ListenerSSLOptions is a TLS listener's ssl_options.
type ListenerSSLOptions struct {
	CertFile         *string `json:"certfile,omitempty"`
	KeyFile          *string `json:"keyfile,omitempty"`
	CACertFile       *string `json:"cacertfile,omitempty"`
	Verify           *string `json:"verify,omitempty" enum:"verify_peer,verify_none"`
	FailIfNoPeerCert *bool   `json:"fail_if_no_peer_cert,omitempty"`
}

// ListenerWebSocket is a WebSocket listener's websocket options.
type ListenerWebSocket struct {
	MQTTPath *string `json:"mqtt_path,omitempty"`
}

// Listener is a listener's configuration and live state: the body of
// GET/PUT /listeners/{id} and POST /listeners (with name instead of id to
// create).
type Listener struct {
	ID                 ListenerID   `json:"id,omitempty"`
	Type               ListenerType `json:"type"`
	Name               ListenerName `json:"name,omitempty"`
	Running            *bool        `json:"running,omitempty"`
	CurrentConnections *int         `json:"current_connections,omitempty"`
	Enable             *bool        `json:"enable,omitempty"`
	// Bind is "ip:port" or a port number.
	Bind                 ListenerBind        `json:"bind,omitempty"`
	Acceptors            *int                `json:"acceptors,omitempty" description:"ignored: Herald has no acceptor pool"`
	MaxConnections       MaxConnections      `json:"max_connections,omitempty"`
	MaxConnRate          *string             `json:"max_conn_rate,omitempty" pattern:"^(infinity|[1-9][0-9]{0,8}/([1-9][0-9]{0,2})?(ms|s|m|h|d|w))$" description:"infinity or N/period: 1000/s, 100/10s"`
	Mountpoint           *string             `json:"mountpoint,omitempty"`
	ProxyProtocol        *bool               `json:"proxy_protocol,omitempty"`
	ProxyProtocolTimeout *string             `json:"proxy_protocol_timeout,omitempty" pattern:"^([1-9][0-9]{0,2}(ms|s|m|h|d|w)){1,3}$" description:"a duration: 3s, 500ms"`
	EnableAuthn          TrueOnly            `json:"enable_authn,omitempty"`
	Zone                 *string             `json:"zone,omitempty" enum:"default"`
	SSLOptions           *ListenerSSLOptions `json:"ssl_options,omitempty"`
	WebSocket            *ListenerWebSocket  `json:"websocket,omitempty"`
}

// ListenerBind is "ip:port" or a port number.
type ListenerBind json.RawMessage

// MarshalJSON writes the raw value.
func (b ListenerBind) MarshalJSON() ([]byte, error) { return json.RawMessage(b).MarshalJSON() }

// UnmarshalJSON keeps the raw value.
func (b *ListenerBind) UnmarshalJSON(v []byte) error { *b = append((*b)[:0], v...); return nil }

// JSONSchema documents the two forms.
func (ListenerBind) JSONSchema() (jsonschema.Schema, error) {
	var out jsonschema.Schema
	str := schemaString().WithPattern(`^(` + ipv4Pattern + `:|\[[0-9A-Fa-f:.]+\]:)?` + portPattern + `$`)
	out.WithAnyOf(schemaInteger(0, 65535).ToSchemaOrBool(), str.ToSchemaOrBool())
	out.WithDescription("ip:port, [ipv6]:port or a port number")
	return out, nil
}

const (
	ipv4Pattern = `((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])`
	portPattern = `([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])`
)

// MaxConnections is a connection limit: an integer or "infinity".
type MaxConnections json.RawMessage

// MarshalJSON writes the raw value.
func (m MaxConnections) MarshalJSON() ([]byte, error) { return json.RawMessage(m).MarshalJSON() }

// UnmarshalJSON keeps the raw value.
func (m *MaxConnections) UnmarshalJSON(v []byte) error { *m = append((*m)[:0], v...); return nil }

// JSONSchema documents the two forms.
func (MaxConnections) JSONSchema() (jsonschema.Schema, error) {
	var out jsonschema.Schema
	inf := stringEnum("", "infinity")
	out.WithAnyOf(schemaInteger(1, maxInt32).ToSchemaOrBool(), inf.ToSchemaOrBool())
	return out, nil
}

// TrueOnly is a switch Herald has only on (enable_authn: authentication is
// configured for the whole node).
type TrueOnly json.RawMessage

// MarshalJSON writes the raw value.
func (t TrueOnly) MarshalJSON() ([]byte, error) { return json.RawMessage(t).MarshalJSON() }

// UnmarshalJSON keeps the raw value.
func (t *TrueOnly) UnmarshalJSON(v []byte) error { *t = append((*t)[:0], v...); return nil }

// JSONSchema is the boolean true.
func (TrueOnly) JSONSchema() (jsonschema.Schema, error) {
	var s jsonschema.Schema
	s.AddType(jsonschema.Boolean)
	s.WithEnum(true)
	return s, nil
}

// ListenerCreate is POST /listeners' body: a Listener with its bind, and
// its id or its type and name.
type ListenerCreate Listener

// PrepareJSONSchema adds the required fields.
func (ListenerCreate) PrepareJSONSchema(s *jsonschema.Schema) error {
	s.WithRequired("bind")
	var byID, byName jsonschema.Schema
	byID.WithRequired("id")
	byName.WithRequired("type", "name")
	s.WithAnyOf(byID.ToSchemaOrBool(), byName.ToSchemaOrBool())
	return nil
}

// ListenerUpdate is PUT /listeners/{id}'s body: the path names the
// listener, so id is read-only (sent, it must be the path's).
type ListenerUpdate Listener

// PrepareJSONSchema marks id read-only.
func (ListenerUpdate) PrepareJSONSchema(s *jsonschema.Schema) error {
	if _, ok := s.Properties["id"]; !ok {
		return nil
	}
	id, err := ListenerID("").JSONSchema()
	if err != nil {
		return err
	}
	s.Properties["id"] = id.WithReadOnly(true).ToSchemaOrBool()
	return nil
}

// ListenerPath is the {id} of the listener routes.
type ListenerPath struct {
	ID ListenerID `path:"id"`
}

// ListenerTypeQuery is GET /listeners' query.
type ListenerTypeQuery struct {
	Type string `query:"type" enum:"tcp,ssl,ws,wss,quic" description:"Listener type"`
}

func (a *API) listenerRoutes() []route {
	const tag = "Listeners"
	return []route{
		{method: http.MethodGet, path: "/listeners", tag: tag, summary: "List all running node's listeners for the specified type.",
			query: &ListenerTypeQuery{}, resp: &[]ListenerIDStatus{}, example: example{query: kv("type", "tcp")}, h: a.listListeners},
		{method: http.MethodPost, path: "/listeners", tag: tag, summary: "Create the specified listener on all nodes.",
			body: &ListenerCreate{}, resp: &Listener{}, errs: map[int][]string{400: {"BAD_LISTENER_ID"}}, fieldCodes: lnCodes,
			example: example{body: obj{"id": "tcp:example_new", "type": "tcp", "bind": "127.0.0.1:0", "max_connections": 100}}, h: a.createListener},
		{method: http.MethodPost, pathParams: &ListenerPath{}, path: "/listeners/{id}/stop", tag: tag, summary: "Stop the listener on all nodes.",
			errs: lnErrs, fieldCodes: lnCodes, example: example{path: kv("id", exampleListener)}, h: a.listenerAction(service.ListenerStop)},
		{method: http.MethodPost, pathParams: &ListenerPath{}, path: "/listeners/{id}/start", tag: tag, summary: "Start the listener on all nodes.",
			errs: lnErrs, fieldCodes: lnCodes, example: example{path: kv("id", exampleListener)}, h: a.listenerAction(service.ListenerStart)},
		{method: http.MethodPost, pathParams: &ListenerPath{}, path: "/listeners/{id}/restart", tag: tag, summary: "Restart listeners on all nodes.",
			errs: lnErrs, fieldCodes: lnCodes, example: example{path: kv("id", exampleListener)}, h: a.listenerAction(service.ListenerRestart)},
		{method: http.MethodGet, pathParams: &ListenerPath{}, path: "/listeners/{id}", tag: tag, summary: "List all running node's listeners for the specified id.",
			resp: &Listener{}, errs: lnErrs, fieldCodes: lnCodes, example: example{path: kv("id", exampleListener)}, h: a.getListener},
		{method: http.MethodPut, pathParams: &ListenerPath{}, path: "/listeners/{id}", tag: tag, summary: "Update the specified listener on all nodes.",
			body: &ListenerUpdate{}, resp: &Listener{}, errs: lnErrs, fieldCodes: lnCodes, example: example{path: kv("id", exampleListener), body: obj{"max_connections": "infinity", "enable": true}}, h: a.updateListener},
		{method: http.MethodDelete, pathParams: &ListenerPath{}, path: "/listeners/{id}", tag: tag, summary: "Delete the specified listener on all nodes.",
			status: http.StatusNoContent, errs: lnErrs, fieldCodes: lnCodes, example: example{path: kv("id", exampleListener)}, h: a.deleteListener},
		{method: http.MethodGet, path: "/listeners_status", tag: tag, summary: "List all running node's listeners live status. group by listener type",
			resp: &[]ListenerTypeStatus{}, h: a.listenersStatus},
	}
}

func (a *API) listListeners(w http.ResponseWriter, r *http.Request) error {
	typ := r.URL.Query().Get("type")
	if typ == "quic" {
		return api.WriteJSON(w, http.StatusOK, []ListenerIDStatus{})
	}
	ls, err := a.svc.ListListeners(r.Context(), typ)
	if err != nil {
		return err
	}
	out := make([]ListenerIDStatus, 0, len(ls))
	for _, l := range ls {
		nodes := nodeStatuses(l.Nodes)
		out = append(out, ListenerIDStatus{ID: l.ID, Type: l.Type, Name: l.Name, Enable: l.Conf.Enable,
			Number: len(nodes), Bind: l.Conf.Bind, Acceptors: defaultAcceptors,
			Status:     ListenerStatus{Running: l.Running, MaxConnections: maxConns(l.Conf.MaxConnections), CurrentConnections: l.Current},
			NodeStatus: nodes})
	}
	return api.WriteJSON(w, http.StatusOK, out)
}

func (a *API) listenersStatus(w http.ResponseWriter, r *http.Request) error {
	ts, err := a.svc.ListenersStatus(r.Context())
	if err != nil {
		return err
	}
	out := make([]ListenerTypeStatus, 0, len(ts))
	for _, t := range ts {
		out = append(out, ListenerTypeStatus{Type: t.Type, Enable: t.Enable, IDs: t.IDs,
			Status:     ListenerStatus{Running: t.Running, MaxConnections: maxConns(t.Max), CurrentConnections: t.Current},
			NodeStatus: nodeStatuses(t.Nodes)})
	}
	return api.WriteJSON(w, http.StatusOK, out)
}

func nodeStatuses(ns []service.ListenerNodeStatus) []ListenerNodeStatus {
	out := make([]ListenerNodeStatus, 0, len(ns))
	for _, n := range ns {
		out = append(out, ListenerNodeStatus{Node: n.Node, Status: ListenerStatus{Running: n.Running,
			MaxConnections: maxConns(n.Max), CurrentConnections: n.Current}})
	}
	return out
}

// maxConns shows a connection limit, 0 as "infinity".
func maxConns(n int) any {
	if n == 0 {
		return "infinity"
	}
	return n
}

func (a *API) getListener(w http.ResponseWriter, r *http.Request) error {
	l, err := a.svc.GetListener(r.Context(), pathParam(r, "id"))
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, listenerJSON(l))
}

func (a *API) createListener(w http.ResponseWriter, r *http.Request) error {
	var create ListenerCreate
	if err := api.DecodeJSON(w, r, &create); err != nil {
		return err
	}
	body := Listener(create)
	if body.Name == "" && body.ID != "" {
		typ, name, err := service.ParseListenerID(string(body.ID))
		if err != nil {
			return err
		}
		if body.Type == "" {
			body.Type = ListenerType(typ)
		}
		body.Name = ListenerName(name)
	}
	if body.Type == "" || body.Name == "" {
		return api.BadRequest("type and name are required")
	}
	spec, err := listenerSpec(&body)
	if err != nil {
		return err
	}
	l, err := a.svc.CreateListener(r.Context(), spec)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, listenerJSON(l))
}

func (a *API) updateListener(w http.ResponseWriter, r *http.Request) error {
	id := pathParam(r, "id")
	var update ListenerUpdate
	if err := api.DecodeJSON(w, r, &update); err != nil {
		return err
	}
	body := Listener(update)
	if body.ID != "" && string(body.ID) != id {
		return api.Errorf(http.StatusBadRequest, "BAD_LISTENER_ID", "path and body's listener id do not match")
	}
	spec, err := listenerSpec(&body)
	if err != nil {
		return err
	}
	l, err := a.svc.UpdateListener(r.Context(), id, spec)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, listenerJSON(l))
}

func (a *API) deleteListener(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.DeleteListener(r.Context(), pathParam(r, "id")); err != nil {
		return err
	}
	return api.NoContent(w)
}

func (a *API) listenerAction(action service.ListenerAction) api.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := a.svc.DoListenerAction(r.Context(), pathParam(r, "id"), action); err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}
}

// listenerJSON renders a listener as EMQX does.
func listenerJSON(l service.ListenerInfo) Listener {
	c := l.Conf
	running, cur := l.Running, l.Current
	acceptors := defaultAcceptors
	zone := "default"
	out := Listener{ID: ListenerID(l.ID), Type: ListenerType(l.Type), Running: &running, CurrentConnections: &cur, Enable: &c.Enable,
		Bind: ListenerBind(jsonValue(c.Bind)), Acceptors: &acceptors, MaxConnections: MaxConnections(jsonValue(maxConns(c.MaxConnections))),
		MaxConnRate: &c.MaxConnRate, Mountpoint: &c.Mountpoint, ProxyProtocol: &c.ProxyProtocol,
		ProxyProtocolTimeout: &c.ProxyProtocolTimeout, EnableAuthn: TrueOnly("true"), Zone: &zone}
	if o := c.SSL; o != nil {
		out.SSLOptions = &ListenerSSLOptions{CertFile: &o.CertFile, KeyFile: &o.KeyFile, CACertFile: &o.CACertFile,
			Verify: &o.Verify, FailIfNoPeerCert: &o.FailIfNoPeerCert}
	}
	if c.WSPath != nil {
		out.WebSocket = &ListenerWebSocket{MQTTPath: c.WSPath}
	}
	return out
}

func jsonValue(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// listenerSpec turns a body into the keys to set.
func listenerSpec(b *Listener) (service.ListenerSpec, error) {
	spec := service.ListenerSpec{Type: string(b.Type), Name: string(b.Name), Set: map[string]string{}}
	set := func(k string, v string) { spec.Set[k] = v }
	if b.Enable != nil {
		set("enable", strconv.FormatBool(*b.Enable))
	}
	if len(b.Bind) > 0 {
		bind, err := scalarString(json.RawMessage(b.Bind), "bind")
		if err != nil {
			return spec, err
		}
		if _, err := strconv.Atoi(bind); err == nil {
			bind = "0.0.0.0:" + bind // a bare port, as EMQX allows
		}
		set("bind", bind)
	}
	if len(b.MaxConnections) > 0 {
		v, err := scalarString(json.RawMessage(b.MaxConnections), "max_connections")
		if err != nil {
			return spec, err
		}
		set("max_connections", v)
	}
	if len(b.EnableAuthn) > 0 && !bytes.Equal(bytes.TrimSpace(b.EnableAuthn), []byte("true")) {
		return spec, api.BadRequest("enable_authn: only true is supported (authentication is configured for the whole node)")
	}
	if b.Zone != nil && *b.Zone != "default" {
		return spec, api.BadRequest("zone: only \"default\" is supported")
	}
	optStr(set, "max_conn_rate", b.MaxConnRate)
	optStr(set, "mountpoint", b.Mountpoint)
	optStr(set, "proxy_protocol_timeout", b.ProxyProtocolTimeout)
	if b.ProxyProtocol != nil {
		set("proxy_protocol", strconv.FormatBool(*b.ProxyProtocol))
	}
	if o := b.SSLOptions; o != nil {
		optStr(set, "ssl_options.certfile", o.CertFile)
		optStr(set, "ssl_options.keyfile", o.KeyFile)
		optStr(set, "ssl_options.cacertfile", o.CACertFile)
		optStr(set, "ssl_options.verify", o.Verify)
		if o.FailIfNoPeerCert != nil {
			set("ssl_options.fail_if_no_peer_cert", strconv.FormatBool(*o.FailIfNoPeerCert))
		}
	}
	if b.WebSocket != nil {
		optStr(set, "websocket.mqtt_path", b.WebSocket.MQTTPath)
	}
	return spec, nil
}

func optStr(set func(k, v string), key string, v *string) {
	if v != nil {
		set(key, *v)
	}
}

// scalarString reads a JSON string, number or bool as its text.
func scalarString(raw json.RawMessage, field string) (string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", api.BadRequest("%s: %v", field, err)
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", api.BadRequest("%s: want a string or a number", field)
}
