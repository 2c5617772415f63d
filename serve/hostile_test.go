package main

// The hostile-client suite: the built serve binary, with live events, over
// loopback, against raw TCP clients that send what no well-behaved client
// would. Each case names the finding it guards.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
)

// maxErrorBody bounds every error body, whatever the request.
const maxErrorBody = 2048

// hostileServe is a serve binary with a few stored events and a publisher
// of more, for the hostile cases.
func hostileServe(t *testing.T, env ...string) (addr string, publish func(n, size int)) {
	t.Helper()
	ns, js := inproctest.NATS(t, true)
	var mu sync.Mutex
	next := 0
	publish = func(n, size int) {
		mu.Lock()
		defer mu.Unlock()
		pad := strings.Repeat("x", size)
		for range n {
			inproctest.Publish(t, js, inproctest.Event{Stream: "mediawiki_recentchange", Wiki: "enwiki",
				Data: []byte(fmt.Sprintf(`{"n":%d,"pad":"%s"}`, next, pad)), Time: 1764151200000 + int64(next)})
			next++
		}
	}
	publish(5, 10)
	addr, _, _ = startServe(t, ns.ClientURL(), env...)
	return addr, publish
}

// exchange writes raw to a new connection in one write and reads the
// responses that come back, in order, until the server closes the
// connection, want responses are read, or 15 s pass (serve's own bounds
// are shorter). methods are the requests' methods where not GET (HEAD
// responses have no body). A streaming 200 is returned with its body
// unread.
func exchange(t *testing.T, addr, raw string, want int, methods ...string) []*http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	r := bufio.NewReader(conn)
	var out []*http.Response
	for len(out) < want {
		req := &http.Request{Method: http.MethodGet}
		if len(out) < len(methods) && methods[len(out)] != "" {
			req.Method = methods[len(out)]
		}
		resp, err := http.ReadResponse(r, req)
		if err != nil {
			break
		}
		if req.Method != http.MethodHead && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") ||
			strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && resp.StatusCode == 200 && resp.ContentLength < 0 {
			out = append(out, resp) // a stream: its body never ends
			break
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("reading the body of response %d to %.60q: %v", len(out)+1, raw, err)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		out = append(out, resp)
	}
	return out
}

// checkError fails unless resp is an error in EventStreams' JSON shape,
// under the size bound, with status equal to the HTTP status.
func checkError(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("%s: %d with Content-Type %q: %.200q", what, resp.StatusCode, ct, body)
		return
	}
	if len(body) > maxErrorBody {
		t.Errorf("%s: a %d-byte error body (at most %d)", what, len(body), maxErrorBody)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Errorf("%s: not JSON: %v: %.200q", what, err, body)
		return
	}
	for _, k := range []string{"status", "type", "title", "detail", "method", "uri"} {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: no %q in %s", what, k, body)
		}
	}
	if len(m) != 6 || m["status"] != float64(resp.StatusCode) {
		t.Errorf("%s: %d answered %s", what, resp.StatusCode, body)
	}
}

