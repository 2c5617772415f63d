package envelope

import (
	"encoding/binary"
	"encoding/json"
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
	return parse(value, listMembers, nil)
}

// parseEvent validates value as parseTop does and finds, in the same pass,
// what Enrich and Inspect need of it (eventScan), without listing every
// member.
func parseEvent(value []byte, ev *eventScan) Reason {
	var reason Reason
	ev.top, reason = parse(value, eventTop, ev)
	return reason
}

// parse validates value, parsing its top-level object, when it is one, in
// mode top; ev, when not nil, is set to what mode eventTop found.
func parse(value []byte, top mode, ev *eventScan) (object, Reason) {
	p := parser{b: value}
	p.ev.wikiRank = len(wikiKeys)
	p.ws()
	if p.i == len(value) {
		return object{}, ReasonEmpty
	}
	if !utf8.Valid(value) {
		return object{}, ReasonInvalidUTF8
	}
	isObject := value[p.i] == '{'
	var o object
	var ok bool
	if isObject {
		o, ok = p.object(top)
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
	if ev != nil {
		*ev = p.ev
	}
	return o, ""
}

// What object does with the members it parses, besides validating them.
type mode uint8

const (
	skipMembers mode = iota
	listMembers      // list them in the object returned
	eventTop         // find meta and the wiki id (parser.ev)
	eventMeta        // find meta.id, meta.topic, meta.partition and meta.offset (parser.ev.inner)
)

// eventScan is what parseEvent finds of an event.
type eventScan struct {
	top      object // without members
	last     int    // the end of the last top-level member's value; 0 when there is none
	meta     member // the last top-level meta member (the last one wins, as in JSON.parse)
	hasMeta  bool
	wiki     member // the member Fields.Wiki is, when wikiRank < len(wikiKeys)
	wikiRank int    // the rank in wikiKeys of wiki's key
	inner    metaScan
}

// metaScan is what parseEvent finds in the last meta object it parsed.
type metaScan struct {
	start, end int    // '{' and one past '}'
	n          int    // members
	last       int    // the end of the last member's value
	id         member // the last id member whose value is a string
	hasID      bool
	where      [3]member // the last topic, partition and offset members (metaKeys)
	count      [3]int
}

// metaKeys are the members of meta that Enrich sets, in this order.
var metaKeys = [...]string{"topic", "partition", "offset"}

// see records member m of an object parsed in mode mode.
func (p *parser) see(mode mode, m *member) {
	ev := &p.ev
	key := p.b[m.keyStart+1 : m.keyEnd-1]
	if m.escaped {
		var s string
		_ = json.Unmarshal(p.b[m.keyStart:m.keyEnd], &s)
		key = []byte(s)
	}
	if mode == eventTop {
		ev.last = m.valueEnd
		rank := 0
		switch string(key) {
		case "meta":
			ev.meta, ev.hasMeta = *m, true
			return
		case wikiKeys[0]:
		case wikiKeys[1]:
			rank = 1
		case wikiKeys[2]:
			rank = 2
		default:
			return
		}
		// The first non-empty string by rank: an escape never decodes to
		// nothing, so a string is empty when its quotes are adjacent.
		if rank < ev.wikiRank && p.b[m.valueStart] == '"' && m.valueEnd-m.valueStart > 2 {
			ev.wiki, ev.wikiRank = *m, rank
		}
		return
	}
	in := &ev.inner
	in.n++
	in.last = m.valueEnd
	j := 0
	switch string(key) {
	case "id":
		if p.b[m.valueStart] == '"' {
			in.id, in.hasID = *m, true
		}
		return
	case metaKeys[0]:
	case metaKeys[1]:
		j = 1
	case metaKeys[2]:
		j = 2
	default:
		return
	}
	in.where[j] = *m
	in.count[j]++
}

type parser struct {
	b       []byte
	i       int
	depth   int
	escaped bool      // the last string parsed held an escape
	ev      eventScan // what mode eventTop finds (kept here: a parser does not escape)
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
		_, ok := p.object(skipMembers)
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

// object parses the object at p.b[p.i] == '{', listing or looking at its
// members as mode says.
func (p *parser) object(mode mode) (object, bool) {
	o := object{start: p.i}
	if mode == listMembers {
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
		if mode == eventTop && p.i < len(p.b) && p.b[p.i] == '{' && p.isKey(&m, "meta") {
			// meta's members, for the last meta only: a later one starts over.
			p.ev.inner = metaScan{start: p.i}
			inner, ok := p.object(eventMeta)
			if !ok {
				return o, false
			}
			p.ev.inner.end = inner.end
		} else if !p.value() {
			return o, false
		}
		m.valueEnd = p.i
		switch mode {
		case skipMembers:
		case listMembers:
			o.members = append(o.members, m)
		default:
			p.see(mode, &m)
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

// isKey reports whether the key of m, unescaped, is k.
func (p *parser) isKey(m *member, k string) bool { return m.is(p.b, k) }

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
