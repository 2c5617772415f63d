package envelope

// The implementation of Enrich before it found what it needs in the
// validating pass (parseEvent): it lists every top-level member (parseTop),
// then scans meta again (scanObject). Kept here as the reference the
// one-pass Enrich must agree with, byte for byte.

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// refEnrich is Enrich as it was: it validates value and appends the enriched event to dst. On error,
// dst is returned unchanged and the error is an *InvalidError.
func refEnrich(dst, value []byte, at Coordinates) ([]byte, Fields, error) {
	top, meta, inner, f, err := refInspect(value)
	if err != nil {
		return dst, Fields{}, err
	}
	added := refMetaMembers(at)
	switch {
	case meta == nil:
		// Append "meta" as the last member of the top-level object.
		pos := top.end - 1 // the closing brace
		sep := ""
		if len(top.members) > 0 {
			pos = top.members[len(top.members)-1].valueEnd
			sep = ","
		}
		dst = append(dst, value[:pos]...)
		dst = append(dst, sep+`"meta":{`...)
		dst = refAppendMembers(dst, added[:], "")
		dst = append(dst, '}')
		return append(dst, value[pos:]...), f, nil
	case value[meta.valueStart] == 'n': // null, as JSON.parse then `meta = meta || {}`
		dst = append(dst, value[:meta.valueStart]...)
		dst = append(dst, '{')
		dst = refAppendMembers(dst, added[:], "")
		dst = append(dst, '}')
		return append(dst, value[meta.valueEnd:]...), f, nil
	}
	return refEnrichMeta(dst, value, inner, added), f, nil
}

// refInspect validates value and finds its top-level members, its meta member
// (nil when absent) and, when meta is an object, meta's members (scanned
// once, for Enrich too), and its Fields. The error is an *InvalidError.
func refInspect(value []byte) (top object, meta *member, inner object, f Fields, err error) {
	top, reason := parseTop(value)
	if reason != "" {
		return object{}, nil, object{}, Fields{}, &InvalidError{Reason: reason}
	}
	wikiRank := len(wikiKeys)
	for i := range top.members {
		m := &top.members[i]
		if m.is(value, "meta") {
			meta = m // the last one wins, as in JSON.parse
			continue
		}
		for rank, wk := range wikiKeys {
			if rank < wikiRank && m.is(value, wk) {
				if s, ok := stringValue(value, m); ok && s != "" {
					f.Wiki, wikiRank = s, rank
				}
			}
		}
	}
	if meta == nil || value[meta.valueStart] == 'n' {
		return top, meta, object{}, f, nil
	}
	if value[meta.valueStart] != '{' {
		return object{}, nil, object{}, Fields{}, &InvalidError{Reason: ReasonMetaNotObject}
	}
	inner = scanObject(value, meta.valueStart)
	for i := range inner.members {
		m := &inner.members[i]
		if m.is(value, "id") {
			if s, ok := stringValue(value, m); ok {
				f.MetaID = s
			}
		}
	}
	return top, meta, inner, f, nil
}

// refKeyValue is one member EventStreams sets in meta.
type refKeyValue struct{ key, value string }

func refMetaMembers(at Coordinates) [3]refKeyValue {
	return [3]refKeyValue{
		{"topic", refQuote(at.Topic)},
		{"partition", strconv.FormatInt(int64(at.Partition), 10)},
		{"offset", strconv.FormatInt(at.Offset, 10)},
	}
}

func refAppendMembers(dst []byte, kvs []refKeyValue, sep string) []byte {
	for _, kv := range kvs {
		dst = append(dst, sep...)
		dst = append(dst, '"')
		dst = append(dst, kv.key...)
		dst = append(dst, `":`...)
		dst = append(dst, kv.value...)
		sep = ","
	}
	return dst
}

// refEnrichMeta writes value with meta's topic, partition and offset set. A
// member present once is replaced in place; absent ones are appended. When
// one is present more than once (only a malformed producer does that), the
// meta object is rebuilt from its other members so the result has each
// exactly once.
func refEnrichMeta(dst, value []byte, meta object, added [3]refKeyValue) []byte {
	var count [3]int
	var where [3]*member
	for i := range meta.members {
		m := &meta.members[i]
		for j := range added {
			if m.is(value, added[j].key) {
				count[j]++
				where[j] = m
			}
		}
	}
	if count[0] > 1 || count[1] > 1 || count[2] > 1 {
		dst = append(dst, value[:meta.start+1]...)
		sep := ""
	members:
		for i := range meta.members {
			m := &meta.members[i]
			for j := range added {
				if m.is(value, added[j].key) {
					continue members
				}
			}
			dst = append(dst, sep...)
			dst = append(dst, value[m.keyStart:m.valueEnd]...)
			sep = ","
		}
		dst = refAppendMembers(dst, added[:], sep)
		dst = append(dst, '}')
		return append(dst, value[meta.end:]...)
	}

	// Replace in place, in document order, then append what is missing.
	pos := 0
	for {
		next := -1
		for j := range added {
			if where[j] != nil && where[j].valueStart >= pos && (next < 0 || where[j].valueStart < where[next].valueStart) {
				next = j
			}
		}
		if next < 0 {
			break
		}
		dst = append(dst, value[pos:where[next].valueStart]...)
		dst = append(dst, added[next].value...)
		pos = where[next].valueEnd
	}
	var missing []refKeyValue
	for j := range added {
		if where[j] == nil {
			missing = append(missing, added[j])
		}
	}
	if len(missing) == 0 {
		return append(dst, value[pos:]...)
	}
	at := meta.end - 1 // meta's closing '}'
	sep := ""
	if len(meta.members) > 0 {
		at = meta.members[len(meta.members)-1].valueEnd
		sep = ","
	}
	dst = append(dst, value[pos:at]...)
	dst = refAppendMembers(dst, missing, sep)
	return append(dst, value[at:]...)
}

func refQuote(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			b, _ := json.Marshal(s)
			return string(b)
		}
	}
	return `"` + s + `"`
}
