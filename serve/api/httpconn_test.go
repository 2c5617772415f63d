package api

// The HTTP connection as a raw TCP client sees it: pipelined requests,
// connections that send nothing or trickle, methods the HTTP layer does
// not know, requests it cannot read.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// rawReq is one request as sent on the wire.
type rawReq struct{ method, target string }

func (r rawReq) String() string { return r.method + " " + r.target }

func (r rawReq) wire() string {
	return r.method + " " + r.target + " HTTP/1.1\r\nHost: x\r\n\r\n"
}

// rawResp is what a raw client read of one response.
type rawResp struct {
	status int
	header http.Header
	body   []byte
}

// hostOf is an instance's address for net.Dial.
func hostOf(a *instance) string { return strings.TrimPrefix(a.url, "http://") }

// pipeline sends reqs in one write on a new connection and reads their
// responses, each body whole (a cut body is an error), in order. A
// response to a stream GET ends the reading, its body unread.
func pipeline(t *testing.T, addr string, reqs ...rawReq) []rawResp {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var raw strings.Builder
	for _, r := range reqs {
		raw.WriteString(r.wire())
	}
	if _, err := io.WriteString(conn, raw.String()); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	var out []rawResp
	for i, r := range reqs {
		resp, err := http.ReadResponse(br, &http.Request{Method: r.method})
		if err != nil {
			t.Fatalf("%v: response %d of %d (%v): %v", reqs, i+1, len(reqs), r, err)
		}
		if r.method == http.MethodGet && strings.HasPrefix(r.target, "/v2/stream/") && resp.StatusCode == http.StatusOK {
			out = append(out, rawResp{status: resp.StatusCode, header: resp.Header})
			break
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%v: the body of response %d (%v): %v after %d bytes", reqs, i+1, r, err, len(body))
		}
		out = append(out, rawResp{status: resp.StatusCode, header: resp.Header, body: body})
	}
	return out
}

// stable is the body of r's response without what changes between
// requests: /readyz's stream state, re-read periodically (when, and the
// sequences and size: a busy machine may answer the first request before
// the feed has loaded the events published before it started).
func stable(r rawReq, body []byte) []byte {
	if r.target != "/readyz" {
		return body
	}
	return readyzState.ReplaceAll(body, []byte(`"$1":0`))
}

var readyzState = regexp.MustCompile(`"(checked|last_seq|feed_seq|bytes)":("[^"]*"|[0-9]+)`)

