package service

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/herald-mqtt/herald/internal/config"
)

// ListenerInfo is one configured listener with its configuration and its
// live state on each node.
type ListenerInfo struct {
	ID, Type, Name string
	Conf           ListenerConf
	Running        bool // running on every node
	Current        int  // connections open, summed over nodes
	Nodes          []ListenerNodeStatus
}

// ListenerConf is a listener's configuration, values in the API's string
// forms.
type ListenerConf struct {
	Enable               bool
	Bind                 string // configured bind, "" = off
	MaxConnections       int    // 0 = infinity
	MaxConnRate          string // "infinity", "1000/s"
	ProxyProtocol        bool
	ProxyProtocolTimeout string // "3s"
	Mountpoint           string
	SSL                  *ListenerSSL // ssl and wss only
	WSPath               *string      // ws and wss only: websocket.mqtt_path
}

// ListenerSSL is a TLS listener's ssl_options.
type ListenerSSL struct {
	CertFile, KeyFile, CACertFile string
	Verify                        string // verify_none | verify_peer
	FailIfNoPeerCert              bool
}

// listenerConf converts a configured listener.
func listenerConf(nl config.NamedListener) ListenerConf {
	l := nl.Listener
	c := ListenerConf{Enable: l.Enable, Bind: l.Bind, MaxConnections: l.MaxConnections,
		MaxConnRate: l.MaxConnRate.String(), ProxyProtocol: l.ProxyProtocol,
		ProxyProtocolTimeout: config.FormatDuration(l.ProxyProtocolTimeout), Mountpoint: l.Mountpoint}
	if nl.Type == config.ListenerSSL || nl.Type == config.ListenerWSS {
		o := l.SSLOptions
		c.SSL = &ListenerSSL{CertFile: o.CertFile, KeyFile: o.KeyFile, CACertFile: o.CACertFile,
			Verify: o.Verify, FailIfNoPeerCert: o.FailIfNoPeerCert}
	}
	if nl.Type == config.ListenerWS || nl.Type == config.ListenerWSS {
		p := l.WebSocket.MQTTPath
		c.WSPath = &p
	}
	return c
}

// ListenerNodeStatus is a listener's state on one node.
type ListenerNodeStatus struct {
	Node    string
	Running bool
	Current int
	Max     int    // 0 = infinity
	Addr    string // bound address while running
}

// ListenerTypeStatus is the live state of the listeners of one type.
type ListenerTypeStatus struct {
	Type   string
	Enable bool     // the first listener's enable, as EMQX
	IDs    []string // sorted
	// Running is true or false when every listener of the type agrees,
	// "inconsistent" otherwise.
	Running any
	Current int
	Max     int // 0 = infinity (when any is)
	Nodes   []ListenerNodeStatus
}

// ListenerSpec is a listener to create, or the fields of one to update:
// Set maps keys relative to listeners.<type>.<name> ("bind",
// "max_connections", "ssl_options.certfile", "websocket.mqtt_path") to
// their string form as config.Set reads them.
type ListenerSpec struct {
	Type, Name string
	Set        map[string]string
}

// ParseListenerID splits "tcp:default". An id that is not type:name with a
// known type and a valid name is ErrBadRequest BAD_LISTENER_ID.
func ParseListenerID(id string) (typ, name string, err error) {
	typ, name, ok := strings.Cut(id, ":")
	if !ok || !slices.Contains(config.ListenerTypes, typ) || !validListenerName(name) {
		return "", "", Errorf(ErrBadRequest, "BAD_LISTENER_ID",
			"invalid listener id %q: want {type}:{name} with type one of %s", id, strings.Join(config.ListenerTypes, ", "))
	}
	return typ, name, nil
}

// ListenerNamePattern is the rule for a listener's name.
const ListenerNamePattern = `^[A-Za-z0-9_-]{1,256}$`

var listenerNameRE = regexp.MustCompile(ListenerNamePattern)

func validListenerName(name string) bool { return listenerNameRE.MatchString(name) }

// ListenerTypes are the listener types, in key order.
func ListenerTypes() []string { return slices.Clone(config.ListenerTypes) }

// ListenerIDPattern is the rule for a listener id: {type}:{name}.
func ListenerIDPattern() string {
	return `^(` + strings.Join(config.ListenerTypes, "|") + `):` + strings.TrimPrefix(ListenerNamePattern, "^")
}

func listenerNotFound(id string) error {
	return Errorf(ErrNotFound, "BAD_LISTENER_ID", "listener %s not found", id)
}

// ListListeners returns every configured listener (of one type when typ is
// not ""), ordered by type then name.
func (s *Service) ListListeners(ctx context.Context, typ string) ([]ListenerInfo, error) {
	if typ != "" && !slices.Contains(config.ListenerTypes, typ) {
		return nil, Errorf(ErrBadRequest, "BAD_REQUEST", "unknown listener type %q", typ)
	}
	all := s.listeners()
	out := all[:0]
	for _, l := range all {
		if typ == "" || l.Type == typ {
			out = append(out, l)
		}
	}
	return out, nil
}

// listeners joins the configuration with the live state.
func (s *Service) listeners() []ListenerInfo {
	cfg := s.opts.Controller.Config()
	live := map[string]ListenerState{}
	for _, st := range s.opts.Controller.Listeners() {
		live[st.ID] = st
	}
	var out []ListenerInfo
	for _, nl := range cfg.AllListeners() {
		st := live[nl.ID()]
		ns := ListenerNodeStatus{Node: s.local.name, Running: st.Running, Current: st.CurrentConnections,
			Max: nl.MaxConnections, Addr: st.Addr}
		out = append(out, ListenerInfo{ID: nl.ID(), Type: nl.Type, Name: nl.Name, Conf: listenerConf(nl),
			Running: st.Running, Current: st.CurrentConnections, Nodes: []ListenerNodeStatus{ns}})
	}
	return out
}

