package api

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
)

// rawStream opens a stream on a connection of its own, with no goroutine
// reading it, and returns it with its response (head read).
func rawStream(t *testing.T, a *instance, path string, readBuffer int) (*net.TCPConn, *client) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(a.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	tc := conn.(*net.TCPConn)
	if readBuffer > 0 {
		_ = tc.SetReadBuffer(readBuffer)
	}
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	return tc, &client{resp: resp, r: bufio.NewReader(resp.Body)}
}

// loops is how many goroutines run a stream loop (Server.loop).
func loops() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "api.(*Server).loop(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// TestIdleStreamsHoldNoGoroutine: a stream waiting for events is held by
// one of the writers, not by a goroutine of its own, and still gets every
// event, in order.
func TestIdleStreamsHoldNoGoroutine(t *testing.T) {
	w := newWorld(t)
	a := w.serve(nil)
	const clients = 40
	base := runtime.NumGoroutine()
	var cs []*client
	for range clients {
		_, c := rawStream(t, a, "/v2/stream/recentchange,page-create", 0)
		cs = append(cs, c)
	}
	// No stream loop runs, and fasthttp's goroutines of the connections
	// have ended (the writers are a few).
	parked := func() bool { return loops() == 0 && runtime.NumGoroutine() < base+clients/4 }
	inproctest.WaitFor(t, 10*time.Second, parked)
	w.publish(5)
	for i, c := range cs {
		for want := range 5 {
			if _, data := c.event(t); n(t, data) != want {
				t.Fatalf("client %d: event %d, want %d", i, n(t, data), want)
			}
		}
	}
	inproctest.WaitFor(t, 10*time.Second, parked)
	// A writer counts what it sent at the end of its sweep, which may come
	// after its clients have read.
	sent := func() float64 { return inproctest.Metric(a.reg, "eventstreams_events_sent_total") }
	inproctest.WaitFor(t, 10*time.Second, func() bool { return sent() >= 5*clients })
	if got := sent(); got != 5*clients {
		t.Errorf("events_sent_total = %v, want %d", got, 5*clients)
	}
}

// TestStreamThroughAFullSocket: a client that stops reading while events
// flow fills its socket (a writer's write is then incomplete, and the
// stream finishes it on a goroutine of its own); when it reads again it
// gets every event once, in order, and the stream is parked again. (The
// client keeps its default receive buffer: with a tiny one, loopback TCP
// crawls, whatever the server does.)
func TestStreamThroughAFullSocket(t *testing.T) {
	w := newWorld(t)
	a := w.serve(nil)
	_, c := rawStream(t, a, "/v2/stream/recentchange", 0)
	inproctest.WaitFor(t, 10*time.Second, func() bool { return loops() == 0 }) // parked
	pad := strings.Repeat("x", 10<<10)
	const events = 200 // 2 MB: far more than the socket buffers hold; within the ring (1,024)
	for i := range events {
		inproctest.Publish(t, w.js, inproctest.Event{Stream: "mediawiki_recentchange", Wiki: "enwiki",
			Data: []byte(fmt.Sprintf(`{"n":%d,"pad":%q}`, i, pad)), Time: 1})
	}
	inproctest.WaitFor(t, 10*time.Second, func() bool { return loops() == 1 }) // writing on its own goroutine
	for want := range events {
		if _, data := c.event(t); n(t, data) != want {
			t.Fatalf("event %d, want %d", n(t, data), want)
		}
	}
	inproctest.WaitFor(t, 10*time.Second, func() bool {
		return inproctest.Metric(a.reg, "eventstreams_events_sent_total") == events
	})
	inproctest.WaitFor(t, 10*time.Second, func() bool { return loops() == 0 }) // parked again
	if d := inproctest.Metric(a.reg, "eventstreams_disconnects_total"); d != 0 {
		t.Errorf("%v disconnects, want none", d)
	}
}
