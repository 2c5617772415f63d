package envelope

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// TestPrepareIsEnrichThenDedupID checks that Prepare returns exactly what
// the two steps it replaces returned (Enrich, then DedupID and the wiki
// token of the fields Enrich found), on the recorded events and on the
// hand-written cases, valid or not, without a meta.id or with one.
func TestPrepareIsEnrichThenDedupID(t *testing.T) {
	var values [][]byte
	f, err := os.Open(recordedFixture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		values = append(values, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(values) < 30 {
		t.Fatalf("only %d recorded events found", len(values))
	}
	for _, s := range []string{`{"a":1}`, `{"meta":{"id":"x","dt":"2024"},"wiki":"enwiki"}`, `{"meta":null,"database":"de wiki"}`,
		`{"meta":{"id":"a\nb"}}`, `{"meta":{"id":"` + string(bytes.Repeat([]byte("a"), 129)) + `"}}`,
		``, `{"a":`, `12345`, "{\"a\":\"\xff\"}", `{"meta":"x"}`} {
		values = append(values, []byte(s))
	}
	for i, v := range values {
		for _, stream := range []string{"mediawiki.recentchange", "mediawiki.page_change.v1"} {
			wantData, fields, wantErr := Enrich([]byte("prefix:"), v, at)
			got, err := Prepare([]byte("prefix:"), v, stream, at)
			if !bytes.Equal(got.Data, wantData) {
				t.Errorf("value %d: data\n got %s\nwant %s", i, got.Data, wantData)
			}
			if wantErr != nil {
				var inv, wantInv *InvalidError
				if !errors.As(err, &inv) || !errors.As(wantErr, &wantInv) || *inv != *wantInv {
					t.Errorf("value %d: error %v, want %v", i, err, wantErr)
				}
				if got.ID != "" || got.WikiToken != "" {
					t.Errorf("value %d: invalid, but id %q wiki token %q", i, got.ID, got.WikiToken)
				}
				continue
			}
			if err != nil {
				t.Errorf("value %d: %v", i, err)
			}
			if want := DedupID(stream, v, fields); got.ID != want {
				t.Errorf("value %d: id %q, want %q", i, got.ID, want)
			}
			if want := layout.WikiToken(fields.Wiki); got.WikiToken != want {
				t.Errorf("value %d: wiki token %q, want %q", i, got.WikiToken, want)
			}
		}
	}
}

// TestPrepareAsIsKeepsTheBytes: an event relayed from an upstream
// EventStreams is stored as it came, with the id and wiki token Prepare
// would give it, and refused for the same reasons.
func TestPrepareAsIsKeepsTheBytes(t *testing.T) {
	for _, s := range []string{
		`{"meta":{"id":"x","topic":"eqiad.mediawiki.recentchange","partition":0,"offset":7},"wiki":"enwiki"}`,
		`{"meta":null,"database":"de wiki"}`, `{"a":1}`, `not json`, `{"meta":"x"}`, ``,
	} {
		got, err := PrepareAsIs([]byte("prefix:"), []byte(s), "mediawiki.recentchange")
		want, werr := Prepare(nil, []byte(s), "mediawiki.recentchange", Coordinates{Topic: "t"})
		if (err == nil) != (werr == nil) {
			t.Errorf("%s: PrepareAsIs error %v, Prepare error %v", s, err, werr)
			continue
		}
		if err != nil {
			if string(got.Data) != "prefix:" {
				t.Errorf("%s: on error Data = %q, want dst unchanged", s, got.Data)
			}
			continue
		}
		if string(got.Data) != "prefix:"+s || got.ID != want.ID || got.WikiToken != want.WikiToken {
			t.Errorf("%s: got %+v, want the bytes as they are and id %q, wiki %q", s, got, want.ID, want.WikiToken)
		}
	}
}

// BenchmarkPrepare prepares an event shaped as BenchmarkIngest's (ingest's
// package mirror): about 1 KB, most of it one plain string, in ASCII or in
// Cyrillic (two bytes a letter); and, as ingest does, many such events into
// many buffers, mostly out of the CPU's caches.
func BenchmarkPrepare(b *testing.B) {
	event := func(id int, letter string) []byte {
		return []byte(`{"$schema":"/mediawiki/recentchange/1.0.0","meta":{"id":"eqiad-mediawiki.recentchange-3-` + strconv.Itoa(id) + `","dt":"2024-04-04T13:20:26Z","domain":"canary","stream":"mediawiki.recentchange"},"n":1234,"p":3,"dc":"eqiad","wiki":"enwiki","comment":"` +
			strings.Repeat(letter, 700/len(letter)) + `","parsedcomment":"<span dir=\"auto\">x &amp; y</span>"}`)
	}
	for _, c := range []struct {
		name, letter string
		events       int // distinct events, each with its buffer
	}{{"ascii", "x", 1}, {"cyrillic", "д", 1}, {"ascii-out-of-cache", "x", 8192}} {
		b.Run(c.name, func(b *testing.B) {
			values, bufs := make([][]byte, c.events), make([][]byte, c.events)
			for i := range values {
				values[i], bufs[i] = event(100000+i, c.letter), make([]byte, 0, 2048)
			}
			b.SetBytes(int64(len(values[0])))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				ev, err := Prepare(bufs[i][:0], values[i], "mediawiki.recentchange", at)
				if err != nil {
					b.Fatal(err)
				}
				bufs[i] = ev.Data
				if i++; i == len(values) {
					i = 0
				}
			}
		})
	}
}
