package config

import (
	"errors"
	"strings"
)

// Sentinel errors. Every error about a key is a *KeyError wrapping
// ErrUnknownKey or ErrInvalidValue; Load joins several with errors.Join.
var (
	// ErrHelp is returned by Load for -h/--help after printing the usage;
	// the caller exits 0.
	ErrHelp = errors.New("config: help requested")
	// ErrUnknownKey: a key (file, HERALD_ variable, --set, flag) that does
	// not exist.
	ErrUnknownKey = errors.New("unknown key")
	// ErrInvalidValue: a value that does not parse or breaks a constraint.
	ErrInvalidValue = errors.New("invalid value")
	// ErrUsage: a malformed command line (missing flag value, stray
	// argument).
	ErrUsage = errors.New("config: usage")
	// ErrFile: the --config file cannot be read or parsed.
	ErrFile = errors.New("config: file")
)

// KeyError is an error about one key.
type KeyError struct {
	Key    string // key path, e.g. "mqtt.max_packet_size"
	Kind   error  // ErrUnknownKey or ErrInvalidValue
	Err    error  // the reason; nil for an unknown key
	Source string // where the value came from: a file path, "env HERALD_...", "flag --set"; "" for Set/Validate
}

// Error reads "config: <key>: <reason>", followed by "; set in <source>"
// when the source is known.
func (e *KeyError) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	b.WriteString(e.Key)
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString(e.Kind.Error())
	}
	if e.Source != "" {
		b.WriteString("; set in ")
		b.WriteString(e.Source)
	}
	return b.String()
}

// Unwrap exposes both the kind and the reason to errors.Is/As.
func (e *KeyError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// invalid makes an ErrInvalidValue KeyError.
func invalid(key string, err error, src string) *KeyError {
	return &KeyError{Key: key, Kind: ErrInvalidValue, Err: err, Source: src}
}

// unknown makes an ErrUnknownKey KeyError, suggesting a close known key.
func unknown(key, src string) *KeyError {
	e := &KeyError{Key: key, Kind: ErrUnknownKey, Source: src}
	if s := suggest(key); s != "" {
		e.Err = errors.New("unknown key (did you mean " + s + "?)")
	}
	return e
}

// suggest returns the known key closest to key when it is a likely typo.
func suggest(key string) string {
	best, bestD := "", len(key)/4+2
	for _, k := range candidateKeys(key) {
		if d := editDistance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
