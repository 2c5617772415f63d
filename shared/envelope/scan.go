package envelope

import (
	"encoding/binary"
	"unicode/utf8"
)

// maxDepth bounds nesting, as encoding/json does, so a hostile record cannot
// exhaust the stack.
const maxDepth = 10000

// plain marks the bytes a JSON string may hold without escaping.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// parseTop validates value in one pass (RFC 8259 syntax, UTF-8 checked
// separately) and lists the members of the top-level object.
func parseTop(value []byte) (object, Reason) {
	p := parser{b: value}
	p.ws()
	if p.i == len(value) {
		return object{}, ReasonEmpty
	}
	if !utf8.Valid(value) {
		return object{}, ReasonInvalidUTF8
	}
	isObject := value[p.i] == '{'
	var top object
	var ok bool
	if isObject {
		top, ok = p.object(true)
	} else {
		ok = p.value()
	}
	p.ws()
	switch {
	case !ok || p.i != len(value):
		return object{}, ReasonInvalidJSON
	case !isObject:
		return object{}, ReasonNotObject
	}
	return top, ""
}

type parser struct {
	b       []byte
	i       int
	depth   int
	escaped bool // the last string parsed held an escape
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) value() bool {
	if p.i >= len(p.b) {
		return false
	}
	switch c := p.b[p.i]; {
	case c == '{':
		_, ok := p.object(false)
		return ok
	case c == '[':
		return p.array()
	case c == '"':
		return p.str()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	}
	return false
}

func (p *parser) literal(lit string) bool {
	if len(p.b)-p.i < len(lit) || string(p.b[p.i:p.i+len(lit)]) != lit {
		return false
	}
	p.i += len(lit)
	return true
}

// object parses the object at p.b[p.i] == '{', recording its members when asked.
func (p *parser) object(record bool) (object, bool) {
	o := object{start: p.i}
	if record {
		o.members = make([]member, 0, 32)
	}
	if p.depth++; p.depth > maxDepth {
		return o, false
	}
	p.i++
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		p.depth--
		o.end = p.i
		return o, true
	}
	for {
		var m member
		m.keyStart = p.i
		if p.i >= len(p.b) || p.b[p.i] != '"' || !p.str() {
			return o, false
		}
		m.keyEnd = p.i
		m.escaped = p.escaped
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return o, false
		}
		p.i++
		p.ws()
		m.valueStart = p.i
		if !p.value() {
			return o, false
		}
		m.valueEnd = p.i
		if record {
			o.members = append(o.members, m)
		}
		p.ws()
		if p.i >= len(p.b) {
			return o, false
		}
		switch p.b[p.i] {
		case ',':
			p.i++
			p.ws()
		case '}':
			p.i++
			p.depth--
			o.end = p.i
			return o, true
		default:
			return o, false
		}
	}
}

func (p *parser) array() bool {
	if p.depth++; p.depth > maxDepth {
		return false
	}
	p.i++
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		p.depth--
		return true
	}
	for {
		if !p.value() {
			return false
		}
		p.ws()
		if p.i >= len(p.b) {
			return false
		}
		switch p.b[p.i] {
		case ',':
			p.i++
			p.ws()
		case ']':
			p.i++
			p.depth--
			return true
		default:
			return false
		}
	}
}

// str parses the string at p.b[p.i] == '"'.
func (p *parser) str() bool {
	b := p.b
	i := p.i + 1
	p.escaped = false
	for {
		i = skipPlain(b, i)
		for i < len(b) && plain[b[i]] {
			i++
		}
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case '"':
			p.i = i + 1
			return true
		case '\\':
			p.escaped = true
			if i+1 >= len(b) {
				return false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return false
				}
				for _, h := range b[i+2 : i+6] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return false
					}
				}
				i += 6
			default:
				return false
			}
		default: // a control character
			return false
		}
	}
}

func (p *parser) number() bool {
	b := p.b
	i := p.i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	p.i = i
	return true
}

// skipPlain returns the index of the first 8-byte word from b[i] on that may
// hold a byte a JSON string cannot hold as it is ('"', '\\' or a control
// character), or a position near the end of b: the caller looks at the
// bytes from there one at a time. Strings are most of an event's bytes, and
// this reads them a word at a time.
func skipPlain(b []byte, i int) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	for i+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[i:])
		q := w ^ ('"' * ones)   // a zero byte where w has '"'
		bs := w ^ ('\\' * ones) // where w has '\\'
		// Each term is non-zero when a byte of its word is below the
		// subtracted value (0x20: a control character; 1: a zero byte),
		// bytes of 0x80 and above excepted.
		if ((w-0x20*ones)&^w|(q-ones)&^q|(bs-ones)&^bs)&highs != 0 {
			return i
		}
		i += 8
	}
	return i
}
