package filter

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/envelope"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// fuzzEvent is an event whose members are given.
type fuzzEvent struct{ a envelope.Attributes }

func (e *fuzzEvent) Attributes() *envelope.Attributes { return &e.a }

// FuzzParse: Parse never takes more than maxValues values of a filter,
// rejects with a short *Error, gives valid NATS subjects, and Match agrees
// with the filters' definitions. Run it with
//
//	go test ./serve/filter -run '^$' -fuzz '^FuzzParse$' -fuzztime 60s
func FuzzParse(f *testing.F) {
	thousand := strings.TrimSuffix(strings.Repeat("v,", 1000), ",")
	var distinct []string
	for i := range 1000 {
		distinct = append(distinct, "w"+strconv.Itoa(i))
	}
	seeds := []struct{ wiki, typ, ns, bot, domain string }{
		{"enwiki, dewiki", "edit,new", "0,4", "false", "en.wikipedia.org,de.wikipedia.org"},
		{"", "", "", "", ""},
		{" ", "\t", " , ", " true", " "},
		{"en.wiki", "ed it", "1.5", "TRUE", "en_wiki.org"},
		{">", "*", "0x10", "1", "en.wikipedia.org."},
		{"en>", "a*b", "+1,-0,00,1", "yes", ".."},
		{"enwiki,", ",edit", ",", "true,false", "a..b"},
		{"a\x00b", "\xff\xfe", "9223372036854775808", "\x00", "\xc3\x28.org"},
		{thousand, thousand, strings.ReplaceAll(thousand, "v", "1"), "true", strings.ReplaceAll(thousand, "v", "a.b")},
		{strings.Join(distinct, ","), strings.Join(distinct, ","), "", "false", strings.Join(distinct, ",")},
		{strings.Repeat("a", 65), strings.Repeat("é", 64), strings.Repeat("9", 100), strings.Repeat("t", 8<<10), strings.Repeat("a", 254)},
		{strings.Repeat("\xa7garbage\x00,", 8<<10/10), "", "", "", ""},
	}
	for _, s := range seeds {
		for _, mv := range []uint8{0, 1, 2, 64, 255} {
			f.Add("mediawiki.recentchange,mediawiki.page-create", s.wiki, s.typ, s.ns, s.bot, s.domain, mv,
				"mediawiki_recentchange", "enwiki", "edit", int64(0), false, "en.wikipedia.org", uint8(7))
		}
	}
	f.Add("a.b,a_b,a.b,", "_", "", "", "", "", uint8(3), "a_b", "_", "", int64(-1), true, "", uint8(0))
	f.Add("*,>", "enwiki", "new", "-9223372036854775808", "true", "A-1.b", uint8(64), "_", "enwiki", "new", int64(-9223372036854775808), true, "A-1.b", uint8(7))
	f.Fuzz(func(t *testing.T, streamNames, wiki, typ, ns, bot, domain string, maxValues uint8,
		evStream, evWiki, evType string, evNS int64, evBot bool, evDomain string, has uint8) {
		// Stream tokens as the API makes them: distinct, of non-empty
		// canonical names.
		var streams []string
		for _, n := range strings.Split(streamNames, ",") {
			if tok := layout.StreamToken(n); n != "" && !slices.Contains(streams, tok) {
				streams = append(streams, tok)
			}
		}
		if len(streams) == 0 {
			streams = []string{"s"}
		}
		q := map[string]string{"wiki": wiki, "type": typ, "namespace": ns, "bot": bot, "domain": domain}
		asked := 0
		fl, err := Parse(streams, func(name string) string { asked++; return q[name] }, int(maxValues))
		if err != nil {
			checkError(t, err, q, int(maxValues))
			return
		}
		if asked != len(Names()) {
			t.Fatalf("Parse read %d parameters, not the %d filters", asked, len(Names()))
		}
		if !slices.Equal(fl.Streams, streams) {
			t.Fatalf("Streams = %q, want %q", fl.Streams, streams)
		}

		// Each list filter: at most maxValues distinct valid values.
		values := map[string][]string{}
		for name, raw := range q {
			if raw == "" || name == "bot" {
				continue
			}
			for _, v := range strings.Split(raw, ",") {
				if v = strings.TrimSpace(v); !slices.Contains(values[name], v) {
					values[name] = append(values[name], v)
				}
			}
			if len(values[name]) > int(maxValues) {
				t.Fatalf("%s=%q: %d values accepted, maxValues %d", name, raw, len(values[name]), maxValues)
			}
		}
		if !slices.Equal(fl.Wikis, values["wiki"]) {
			t.Fatalf("wiki=%q: Wikis = %q, want %q", wiki, fl.Wikis, values["wiki"])
		}
		for _, w := range fl.Wikis {
			if layout.WikiToken(w) != w {
				t.Fatalf("wiki=%q: %q is not a wiki token", wiki, w)
			}
		}
		if bot != "" && bot != "true" && bot != "false" {
			t.Fatalf("bot=%q accepted", bot)
		}

		checkSubjects(t, &fl, q)

		// Match is the conjunction of the filters' definitions.
		ev := &fuzzEvent{envelope.Attributes{Type: evType, HasType: has&1 != 0, Namespace: evNS, HasNamespace: has&2 != 0,
			Bot: evBot, HasBot: has&4 != 0, Domain: evDomain}}
		want := slices.Contains(streams, evStream) && (wiki == "" || slices.Contains(values["wiki"], evWiki))
		if typ != "" {
			want = want && ev.a.HasType && slices.Contains(values["type"], evType)
		}
		if ns != "" {
			want = want && ev.a.HasNamespace && slices.ContainsFunc(values["namespace"], func(v string) bool {
				n, err := strconv.ParseInt(v, 10, 64)
				return err == nil && n == evNS
			})
		}
		if bot != "" {
			want = want && ev.a.HasBot && evBot == (bot == "true")
		}
		if domain != "" {
			want = want && slices.Contains(values["domain"], evDomain)
		}
		if got := fl.Match(evStream, evWiki, ev); got != want {
			t.Fatalf("query %q, event %q/%q %+v: Match = %v, want %v", q, evStream, evWiki, ev.a, got, want)
		}
		if slices.Contains(streams, evStream) && (wiki == "" || slices.Contains(values["wiki"], evWiki)) && fl.MatchFields(ev) != want {
			t.Fatalf("query %q, event %+v: MatchFields = %v, Match = %v", q, ev.a, fl.MatchFields(ev), want)
		}
	})
}

