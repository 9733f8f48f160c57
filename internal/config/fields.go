package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// field is one scalar key of a T (Config, or Listener for the per-listener
// keys): how to set it from a string, how to show it in Flatten, and the
// single-field constraint Validate (and Set) enforce.
type field[T any] struct {
	key   string
	set   func(*T, string) error
	get   func(*T) any
	check func(*T) error // nil: any parsed value is fine
}

// strF is a free-form string key.
func strF[T any](key string, p func(*T) *string) field[T] {
	return field[T]{
		key: key,
		set: func(t *T, s string) error { *p(t) = s; return nil },
		get: func(t *T) any { return *p(t) },
	}
}

// nonEmptyF is a string key that must not be empty.
func nonEmptyF[T any](key string, p func(*T) *string) field[T] {
	f := strF(key, p)
	f.check = func(t *T) error {
		if *p(t) == "" {
			return fmt.Errorf("must not be empty")
		}
		return nil
	}
	return f
}

// enumF is a string key restricted to values.
func enumF[T any](key string, p func(*T) *string, values ...string) field[T] {
	f := strF(key, p)
	f.set = func(t *T, s string) error { *p(t) = strings.TrimSpace(s); return nil }
	f.check = func(t *T) error { return checkEnum(*p(t), values) }
	return f
}

// checkEnum checks v is one of values.
func checkEnum(v string, values []string) error {
	if slices.Contains(values, v) {
		return nil
	}
	return fmt.Errorf("%q is not one of: %s", v, strings.Join(values, ", "))
}

// boolF is a boolean key.
func boolF[T any](key string, p func(*T) *bool) field[T] {
	return field[T]{
		key: key,
		set: func(t *T, s string) (err error) { *p(t), err = parseBool(s); return err },
		get: func(t *T) any { return *p(t) },
	}
}

// intF is an integer key in lo..hi.
func intF[T any](key string, p func(*T) *int, lo, hi int) field[T] {
	return field[T]{
		key:   key,
		set:   func(t *T, s string) (err error) { *p(t), err = parseInt(s); return err },
		get:   func(t *T) any { return *p(t) },
		check: func(t *T) error { return checkRange(*p(t), lo, hi) },
	}
}

// checkRange checks lo <= n <= hi.
func checkRange[N int | float64](n, lo, hi N) error {
	if n < lo || n > hi {
		return fmt.Errorf("%v is out of range (%v..%v)", n, lo, hi)
	}
	return nil
}

// countF is a non-negative integer key where "infinity" is 0.
func countF[T any](key string, p func(*T) *int, hi int) field[T] {
	return field[T]{
		key: key,
		set: func(t *T, s string) (err error) { *p(t), err = parseCount(s); return err },
		get: func(t *T) any { return zeroAs(*p(t), Infinity) },
		check: func(t *T) error {
			return checkRange(*p(t), 0, hi)
		},
	}
}

// zeroAs shows 0 as word, other values as themselves.
func zeroAs(n int, word string) any {
	if n == 0 {
		return word
	}
	return n
}

// floatF is a float key in lo..hi.
func floatF[T any](key string, p func(*T) *float64, lo, hi float64) field[T] {
	return field[T]{
		key: key,
		set: func(t *T, s string) error {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return fmt.Errorf("%q is not a number", s)
			}
			*p(t) = v
			return nil
		},
		get:   func(t *T) any { return *p(t) },
		check: func(t *T) error { return checkRange(*p(t), lo, hi) },
	}
}

// durF is a duration key. zero names the word that also means 0 ("" for
// none, Infinity or Disabled); min is the least non-zero value, and when
// zero is "" and min > 0, 0 is refused too. max bounds it (0: no bound).
func durF[T any](key string, p func(*T) *time.Duration, zero string, min, max time.Duration) field[T] {
	return field[T]{
		key: key,
		set: func(t *T, s string) error {
			if zero != "" && strings.EqualFold(strings.TrimSpace(s), zero) {
				*p(t) = 0
				return nil
			}
			d, err := ParseDuration(s)
			*p(t) = d
			return err
		},
		get:   func(t *T) any { return formatDur(*p(t), zero) },
		check: func(t *T) error { return checkDur(*p(t), zero, min, max) },
	}
}

// formatDur shows a duration, 0 as the zero word when there is one.
func formatDur(d time.Duration, zero string) string {
	if d == 0 && zero != "" {
		return zero
	}
	return FormatDuration(d)
}

// checkDur checks a duration against its bounds.
func checkDur(d time.Duration, zero string, min, max time.Duration) error {
	switch {
	case d < 0:
		return fmt.Errorf("%s is negative", d)
	case d%time.Millisecond != 0:
		return fmt.Errorf("%s is not a whole number of milliseconds", d)
	case d == 0 && (zero != "" || min == 0):
		return nil
	case d < min:
		return fmt.Errorf("%s is below the minimum %s", FormatDuration(d), FormatDuration(min))
	case max > 0 && d > max:
		return fmt.Errorf("%s is above the maximum %s", FormatDuration(d), FormatDuration(max))
	}
	return nil
}

// sizeF is a byte-size key in lo..hi bytes.
func sizeF[T any](key string, p func(*T) *int, lo, hi int) field[T] {
	return field[T]{
		key: key,
		set: func(t *T, s string) (err error) { *p(t), err = ParseByteSize(s); return err },
		get: func(t *T) any { return FormatByteSize(*p(t)) },
		check: func(t *T) error {
			if n := *p(t); n < lo || n > hi {
				return fmt.Errorf("%s is out of range (%s..%s)", FormatByteSize(n), FormatByteSize(lo), FormatByteSize(hi))
			}
			return nil
		},
	}
}

// rateF is a rate key.
func rateF[T any](key string, p func(*T) *Rate) field[T] {
	return field[T]{
		key: key,
		set: func(t *T, s string) (err error) { *p(t), err = ParseRate(s); return err },
		get: func(t *T) any { return p(t).String() },
		check: func(t *T) error {
			if r := *p(t); r.Count < 0 || r.Per < 0 || r.Per%time.Millisecond != 0 {
				return fmt.Errorf("%d/%s is not a valid rate", r.Count, r.Per)
			}
			return nil
		},
	}
}

// bindF is a listen-address key; off values ("0", "off", "false") call off
// and store "".
func bindF[T any](key string, p func(*T) *string, off func(*T)) field[T] {
	return field[T]{
		key: key,
		set: func(t *T, s string) error {
			if isOff(s) {
				*p(t) = ""
				off(t)
				return nil
			}
			b, err := parseBind(s)
			*p(t) = b
			return err
		},
		get: func(t *T) any { return *p(t) },
		check: func(t *T) error {
			if b := *p(t); b != "" {
				return checkBindValue(b)
			}
			return nil
		},
	}
}

// checkBindValue checks a stored bind address.
func checkBindValue(b string) error {
	if err := checkBind(b); err != nil {
		return fmt.Errorf("%q is not a listen address: %w", b, err)
	}
	return nil
}

// percentF is a percentage key, 0..100: "80%" (as EMQX writes it) or a
// plain number; shown as "80%".
func percentF[T any](key string, p func(*T) *float64) field[T] {
	f := floatF(key, p, 0, 100)
	set := f.set
	f.set = func(t *T, s string) error { return set(t, strings.TrimSuffix(strings.TrimSpace(s), "%")) }
	f.get = func(t *T) any { return strconv.FormatFloat(*p(t), 'f', -1, 64) + "%" }
	return f
}
