package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc"
	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	"github.com/wikimedia-eventstreams-go/eventstreams/serve/hub"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/catalog"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

var lay = layout.Default()

// world is NATS with the EventStreams stream, written to as ingest writes
// it, and any number of serve instances on loopback listeners.
type world struct {
	t   *testing.T
	ns  string
	js  jetstream.JetStream
	cat *catalog.Catalog
	mu  sync.Mutex
	n   int
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ns, js := inproctest.NATS(t, true)
	return worldOn(t, ns.ClientURL(), js)
}

// worldOn is a world on a NATS of the test's own, whose stream exists.
func worldOn(t *testing.T, natsURL string, js jetstream.JetStream) *world {
	full, _ := catalog.Builtin(nil)
	cat, _ := full.Narrow([]string{"mediawiki.recentchange", "mediawiki.page-create"})
	return &world{t: t, ns: natsURL, js: js, cat: cat}
}

// publish stores n events alternating recentchange and page-create and
// wikis enwiki/dewiki; event i has data {"n":i} and Kafka time 1e12+i.
func (w *world) publish(n int) {
	w.t.Helper()
	for range n {
		w.mu.Lock()
		i := w.n
		w.n++
		w.mu.Unlock()
		stream := []string{"mediawiki_recentchange", "mediawiki_page-create"}[i%2]
		wiki := []string{"enwiki", "dewiki"}[(i/2)%2]
		inproctest.Publish(w.t, w.js, inproctest.Event{Stream: stream, Wiki: wiki, Data: []byte(fmt.Sprintf(`{"n":%d}`, i)),
			Time: 1e12 + int64(i)})
	}
}

type instance struct {
	url string
	srv *Server
	hub *hub.Hub
	reg *prometheus.Registry
}

// serve starts one serve instance (its own NATS connection and hub).
func (w *world) serve(mod func(*Options)) *instance {
	w.t.Helper()
	_, js := inproctest.Connect(w.t, w.ns)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := hub.New(js, hub.Options{Layout: lay, Catalog: w.cat, RingSize: 1024, MaxCatchUps: 256, Logger: log})
	if err != nil {
		w.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.Run(ctx) }()
	opts := Options{Layout: lay, Catalog: w.cat, Heartbeat: 15 * time.Second, Retry: 2 * time.Second,
		WriteTimeout: 10 * time.Second, MaxClients: 50_000, Version: "test"}
	if mod != nil {
		mod(&opts)
	}
	reg := prometheus.NewRegistry()
	srv, err := New(opts, h, log, reg)
	if err != nil {
		w.t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		w.t.Fatal(err)
	}
	app := srv.App()
	go app.Listener(ln)
	w.t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = srv.Stop(sctx)
		_ = app.ShutdownWithContext(sctx)
		cancel()
		<-done
	})
	inproctest.WaitFor(w.t, 10*time.Second, h.Ready)
	return &instance{url: "http://" + ln.Addr().String(), srv: srv, hub: h, reg: reg}
}

// client is an SSE reader over net/http.
type client struct {
	resp *http.Response
	r    *bufio.Reader
}

func get(t *testing.T, url string, header map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func open(t *testing.T, url string, header map[string]string) *client {
	t.Helper()
	resp := get(t, url, header)
	if resp.StatusCode != 200 {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return &client{resp: resp, r: bufio.NewReader(resp.Body)}
}

// frame reads one SSE block (up to a blank line), with a deadline.
func (c *client) frame(t *testing.T) string {
	t.Helper()
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		var b strings.Builder
		for {
			line, err := c.r.ReadString('\n')
			b.WriteString(line)
			if err != nil {
				ch <- res{b.String(), err}
				return
			}
			if line == "\n" {
				ch <- res{b.String(), nil}
				return
			}
		}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("reading a frame: %v (got %q)", r.err, r.s)
		}
		return r.s
	case <-time.After(10 * time.Second):
		t.Fatal("no frame within 10s")
		return ""
	}
}

// event reads frames until a message event, returning its id and data.
func (c *client) event(t *testing.T) (id, data string) {
	t.Helper()
	for {
		f := c.frame(t)
		if !strings.HasPrefix(f, "event: message\n") {
			continue
		}
		for _, line := range strings.Split(f, "\n") {
			if v, ok := strings.CutPrefix(line, "id: "); ok {
				id = v
			}
			if v, ok := strings.CutPrefix(line, "data: "); ok {
				data = v
			}
		}
		return id, data
	}
}

