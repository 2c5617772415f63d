package catalog

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestBuiltin(t *testing.T) {
	c, err := Builtin(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(c.Streams()); got != 21 {
		t.Errorf("%d streams, want the 21 of stream.wikimedia.org", got)
	}
	tests := []struct {
		name, canonical string
		topics          []string
	}{
		{"recentchange", "mediawiki.recentchange", []string{"eqiad.mediawiki.recentchange", "codfw.mediawiki.recentchange"}},
		{"mediawiki.recentchange", "mediawiki.recentchange", nil},
		{"test", "eventgate-main.test.event", []string{"eqiad.eventgate-main.test.event", "codfw.eventgate-main.test.event"}},
		{"rdf-streaming-updater.mutation.v2", "rdf-streaming-updater.mutation.v2", []string{"eqiad.rdf-streaming-updater.mutation", "codfw.rdf-streaming-updater.mutation"}},
		{"page-create", "mediawiki.page-create", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := c.Lookup(tt.name)
			if !ok || s.Name != tt.canonical {
				t.Fatalf("Lookup(%q) = %v, %v", tt.name, s, ok)
			}
			if tt.topics != nil && !slices.Equal(s.Topics, tt.topics) {
				t.Errorf("topics %v, want %v", s.Topics, tt.topics)
			}
			for _, topic := range s.Topics {
				if got, _ := c.ByTopic(topic); got != s {
					t.Errorf("ByTopic(%q) = %v", topic, got)
				}
			}
		})
	}
	if _, ok := c.Lookup("mediawiki.revision-score"); ok {
		t.Error("revision-score was removed from production and must not be listed")
	}
	if _, err := Builtin([]string{"eqiad.", "eqiad."}); err == nil {
		t.Error("a prefix given twice must be an error, not a panic or a silent merge")
	}
}

func TestResolveAndNarrow(t *testing.T) {
	c, _ := Builtin(nil)
	got, err := c.Resolve([]string{"recentchange", "mediawiki.recentchange", "page-create"})
	if err != nil || len(got) != 2 || got[0].Name != "mediawiki.recentchange" || got[1].Name != "mediawiki.page-create" {
		t.Fatalf("Resolve = %v, %v", got, err)
	}
	_, err = c.Resolve([]string{"recentchange", "nope", "nope", "x"})
	var unknown *UnknownStreamsError
	if !errors.As(err, &unknown) || !slices.Equal(unknown.Names, []string{"nope", "x"}) {
		t.Fatalf("Resolve unknown: %v", err)
	}

	n, err := c.Narrow([]string{"recentchange", "mediawiki.page-delete"})
	if err != nil {
		t.Fatal(err)
	}
	if names := n.Names(); !slices.Equal(names, []string{"mediawiki.page-delete", "mediawiki.recentchange", "page-delete", "recentchange"}) {
		t.Errorf("narrowed names %v", names)
	}
	if len(n.Topics()) != 4 {
		t.Errorf("narrowed topics %v", n.Topics())
	}
	if _, err := c.Narrow([]string{"recentchange", "typo"}); !errors.As(err, &unknown) {
		t.Errorf("Narrow with a typo: %v", err)
	}
	if same, _ := c.Narrow(nil); same != c {
		t.Error("an empty allow-list must keep everything")
	}
}

const doc = `{"streams":{
 "mediawiki.recentchange":{"stream":"mediawiki.recentchange","topics":["eqiad.mediawiki.recentchange","codfw.mediawiki.recentchange"],"stream_aliases":["recentchange"],"schema_title":"mediawiki/recentchange"},
 "/^mediawiki\\.job\\..+/":{"topics":["x"]},
 "custom.stream":{"description":"Custom."}
}}`

func TestParseAndLoad(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "streams.json")
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/streamconfigs" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(doc))
	}))
	defer srv.Close()

	for _, source := range []string{file, srv.URL + "/streamconfigs"} {
		t.Run(source, func(t *testing.T) {
			c, err := Load(context.Background(), source, []string{"dc1.", "dc2."}, srv.Client())
			if err != nil {
				t.Fatal(err)
			}
			if names := c.Names(); !slices.Equal(names, []string{"custom.stream", "mediawiki.recentchange", "recentchange"}) {
				t.Errorf("names %v (regex streams must be dropped)", names)
			}
			s, _ := c.Lookup("custom.stream")
			if !slices.Equal(s.Topics, []string{"dc1.custom.stream", "dc2.custom.stream"}) || s.Description != "Custom." {
				t.Errorf("custom stream %+v", s)
			}
		})
	}
	for _, bad := range []string{filepath.Join(dir, "missing.json"), srv.URL + "/404"} {
		if _, err := Load(context.Background(), bad, nil, srv.Client()); err == nil {
			t.Errorf("Load(%q) succeeded", bad)
		}
	}
	if _, err := Parse([]byte(`{"streams":`), nil); err == nil {
		t.Error("truncated document accepted")
	}
	if _, err := Parse([]byte(`{"streams":{}}`), nil); !errors.Is(err, ErrNoStreams) {
		t.Errorf("empty document: %v", err)
	}
}

// TestStreamsKeepTheirSubjects: streams whose subject tokens would be the
// same, or the dead letters', and empty aliases or topics are refused.
func TestStreamsKeepTheirSubjects(t *testing.T) {
	for doc, want := range map[string]string{
		`{"streams":{"a.b":{},"a_b":{}}}`:             "would share the subjects",
		`{"streams":{"_deadletter":{}}}`:              "dead letters",
		`{"streams":{"a":{"stream_aliases":[""]}}}`:   "empty alias",
		`{"streams":{"a":{"topics":["eqiad.a",""]}}}`: "empty topic",
		`{"streams":{"a":{},"b":{"topics":["x"]}}}`:   "",
	} {
		_, err := Parse([]byte(doc), []string{"eqiad."})
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%s: %v, want %q", doc, err, want)
		}
	}
}
