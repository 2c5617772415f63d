package api

import (
	"bufio"
	"context"
	"flag"
	"io"
	"net"
	"net/http/httputil"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
)

var update = flag.Bool("update", false, "rewrite the golden files of the wire bytes")

// wireGolden is where the wire bytes of every frame kind are pinned; the
// encoders' own tests compare against the same files.
const wireGolden = "../wire/testdata"

// TestWireGolden pins, byte for byte, what a client receives over HTTP in
// each format: the response head, the opening, an event on one line, an
// event stored with line breaks, a heartbeat, and the error event of a feed
// that failed. The id's epoch (the stream's creation time) is written as
// EPOCH.
func TestWireGolden(t *testing.T) {
	for _, tc := range []struct{ format, accept string }{
		{"sse", "text/event-stream"},
		{"sse-no-accept", ""},
		{"ndjson", "application/json"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			w := newWorld(t)
			a := w.serve(func(o *Options) { o.Heartbeat = 300 * time.Millisecond })
			for i, data := range []string{`{"n":0,"s":"<a&b>"}`, "{\"n\":1,\r\n  \"s\":\"a\\nb\",\r  \"t\":1\n}\n"} {
				inproctest.Publish(t, w.js, inproctest.Event{Stream: "mediawiki_recentchange", Wiki: "enwiki", Data: []byte(data),
					Time: 1764151200000 + int64(i)})
			}
			conn, err := net.Dial("tcp", strings.TrimPrefix(a.url, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			req := "GET /v2/stream/recentchange?seq=1 HTTP/1.1\r\nHost: localhost\r\n"
			if tc.accept != "" {
				req += "Accept: " + tc.accept + "\r\n"
			}
			if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
				t.Fatal(err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			r := bufio.NewReader(conn)
			var head strings.Builder
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					t.Fatalf("reading the head: %v (got %q)", err, head.String())
				}
				head.WriteString(line)
				if line == "\r\n" {
					break
				}
			}
			body := bufio.NewReader(httputil.NewChunkedReader(r))
			frames := map[string]string{"head": head.String()}
			switch tc.format {
			case "sse-no-accept": // the body is the same as with an Accept
			case "ndjson":
				readNDJSON(t, body, w, frames)
			default:
				readSSE(t, body, w, frames)
			}
			epoch := a.hub.Epoch()
			for kind, got := range frames {
				got = strings.ReplaceAll(got, `"epoch":"`+epoch+`"`, `"epoch":"EPOCH"`)
				checkGolden(t, tc.format+"-"+kind, got)
			}
		})
	}
}

// readSSE reads the opening, both events and a heartbeat; then deletes the
// stream and reads the error event and the end.
func readSSE(t *testing.T, body *bufio.Reader, w *world, frames map[string]string) {
	t.Helper()
	frame := func() string {
		var b strings.Builder
		for {
			line, err := body.ReadString('\n')
			b.WriteString(line)
			if err != nil {
				return b.String() + "<" + err.Error() + ">"
			}
			if line == "\n" {
				return b.String()
			}
		}
	}
	frames["ok"], frames["retry"] = frame(), frame()
	frames["event"], frames["event-multiline"] = frame(), frame()
	frames["heartbeat"] = frame()
	if err := w.js.DeleteStream(context.Background(), lay.Stream); err != nil {
		t.Fatal(err)
	}
	for {
		f := frame()
		if f != frames["heartbeat"] { // more heartbeats may come before the feed notices
			frames["error"] = f
			break
		}
	}
	if rest, err := io.ReadAll(body); err != nil || len(rest) > 0 {
		t.Fatalf("after the error event: %q, %v; want the end of the stream", rest, err)
	}
}

// readNDJSON is readSSE for NDJSON, whose frames are lines.
func readNDJSON(t *testing.T, body *bufio.Reader, w *world, frames map[string]string) {
	t.Helper()
	line := func() string {
		s, err := body.ReadString('\n')
		if err != nil {
			return s + "<" + err.Error() + ">"
		}
		return s
	}
	frames["open"] = line()
	frames["event"], frames["event-multiline"] = line(), line()
	frames["heartbeat"] = line()
	if err := w.js.DeleteStream(context.Background(), lay.Stream); err != nil {
		t.Fatal(err)
	}
	for {
		if l := line(); l != frames["heartbeat"] {
			frames["error"] = l
			break
		}
	}
	if rest, err := io.ReadAll(body); err != nil || len(rest) > 0 {
		t.Fatalf("after the error line: %q, %v; want the end of the stream", rest, err)
	}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(wireGolden, name+".golden")
	if *update {
		if err := os.MkdirAll(wireGolden, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s:\n got %q\nwant %q", name, got, want)
	}
}
