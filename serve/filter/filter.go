// Package filter decides which events a client gets: the streams it named,
// and the filters of its query. Every filter is one entry of its table (its
// query parameter, what a valid value is, how the event is matched, and the
// text that /?spec and the README show); the API's list of allowed query
// parameters and the OpenAPI document are derived from that table, and a
// test checks that the README documents every entry.
//
// Within a filter's list any value matches; every filter given must match;
// an event without the member a filter reads does not pass it. wiki is
// applied to JetStream subjects (so a replay reads only those wikis); the
// others read the event's members (envelope.Attributes), and an event's
// members are read only when a filter needs them.
package filter

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/envelope"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// Filter selects events by stream token, wiki token and field values.
type Filter struct {
	Streams []string // stream tokens, at least one
	Wikis   []string // wiki tokens; empty: every wiki
	fields  []match  // one per field filter given
}

// match reports whether an event's members pass one field filter.
type match func(a *envelope.Attributes) bool

// Attributed is an event whose members field filters read, on first need.
type Attributed interface {
	Attributes() *envelope.Attributes
}

// Match reports whether an event of stream and wiki (subject tokens)
// passes the filter.
func (f *Filter) Match(stream, wiki string, e Attributed) bool {
	if !slices.Contains(f.Streams, stream) || (len(f.Wikis) > 0 && !slices.Contains(f.Wikis, wiki)) {
		return false
	}
	return f.MatchFields(e)
}

// MatchFields applies the field filters only (a catch-up's subjects did
// the rest).
func (f *Filter) MatchFields(e Attributed) bool {
	if len(f.fields) == 0 {
		return true
	}
	a := e.Attributes()
	for _, m := range f.fields {
		if !m(a) {
			return false
		}
	}
	return true
}

// Subjects are the JetStream filter subjects of f.
func (f *Filter) Subjects(l layout.Layout) []string {
	var out []string
	for _, s := range f.Streams {
		if len(f.Wikis) == 0 {
			out = append(out, l.StreamFilter(s))
			continue
		}
		for _, w := range f.Wikis {
			out = append(out, l.Subject(s, w))
		}
	}
	return out
}

// Param is one filter a stream request may carry.
type Param struct {
	// Name is the query parameter.
	Name string
	// Doc says what the filter selects; /?spec and the README show it.
	Doc string
	// Schema is the OpenAPI type of the parameter.
	Schema string
	// Single: the value is one value, not a comma-separated list.
	Single bool
	// Value says what a valid value is, in errors: "… is not <Value>".
	Value string
	valid func(v string) bool
	// add adds the filter of the (valid, distinct) values to f.
	add func(f *Filter, values []string)
}

// Params are the filters, in the order the API documents them.
func Params() []Param { return slices.Clone(params) }

var params = []Param{
	{
		Name: "wiki", Schema: "string",
		Doc:   "Only events of these wikis (comma separated wiki ids, e.g. enwiki,dewiki).",
		Value: "a wiki id (letters, digits, '-' and '_', at most 64)", valid: validToken,
		add: func(f *Filter, vs []string) { f.Wikis = vs },
	},
	{
		Name: "type", Schema: "string",
		Doc:   "Only events of these types (comma separated; recentchange: edit, new, log, categorize).",
		Value: "an event type (letters, digits, '-' and '_', at most 64)", valid: validToken,
		add: func(f *Filter, vs []string) {
			f.fields = append(f.fields, func(a *envelope.Attributes) bool { return a.HasType && slices.Contains(vs, a.Type) })
		},
	},
	{
		Name: "namespace", Schema: "string",
		Doc:   "Only events in these namespaces (comma separated numbers; namespace, or page_namespace).",
		Value: "a namespace number", valid: func(v string) bool { _, err := strconv.ParseInt(v, 10, 64); return err == nil },
		add: func(f *Filter, vs []string) {
			ns := make([]int64, len(vs))
			for i, v := range vs {
				ns[i], _ = strconv.ParseInt(v, 10, 64)
			}
			f.fields = append(f.fields, func(a *envelope.Attributes) bool { return a.HasNamespace && slices.Contains(ns, a.Namespace) })
		},
	},
	{
		Name: "bot", Schema: "boolean", Single: true,
		Doc:   "Only events by bots (true) or by others (false): bot, or performer.user_is_bot.",
		Value: "true or false", valid: func(v string) bool { return v == "true" || v == "false" },
		add: func(f *Filter, vs []string) {
			bot := vs[0] == "true"
			f.fields = append(f.fields, func(a *envelope.Attributes) bool { return a.HasBot && a.Bot == bot })
		},
	},
	{
		Name: "domain", Schema: "string",
		Doc:   "Only events of these domains (comma separated meta.domain values, e.g. en.wikipedia.org).",
		Value: "a domain (letters, digits, '-' and '.')", valid: validDomain,
		add: func(f *Filter, vs []string) {
			f.fields = append(f.fields, func(a *envelope.Attributes) bool { return slices.Contains(vs, a.Domain) })
		},
	},
}

// Names are the filters' query parameters, in table order.
func Names() []string {
	out := make([]string, len(params))
	for i, p := range params {
		out[i] = p.Name
	}
	return out
}

// Error is a filter value the request got wrong; its text is safe to show
// the client (it repeats at most 64 bytes of the value).
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

// Parse builds the filter of a request for streams (stream tokens); query
// gives a query parameter's raw value, "" when absent. Each filter takes at
// most maxValues distinct values.
func Parse(streams []string, query func(name string) string, maxValues int) (Filter, error) {
	f := Filter{Streams: streams}
	for _, p := range params {
		raw := query(p.Name)
		if raw == "" {
			continue
		}
		var values []string
		if p.Single {
			if !p.valid(raw) {
				return f, p.invalid(raw)
			}
			values = []string{raw}
		} else {
			for _, v := range strings.Split(raw, ",") {
				v = strings.TrimSpace(v)
				if !p.valid(v) {
					return f, p.invalid(v)
				}
				if !slices.Contains(values, v) {
					values = append(values, v)
				}
			}
			if len(values) > maxValues {
				return f, &Error{fmt.Sprintf("%s: at most %d values may be given", p.Name, maxValues)}
			}
		}
		p.add(&f, values)
	}
	return f, nil
}

func (p *Param) invalid(v string) error {
	if len(v) > 64 {
		v = v[:64]
	}
	return &Error{fmt.Sprintf("%s: %q is not %s", p.Name, v, p.Value)}
}

// validToken accepts a subject token as ingest writes it: letters, digits,
// '-' and '_', at most 64 bytes.
func validToken(v string) bool { return v != "" && len(v) <= 64 && layout.WikiToken(v) == v }

// validDomain accepts a host name: letters, digits, '-' and '.', at most
// 253 bytes (meta.domain, e.g. en.wikipedia.org).
func validDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for _, r := range d {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}