// endsWithError reads until EventStreams' error event, with no message
// event before it, and then expects the stream to end cleanly.
func (c *client) endsWithError(t *testing.T) {
	t.Helper()
	for {
		f := c.frame(t)
		if strings.HasPrefix(f, "event: error\ndata: {") {
			break
		}
		if strings.HasPrefix(f, "event: message") {
			t.Fatalf("an event came where the error event was expected: %q", f)
		}
	}
	if _, err := io.ReadAll(c.r); err != nil {
		t.Fatalf("the stream did not end cleanly after the error event: %v", err)
	}
}

func n(t *testing.T, data string) int {
	var v struct{ N int }
	if err := json.Unmarshal([]byte(data), &v); err != nil {
		t.Fatalf("data %q: %v", data, err)
	}
	return v.N
}

func TestGoldenSSE(t *testing.T) {
	w := newWorld(t)
	a := w.serve(nil)
	c := open(t, a.url+"/v2/stream/recentchange,page-create", map[string]string{"Accept": "text/event-stream"})
	h := c.resp.Header
	for k, want := range map[string]string{
		"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache",
		"Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "SAMEORIGIN",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if !strings.Contains(h.Get("Access-Control-Allow-Headers"), "last-event-id") {
		t.Errorf("CORS allow-headers lacks last-event-id: %q", h.Get("Access-Control-Allow-Headers"))
	}
	if got := c.frame(t); got != ":ok\n\n" {
		t.Fatalf("first bytes %q", got)
	}
	if got := c.frame(t); got != "retry: 2000\n\n" {
		t.Fatalf("retry block %q", got)
	}
	w.publish(3)
	epoch := a.hub.Epoch()
	for i := range 3 {
		want := fmt.Sprintf("event: message\nid: [{\"seq\":%d,\"timestamp\":%d,\"epoch\":%q}]\ndata: {\"n\":%d}\n\n", i+1, 1e12+int64(i)+1, epoch, i)
		if got := c.frame(t); got != want {
			t.Fatalf("frame %d\n got %q\nwant %q", i, got, want)
		}
	}
}

func TestNDJSON(t *testing.T) {
	w := newWorld(t)
	a := w.serve(nil)
	resp := get(t, a.url+"/v2/stream/recentchange", map[string]string{"Accept": "application/json"})
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("content type %q", ct)
	}
	r := bufio.NewReader(resp.Body)
	first, _ := r.ReadString('\n')
	if first != "\n" {
		t.Fatalf("first line %q, want a blank line", first)
	}
	w.publish(4)
	for _, want := range []string{`{"n":0}` + "\n", `{"n":2}` + "\n"} {
		line, err := r.ReadString('\n')
		if err != nil || line != want {
			t.Fatalf("line %q, %v; want %q", line, err, want)
		}
	}
}

// TestResumeOnAnotherInstance reads K events from one serve instance, then
// resumes with the last id on a second one: the next event is K+1.
func TestResumeOnAnotherInstance(t *testing.T) {
	w := newWorld(t)
	a, b := w.serve(nil), w.serve(nil)
	for _, tc := range []struct {
		name, path string
		step       int // events of the request are every step-th
	}{{"one stream", "/v2/stream/recentchange", 2}, {"two streams", "/v2/stream/recentchange,page-create", 1}} {
		t.Run(tc.name, func(t *testing.T) {
			c := open(t, a.url+tc.path, nil)
			base := w.n
			w.publish(40)
			var lastID string
			first := -1
			for k := 0; k < 10; k++ {
				id, data := c.event(t)
				got := n(t, data)
				if first < 0 {
					first = got
				}
				if want := first + k*tc.step; got != want {
					t.Fatalf("event %d is %d, want %d", k, got, want)
				}
				lastID = id
			}
			c.resp.Body.Close()
			c2 := open(t, b.url+tc.path, map[string]string{"Last-Event-ID": lastID})
			_, data := c2.event(t)
			if got, want := n(t, data), first+10*tc.step; got != want {
				t.Fatalf("after resuming on the other instance: event %d, want %d", got, want)
			}
			_ = base
		})
	}
}

