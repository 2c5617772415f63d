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