// TestPipelining: requests sent in one write each get their whole response,
// in order, the same as each gets alone.
func TestPipelining(t *testing.T) {
	w := newWorld(t)
	w.publish(4)
	a := w.serve(nil)
	addr := hostOf(a)
	reqs := []rawReq{
		{"GET", "/healthz"}, {"GET", "/readyz"}, {"GET", "/robots.txt"}, {"GET", "/v2/streams"},
		{"GET", "/?spec"}, {"GET", "/_info"}, {"GET", "/_info/name"}, {"GET", "/_info/version"},
		{"GET", "/metrics"}, {"GET", "/nope"}, {"OPTIONS", "/v2/streams"}, {"HEAD", "/v2/stream/recentchange"},
		{"GET", "/v2/stream/nope"}, {"GET", "/v2/stream/recentchange?bogus=1"}, {"GET", "/v2/stream"},
		{"GET", "/rc"}, {"GET", "/"}, {"POST", "/v2/streams"}, {"PROPFIND", "/v2/streams"},
	}
	alone := make([]rawResp, len(reqs))
	for i, r := range reqs {
		alone[i] = pipeline(t, addr, r)[0]
	}
	if len(alone[4].body) <= 4096 {
		t.Fatalf("/?spec (%d bytes) should be over fasthttp's 4 KiB write buffer", len(alone[4].body))
	}
	check := func(idx []int) {
		t.Helper()
		batch := make([]rawReq, len(idx))
		for k, i := range idx {
			batch[k] = reqs[i]
		}
		got := pipeline(t, addr, batch...)
		for k, i := range idx {
			g, want := got[k], alone[i]
			if g.status != want.status || g.header.Get("Content-Type") != want.header.Get("Content-Type") {
				t.Errorf("%v: response %d is %d %q; alone %v gets %d %q", batch, k+1, g.status,
					g.header.Get("Content-Type"), reqs[i], want.status, want.header.Get("Content-Type"))
				continue
			}
			if reqs[i].target == "/metrics" { // its values change between requests
				if len(g.body) == 0 {
					t.Errorf("%v: response %d (/metrics) is empty", batch, k+1)
				}
				continue
			}
			if gb, wb := stable(reqs[i], g.body), stable(reqs[i], want.body); !bytes.Equal(gb, wb) {
				t.Errorf("%v: response %d (%v) has %d bytes, alone %d: %.80q", batch, k+1, reqs[i], len(g.body), len(want.body), gb)
			}
		}
	}
	n := len(reqs)
	for i := range n {
		for j := range n {
			check([]int{i, j})
		}
		check([]int{i, (i + 1) % n, (i + 2) % n})
		check([]int{i, 11, (i + 5) % n}) // a stream's HEAD in the middle
		check([]int{4, i, 4})            // between two large bodies
	}

	// A stream request at the end of a pipeline gets its stream once the
	// answers before it are all written.
	got := pipeline(t, addr, reqs[4], reqs[0], rawReq{"GET", "/v2/stream/recentchange"})
	if !bytes.Equal(got[0].body, alone[4].body) || !bytes.Equal(got[1].body, alone[0].body) {
		t.Errorf("the answers before a stream: %d and %d bytes, alone %d and %d", len(got[0].body), len(got[1].body),
			len(alone[4].body), len(alone[0].body))
	}
	if len(got) != 3 || got[2].status != 200 || !strings.HasPrefix(got[2].header.Get("Content-Type"), "text/event-stream") {
		t.Errorf("a stream at the end of a pipeline: %+v", got[len(got)-1])
	}
}

// closedWithin sends prefix on a new connection, then trickle (if any) a
// byte every 100 ms, and fails unless the server closes the connection
// within limit.
func closedWithin(t *testing.T, addr, prefix, trickle string, limit time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	began := time.Now()
	if _, err := io.WriteString(conn, prefix); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	defer close(done)
	if trickle != "" {
		go func() {
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				case <-tick.C:
					if _, err := io.WriteString(conn, trickle[i%len(trickle):i%len(trickle)+1]); err != nil {
						return
					}
				}
			}
		}()
	}
	_ = conn.SetReadDeadline(began.Add(limit))
	got, err := io.ReadAll(conn) // until EOF or a reset
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("still open after %v (read %.80q)", limit, got)
	}
	// Whatever was answered before the close is a JSON error.
	if len(got) > 0 && !strings.HasPrefix(string(got), "HTTP/1.1 200") {
		if !strings.Contains(string(got), "Content-Type: application/json; charset=utf-8") {
			t.Errorf("answered %.200q", got)
		}
	}
}

// TestSilentConnectionsClosed: a connection that does not send a whole
// request is closed within the bounds; a stream's connection is not.
func TestSilentConnectionsClosed(t *testing.T) {
	const bound = 500 * time.Millisecond
	const margin = 2 * time.Second // for a loaded machine; the bound is what is checked
	w := newWorld(t)
	a := w.serve(func(o *Options) {
		o.RequestTimeout, o.IdleTimeout, o.Heartbeat = bound, bound, 100*time.Millisecond
	})
	addr := hostOf(a)
	cases := []struct {
		name, prefix, trickle string
		limit                 time.Duration
	}{
		{"sends nothing", "", "", bound + margin},
		{"trickles its first line", "G", "ET / HTTP/1.1\r\n", 2*bound + margin},
		{"trickles a header", "GET /v2/streams HTTP/1.1\r\nHost: x\r\nX-Slow: ", "a", 2*bound + margin},
		{"a header line without a colon", "GET /v2/streams HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n", "", 2*bound + margin},
		{"trickles a body", "POST /v2/streams HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n", "a", 2*bound + margin},
		{"idle after a request", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "", 3*bound + margin},
		{"idle after a request, then trickles", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nX-Slow: ", "a",
			3*bound + margin},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			closedWithin(t, addr, tc.prefix, tc.trickle, tc.limit)
		})
	}
	t.Run("a stream is not closed", func(t *testing.T) {
		t.Parallel()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, rawReq{"GET", "/v2/stream/recentchange"}.wire()); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		for began := time.Now(); time.Since(began) < 4*bound; {
			_ = conn.SetReadDeadline(time.Now().Add(margin))
			if _, err := conn.Read(buf); err != nil {
				t.Fatalf("the stream ended after %v: %v", time.Since(began), err)
			}
		}
	})
}