func TestStartPositions(t *testing.T) {
	w := newWorld(t)
	w.publish(100)
	a := w.serve(nil)
	tests := []struct {
		name   string
		query  string
		header map[string]string
		want   int // first event n
	}{
		{"seq", "?seq=11", nil, 10},
		{"since ms", "?since=1000000000050", nil, 50},
		{"since ISO", "?since=2001-09-09T01:46:40.060Z", nil, 60},
		{"since ISO with an offset", "?since=2001-09-09T03:46:40.040%2B02:00", nil, 40},
		{"since date only (UTC)", "?since=2001-09-09", nil, 0},
		{"since RFC 1123", "?since=Sun,%2009%20Sep%202001%2001:46:40%20GMT", nil, 0},
		{"since in year 0: from the first event", "?since=0000-01-01T00:00:00Z", nil, 0},
		{"since 1970", "?since=0", nil, 0},
		{"seq wins over since", "?seq=21&since=1000000000050", nil, 20},
		{"Last-Event-ID wins over seq and since", "?seq=5&since=1000000000050", map[string]string{"Last-Event-ID": `[{"seq":30,"timestamp":1,"epoch":"EPOCH"}]`}, 30},
		{"id of another epoch resumes by time", "", map[string]string{"Last-Event-ID": `[{"seq":1,"timestamp":1000000000071,"epoch":"other"}]`}, 70},
		{"EventStreams id", "", map[string]string{"Last-Event-ID": `[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":1000000000081},{"topic":"codfw.mediawiki.recentchange","partition":0,"offset":-1}]`}, 80},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			for k, v := range tt.header {
				h[k] = strings.ReplaceAll(v, "EPOCH", a.hub.Epoch())
			}
			c := open(t, a.url+"/v2/stream/recentchange,page-create"+tt.query, h)
			_, data := c.event(t)
			if got := n(t, data); got != tt.want {
				t.Fatalf("first event %d, want %d", got, tt.want)
			}
		})
	}
}

// TestTimesOutOfRange: a since or a Last-Event-ID timestamp beyond what
// JetStream's start times can hold is a valid request, answered with a
// stream that has no event at or after that time yet (it was a 503).
func TestTimesOutOfRange(t *testing.T) {
	w := newWorld(t)
	w.publish(4)
	a := w.serve(nil)
	for _, tc := range []struct{ query, lastEventID string }{
		{"?since=9999-12-31T23:59:59Z", ""},
		{"?since=9999999999999999", ""},
		{"", `[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":9223372036854775807}]`},
		{"", `[{"epoch":"ZZZZZZZZZZZZ","seq":47305,"timestamp":9223372036854775807}]`},
	} {
		h := map[string]string{}
		if tc.lastEventID != "" {
			h["Last-Event-ID"] = tc.lastEventID
		}
		c := open(t, a.url+"/v2/stream/recentchange"+tc.query, h) // fails the test unless 200
		if f := c.frame(t); f != ":ok\n\n" {
			t.Errorf("%s %s: first frame %q", tc.query, tc.lastEventID, f)
		}
		c.resp.Body.Close()
	}
}

