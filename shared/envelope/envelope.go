// Package envelope turns a Kafka record's value into the event stored in
// JetStream (README "What ingest stores"), once, at ingest:
//
//   - it checks that the value is a JSON object in valid UTF-8;
//   - it sets meta.topic, meta.partition and meta.offset, as EventStreams
//     does: a member that is present once is replaced in place, an absent one
//     is appended at the end of meta, and every other byte of the event stays
//     as it was (the event is never decoded and re-encoded);
//   - it extracts what ingest needs for the subject and the de-duplication
//     id: meta.id and the wiki id (the first of wiki, database, wiki_id).
//
// Prepare does all of this for ingest in one call, returning the enriched
// event, its de-duplication id and its subject's wiki token; PrepareAsIs
// does it for an event relayed from an upstream EventStreams, which keeps
// its meta as it came, and ReadMeta reads that meta for the relay.
// ReadAttributes, for serve, reads the members its field filters select on.
//
// The functions are pure and safe for concurrent use.
package envelope

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// Reason says why a record cannot be stored as an event. Reasons are metric
// labels and the value of the dead-letter reason header.
type Reason string

// Reasons a record is dead-lettered.
const (
	ReasonEmpty         Reason = "empty"
	ReasonInvalidUTF8   Reason = "invalid_utf8"
	ReasonInvalidJSON   Reason = "invalid_json"
	ReasonNotObject     Reason = "not_object"
	ReasonMetaNotObject Reason = "meta_not_object"
	ReasonTooLarge      Reason = "too_large"
	// ReasonRejected: JetStream refused to store the event (e.g. larger
	// than the server's max_payload).
	ReasonRejected Reason = "rejected"
)

// Reasons returns every Reason, for metrics that start each at zero.
func Reasons() []Reason {
	return []Reason{ReasonEmpty, ReasonInvalidUTF8, ReasonInvalidJSON, ReasonNotObject, ReasonMetaNotObject, ReasonTooLarge, ReasonRejected}
}

// InvalidError is returned for a record that is not a storable event.
type InvalidError struct {
	Reason Reason
}

func (e *InvalidError) Error() string { return "invalid event: " + string(e.Reason) }

// Fields are the parts of an event that ingest routes and de-duplicates by.
type Fields struct {
	// MetaID is meta.id when it is a string, else "".
	MetaID string
	// Wiki is the first non-empty string among the top-level wiki,
	// database and wiki_id members, else "".
	Wiki string
}

// Coordinates are where a record was read: they become meta.topic,
// meta.partition and meta.offset.
type Coordinates struct {
	Topic     string
	Partition int32
	Offset    int64
}

// Enrich validates value and appends the enriched event to dst. On error,
// dst is returned unchanged and the error is an *InvalidError.
func Enrich(dst, value []byte, at Coordinates) ([]byte, Fields, error) {
	var ev eventScan
	f, err := inspect(value, &ev)
	if err != nil {
		return dst, Fields{}, err
	}
	switch {
	case !ev.hasMeta:
		// Append "meta" as the last member of the top-level object.
		pos := ev.top.end - 1 // the closing brace
		if ev.last > 0 {
			pos = ev.last
		}
		dst = append(dst, value[:pos]...)
		if ev.last > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `"meta":{`...)
		dst = appendMeta(dst, at, allMetaKeys, false)
		dst = append(dst, '}')
		return append(dst, value[pos:]...), f, nil
	case value[ev.meta.valueStart] == 'n': // null, as JSON.parse then `meta = meta || {}`
		dst = append(dst, value[:ev.meta.valueStart]...)
		dst = append(dst, '{')
		dst = appendMeta(dst, at, allMetaKeys, false)
		dst = append(dst, '}')
		return append(dst, value[ev.meta.valueEnd:]...), f, nil
	}
	return enrichMeta(dst, value, &ev.inner, at), f, nil
}

// Inspect validates value as Enrich does and reads its Fields, without
// enriching it: for events that already carry their origin's meta.topic,
// meta.partition and meta.offset (read from an upstream EventStreams).
func Inspect(value []byte) (Fields, error) {
	var ev eventScan
	return inspect(value, &ev)
}

// inspect validates value, finds in one pass (parseEvent) its meta member
// and, when meta is an object, the members of meta that Enrich sets, and
// reads its Fields. The error is an *InvalidError.
func inspect(value []byte, ev *eventScan) (Fields, error) {
	if reason := parseEvent(value, ev); reason != "" {
		return Fields{}, &InvalidError{Reason: reason}
	}
	var f Fields
	if ev.wikiRank < len(wikiKeys) {
		f.Wiki, _ = stringValue(value, &ev.wiki)
	}
	if !ev.hasMeta || value[ev.meta.valueStart] == 'n' {
		return f, nil
	}
	if value[ev.meta.valueStart] != '{' {
		return Fields{}, &InvalidError{Reason: ReasonMetaNotObject}
	}
	if ev.inner.hasID {
		f.MetaID, _ = stringValue(value, &ev.inner.id)
	}
	return f, nil
}

var wikiKeys = [...]string{"wiki", "database", "wiki_id"}

// allMetaKeys selects every member of metaKeys (appendMeta).
const allMetaKeys = 1<<len(metaKeys) - 1

// appendMeta appends the members of meta that EventStreams sets, those of
// metaKeys whose bit is in set, with the values of at; sep: a comma goes
// before the first.
func appendMeta(dst []byte, at Coordinates, set uint, sep bool) []byte {
	for j, key := range metaKeys {
		if set&(1<<j) == 0 {
			continue
		}
		if sep {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, key...)
		dst = append(dst, `":`...)
		dst = appendMetaValue(dst, at, j)
		sep = true
	}
	return dst
}