// TestHostileRequests: no request gets a 5xx; every answer that is not a
// stream is whole, and every error is JSON in the documented shape and
// small, whatever the request repeats.
func TestHostileRequests(t *testing.T) {
	addr, _ := hostileServe(t)
	garbage := strings.Repeat("%22<%ff", 1100) // 7.7 KB, each byte escaped in JSON
	cases := []struct {
		name, raw string
		want      int // status; 0: any 4xx; -1: any but a 5xx
	}{
		// Times out of JetStream's range (they were a 503).
		{"since in year 0", "GET /v2/stream/recentchange?since=0000-01-01T00:00:00Z HTTP/1.1\r\nHost: x\r\n\r\n", 200},
		{"since in year 9999", "GET /v2/stream/recentchange?since=9999-12-31T23:59:59Z HTTP/1.1\r\nHost: x\r\n\r\n", 200},
		{"Kafka id at the int64 limit", "GET /v2/stream/recentchange HTTP/1.1\r\nHost: x\r\nLast-Event-ID: " +
			`[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":9223372036854775807}]` + "\r\n\r\n", 200},
		{"our id at the int64 limit", "GET /v2/stream/recentchange HTTP/1.1\r\nHost: x\r\nLast-Event-ID: " +
			`[{"epoch":"ZZZZZZZZZZZZ","seq":47305,"timestamp":9223372036854775807}]` + "\r\n\r\n", 200},
		{"seq at the uint64 limit", "GET /v2/stream/recentchange?seq=18446744073709551615 HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		// Methods the HTTP layer does not know (they were text/plain).
		{"PROPFIND", "PROPFIND /v2/streams HTTP/1.1\r\nHost: x\r\n\r\n", 405},
		{"lowercase get", "get /v2/streams HTTP/1.1\r\nHost: x\r\n\r\n", 405},
		{"a random token", "XYZZY / HTTP/1.1\r\nHost: x\r\n\r\n", 405},
		{"a long token", strings.Repeat("M", 3000) + " / HTTP/1.1\r\nHost: x\r\n\r\n", 0},
		// Amplification (a 7.9 KB request got a 58.9 KB answer).
		{"garbage path", "GET /v2/stream/" + garbage + " HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"garbage query", "GET /v2/stream/recentchange?" + garbage + "=1 HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"garbage since", "GET /v2/stream/recentchange?since=" + garbage + " HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"garbage id", "GET /v2/stream/recentchange HTTP/1.1\r\nHost: x\r\nLast-Event-ID: " + strings.Repeat("<", 4000) + "\r\n\r\n", 400},
		{"garbage route", "GET /" + garbage + " HTTP/1.1\r\nHost: x\r\n\r\n", 404},
		{"headers too large", "GET /v2/streams HTTP/1.1\r\nHost: x\r\nX-Pad: " + strings.Repeat("<", 20000) + "\r\n\r\n", 431},
		// Requests the server cannot read.
		// fasthttp waits for the rest of such a header until the request
		// timeout (10 s), then answers 408.
		{"a header without a colon", "GET /v2/streams HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n", 408},
		{"no HTTP version", "GET /v2/streams\r\nHost: x\r\n\r\n", -1},
		{"a bad percent-encoding", "GET /v2/stream/%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"a NUL in the path", "GET /v2/stream/recent\x00change HTTP/1.1\r\nHost: x\r\n\r\n", 404},
		{"a body on a GET", "GET /v2/streams HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 200},
		{"a body too large", "POST /v2/streams HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\nx", 0},
		{"a body over 16 KiB", "POST /v2/streams HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n" + strings.Repeat("x", 20000), 413},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resps := exchange(t, addr, tc.raw, 1)
			if len(resps) == 0 {
				t.Fatalf("no answer to %.80q", tc.raw)
			}
			resp := resps[0]
			switch {
			case resp.StatusCode >= 500:
				t.Errorf("%d for %.80q", resp.StatusCode, tc.raw)
			case tc.want == 0 && (resp.StatusCode < 400 || resp.StatusCode > 499):
				t.Errorf("%d for %.80q, want a 4xx", resp.StatusCode, tc.raw)
			case tc.want > 0 && resp.StatusCode != tc.want:
				t.Errorf("%d for %.80q, want %d", resp.StatusCode, tc.raw, tc.want)
			}
			if resp.StatusCode != 200 {
				checkError(t, tc.name, resp)
			}
			if resp.StatusCode == 405 && resp.Header.Get("Allow") == "" {
				t.Errorf("405 without Allow")
			}
		})
	}
}

// TestHostilePipelining: requests sent in one write each get their whole
// response, in order (responses were lost or cut at 4,096 bytes).
func TestHostilePipelining(t *testing.T) {
	addr, _ := hostileServe(t)
	routes := []string{"/healthz", "/readyz", "/robots.txt", "/v2/streams", "/?spec", "/_info", "/_info/name",
		"/_info/version", "/metrics", "/nope", "/v2/stream/nope", "/v2/stream", "/_info/home", "/rc", "/"}
	alone := map[string][]byte{}
	for _, r := range routes {
		resps := exchange(t, addr, "GET "+r+" HTTP/1.1\r\nHost: x\r\n\r\n", 1)
		if len(resps) != 1 {
			t.Fatalf("GET %s alone: no answer", r)
		}
		alone[r], _ = io.ReadAll(resps[0].Body)
	}
	for i, first := range routes {
		for _, second := range []string{routes[(i+1)%len(routes)], routes[(i+5)%len(routes)]} {
			third := "/healthz"
			raw := "GET " + first + " HTTP/1.1\r\nHost: x\r\n\r\n" + "HEAD /v2/stream/recentchange HTTP/1.1\r\nHost: x\r\n\r\n" +
				"GET " + second + " HTTP/1.1\r\nHost: x\r\n\r\n" + "OPTIONS /v2/streams HTTP/1.1\r\nHost: x\r\n\r\n" +
				"GET " + third + " HTTP/1.1\r\nHost: x\r\n\r\n"
			resps := exchange(t, addr, raw, 5, "GET", "HEAD", "GET", "OPTIONS", "GET")
			if len(resps) != 5 {
				t.Errorf("%s, HEAD, %s, OPTIONS, %s in one write: %d responses, want 5", first, second, third, len(resps))
				continue
			}
			for j, r := range map[int]string{0: first, 2: second, 4: third} {
				body, _ := io.ReadAll(resps[j].Body)
				if r == "/metrics" || r == "/readyz" {
					if len(body) == 0 {
						t.Errorf("%s (response %d): empty", r, j+1)
					}
					continue // their values change between requests
				}
				if !bytes.Equal(body, alone[r]) {
					t.Errorf("%s (response %d of a pipeline after %s): %d bytes, alone %d", r, j+1, first, len(body), len(alone[r]))
				}
			}
			if resps[1].StatusCode != 200 || resps[3].StatusCode != 204 {
				t.Errorf("HEAD %d, OPTIONS %d in a pipeline", resps[1].StatusCode, resps[3].StatusCode)
			}
		}
	}
}

// TestHostileFloodWithResets: connections that send half a request, or
// open a stream, and are reset leave nothing behind: descriptors and
// goroutines return to where they were, and serve answers at once.
func TestHostileFloodWithResets(t *testing.T) {
	addr, publish := hostileServe(t)
	before := metrics(t, addr)
	var wg sync.WaitGroup
	for i := range 600 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				return // the backlog may be full for a moment: that is the flood
			}
			switch i % 3 {
			case 0:
				_, _ = io.WriteString(conn, "GET /v2/stream/recentchange HTTP/1.1\r\nHo")
			case 1:
				_, _ = io.WriteString(conn, "GET /v2/stream/recentchange HTTP/1.1\r\nHost: x\r\n\r\n")
				_, _ = conn.Read(make([]byte, 100))
			case 2:
				_, _ = io.WriteString(conn, "GET /v2/streams HTTP/1.1\r\nHost: x\r\n\r\n")
			}
			_ = conn.(*net.TCPConn).SetLinger(0) // close with a reset
			conn.Close()
		}()
	}
	wg.Wait()
	publish(20, 100) // streams whose client reset are noticed at their next write
	// fasthttp keeps an idle worker goroutine up to 10 s after its request.
	inproctest.WaitFor(t, 40*time.Second, func() bool {
		m := metrics(t, addr)
		return m["eventstreams_connected_clients"] == 0 &&
			m["process_open_fds"] <= before["process_open_fds"]+5 && m["go_goroutines"] <= before["go_goroutines"]+10
	})
	if resps := exchange(t, addr, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 1); len(resps) != 1 || resps[0].StatusCode != 200 {
		t.Error("serve does not answer after the flood")
	}
}

