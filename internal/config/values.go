package config

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"net"
	"strconv"
	"strings"
	"time"
)

// Infinity is the value string for "no limit"; it parses to 0.
const Infinity = "infinity"

// Disabled is the value string for a switched-off interval; it parses to 0.
const Disabled = "disabled"

// maxNumberLen bounds the digits accepted in one number, so parsing stays
// cheap on hostile input.
const maxNumberLen = 24

// durationUnits are EMQX's duration units (case-insensitive), in
// milliseconds, largest first so formatting picks the largest exact unit.
var durationUnits = []struct {
	name string
	ms   int64
}{
	{"w", 7 * 24 * 3600 * 1000},
	{"d", 24 * 3600 * 1000},
	{"h", 3600 * 1000},
	{"m", 60 * 1000},
	{"s", 1000},
	{"ms", 1},
}

// ParseDuration parses an EMQX duration: one or more <number><unit> parts,
// units w, d, h, m, s, ms (case-insensitive), numbers with an optional
// fraction ("2.5m", "1h30m", "500ms", "1d"). "0" alone is zero. The result
// must be a whole number of milliseconds.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "0" {
		return 0, nil
	}
	total, err := sumDuration(t)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (e.g. 15s, 500ms, 2h): %w", s, err)
	}
	return total, nil
}

// sumDuration adds up the <number><unit> parts of s.
func sumDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("empty")
	}
	total := new(big.Rat)
	for s != "" {
		num, unit, rest := cutPart(s)
		ms, err := partMillis(num, unit)
		if err != nil {
			return 0, err
		}
		total.Add(total, ms)
		s = rest
	}
	return ratMillis(total)
}

// cutPart splits the leading number and unit off s.
func cutPart(s string) (num, unit, rest string) {
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		return s, "", ""
	}
	j := strings.IndexFunc(s[i:], func(r rune) bool { return (r >= '0' && r <= '9') || r == '.' })
	if j < 0 {
		return s[:i], s[i:], ""
	}
	return s[:i], s[i : i+j], s[i+j:]
}

// partMillis is one part's length in milliseconds.
func partMillis(num, unit string) (*big.Rat, error) {
	n, err := parseDecimal(num)
	if err != nil {
		return nil, err
	}
	if unit == "" {
		return nil, errors.New("missing unit (w, d, h, m, s or ms)")
	}
	for _, u := range durationUnits {
		if strings.EqualFold(unit, u.name) {
			return n.Mul(n, new(big.Rat).SetInt64(u.ms)), nil
		}
	}
	return nil, fmt.Errorf("unknown unit %q", unit)
}

// parseDecimal parses digits with at most one '.', e.g. "2", "2.5", ".5".
func parseDecimal(num string) (*big.Rat, error) {
	if len(num) > maxNumberLen {
		return nil, errors.New("number too long")
	}
	digits := strings.Replace(num, ".", "", 1)
	if digits == "" || strings.Contains(digits, ".") {
		return nil, fmt.Errorf("bad number %q", num)
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return nil, fmt.Errorf("bad number %q", num)
	}
	return r, nil
}

// ratMillis converts a whole number of milliseconds to a Duration.
func ratMillis(ms *big.Rat) (time.Duration, error) {
	if !ms.IsInt() {
		return 0, errors.New("finer than 1ms")
	}
	n := ms.Num()
	if !n.IsInt64() || n.Int64() > math.MaxInt64/int64(time.Millisecond) {
		return 0, errors.New("too large")
	}
	return time.Duration(n.Int64()) * time.Millisecond, nil
}

// FormatDuration writes d in the largest unit that divides it exactly
// ("2h", "90s", "1500ms"); ParseDuration reads it back. Sub-millisecond
// remainders are dropped.
func FormatDuration(d time.Duration) string {
	ms := d.Milliseconds()
	if ms == 0 {
		return "0s"
	}
	for _, u := range durationUnits {
		if ms%u.ms == 0 {
			return strconv.FormatInt(ms/u.ms, 10) + u.name
		}
	}
	return strconv.FormatInt(ms, 10) + "ms" // unreachable: the ms unit divides
}

// sizeUnits are byte-size multipliers, powers of 1024 as in EMQX.
var sizeUnits = []struct {
	name string
	mult int64
}{
	{"GB", 1 << 30},
	{"MB", 1 << 20},
	{"KB", 1 << 10},
}

// ParseByteSize parses a byte size: digits with an optional unit K, M, G
// (optionally followed by B, case-insensitive, 1KB = 1024) or B; "1024" is
// plain bytes.
func ParseByteSize(s string) (int, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return r < '0' || r > '9' })
	if i < 0 {
		i = len(t)
	}
	n, mult, err := sizeParts(t[:i], t[i:])
	if err != nil {
		return 0, fmt.Errorf("%q is not a byte size (e.g. 1MB, 512KB): %w", s, err)
	}
	if n > math.MaxInt/mult {
		return 0, fmt.Errorf("%q is not a byte size (e.g. 1MB, 512KB): too large", s)
	}
	return int(n * mult), nil
}