func TestErrors(t *testing.T) {
	w := newWorld(t)
	w.publish(5)
	a := w.serve(nil)
	limited := w.serve(func(o *Options) { o.ClientIPLimit = 1; o.TrustClientIPHeader = true })
	tests := []struct {
		name   string
		base   *instance
		path   string
		header map[string]string
		status int
		typ    string
		detail string
	}{
		{"unknown stream", a, "/v2/stream/recentchange,nope", nil, 400, "not_found", "Invalid streams: nope"},
		{"empty stream name", a, "/v2/stream/recentchange,", nil, 400, "not_found", "Invalid streams: (empty name)"},
		{"too many streams", a, "/v2/stream/" + strings.Repeat("recentchange,", 40) + "recentchange", nil, 400, "bad_request", "At most 32 streams"},
		{"bad since", a, "/v2/stream/recentchange?since=yesterday", nil, 400, "invalid_timestamp", "since timestamp is not a UTC milliseconds unix epoch and was not parseable: 'yesterday'"},
		{"bad Last-Event-ID", a, "/v2/stream/recentchange", map[string]string{"Last-Event-ID": `{nope`}, 400, "invalid_last_event_id", ""},
		{"Last-Event-ID beyond the end", a, "/v2/stream/recentchange", map[string]string{"Last-Event-ID": `[{"seq":9999999,"timestamp":1,"epoch":"EPOCH"}]`}, 400, "invalid_last_event_id", "beyond the end of the stream by more than 1048576"},
		{"bad seq", a, "/v2/stream/recentchange?seq=abc", nil, 400, "invalid_seq", ""},
		{"seq beyond the end", a, "/v2/stream/recentchange?seq=9999999", nil, 400, "invalid_seq", "beyond the end of the stream by more than 1048576"},
		{"unknown parameter", a, "/v2/stream/recentchange?foo=1", nil, 400, "bad_request", "Unknown query parameters: foo"},
		{"bad wiki", a, "/v2/stream/recentchange?wiki=en.wiki", nil, 400, "bad_request", "is not a wiki id"},
		{"unknown route", a, "/v3/nothing", nil, 404, "not_found", "No route for GET /v3/nothing"},
		{"no stream", a, "/v2/stream", nil, 400, "bad_request", "Name at least one stream"},
		{"no stream, with a slash", a, "/v2/stream/", nil, 400, "bad_request", "Name at least one stream"},
		{"headers too large", a, "/v2/stream/recentchange", map[string]string{"X-Pad": strings.Repeat("x", 9<<10)}, 431, "request_header_fields_too_large", ""},
		{"no client IP", limited, "/v2/stream/recentchange", nil, 400, "bad_request", "X-Client-IP is a required request header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			for k, v := range tt.header {
				h[k] = strings.ReplaceAll(v, "EPOCH", tt.base.hub.Epoch())
			}
			resp := get(t, tt.base.url+tt.path, h)
			var body errorBody
			raw, _ := io.ReadAll(resp.Body)
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatalf("body %q is not the JSON error shape: %v", raw, err)
			}
			if resp.StatusCode != tt.status || body.Status != tt.status || body.Type != tt.typ || !strings.Contains(body.Detail, tt.detail) ||
				body.Method != "GET" || body.URI == "" || body.Title == "" {
				t.Errorf("%d %s", resp.StatusCode, raw)
			}
			if strings.Contains(string(raw), "eqiad.") || strings.Contains(string(raw), "eventstreams.") {
				t.Errorf("error leaks topics or subjects: %s", raw)
			}
		})
	}
	t.Run("CORS preflight", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodOptions, a.url+"/v2/stream/recentchange", nil)
		req.Header.Set("Origin", "https://example.org")
		req.Header.Set("Access-Control-Request-Method", "GET")
		req.Header.Set("Access-Control-Request-Headers", "last-event-id")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode != 204 || h.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "last-event-id") || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "GET") {
			t.Errorf("preflight: %d %v", resp.StatusCode, h)
		}
	})
	t.Run("process limit", func(t *testing.T) {
		full := w.serve(func(o *Options) { o.MaxClients = 1 })
		open(t, full.url+"/v2/stream/recentchange", nil)
		resp := get(t, full.url+"/v2/stream/recentchange", nil)
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 503 || !strings.Contains(string(raw), `"title":"Too Many Clients"`) {
			t.Errorf("%d %s", resp.StatusCode, raw)
		}
	})
	t.Run("per-IP limit", func(t *testing.T) {
		open(t, limited.url+"/v2/stream/recentchange", map[string]string{"X-Client-IP": "192.0.2.1"})
		resp := get(t, limited.url+"/v2/stream/recentchange", map[string]string{"X-Client-IP": "192.0.2.1"})
		raw, _ := io.ReadAll(resp.Body)
		want := `{"status":429,"type":"too_many_requests","title":"Too Many Concurrent Connections From Your Client IP","detail":"Your HTTP client is likely opening too many concurrent connections.","method":"GET","uri":"/v2/stream/recentchange"}`
		if resp.StatusCode != 429 || string(raw) != want {
			t.Errorf("%d %s", resp.StatusCode, raw)
		}
		open(t, limited.url+"/v2/stream/recentchange", map[string]string{"X-Client-IP": "192.0.2.2"})
	})
}

