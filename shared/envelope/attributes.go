package envelope

import (
	"strconv"
)

// Attributes are the members of an event that serve's field filters
// select on (type, namespace, bot, domain). Each Has* is false when the
// event lacks the member or it has another JSON type.
type Attributes struct {
	// Type is the top-level "type" (recentchange: edit, new, log,
	// categorize, external).
	Type    string
	HasType bool
	// Namespace is the top-level "namespace" (recentchange), else
	// "page_namespace" (revision and page events), when an integer.
	Namespace    int64
	HasNamespace bool
	// Bot is the top-level "bot" (recentchange), else
	// performer.user_is_bot (revision and page events).
	Bot    bool
	HasBot bool
	// Domain is meta.domain ("" when absent).
	Domain string
}

// ReadAttributes reads the Attributes of a stored event. It validates the
// JSON first (as Enrich does), so any bytes are safe; ok is false when they
// are not a JSON object.
func ReadAttributes(value []byte) (a Attributes, ok bool) {
	top, reason := parseTop(value)
	if reason != "" {
		return Attributes{}, false
	}
	pageNS, nsFromPage := int64(0), false
	botFromPerformer, hasPerformerBot := false, false
	for i := range top.members {
		m := &top.members[i]
		switch {
		case m.is(value, "type"):
			a.Type, a.HasType = stringValue(value, m)
		case m.is(value, "namespace"):
			a.Namespace, a.HasNamespace = intValue(value, m)
		case m.is(value, "page_namespace"):
			pageNS, nsFromPage = intValue(value, m)
		case m.is(value, "bot"):
			a.Bot, a.HasBot = boolValue(value, m)
		case m.is(value, "performer"):
			if value[m.valueStart] == '{' {
				for _, pm := range scanObject(value, m.valueStart).members {
					if pm.is(value, "user_is_bot") {
						botFromPerformer, hasPerformerBot = boolValue(value, &pm)
					}
				}
			}
		case m.is(value, "meta"):
			if value[m.valueStart] == '{' {
				for _, mm := range scanObject(value, m.valueStart).members {
					if mm.is(value, "domain") {
						a.Domain, _ = stringValue(value, &mm)
					}
				}
			}
		}
	}
	if !a.HasNamespace && nsFromPage {
		a.Namespace, a.HasNamespace = pageNS, true
	}
	if !a.HasBot && hasPerformerBot {
		a.Bot, a.HasBot = botFromPerformer, true
	}
	return a, true
}

func intValue(b []byte, m *member) (int64, bool) {
	n, err := strconv.ParseInt(string(b[m.valueStart:m.valueEnd]), 10, 64)
	return n, err == nil
}

func boolValue(b []byte, m *member) (bool, bool) {
	switch string(b[m.valueStart:m.valueEnd]) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// Meta are the members of an event's meta that ingest's relay reads of an
// event an upstream EventStreams sent: strings unquoted, numbers as they
// are written, "" when absent or of another JSON type.
type Meta struct {
	Topic, Stream, DT string
	Partition, Offset string // JSON integers as written
}

// ReadMeta reads an event's Meta. It validates the JSON first (as Enrich
// does); ok is false when value is not a JSON object. A meta that is
// absent or not an object gives the zero Meta.
func ReadMeta(value []byte) (m Meta, ok bool) {
	top, reason := parseTop(value)
	if reason != "" {
		return m, false
	}
	var meta *member
	for i := range top.members {
		if top.members[i].is(value, "meta") {
			meta = &top.members[i] // the last one wins, as in JSON.parse
		}
	}
	if meta == nil || value[meta.valueStart] != '{' {
		return m, true
	}
	inner := scanObject(value, meta.valueStart)
	for i := range inner.members {
		mb := &inner.members[i]
		switch {
		case mb.is(value, "topic"):
			m.Topic, _ = stringValue(value, mb)
		case mb.is(value, "stream"):
			m.Stream, _ = stringValue(value, mb)
		case mb.is(value, "dt"):
			m.DT, _ = stringValue(value, mb)
		case mb.is(value, "partition"):
			m.Partition = integerText(value[mb.valueStart:mb.valueEnd])
		case mb.is(value, "offset"):
			m.Offset = integerText(value[mb.valueStart:mb.valueEnd])
		}
	}
	return m, true
}

// integerText is b when it is a JSON integer, else "".
func integerText(b []byte) string {
	digits := b
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 19 {
		return ""
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return ""
		}
	}
	return string(b)
}