// ListenersStatus groups the listeners' live state by type.
func (s *Service) ListenersStatus(ctx context.Context) ([]ListenerTypeStatus, error) {
	byType := map[string]*ListenerTypeStatus{}
	var order []string
	for _, l := range s.listeners() {
		ts := byType[l.Type]
		if ts == nil {
			ts = &ListenerTypeStatus{Type: l.Type, Enable: l.Conf.Enable, Running: l.Running}
			byType[l.Type] = ts
			order = append(order, l.Type)
		} else if ts.Running != l.Running {
			ts.Running = "inconsistent"
		}
		ts.IDs = append(ts.IDs, l.ID)
		ts.Current += l.Current
		ts.Max = addMax(ts.Max, l.Conf.MaxConnections, len(ts.IDs) == 1)
		ts.Nodes = append(ts.Nodes, l.Nodes...)
	}
	out := make([]ListenerTypeStatus, 0, len(order))
	for _, typ := range order {
		ts := byType[typ]
		sort.Strings(ts.IDs)
		out = append(out, *ts)
	}
	return out, nil
}

// addMax adds connection limits where 0 is infinity.
func addMax(sum, n int, first bool) int {
	if first {
		return n
	}
	if sum == 0 || n == 0 {
		return 0
	}
	return sum + n
}

// GetListener returns one listener by id.
func (s *Service) GetListener(ctx context.Context, id string) (ListenerInfo, error) {
	if _, _, err := ParseListenerID(id); err != nil {
		return ListenerInfo{}, err
	}
	for _, l := range s.listeners() {
		if l.ID == id {
			return l, nil
		}
	}
	return ListenerInfo{}, listenerNotFound(id)
}

// CreateListener adds a listener and starts it when enabled. An existing
// id is ErrBadRequest BAD_LISTENER_ID ("already exists"), a bind in use or
// a bad value ErrBadRequest.
func (s *Service) CreateListener(ctx context.Context, spec ListenerSpec) (ListenerInfo, error) {
	id := spec.Type + ":" + spec.Name
	if _, _, err := ParseListenerID(id); err != nil {
		return ListenerInfo{}, err
	}
	if _, ok := spec.Set["bind"]; !ok {
		return ListenerInfo{}, Errorf(ErrBadRequest, "BAD_REQUEST", "bind is required")
	}
	_, err := s.opts.Controller.UpdateConfig(ctx, func(c *config.Config) error {
		if _, ok := c.Listener(spec.Type, spec.Name); ok {
			return Errorf(ErrBadRequest, "BAD_LISTENER_ID", "listener %s already exists", id)
		}
		return setListener(c, spec)
	})
	if err != nil {
		return ListenerInfo{}, err
	}
	s.log.Info("listener created", "listener", id)
	return s.GetListener(ctx, id)
}

// UpdateListener changes the given fields of a listener, restarting it
// when it runs.
func (s *Service) UpdateListener(ctx context.Context, id string, spec ListenerSpec) (ListenerInfo, error) {
	typ, name, err := ParseListenerID(id)
	if err != nil {
		return ListenerInfo{}, err
	}
	if spec.Type != "" && spec.Type != typ || spec.Name != "" && spec.Name != name {
		return ListenerInfo{}, Errorf(ErrBadRequest, "BAD_LISTENER_ID", "path and body's listener id do not match")
	}
	spec.Type, spec.Name = typ, name
	_, err = s.opts.Controller.UpdateConfig(ctx, func(c *config.Config) error {
		if _, ok := c.Listener(typ, name); !ok {
			return listenerNotFound(id)
		}
		return setListener(c, spec)
	})
	if err != nil {
		return ListenerInfo{}, err
	}
	s.log.Info("listener updated", "listener", id)
	return s.GetListener(ctx, id)
}

// setListener applies a spec's keys to c, creating the listener.
func setListener(c *config.Config, spec ListenerSpec) error {
	prefix := "listeners." + spec.Type + "." + spec.Name + "."
	keys := make([]string, 0, len(spec.Set))
	for k := range spec.Set {
		keys = append(keys, k)
	}
	sort.Strings(keys) // bind before enable, so an explicit enable wins over bind = off
	for _, k := range keys {
		if err := config.Set(c, prefix+k, spec.Set[k]); err != nil {
			return err
		}
	}
	return nil
}

// DeleteListener stops and removes a listener (its connections stay).
func (s *Service) DeleteListener(ctx context.Context, id string) error {
	typ, name, err := ParseListenerID(id)
	if err != nil {
		return err
	}
	_, err = s.opts.Controller.UpdateConfig(ctx, func(c *config.Config) error {
		if !c.DeleteListener(typ, name) {
			return listenerNotFound(id)
		}
		return nil
	})
	if err == nil {
		s.log.Info("listener deleted", "listener", id)
	}
	return err
}

// DoListenerAction starts, stops or restarts a listener on every node.
func (s *Service) DoListenerAction(ctx context.Context, id string, action ListenerAction) error {
	if _, _, err := ParseListenerID(id); err != nil {
		return err
	}
	if err := s.opts.Controller.ListenerAction(ctx, id, action); err != nil {
		var se *Error
		if !errors.As(err, &se) {
			err = fmt.Errorf("listener %s: %w", id, err)
		}
		return err
	}
	s.log.Info("listener "+string(action), "listener", id)
	return nil
}