func TestHeartbeatMaxDurationAndStop(t *testing.T) {
	w := newWorld(t)
	a := w.serve(func(o *Options) { o.Heartbeat = 200 * time.Millisecond; o.MaxDuration = 1500 * time.Millisecond })
	c := open(t, a.url+"/v2/stream/recentchange", nil)
	c.frame(t) // :ok
	c.frame(t) // retry
	// Heartbeats come when nothing was written for the heartbeat interval,
	// not sooner (the bound is halved: the client sees writes a little
	// after they happen; how much later they come depends on the load).
	last := time.Now()
	for range 2 {
		if got := c.frame(t); got != ":\n\n" {
			t.Fatalf("heartbeat %q", got)
		}
		if since := time.Since(last); since < 100*time.Millisecond {
			t.Fatalf("a heartbeat came %v after the previous write, well before the 200ms interval", since)
		}
		last = time.Now()
	}
	w.publish(2)
	id, _ := c.event(t)
	// The maximum duration ends the stream cleanly: EOF after the last chunk.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c.r.ReadString('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("stream ended with %v, want a clean end", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the stream did not end at its maximum duration")
		}
	}
	// The client resumes with its id and loses nothing.
	w.publish(2)
	c2 := open(t, a.url+"/v2/stream/recentchange", map[string]string{"Last-Event-ID": id})
	if _, data := c2.event(t); n(t, data) != 2 {
		t.Fatalf("resumed at %s, want event 2", data)
	}
	// Stop ends open streams cleanly and refuses new ones.
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stopped <- a.srv.Stop(ctx)
	}()
	if err := <-stopped; err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := io.ReadAll(c2.r); err != nil {
		t.Fatalf("stream ended with %v at shutdown, want a clean end", err)
	}
	resp := get(t, a.url+"/v2/stream/recentchange", nil)
	if resp.StatusCode != 503 {
		t.Errorf("a stream request during shutdown got %d, want 503", resp.StatusCode)
	}
}