// TestUnknownMethods: a method the HTTP layer does not know gets a JSON 405
// with Allow, and the connection serves the next request.
func TestUnknownMethods(t *testing.T) {
	w := newWorld(t)
	a := w.serve(nil)
	addr := hostOf(a)
	for _, m := range []string{"PROPFIND", "get", "XYZZY", "M-SEARCH", "Get", strings.Repeat("M", 300)} {
		got := pipeline(t, addr, rawReq{m, "/v2/streams?x=1"}, rawReq{"GET", "/healthz"})
		r := got[0]
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, HEAD, OPTIONS" {
			t.Errorf("%.20s: %d, Allow %q", m, r.status, r.header.Get("Allow"))
		}
		if r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%.20s: without the common headers: %v", m, r.header)
		}
		checkErrorBody(t, m, r, http.StatusMethodNotAllowed, "method_not_allowed")
		var body struct{ Method, URI string }
		_ = json.Unmarshal(r.body, &body)
		if body.URI != "/v2/streams?x=1" || len(m) <= 20 && body.Method != m {
			t.Errorf("%.20s: %s", m, r.body)
		}
		if got[1].status != 200 {
			t.Errorf("%.20s: the next request got %d", m, got[1].status)
		}
	}
	// A method Fiber knows still reaches the routes.
	got := pipeline(t, addr, rawReq{"POST", "/v2/streams"}, rawReq{"DELETE", "/healthz"})
	for _, r := range got {
		checkErrorBody(t, "POST/DELETE", r, http.StatusNotFound, "not_found")
	}
}

// checkErrorBody fails unless r is an error of status in EventStreams'
// JSON shape.
func checkErrorBody(t *testing.T, what string, r rawResp, status int, typ string) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("%.20s: Content-Type %q: %.200q", what, ct, r.body)
		return
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Errorf("%.20s: %v: %.200q", what, err, r.body)
		return
	}
	if len(m) != 6 || m["status"] != float64(status) || r.status != status || typ != "" && m["type"] != typ {
		t.Errorf("%.20s: %d %s, want %d %s", what, r.status, r.body, status, typ)
	}
	for _, k := range []string{"status", "type", "title", "detail", "method", "uri"} {
		if _, ok := m[k]; !ok {
			t.Errorf("%.20s: no %q in %s", what, k, r.body)
		}
	}
}

// TestUnreadableRequests: a request the HTTP layer cannot read is answered
// by serve's error handler, in JSON.
func TestUnreadableRequests(t *testing.T) {
	w := newWorld(t)
	a := w.serve(func(o *Options) { o.RequestTimeout = 500 * time.Millisecond })
	addr := hostOf(a)
	for _, tc := range []struct {
		name, raw string
		status    int
	}{
		{"headers over the read buffer", "GET /v2/streams HTTP/1.1\r\nHost: x\r\nX-Pad: " + strings.Repeat("a", 20000) + "\r\n\r\n", 431},
		{"a request line over the read buffer", "GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 431},
		{"a header line without a colon (read until the timeout)", "GET /v2/streams HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n", 408},
		{"an invalid request line", "GET\r\nHost: x\r\n\r\n", 400},
		{"a request line of one space", " \r\nHost: x\r\n\r\n", 400},
		{"a TLS hello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400},
		{"an invalid Content-Length", "GET /v2/streams HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400},
		{"a body over the limit", "POST /v2/streams HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\nx", 413},
		{"invalid chunks", "POST /v2/streams HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tc.raw); err != nil {
				t.Fatal(err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			checkErrorBody(t, tc.name, rawResp{status: resp.StatusCode, header: resp.Header, body: body}, tc.status, "")
		})
	}
}
