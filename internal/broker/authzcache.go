package broker

import (
	"fmt"
	"time"
)

// AuthzCacheEntry is one cached authorization decision for a client.
type AuthzCacheEntry struct {
	Action    string // "publish" or "subscribe"
	Topic     string // topic name, or filter without a $share/ prefix
	Allowed   bool
	UpdatedAt time.Time // when the decision was made
}

// AuthzCacheInspector is implemented by an Authorizer that caches its
// decisions and can list and drop those of one client.
type AuthzCacheInspector interface {
	// AuthzCache returns the valid cached decisions for a client id.
	AuthzCache(clientID string) []AuthzCacheEntry
	// ClearAuthzCache drops every cached decision for a client id.
	ClearAuthzCache(clientID string)
}

// AuthzCache returns the Authorizer's cached decisions for a client with a
// session on this node: an empty list when the Authorizer keeps no cache
// (or does not expose it), an error wrapping ErrNotFound for an unknown
// client id.
func (b *Broker) AuthzCache(clientID string) ([]AuthzCacheEntry, error) {
	if b.sessions.get(clientID) == nil {
		return nil, fmt.Errorf("client %q: %w", clientID, ErrNotFound)
	}
	list := []AuthzCacheEntry{}
	if ins, ok := b.authz.(AuthzCacheInspector); ok {
		list = append(list, ins.AuthzCache(clientID)...)
	}
	return list, nil
}

// ClearAuthzCache drops the Authorizer's cached decisions for a client with
// a session on this node (nothing to do when it keeps no cache); an error
// wrapping ErrNotFound for an unknown client id.
func (b *Broker) ClearAuthzCache(clientID string) error {
	if b.sessions.get(clientID) == nil {
		return fmt.Errorf("client %q: %w", clientID, ErrNotFound)
	}
	if ins, ok := b.authz.(AuthzCacheInspector); ok {
		ins.ClearAuthzCache(clientID)
	}
	return nil
}

// String is the management API's name of an action.
func (a Action) String() string {
	switch a {
	case ActionPublish:
		return "publish"
	case ActionSubscribe:
		return "subscribe"
	}
	return fmt.Sprintf("action(%d)", uint8(a))
}
