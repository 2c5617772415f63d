package wire

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/position"
)

// buffer is a Writer that keeps everything.
type buffer []byte

func (b *buffer) Append(p []byte) error       { *b = append(*b, p...); return nil }
func (b *buffer) AppendString(s string) error { *b = append(*b, s...); return nil }

// TestFramesMatchGolden: every frame kind of both encoders is, byte for
// byte, what testdata holds (the same files serve/api's end-to-end test
// checks what a client receives against; that test writes them, with
// -update).
func TestFramesMatchGolden(t *testing.T) {
	events := map[string]Encoded{
		"event": Encode(position.ID{Seq: 1, Timestamp: 1764151200001, Epoch: "EPOCH"}, []byte(`{"n":0,"s":"<a&b>"}`)),
		"event-multiline": Encode(position.ID{Seq: 2, Timestamp: 1764151200002, Epoch: "EPOCH"},
			[]byte("{\"n\":1,\r\n  \"s\":\"a\\nb\",\r  \"t\":1\n}\n")),
	}
	frames := func(enc Encoder) map[string]func(w Writer) error {
		m := map[string]func(w Writer) error{
			"heartbeat": enc.Heartbeat,
			"error":     enc.Error,
		}
		for name, e := range events {
			m[name] = func(w Writer) error { return enc.Event(w, &e) }
		}
		return m
	}
	sse, nd := frames(SSE{}), frames(NDJSON{})
	sse["ok+retry"] = func(w Writer) error { return SSE{}.Open(w, 2*time.Second) }
	nd["open"] = func(w Writer) error { return NDJSON{}.Open(w, 2*time.Second) }
	for format, kinds := range map[string]map[string]func(w Writer) error{"sse": sse, "ndjson": nd} {
		for kind, write := range kinds {
			var b buffer
			if err := write(&b); err != nil {
				t.Fatal(err)
			}
			var want []byte
			for _, k := range strings.Split(kind, "+") { // SSE's opening is two frames
				g, err := os.ReadFile(filepath.Join("testdata", format+"-"+k+".golden"))
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, g...)
			}
			if string(b) != string(want) {
				t.Errorf("%s %s:\n got %q\nwant %q", format, kind, b, want)
			}
		}
	}
}

func TestContentTypes(t *testing.T) {
	for accept, want := range map[string]string{
		"":                    "text/event-stream",
		"text/event-stream":   "text/event-stream; charset=utf-8",
		"*/*":                 "text/event-stream; charset=utf-8",
		"application/json":    "application/json; charset=utf-8",
		"application/json; q": "application/json; charset=utf-8",
	} {
		if got := For(accept).ContentType(); got != want {
			t.Errorf("Accept %q: %q, want %q", accept, got, want)
		}
	}
}

// TestFrameAllocatedOnce: a frame's buffer is not grown while it is built
// (a grown buffer keeps up to twice the event's bytes in the ring).
func TestFrameAllocatedOnce(t *testing.T) {
	id := position.ID{Seq: 18446744073709551615, Timestamp: 9223372036854775807, Epoch: strings.Repeat("e", position.MaxEpochLen)}
	for _, data := range []string{`{}`, `{"a":"` + strings.Repeat("x", 1000) + `"}`, "{\n\"a\":\r\n1\r}\n"} {
		e := Encode(id, []byte(data))
		if slack := cap(e.Frame) - len(e.Frame); slack < 0 || slack > len(dataField)*4 {
			t.Errorf("%.20q: frame of %d bytes in a buffer of %d", data, len(e.Frame), cap(e.Frame))
		}
		if b := []byte(data); !strings.ContainsAny(data, "\r\n") {
			if allocs := testing.AllocsPerRun(10, func() { Encode(id, b) }); allocs != 1 {
				t.Errorf("%.20q: %v allocations per frame, want 1", data, allocs)
			}
		}
	}
}

// BenchmarkEncode encodes a recentchange event of about 1 KB, as the live
// feed does once per event and a catch-up once per event it replays.
func BenchmarkEncode(b *testing.B) {
	data := []byte(`{"$schema":"/mediawiki/recentchange/1.0.0","meta":{"uri":"https://en.wikipedia.org/wiki/Example","request_id":"6c5a2e3e-5f7b-4b1e-9d44-1f2a3b4c5d6e","id":"0b8f6d1e-2c3a-4e5f-8a9b-0c1d2e3f4a5b","dt":"2026-12-01T12:00:00Z","domain":"en.wikipedia.org","stream":"mediawiki.recentchange","topic":"eqiad.mediawiki.recentchange","partition":0,"offset":5283746512},"id":1849302211,"type":"edit","namespace":0,"title":"Example","title_url":"https://en.wikipedia.org/wiki/Example","comment":"/* History */ copyedit, fixed a reference and the wording of the second paragraph","timestamp":1764590400,"user":"Example user","bot":false,"notify_url":"https://en.wikipedia.org/w/index.php?diff=1264829301&oldid=1264829111","minor":true,"patrolled":true,"length":{"old":48211,"new":48237},"revision":{"old":1264829111,"new":1264829301},"server_url":"https://en.wikipedia.org","server_name":"en.wikipedia.org","server_script_path":"/w","wiki":"enwiki","parsedcomment":"<span dir=\"auto\"><span class=\"autocomment\"><a href=\"/wiki/Example#History\" title=\"Example\">History</a>: </span> copyedit, fixed a reference and the wording of the second paragraph</span>"}`)
	id := position.ID{Seq: 123456789, Timestamp: 1764590400001, Epoch: "K3M9X2Q7B1ZD"}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		_ = Encode(id, data)
	}
}

// FuzzLazyMatchesEncode: a lazy event is written, in both formats, byte
// for byte as the event Encode built; its JSON is the same value.
func FuzzLazyMatchesEncode(f *testing.F) {
	for _, s := range []string{`{"a":1}`, "{\n\"a\": 1\n}", "{\r\n\"a\":\r1,\n\n\"b\":2}\r", "", "\n", `{"s":"x\\ny"}`} {
		f.Add(s, uint64(42))
	}
	f.Fuzz(func(t *testing.T, data string, seq uint64) {
		id := position.ID{Seq: seq, Timestamp: 1764590400001, Epoch: "K3M9X2Q7B1ZD"}
		eager, lazy := Encode(id, []byte(data)), Lazy(id, []byte(data))
		for _, enc := range []Encoder{SSE{}, NDJSON{}} {
			var a, b buffer
			if err := enc.Event(&a, &eager); err != nil {
				t.Fatal(err)
			}
			if err := enc.Event(&b, &lazy); err != nil {
				t.Fatal(err)
			}
			if string(a) != string(b) {
				t.Fatalf("%T: lazy %q, encoded %q", enc, b, a)
			}
		}
		if strings.Join(strings.Fields(string(lazy.JSON())), "") != strings.Join(strings.Fields(string(eager.JSON())), "") {
			t.Fatalf("JSON: lazy %q, encoded %q", lazy.JSON(), eager.JSON())
		}
	})
}
