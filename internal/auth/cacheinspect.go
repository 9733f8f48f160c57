package auth

import (
	"time"

	"github.com/herald-mqtt/herald/internal/broker"
)

var _ broker.AuthzCacheInspector = (*ACL)(nil)

// AuthzCache returns the decisions cached for a client id under the rules
// in force (a broker.AuthzCacheInspector). The result cache is one
// direct-mapped table shared by all clients, so this scans it (16k slots
// by default) and filters by client id; entries a previous connection of
// the same id left (they are no longer hit) are listed too until replaced.
// Subscribe topics are filters without their $share/ prefix; the QoS and
// retain flag the decision was asked for are not shown. Nil when the cache
// is disabled.
func (a *ACL) AuthzCache(clientID string) []broker.AuthzCacheEntry {
	if a.cache == nil {
		return nil
	}
	gen := a.set.Load().gen
	var list []broker.AuthzCacheEntry
	a.cache.forClient(clientID, gen, func(e *cacheEntry) {
		list = append(list, broker.AuthzCacheEntry{Action: e.action.String(), Topic: e.topic,
			Allowed: e.allow, UpdatedAt: time.Unix(0, e.at)})
	})
	return list
}

// ClearAuthzCache drops every decision cached for a client id, so its next
// publish or subscribe is evaluated against the rules again.
func (a *ACL) ClearAuthzCache(clientID string) {
	if a.cache != nil {
		a.cache.clearClient(clientID)
	}
}