// checkError: a rejection is an *Error of valid UTF-8 that names the
// parameter and repeats at most 64 bytes of the value.
func checkError(t *testing.T, err error, q map[string]string, maxValues int) {
	t.Helper()
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("query %q: %T is not an *Error", q, err)
	}
	msg := fe.Error()
	name, rest, ok := strings.Cut(msg, ": ")
	if !ok || !slices.Contains(Names(), name) || q[name] == "" || !utf8.ValidString(msg) || len(msg) > 400 {
		t.Fatalf("query %q: error %q", q, msg)
	}
	if rest == "at most "+strconv.Itoa(maxValues)+" values may be given" {
		return
	}
	quoted, err := strconv.QuotedPrefix(rest)
	if err != nil {
		t.Fatalf("query %q: error %q does not quote the value", q, msg)
	}
	v, _ := strconv.Unquote(quoted)
	if len(v) > 64 || !strings.Contains(q[name], v) || !strings.HasPrefix(rest[len(quoted):], " is not ") {
		t.Fatalf("query %q: error %q quotes more than 64 bytes, or not of %s", q, msg, name)
	}
}

// checkSubjects: one subject per stream and wiki (per stream without a
// wiki filter), each a valid NATS subject of the layout's prefix whose
// only wildcard is the final '*' of a stream's filter.
func checkSubjects(t *testing.T, fl *Filter, q map[string]string) {
	t.Helper()
	l := layout.Default()
	subjects := fl.Subjects(l)
	if want := len(fl.Streams) * max(len(fl.Wikis), 1); len(subjects) != want {
		t.Fatalf("query %q: %d subjects %q, want %d", q, len(subjects), subjects, want)
	}
	for i, s := range subjects {
		if slices.Contains(subjects[:i], s) {
			t.Fatalf("query %q: subject %q twice", q, s)
		}
		rest, ok := strings.CutPrefix(s, l.Prefix+".")
		if !ok || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
			t.Fatalf("query %q: subject %q", q, s)
		}
		tokens := strings.Split(rest, ".")
		if len(tokens) != 2 {
			t.Fatalf("query %q: subject %q is not <prefix>.<stream>.<wiki>", q, s)
		}
		for j, tok := range tokens {
			wildcardOK := j == 1 && len(fl.Wikis) == 0 && tok == "*"
			if tok == "" || !wildcardOK && strings.ContainsAny(tok, "*>") {
				t.Fatalf("query %q: subject %q has an empty or wildcard token", q, s)
			}
		}
	}
}
