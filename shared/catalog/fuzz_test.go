package catalog

import (
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"
)

// FuzzResolve: the stream names of a request path (after comma-splitting)
// resolve to distinct streams in the order first named, or to an
// *UnknownStreamsError listing each unknown name once. Run it with
//
//	go test ./shared/catalog -run '^$' -fuzz '^FuzzResolve$' -fuzztime 60s
func FuzzResolve(f *testing.F) {
	for _, s := range []string{
		"recentchange", "recentchange,page-create,mediawiki.recentchange,recentchange", "mediawiki.page_change.v1",
		"", ",", " recentchange", "recentchange ", "RECENTCHANGE", "recentchange,", ",recentchange",
		"recentchange%2Cpage-create", "recentchange%2cpage-create", "recentchange%2F..%2Fpage-create", "recentchange/page-create",
		"..", "/", "*", ">", "eqiad.mediawiki.recentchange", "mediawiki_recentchange", "_deadletter",
		"recent\x00change", "\xff\xfe", "récentchange",
		strings.Repeat("a,", 5000) + "a", strings.Repeat("recentchange,", 1000) + "nope",
		strings.Repeat("\xa7garbage\x00,", 8<<10/10),
	} {
		f.Add(s)
	}
	c, err := Builtin(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, path string) {
		names := strings.Split(path, ",")
		got, err := c.Resolve(names)

		var wantStreams []*Stream
		var wantUnknown []string
		for _, n := range names {
			s, ok := c.Lookup(n)
			switch {
			case !ok && !slices.Contains(wantUnknown, n):
				wantUnknown = append(wantUnknown, n)
			case ok && !slices.Contains(wantStreams, s):
				wantStreams = append(wantStreams, s)
			}
		}
		if err != nil {
			var unknown *UnknownStreamsError
			if !errors.As(err, &unknown) || got != nil || !slices.Equal(unknown.Names, wantUnknown) ||
				err.Error() != "unknown streams: "+strings.Join(wantUnknown, ", ") {
				t.Fatalf("Resolve(%q) = %v, %v; want the unknown %q", names, got, err, wantUnknown)
			}
			return
		}
		if len(wantUnknown) > 0 || !slices.Equal(got, wantStreams) {
			t.Fatalf("Resolve(%q) = %v; want %v, unknown %q", names, got, wantStreams, wantUnknown)
		}
	})
}