// sizeParts parses the number and unit of a byte size.
func sizeParts(num, unit string) (n, mult int64, err error) {
	if num == "" {
		return 0, 0, errors.New("missing number")
	}
	if len(num) > 19 {
		return 0, 0, errors.New("too large")
	}
	n, err = strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, 0, errors.New("too large")
	}
	u := strings.ToUpper(unit)
	if u == "" || u == "B" {
		return n, 1, nil
	}
	for _, su := range sizeUnits {
		if u == su.name || u == su.name[:1] {
			return n, su.mult, nil
		}
	}
	return 0, 0, fmt.Errorf("unknown unit %q", unit)
}

// FormatByteSize writes n in the largest unit that divides it exactly
// ("1MB", "64KB", "1000B").
func FormatByteSize(n int) string {
	for _, u := range sizeUnits {
		if n != 0 && int64(n)%u.mult == 0 {
			return strconv.FormatInt(int64(n)/u.mult, 10) + u.name
		}
	}
	return strconv.Itoa(n) + "B"
}

// Rate is Count events per Per. The zero Rate is "infinity" (no limit).
type Rate struct {
	Count int
	Per   time.Duration
}

// IsInfinite reports whether r imposes no limit.
func (r Rate) IsInfinite() bool { return r.Count == 0 || r.Per == 0 }

// PerSecond is the rate in events per second; +Inf when infinite.
func (r Rate) PerSecond() float64 {
	if r.IsInfinite() {
		return math.Inf(1)
	}
	return float64(r.Count) / r.Per.Seconds()
}

// String writes r as ParseRate reads it: "infinity", "1000/s", "100/10s".
func (r Rate) String() string {
	if r.IsInfinite() {
		return Infinity
	}
	per := FormatDuration(r.Per)
	if len(per) > 1 && per[0] == '1' && (per[1] < '0' || per[1] > '9') {
		per = per[1:] // "1s" -> "s"
	}
	return strconv.Itoa(r.Count) + "/" + per
}

// ParseRate parses "infinity", "N/s" or "N/<duration>" ("100/10s",
// "60/m"); N is a positive integer.
func ParseRate(s string) (Rate, error) {
	t := strings.TrimSpace(s)
	if strings.EqualFold(t, Infinity) {
		return Rate{}, nil
	}
	r, err := rateParts(t)
	if err != nil {
		return Rate{}, fmt.Errorf("%q is not a rate (e.g. 1000/s, 100/10s, infinity): %w", s, err)
	}
	return r, nil
}

// rateParts parses "N/<duration>".
func rateParts(t string) (Rate, error) {
	num, per, ok := strings.Cut(t, "/")
	if !ok {
		return Rate{}, errors.New("missing /")
	}
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n <= 0 {
		return Rate{}, errors.New("count must be a positive integer")
	}
	per = strings.TrimSpace(per)
	if per != "" && (per[0] < '0' || per[0] > '9') && per[0] != '.' {
		per = "1" + per
	}
	d, err := sumDuration(per)
	if err != nil {
		return Rate{}, err
	}
	if d <= 0 {
		return Rate{}, errors.New("period must be positive")
	}
	return Rate{Count: n, Per: d}, nil
}

// parseBool accepts true/false and on/off, case-insensitive.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "on":
		return true, nil
	case "false", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (true or false)", s)
}

// parseInt parses a decimal integer.
func parseInt(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", s)
	}
	return n, nil
}

// parseCount parses a non-negative integer or "infinity" (0).
func parseCount(s string) (int, error) {
	t := strings.TrimSpace(s)
	if strings.EqualFold(t, Infinity) {
		return 0, nil
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a non-negative integer or %q", s, Infinity)
	}
	return n, nil
}

// isOff reports whether a bind value switches its listener off.
func isOff(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "0", "off", "false":
		return true
	}
	return false
}

// parseBind parses a listen address: "host:port", "[v6]:port", ":port" or a
// bare port (all IPv4 interfaces). Off values are handled by the caller.
func parseBind(s string) (string, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return "", nil
	}
	if _, err := strconv.ParseUint(t, 10, 16); err == nil {
		return "0.0.0.0:" + t, nil
	}
	if err := checkBind(t); err != nil {
		return "", fmt.Errorf("%q is not a listen address (e.g. 0.0.0.0:1883, 1883, off): %w", s, err)
	}
	return t, nil
}

// checkBind checks a "host:port" address.
func checkBind(t string) error {
	host, port, err := net.SplitHostPort(t)
	if err != nil {
		return errors.New("want host:port")
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return errors.New("port must be 0..65535")
	}
	if strings.ContainsAny(host, " /") {
		return errors.New("bad host")
	}
	return nil
}
