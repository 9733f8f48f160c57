package topic

import (
	"errors"
	"strings"
)

// MaxLen is the longest topic name or filter in bytes: MQTT strings carry a
// two-byte length prefix [MQTT-4.7.3-3].
const MaxLen = 65535

// Sentinel errors returned (possibly wrapped) by the validators. Callers branch
// on them with errors.Is.
var (
	// ErrEmpty: a topic name or filter must be at least one character long
	// [MQTT-4.7.3-1].
	ErrEmpty = errors.New("topic: empty")
	// ErrTooLong: longer than MaxLen bytes [MQTT-4.7.3-3].
	ErrTooLong = errors.New("topic: longer than 65535 bytes")
	// ErrWildcardInName: a topic name contains '+' or '#' [MQTT-3.3.2-2].
	ErrWildcardInName = errors.New("topic: wildcard in topic name")
	// ErrBadWildcard: a filter has '#' that is not the whole last level
	// [MQTT-4.7.1-1] or '+' that is not a whole level [MQTT-4.7.1-2].
	ErrBadWildcard = errors.New("topic: misplaced wildcard in topic filter")
	// ErrBadShare: a malformed shared subscription filter ($share/<group>/<filter>
	// or $queue/<filter>) [MQTT-4.8.2-1] [MQTT-4.8.2-2].
	ErrBadShare = errors.New("topic: malformed shared subscription")
)

// ValidateName checks a topic name as used in PUBLISH and wills: non-empty
// [MQTT-4.7.3-1], at most MaxLen bytes [MQTT-4.7.3-3], no wildcard
// [MQTT-3.3.2-2]. UTF-8 well-formedness and U+0000 are the codec's job.
func ValidateName(name string) error {
	return validateName(name)
}

// ValidateNameBytes is ValidateName for a name still in a packet buffer; it
// does not allocate.
func ValidateNameBytes(b []byte) error {
	return validateName(b)
}

func validateName[S ~string | ~[]byte](s S) error {
	if len(s) == 0 {
		return ErrEmpty // [MQTT-4.7.3-1]
	}
	if len(s) > MaxLen {
		return ErrTooLong // [MQTT-4.7.3-3]
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '+' || s[i] == '#' {
			return ErrWildcardInName // [MQTT-3.3.2-2]
		}
	}
	return nil
}

// ValidateFilter checks a (non-shared, or already unwrapped by ParseShare)
// topic filter: non-empty [MQTT-4.7.3-1], at most MaxLen bytes, '#' only as
// the whole last level [MQTT-4.7.1-1], '+' only as a whole level
// [MQTT-4.7.1-2].
func ValidateFilter(filter string) error {
	if len(filter) == 0 {
		return ErrEmpty // [MQTT-4.7.3-1]
	}
	if len(filter) > MaxLen {
		return ErrTooLong // [MQTT-4.7.3-3]
	}
	for rest, more := filter, true; more; {
		var level string
		level, rest, more = cut(rest)
		if err := validateLevel(level, more); err != nil {
			return err
		}
	}
	return nil
}

// validateLevel checks one filter level; more reports whether levels follow.
func validateLevel(level string, more bool) error {
	if level == "+" || (level == "#" && !more) {
		return nil
	}
	if strings.ContainsAny(level, "+#") {
		return ErrBadWildcard // [MQTT-4.7.1-1] [MQTT-4.7.1-2]
	}
	return nil
}

// Levels returns the number of levels in a topic name or filter: one more
// than the number of '/' separators ("a//b" has three, "/" has two).
func Levels(s string) int {
	return strings.Count(s, "/") + 1
}
