package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// checkStrings finds the first string of a JSON document (a value or a
// field name) that is not valid UTF-8 or holds an unpaired surrogate
// escape ("\ud800"). encoding/json replaces both with U+FFFD without a
// word, so a ban on "bad\xff" would be stored as "bad\uFFFD"; the raw
// bytes have to be looked at. Syntax errors are left to the decoder.
func checkStrings(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var st pathStack
	prev := int64(0)
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		cur := dec.InputOffset()
		if s, ok := tok.(string); ok {
			lit := raw[prev:cur]
			lit = lit[bytes.IndexByte(lit, '"'):]
			if !validLiteral(lit) {
				return st.badString(s)
			}
		}
		st.step(tok)
		prev = cur
	}
}

// pathStack follows where a token stream is: the field or index of each
// open object or array.
type pathStack struct{ frames []pathFrame }

type pathFrame struct {
	obj     bool
	wantKey bool
	key     string
	idx     int
}

func (p *pathStack) top() *pathFrame {
	if len(p.frames) == 0 {
		return nil
	}
	return &p.frames[len(p.frames)-1]
}

// step moves past tok.
func (p *pathStack) step(tok json.Token) {
	t := p.top()
	if s, ok := tok.(string); ok && t != nil && t.obj && t.wantKey {
		t.key, t.wantKey = s, false
		return
	}
	switch tok {
	case json.Delim('{'):
		p.frames = append(p.frames, pathFrame{obj: true, wantKey: true})
		return
	case json.Delim('['):
		p.frames = append(p.frames, pathFrame{})
		return
	case json.Delim('}'), json.Delim(']'):
		p.frames = p.frames[:len(p.frames)-1]
	}
	p.valueDone()
}

func (p *pathStack) valueDone() {
	if t := p.top(); t != nil {
		if t.obj {
			t.wantKey = true
		} else {
			t.idx++
		}
	}
}

func (p *pathStack) path() string {
	var b []byte
	for _, f := range p.frames {
		if f.obj {
			if len(b) > 0 {
				b = append(b, '.')
			}
			b = append(b, f.key...)
		} else {
			b = fmt.Appendf(b, "[%d]", f.idx)
		}
	}
	return string(b)
}

// badString is the error for an invalid string at the current position
// (s as the decoder replaced it).
func (p *pathStack) badString(s string) error {
	if t := p.top(); t != nil && t.obj && t.wantKey {
		return &FieldError{p.parentPath(), "field name " + strconv.Quote(s) + " is not valid UTF-8"}
	}
	return &FieldError{p.path(), "the string is not valid UTF-8"}
}

func (p *pathStack) parentPath() string {
	q := pathStack{frames: p.frames[:len(p.frames)-1]}
	if len(q.frames) == 0 {
		return ""
	}
	return q.path()
}

// validLiteral reports whether a raw JSON string literal (with its quotes)
// is valid UTF-8 without unpaired surrogate escapes.
func validLiteral(lit []byte) bool {
	if !utf8.Valid(lit) {
		return false
	}
	for i := 0; i < len(lit); i++ {
		if lit[i] != '\\' {
			continue
		}
		if i+1 < len(lit) && lit[i+1] != 'u' {
			i++
			continue
		}
		r := hex4(lit, i+2)
		switch {
		case r >= 0xD800 && r < 0xDC00:
			if i+7 >= len(lit) || lit[i+6] != '\\' || lit[i+7] != 'u' {
				return false
			}
			if lo := hex4(lit, i+8); lo < 0xDC00 || lo > 0xDFFF {
				return false
			}
			i += 11
		case r >= 0xDC00 && r <= 0xDFFF:
			return false
		default:
			i += 5
		}
	}
	return true
}

// hex4 reads the four hex digits at lit[i:], -1 when there are none.
func hex4(lit []byte, i int) int {
	if i+4 > len(lit) {
		return -1
	}
	n, err := strconv.ParseUint(string(lit[i:i+4]), 16, 32)
	if err != nil {
		return -1
	}
	return int(n)
}
