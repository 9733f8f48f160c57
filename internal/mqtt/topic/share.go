package topic

import (
	"fmt"
	"strings"
)

const (
	sharePrefix = "$share/"
	queuePrefix = "$queue/"
	// QueueGroup is the group ParseShare reports for EMQX's legacy
	// $queue/<filter> form.
	QueueGroup = "$queue"
)

// ParseShare splits a subscription filter into its shared subscription group
// and the real filter the subscription matches against.
//
//	$share/<group>/<filter>  -> group, filter, shared=true
//	$queue/<filter>          -> "$queue", filter, shared=true (EMQX legacy)
//	anything else            -> "", filter, shared=false
//
// The group must be non-empty [MQTT-4.8.2-1] and contain none of '/', '+' and
// '#', and be followed by '/' and a topic filter [MQTT-4.8.2-2]. A filter whose
// first level is exactly $share or $queue but that does not have this form
// is ErrBadShare, as is a nested share ($share/g/$share/h/x). The real filter is
// checked with ValidateFilter, for shared and non-shared filters alike, so a
// nil error means the whole subscription filter is valid. Errors about a
// shared form wrap ErrBadShare; an invalid real filter wraps ErrBadShare too
// when the filter is shared, along with the ValidateFilter error.
func ParseShare(filter string) (group, realFilter string, shared bool, err error) {
	switch {
	case strings.HasPrefix(filter, sharePrefix):
		group, realFilter, err = parseShareGroup(filter[len(sharePrefix):])
	case strings.HasPrefix(filter, queuePrefix):
		group, realFilter = QueueGroup, filter[len(queuePrefix):]
	case isShareWord(filter):
		err = fmt.Errorf("%w: %q has no group or filter", ErrBadShare, filter) // [MQTT-4.8.2-1]
	default:
		if err := ValidateFilter(filter); err != nil {
			return "", "", false, err
		}
		return "", filter, false, nil
	}
	if err == nil {
		err = validateShared(realFilter)
	}
	if err != nil {
		return "", "", false, err
	}
	return group, realFilter, true, nil
}

// parseShareGroup splits "<group>/<filter>" and checks the group.
func parseShareGroup(s string) (group, realFilter string, err error) {
	group, realFilter, found := strings.Cut(s, "/")
	switch {
	case group == "":
		return "", "", fmt.Errorf("%w: empty share name", ErrBadShare) // [MQTT-4.8.2-1]
	case !found:
		return "", "", fmt.Errorf("%w: share name not followed by '/'", ErrBadShare) // [MQTT-4.8.2-2]
	case strings.ContainsAny(group, "+#"):
		return "", "", fmt.Errorf("%w: wildcard in share name %q", ErrBadShare, group) // [MQTT-4.8.2-2]
	}
	return group, realFilter, nil
}

// validateShared checks the real filter of a shared subscription.
func validateShared(realFilter string) error {
	if isShareWord(realFilter) || strings.HasPrefix(realFilter, sharePrefix) || strings.HasPrefix(realFilter, queuePrefix) {
		return fmt.Errorf("%w: nested shared subscription", ErrBadShare)
	}
	if err := ValidateFilter(realFilter); err != nil {
		return fmt.Errorf("%w: %w", ErrBadShare, err) // [MQTT-4.8.2-2]
	}
	return nil
}

// isShareWord reports whether s is a bare shared subscription prefix level.
func isShareWord(s string) bool {
	return s == "$share" || s == "$queue"
}