// TestHostileStalledReaders: with no maximum duration, clients that stop
// reading are dropped after the write timeout and counted as too slow,
// while a client that reads gets every event.
func TestHostileStalledReaders(t *testing.T) {
	addr, publish := hostileServe(t, "SERVE_MAX_CONNECTION_DURATION=0", "SERVE_WRITE_TIMEOUT=500ms")
	const stalled = 20
	for range stalled {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		_ = conn.(*net.TCPConn).SetReadBuffer(4096)
		_, _ = io.WriteString(conn, "GET /v2/stream/recentchange HTTP/1.1\r\nHost: x\r\n\r\n")
	}
	reader, err := http.Get("http://" + addr + "/v2/stream/recentchange?seq=1")
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Body.Close()
	inproctest.WaitFor(t, 10*time.Second, func() bool { return metrics(t, addr)["eventstreams_connected_clients"] == stalled+1 })
	got := make(chan int, 1)
	go func() { // the reading client counts the events it gets, in order
		r, n := bufio.NewReader(reader.Body), 0
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				got <- n
				return
			}
			if strings.HasPrefix(line, "data: ") {
				var e struct{ N int }
				if json.Unmarshal([]byte(line[6:]), &e) != nil || e.N != n {
					got <- -n - 1
					return
				}
				if n++; n == 5+400 {
					got <- n
					return
				}
			}
		}
	}()
	for range 40 { // 400 events of 10 KB: 4 MB to each stalled client
		publish(10, 10<<10)
	}
	inproctest.WaitFor(t, 30*time.Second, func() bool {
		return metrics(t, addr)[`eventstreams_disconnects_total{reason="too_slow"}`] == stalled
	})
	m := metrics(t, addr)
	if gone := m[`eventstreams_disconnects_total{reason="client_gone"}`]; gone != 0 {
		t.Errorf("%v stalled clients counted as gone", gone)
	}
	select {
	case n := <-got:
		if n != 405 {
			t.Errorf("the reading client got %d events in order, want 405", n)
		}
	case <-time.After(30 * time.Second):
		t.Error("the reading client did not get every event")
	}
}