// configDoc is a streamconfigs document for streams, as MediaWiki writes it.
func configDoc(t *testing.T, streams []*Stream) []byte {
	t.Helper()
	type entry struct {
		Stream        string   `json:"stream"`
		Topics        []string `json:"topics"`
		StreamAliases []string `json:"stream_aliases"`
		Description   string   `json:"description"`
		SchemaTitle   string   `json:"schema_title,omitempty"`
	}
	m := map[string]entry{}
	for _, s := range streams {
		m[s.Name] = entry{Stream: s.Name, Topics: s.Topics, StreamAliases: s.Aliases, Description: s.Description, SchemaTitle: s.SchemaTitle}
	}
	b, err := json.Marshal(map[string]any{"streams": m})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzParse: a streamconfigs document gives a consistent catalog (every
// name, alias and topic looks up its stream; lists sorted and complete),
// which written back as a document parses to the same streams.
func FuzzParse(f *testing.F) {
	for _, doc := range []string{
		`{"streams":{
 "mediawiki.recentchange":{"stream":"mediawiki.recentchange","topics":["eqiad.mediawiki.recentchange","codfw.mediawiki.recentchange"],"stream_aliases":["recentchange"],"schema_title":"mediawiki/recentchange"},
 "/^mediawiki\\.job\\..+/":{"topics":["x"]},
 "custom.stream":{"description":"Custom."}
}}`,
		`{"streams":{"a":{},"b":{"stream":"a"}}}`,
		`{"streams":{"a":{"stream_aliases":["a"]}}}`,
		`{"streams":{"a":{"topics":["t"]},"b":{"topics":["t"]}}}`,
		`{"streams":{"a":{"stream":"/a"},"/b":{"stream":"b"}}}`,
		`{"streams":{"":{}}}`, `{"streams":{"a":{"topics":[""],"stream_aliases":[""]}}}`,
		`{"streams":{}}`, `{"streams":null}`, `{}`, `[]`, `null`, ``, `{"streams":`, `{"streams":{"a":{"topics":"t"}}}`,
		`{"streams":{"a.b":{},"a_b":{}}}`, `{"streams":{"\u0000":{},"\ud800":{}}}`,
		"{\"streams\":{\"\xff\":{}}}",
		`{"streams":{"a":{"topics":["t"],"stream_aliases":["x","y","x"]}}}`,
		`{"streams":{"a":{}},"streams":{"b":{}}}`,
		`{"streams":{"A":{},"a":{}}}`,
		strings.Repeat("[", 10000),
		strings.Repeat("\xa7garbage\x00,", 8<<10/10),
	} {
		f.Add([]byte(doc), "eqiad.,codfw.")
		f.Add([]byte(doc), "")
	}
	f.Add([]byte(`{"streams":{"a":{}}}`), "x.,x.")
	f.Fuzz(func(t *testing.T, doc []byte, prefixList string) {
		var prefixes []string
		if prefixList != "" {
			// Valid UTF-8, as everything the document gives: the
			// catalog is written back as JSON below.
			prefixes = strings.Split(strings.ToValidUTF8(prefixList, "\uFFFD"), ",")
		}
		c, err := Parse(doc, prefixes)
		if err != nil {
			if c != nil {
				t.Fatalf("Parse(%q) = %v and the error %v", doc, c, err)
			}
			return
		}
		checkCatalog(t, c)

		again, err := Parse(configDoc(t, c.Streams()), []string{"unused."})
		if err != nil {
			t.Fatalf("Parse(%q): the catalog written back does not parse: %v", doc, err)
		}
		a, b := c.Streams(), again.Streams()
		if len(a) != len(b) {
			t.Fatalf("Parse(%q): %d streams, written back %d", doc, len(a), len(b))
		}
		for i := range a {
			if a[i].Name != b[i].Name || !slices.Equal(a[i].Aliases, b[i].Aliases) || a[i].Description != b[i].Description ||
				a[i].SchemaTitle != b[i].SchemaTitle || !slices.Equal(a[i].Topics, b[i].Topics) {
				t.Fatalf("Parse(%q): stream %+v, written back %+v", doc, a[i], b[i])
			}
		}
	})
}

func checkCatalog(t *testing.T, c *Catalog) {
	t.Helper()
	streams := c.Streams()
	if len(streams) == 0 {
		t.Fatal("a catalog without streams")
	}
	var names, topics []string
	for i, s := range streams {
		if i > 0 && streams[i-1].Name >= s.Name {
			t.Fatalf("streams not sorted by distinct names: %q, %q", streams[i-1].Name, s.Name)
		}
		if s.Name == "" || strings.HasPrefix(s.Name, "/") || len(s.Topics) == 0 || s.Description == "" {
			t.Fatalf("stream %+v", s)
		}
		for _, n := range append([]string{s.Name}, s.Aliases...) {
			if got, ok := c.Lookup(n); !ok || got != s {
				t.Fatalf("Lookup(%q) = %v, %v; want %v", n, got, ok, s)
			}
			names = append(names, n)
		}
		for _, tp := range s.Topics {
			if got, ok := c.ByTopic(tp); !ok || got != s {
				t.Fatalf("ByTopic(%q) = %v, %v; want %v", tp, got, ok, s)
			}
			topics = append(topics, tp)
		}
	}
	sort.Strings(names)
	sort.Strings(topics)
	if got := c.Names(); !slices.Equal(got, names) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Fatalf("Names() = %q, want %q, each once", got, names)
	}
	if got := c.Topics(); !slices.Equal(got, topics) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Fatalf("Topics() = %q, want %q, each once", got, topics)
	}
	got, err := c.Resolve(c.Names())
	if err != nil || len(got) != len(streams) {
		t.Fatalf("Resolve(Names()) = %v, %v", got, err)
	}
	if same, err := c.Narrow(c.Names()); err != nil || !slices.EqualFunc(same.Streams(), streams, func(a, b *Stream) bool { return a.Name == b.Name }) {
		t.Fatalf("Narrow(Names()) = %v, %v", same, err)
	}
}
