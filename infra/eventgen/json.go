package eventgen

import (
	"strconv"
	"unicode/utf8"
)

// enc appends compact JSON with members in the order they are written, as
// MediaWiki's encoder writes events (FormatJson: unescaped slashes and
// Unicode). '/', '<', '>', '&' and non-ASCII characters stay as they are;
// U+2028 and U+2029 are escaped, as PHP's json_encode does.
type enc struct {
	b     []byte
	comma bool // the next value or key needs a ',' before it
}

func (e *enc) reset() { e.b, e.comma = e.b[:0], false }

func (e *enc) sep() {
	if e.comma {
		e.b = append(e.b, ',')
	}
}

// key starts a member. Keys are ASCII literals and are not escaped.
func (e *enc) key(k string) {
	e.sep()
	e.b = append(e.b, '"')
	e.b = append(e.b, k...)
	e.b = append(e.b, '"', ':')
	e.comma = false
}

func (e *enc) open()     { e.sep(); e.b = append(e.b, '{'); e.comma = false }
func (e *enc) close()    { e.b = append(e.b, '}'); e.comma = true }
func (e *enc) openArr()  { e.sep(); e.b = append(e.b, '['); e.comma = false }
func (e *enc) closeArr() { e.b = append(e.b, ']'); e.comma = true }

func (e *enc) str(s string) { e.sep(); e.b = appendString(e.b, s); e.comma = true }
func (e *enc) int(n int64)  { e.sep(); e.b = strconv.AppendInt(e.b, n, 10); e.comma = true }
func (e *enc) bool(v bool)  { e.sep(); e.b = strconv.AppendBool(e.b, v); e.comma = true }

// float appends f in decimal notation (no exponent), in the fewest digits
// that read back as f.
func (e *enc) float(f float64) {
	e.sep()
	e.b = strconv.AppendFloat(e.b, f, 'f', -1, 64)
	e.comma = true
}

// raw appends a JSON value that is already encoded.
func (e *enc) raw(v string) { e.sep(); e.b = append(e.b, v...); e.comma = true }

func (e *enc) kstr(k, v string)           { e.key(k); e.str(v) }
func (e *enc) kint(k string, v int64)     { e.key(k); e.int(v) }
func (e *enc) kbool(k string, v bool)     { e.key(k); e.bool(v) }
func (e *enc) kfloat(k string, v float64) { e.key(k); e.float(v) }
func (e *enc) kobj(k string)              { e.key(k); e.open() }
func (e *enc) karr(k string)              { e.key(k); e.openArr() }
func (e *enc) kraw(k string, v string)    { e.key(k); e.raw(v) }
func (e *enc) kstrs(k string, v []string) { e.key(k); e.strs(v) }

func (e *enc) strs(v []string) {
	e.openArr()
	for _, s := range v {
		e.str(s)
	}
	e.closeArr()
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. s must be valid UTF-8 (every
// string here is).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xf])
			start = i + size
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