// appendMetaValue appends the value of metaKeys[j] in at.
func appendMetaValue(dst []byte, at Coordinates, j int) []byte {
	switch j {
	case 0:
		return appendQuoted(dst, at.Topic)
	case 1:
		return strconv.AppendInt(dst, int64(at.Partition), 10)
	}
	return strconv.AppendInt(dst, at.Offset, 10)
}

// enrichMeta writes value with meta's topic, partition and offset set. A
// member present once is replaced in place; absent ones are appended. When
// one is present more than once (only a malformed producer does that), the
// meta object is rebuilt from its other members so the result has each
// exactly once.
func enrichMeta(dst, value []byte, meta *metaScan, at Coordinates) []byte {
	if meta.count[0] > 1 || meta.count[1] > 1 || meta.count[2] > 1 {
		return rebuildMeta(dst, value, scanObject(value, meta.start), at)
	}

	// Replace in place, in document order, then append what is missing.
	pos := 0
	var missing uint
	for {
		next := -1
		for j := range metaKeys {
			if meta.count[j] == 0 {
				missing |= 1 << j
			} else if w := meta.where[j].valueStart; w >= pos && (next < 0 || w < meta.where[next].valueStart) {
				next = j
			}
		}
		if next < 0 {
			break
		}
		dst = append(dst, value[pos:meta.where[next].valueStart]...)
		dst = appendMetaValue(dst, at, next)
		pos = meta.where[next].valueEnd
	}
	if missing == 0 {
		return append(dst, value[pos:]...)
	}
	end := meta.end - 1 // meta's closing '}'
	if meta.n > 0 {
		end = meta.last
	}
	dst = append(dst, value[pos:end]...)
	dst = appendMeta(dst, at, missing, meta.n > 0)
	return append(dst, value[end:]...)
}

// rebuildMeta writes value with meta rebuilt from its members other than
// metaKeys, followed by metaKeys with at's values.
func rebuildMeta(dst, value []byte, meta object, at Coordinates) []byte {
	dst = append(dst, value[:meta.start+1]...)
	sep := false
members:
	for i := range meta.members {
		m := &meta.members[i]
		for _, key := range metaKeys {
			if m.is(value, key) {
				continue members
			}
		}
		if sep {
			dst = append(dst, ',')
		}
		dst = append(dst, value[m.keyStart:m.valueEnd]...)
		sep = true
	}
	dst = appendMeta(dst, at, allMetaKeys, sep)
	dst = append(dst, '}')
	return append(dst, value[meta.end:]...)
}

// DedupID is the JetStream de-duplication id of an event, its Nats-Msg-Id
// header: meta.id when it is a usable header value, otherwise "sha256:" and
// 128 bits of SHA-256 over the stream name and the record's bytes (as read,
// before enrichment, so that both clusters' copies of an event get the same
// id).
func DedupID(stream string, value []byte, f Fields) string {
	if usableID(f.MetaID) {
		return f.MetaID
	}
	h := sha256.New()
	h.Write([]byte(stream))
	h.Write([]byte{0})
	h.Write(value)
	var sum [sha256.Size]byte
	return "sha256:" + hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// usableID accepts ids that fit a NATS header: printable ASCII, no spaces,
// at most 128 bytes. Every real meta.id is a UUID.
func usableID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// appendQuoted appends s as a JSON string.
func appendQuoted(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			b, _ := json.Marshal(s)
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// The scanner below walks JSON that parse accepted, so it does not check
// syntax again; it only finds member boundaries.

type member struct {
	keyStart, keyEnd     int // the key, quotes included
	valueStart, valueEnd int
	escaped              bool // the key holds a backslash escape
}

// is reports whether the member's key, unescaped, is k.
func (m *member) is(b []byte, k string) bool {
	raw := b[m.keyStart+1 : m.keyEnd-1]
	if len(raw) == len(k) && string(raw) == k {
		return true
	}
	if !m.escaped {
		return false
	}
	var s string
	_ = json.Unmarshal(b[m.keyStart:m.keyEnd], &s)
	return s == k
}

func stringValue(b []byte, m *member) (string, bool) {
	if b[m.valueStart] != '"' {
		return "", false
	}
	raw := b[m.valueStart+1 : m.valueEnd-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw), true
	}
	var s string
	if json.Unmarshal(b[m.valueStart:m.valueEnd], &s) != nil {
		return "", false
	}
	return s, true
}

type object struct {
	start, end int // '{' and one past '}'
	members    []member
}

// scanObject lists the members of the object starting at b[i] == '{'.
func scanObject(b []byte, i int) object {
	o := object{start: i, members: make([]member, 0, 8)} // meta has about 6
	i = skipWS(b, i+1)
	if b[i] == '}' {
		o.end = i + 1
		return o
	}
	for {
		var m member
		m.keyStart = i
		i = skipString(b, i)
		m.keyEnd = i
		m.escaped = bytes.IndexByte(b[m.keyStart:m.keyEnd], '\\') >= 0
		i = skipWS(b, i)
		i = skipWS(b, i+1) // ':'
		m.valueStart = i
		i = skipValue(b, i)
		m.valueEnd = i
		o.members = append(o.members, m)
		i = skipWS(b, i)
		if b[i] == '}' {
			o.end = i + 1
			return o
		}
		i = skipWS(b, i+1) // ','
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) int {
	i++
	for {
		i = skipPlain(b, i)
		for plain[b[i]] {
			i++
		}
		if b[i] == '"' {
			return i + 1
		}
		i += 2 // a backslash and the byte it escapes
	}
}

// skipValue returns the index after the value starting at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
	default: // number, true, false, null
		for i < len(b) {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}