// TestHostileSilentConnections: connections that send nothing, half a
// request head and then nothing, or a head that trickles in a byte a
// second, are closed by serve within its bounds (they were held forever),
// so they cannot pin its descriptors.
func TestHostileSilentConnections(t *testing.T) {
	t.Parallel() // it waits for serve's own timeouts
	addr, _ := hostileServe(t)
	// A new connection's first byte within 10 s, a whole request within
	// 10 s of its first byte (README, "Bounds a client meets").
	const bound, margin = 20 * time.Second, 10 * time.Second
	before := metrics(t, addr)["process_open_fds"]
	type result struct {
		what string
		took time.Duration
		err  error
	}
	results := make(chan result, 60)
	ctx, cancel := context.WithTimeout(context.Background(), bound+margin)
	defer cancel()
	for i := range 60 {
		what, prefix, trickle := "silent", "", false
		switch i % 3 {
		case 1:
			what, prefix = "half a head", "GET /v2/stream/recentchange HTTP/1.1\r\nHo"
		case 2:
			what, prefix, trickle = "trickling", "GET /v2/streams HTTP/1.1\r\nX-A: ", true
		}
		go func() {
			took, err := silentFor(ctx, addr, prefix, trickle, bound+margin)
			results <- result{what, took, err}
		}()
	}
	inproctest.WaitFor(t, 10*time.Second, func() bool { return metrics(t, addr)["process_open_fds"] >= before+50 }) // all but a few accepted
	if resps := exchange(t, addr, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 1); len(resps) != 1 || resps[0].StatusCode != 200 {
		t.Error("serve does not answer while silent connections are open")
	}
	for range 60 {
		r := <-results
		if r.err != nil || r.took > bound+margin/2 {
			t.Errorf("%s connection: closed after %v (%v), want within %v", r.what, r.took, r.err, bound)
		}
	}
	inproctest.WaitFor(t, 10*time.Second, func() bool { return metrics(t, addr)["process_open_fds"] <= before+5 })
}

// metrics scrapes serve's /metrics: each sample by its name, and by name
// and labels as written ({reason="too_slow"}), summed over the rest.
func metrics(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for name, mf := range inproctest.Scrape(t, "http://"+addr+"/metrics") {
		for _, m := range mf.GetMetric() {
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			out[name] += v
			for _, l := range m.GetLabel() {
				out[fmt.Sprintf("%s{%s=%q}", name, l.GetName(), l.GetValue())] += v
			}
		}
	}
	return out
}

// silentFor opens a connection that sends prefix and then nothing, and
// returns how long the server takes to close it (at most limit).
func silentFor(ctx context.Context, addr, prefix string, trickle bool, limit time.Duration) (time.Duration, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	began := time.Now()
	if prefix != "" {
		if _, err := io.WriteString(conn, prefix); err != nil {
			return 0, err
		}
	}
	closed := make(chan struct{})
	go func() {
		_ = conn.SetReadDeadline(began.Add(limit))
		_, _ = io.Copy(io.Discard, conn)
		close(closed)
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-closed:
			return time.Since(began), nil
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-tick.C:
			if trickle {
				_, _ = io.WriteString(conn, "X") // a header that never ends, a byte a second
			}
		}
	}
}