func TestOtherRoutes(t *testing.T) {
	w := newWorld(t)
	a := w.serve(nil)
	tests := []struct {
		path, contains string
		status         int
	}{
		{"/v2/streams", `"name":"mediawiki.recentchange","aliases":["recentchange"]`, 200},
		{"/healthz", `"ok"`, 200},
		{"/readyz", `"ready"`, 200},
		{"/_info", `"name":"eventstreams"`, 200},
		{"/_info/version", `"version":"test"`, 200},
		{"/robots.txt", "User-agent: *\nDisallow: /\n", 200},
		{"/metrics", "eventstreams_reader_open_seconds", 200},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp := get(t, a.url+tt.path, nil)
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(string(raw), tt.contains) {
				t.Errorf("%d %s", resp.StatusCode, raw)
			}
		})
	}
	resp := get(t, a.url+"/?spec", nil)
	var spec struct {
		Paths map[string]struct {
			Get struct {
				Parameters []struct {
					Schema struct {
						Items struct{ Enum []string }
					}
				}
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&spec); err != nil {
		t.Fatal(err)
	}
	enum := spec.Paths["/v2/stream/{streams}"].Get.Parameters[0].Schema.Items.Enum
	if strings.Join(enum, ",") != "mediawiki.page-create,mediawiki.recentchange,page-create,recentchange" {
		t.Errorf("spec stream enum %v", enum)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(a.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/v2/ui" {
		t.Errorf("/ → %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestFeedFailureSendsErrorEvent deletes the stream under an open client:
// it gets EventStreams' error event and the stream ends.
func TestFeedFailureSendsErrorEvent(t *testing.T) {
	w := newWorld(t)
	a := w.serve(nil)
	c := open(t, a.url+"/v2/stream/recentchange", nil)
	w.publish(2)
	c.event(t)
	if err := w.js.DeleteStream(context.Background(), lay.Stream); err != nil {
		t.Fatal(err)
	}
	c.endsWithError(t)
}

// TestFieldFilters: type, namespace, bot and domain select by the event's
// members (recentchange's, or page events' page_namespace and
// performer.user_is_bot), any value of a list, every list given, for a
// client at the head (the ring) and one replaying (its catch-up consumer).
func TestFieldFilters(t *testing.T) {
	w := newWorld(t)
	a := w.serve(nil)
	events := []struct{ stream, json string }{
		{"mediawiki_recentchange", `{"n":0,"type":"edit","namespace":0,"bot":false,"meta":{"domain":"en.wikipedia.org"}}`},
		{"mediawiki_recentchange", `{"n":1,"type":"log","namespace":2,"bot":true,"meta":{"domain":"de.wikipedia.org"}}`},
		{"mediawiki_recentchange", `{"n":2,"type":"new","namespace":0,"bot":true,"meta":{"domain":"en.wikipedia.org"}}`},
		{"mediawiki_page-create", `{"n":3,"page_namespace":0,"performer":{"user_is_bot":false},"meta":{"domain":"en.wikipedia.org"}}`},
		{"mediawiki_recentchange", `{"n":4,"type":"categorize","namespace":14,"bot":false,"meta":{"domain":"commons.wikimedia.org"}}`},
		{"mediawiki_recentchange", `{"n":5,"type":"edit","namespace":"0","meta":{}}`},
	}
	publish := func() {
		for _, e := range events {
			m := &nats.Msg{Subject: lay.Subject(e.stream, "enwiki"), Data: []byte(e.json), Header: nats.Header{layout.HeaderTimestamp: {"1"}}}
			if _, err := w.js.PublishMsg(context.Background(), m); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		query string
		want  []int
	}{
		{"type=edit,new", []int{0, 2, 5}},
		{"namespace=0", []int{0, 2, 3}},
		{"bot=false", []int{0, 3, 4}},
		{"bot=true&namespace=0", []int{2}},
		{"domain=en.wikipedia.org,commons.wikimedia.org&namespace=0,14&bot=false", []int{0, 3, 4}},
		{"type=edit&wiki=enwiki", []int{0, 5}},
	}
	var clients []*client
	for _, tt := range tests {
		clients = append(clients, open(t, a.url+"/v2/stream/recentchange,page-create?"+tt.query, nil))
	}
	publish()
	publish() // the second round only marks where the first ends
	for i, tt := range tests {
		for _, replay := range []bool{false, true} {
			c := clients[i]
			if replay {
				c = open(t, a.url+"/v2/stream/recentchange,page-create?seq=1&"+tt.query, nil)
			}
			for _, want := range tt.want {
				if _, data := c.event(t); n(t, data) != want {
					t.Fatalf("?%s (replay %v): got %s, want n=%d", tt.query, replay, data, want)
				}
			}
			if _, data := c.event(t); n(t, data) != tt.want[0] {
				t.Fatalf("?%s (replay %v): got %s after the first round, want n=%d of the second", tt.query, replay, data, tt.want[0])
			}
		}
	}
	many := make([]string, 65)
	for i := range many {
		many[i] = strconv.Itoa(i)
	}
	for _, q := range []string{"namespace=main", "bot=yes", "type=a.b", "domain=en_wiki", "namespace=" + strings.Join(many, ",")} {
		resp := get(t, a.url+"/v2/stream/recentchange?"+q, nil)
		if resp.StatusCode != 400 {
			t.Errorf("?%s: %d, want 400", q, resp.StatusCode)
			continue
		}
		if raw, _ := io.ReadAll(resp.Body); !strings.Contains(string(raw), `"title":"Invalid Filter"`) {
			t.Errorf("?%s: %s", q, raw)
		}
	}
}

// TestNothingLeftOnNATS: a client that replays from behind the ring (its
// own catch-up consumer) and leaves mid-replay leaves no consumer behind.
func TestNothingLeftOnNATS(t *testing.T) {
	w := newWorld(t)
	pad := strings.Repeat("x", 2<<10)
	for i := range 3000 { // 6 MB, more than socket buffers hold; the test ring holds 1,024 events
		m := &nats.Msg{Subject: lay.Subject("mediawiki_recentchange", "enwiki"), Data: []byte(fmt.Sprintf(`{"n":%d,"pad":%q}`, i, pad)),
			Header: nats.Header{layout.HeaderTimestamp: {"1"}}}
		if _, err := w.js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	a := w.serve(nil)
	consumers := func() int {
		s, err := w.js.Stream(context.Background(), lay.Stream)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Consumers
	}
	c := open(t, a.url+"/v2/stream/recentchange,page-create?seq=1", nil)
	c.event(t)
	if got := consumers(); got != 2 {
		t.Fatalf("%d consumers while a client replays, want 2 (the live feed's and the client's)", got)
	}
	c.resp.Body.Close()
	inproctest.WaitFor(t, 10*time.Second, func() bool { return consumers() == 1 }) // only the live feed's
}

// TestHead: HEAD gets what GET would get, without the endless body, and
// the connection serves the next request.
func TestHead(t *testing.T) {
	w := newWorld(t)
	a := w.serve(nil)
	for _, path := range []string{"/v2/stream/recentchange", "/v2/stream/recentchange"} { // twice: one keep-alive connection
		resp, err := http.Head(a.url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || len(body) != 0 || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" { // no Accept header: as EventStreams, no charset
			t.Fatalf("HEAD %s: %d %v, body %q, %v", path, resp.StatusCode, resp.Header, body, err)
		}
	}
	if resp, _ := http.Head(a.url + "/v2/stream/nope"); resp == nil || resp.StatusCode != 400 {
		t.Errorf("HEAD of an unknown stream: %v, want 400", resp)
	}
}

// TestMultiLineJSON: an event stored with line breaks between its JSON
// tokens reaches an SSE client as several data: lines, which SSE joins back
// with "\n", and an NDJSON client on one line.
func TestMultiLineJSON(t *testing.T) {
	w := newWorld(t)
	a := w.serve(nil)
	sse := open(t, a.url+"/v2/stream/recentchange", nil)
	nd := get(t, a.url+"/v2/stream/recentchange", map[string]string{"Accept": "application/json"})
	ndr := bufio.NewReader(nd.Body)
	if first, _ := ndr.ReadString('\n'); first != "\n" {
		t.Fatalf("first NDJSON line %q", first)
	}
	stored := "{\"n\":0,\r\n  \"s\":\"a\\nb\",\r  \"t\":1\n}\n"
	if _, err := w.js.PublishMsg(context.Background(), &nats.Msg{Subject: lay.Subject("mediawiki_recentchange", "enwiki"),
		Data: []byte(stored), Header: nats.Header{layout.HeaderTimestamp: {"1"}}}); err != nil {
		t.Fatal(err)
	}
	f := sse.frame(t)
	for !strings.HasPrefix(f, "event: message\n") {
		f = sse.frame(t)
	}
	var data []string
	for _, line := range strings.Split(strings.TrimSuffix(f, "\n\n"), "\n") {
		if v, ok := strings.CutPrefix(line, "data: "); ok {
			data = append(data, v)
		} else if !strings.HasPrefix(line, "event: ") && !strings.HasPrefix(line, "id: ") {
			t.Fatalf("frame %q has a line that is no SSE field: %q", f, line)
		}
	}
	if got, want := strings.Join(data, "\n"), "{\"n\":0,\n  \"s\":\"a\\nb\",\n  \"t\":1\n}\n"; got != want {
		t.Errorf("SSE data %q, want %q", got, want)
	}
	if !json.Valid([]byte(strings.Join(data, "\n"))) {
		t.Error("the SSE data is not JSON")
	}
	line, err := ndr.ReadString('\n')
	if !json.Valid([]byte(line)) {
		t.Error("the NDJSON line is not JSON")
	}
	if want := "{\"n\":0,   \"s\":\"a\\nb\",   \"t\":1 } \n"; err != nil || line != want {
		t.Errorf("NDJSON line %q, %v; want %q", line, err, want)
	}
}

// TestNATSRestartEndsStreamsThatResume restarts nats-server (same port,
// same store) under an open client: the client gets the error event and
// its stream ends; reconnecting with its last id while the feed restarts
// is served (not refused), from exactly the next event.
func TestNATSRestartEndsStreamsThatResume(t *testing.T) {
	dir, addr := t.TempDir(), inproctest.FreeAddr(t)
	_, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	startNATS := func() *server.Server {
		ns, err := inproc.StartNATS(inproc.NATSOptions{StoreDir: dir, Port: port})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ns.Shutdown)
		return ns
	}
	ns := startNATS()
	_, js := inproctest.Connect(t, ns.ClientURL())
	inproctest.CreateStream(t, js)
	w := worldOn(t, ns.ClientURL(), js)
	a := w.serve(nil)

	c := open(t, a.url+"/v2/stream/recentchange", nil)
	w.publish(4) // recentchange: n = 0, 2
	c.event(t)
	last, data := c.event(t)
	if n(t, data) != 2 {
		t.Fatalf("second event: %s", data)
	}

	ns.Shutdown()
	ns.WaitForShutdown()
	c.endsWithError(t)

	// Reconnecting while NATS is still down: the request waits for the
	// feed instead of failing.
	reopened := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, a.url+"/v2/stream/recentchange", nil)
		req.Header.Set("Last-Event-ID", last)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
		}
		reopened <- resp
	}()
	time.Sleep(200 * time.Millisecond)
	startNATS()
	resp := <-reopened
	if resp == nil || resp.StatusCode != 200 {
		t.Fatalf("reconnecting while the feed restarted: %v", resp)
	}
	t.Cleanup(func() { resp.Body.Close() })
	c = &client{resp: resp, r: bufio.NewReader(resp.Body)}
	w.publish(4) // recentchange: n = 4, 6
	for _, want := range []int{4, 6} {
		if _, data := c.event(t); n(t, data) != want {
			t.Fatalf("after the restart: got %s, want n=%d", data, want)
		}
	}
}

// TestSlowReaderIsDisconnected opens a stream and never reads it, while
// 40 MB of events flow: the server drops the client (its writes time out or
// it falls out of the ring) instead of buffering for it, and releases
// everything the client held. (What a client can hold is bounded by
// construction: one pooled write buffer of at most 16 KB plus one event;
// the ring is shared. The heap cannot be measured here: the in-process
// nats-server caches the stored events in the same heap.)
func TestSlowReaderIsDisconnected(t *testing.T) {
	w := newWorld(t)
	a := w.serve(func(o *Options) { o.WriteTimeout = 200 * time.Millisecond })

	conn, err := net.Dial("tcp", strings.TrimPrefix(a.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096) // a small receive window fills quickly
	}
	fmt.Fprintf(conn, "GET /v2/stream/recentchange,page-create HTTP/1.1\r\nHost: x\r\n\r\n")
	dropped := func() float64 { // its writes time out, or it falls out of the ring: too slow either way
		return inproctest.Metric(a.reg, "eventstreams_disconnects_total", "reason", "too_slow")
	}
	pad := strings.Repeat("x", 10<<10)
	for i := 0; i < 4000; i++ { // 4,000 events of 10 KB
		m := &nats.Msg{Subject: lay.Subject("mediawiki_recentchange", "enwiki"), Data: []byte(`{"pad":"` + pad + `"}`),
			Header: nats.Header{layout.HeaderTimestamp: {"1"}}}
		if _, err := w.js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	inproctest.WaitFor(t, 30*time.Second, func() bool { return dropped() > 0 }) // a client that does not read is disconnected
	inproctest.WaitFor(t, 10*time.Second, func() bool {                         // and no longer counted as connected
		return inproctest.Metric(a.reg, "eventstreams_connected_clients") == 0
	})
}

// TestStalledClientHoldsLittle: a client that stops reading is dropped
// once serve's socket send buffer (capped at sendBuffer; the kernel would
// otherwise grow it to megabytes) and its own receive window are full, not
// after megabytes of events were queued for it in the kernel.
func TestStalledClientHoldsLittle(t *testing.T) {
	w := newWorld(t)
	a := w.serve(func(o *Options) { o.WriteTimeout = 200 * time.Millisecond })
	conn, err := net.Dial("tcp", strings.TrimPrefix(a.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(conn, "GET /v2/stream/recentchange HTTP/1.1\r\nHost: x\r\n\r\n")
	inproctest.WaitFor(t, 10*time.Second, func() bool { return inproctest.Metric(a.reg, "eventstreams_connected_clients") > 0 })
	pad := strings.Repeat("x", 10<<10)
	published := 0
	for inproctest.Metric(a.reg, "eventstreams_disconnects_total", "reason", "too_slow") == 0 {
		if published == 800 { // 8 MB, within the test ring of 1,024 events
			t.Fatal("a client that does not read was not disconnected")
		}
		m := &nats.Msg{Subject: lay.Subject("mediawiki_recentchange", "enwiki"), Data: []byte(`{"pad":"` + pad + `"}`),
			Header: nats.Header{layout.HeaderTimestamp: {"1"}}}
		if _, err := w.js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		published++
		time.Sleep(2 * time.Millisecond)
	}
	if gone := inproctest.Metric(a.reg, "eventstreams_disconnects_total", "reason", "client_gone"); gone != 0 {
		t.Errorf("a client that stopped reading was counted as gone (%v), not as too slow", gone)
	}
	sent := inproctest.Metric(a.reg, "eventstreams_bytes_sent_total")
	t.Logf("%.0f bytes queued before the client was dropped", sent)
	if sent > 1<<20 {
		t.Errorf("%.0f bytes were queued for a client that never read (at most 1 MiB expected)", sent)
	}
}

// TestPositionAheadIsWaitedFor: an id or seq the stream does not hold yet
// (a client coming from a replica whose stream is ahead) is answered 200,
// and the stream continues exactly after it once it is stored.
func TestPositionAheadIsWaitedFor(t *testing.T) {
	w := newWorld(t)
	w.publish(10) // sequences 1..10 hold events 0..9
	a := w.serve(nil)
	byID := open(t, a.url+"/v2/stream/recentchange,page-create",
		map[string]string{"Last-Event-ID": fmt.Sprintf(`[{"seq":14,"timestamp":1,"epoch":%q}]`, a.hub.Epoch())})
	bySeq := open(t, a.url+"/v2/stream/recentchange,page-create?seq=17", nil)
	w.publish(10)
	if _, data := byID.event(t); n(t, data) != 14 {
		t.Fatalf("after an id ahead (seq 14): event %d, want 14 (seq 15)", n(t, data))
	}
	if _, data := bySeq.event(t); n(t, data) != 16 {
		t.Fatalf("seq 17 ahead: event %d, want 16 (seq 17)", n(t, data))
	}
}
