package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	"github.com/wikimedia-eventstreams-go/eventstreams/serve/hub"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/catalog"
)

// fuzzServer is one serve instance on loopback, over NATS with 10 events
// stored, for all the inputs of a fuzz run (newWorld needs a *testing.T).
type fuzzServer struct {
	addr string
	hub  *hub.Hub
}

func startFuzzServer(tb testing.TB) *fuzzServer {
	tb.Helper()
	ns, js := inproctest.NATS(tb, true)
	for i := range 10 {
		inproctest.Publish(tb, js, inproctest.Event{Stream: []string{"mediawiki_recentchange", "mediawiki_page-create"}[i%2],
			Wiki: []string{"enwiki", "dewiki"}[(i/2)%2], Data: fmt.Appendf(nil, `{"n":%d}`, i), Time: 1e12 + int64(i)})
	}
	full, _ := catalog.Builtin(nil)
	cat, _ := full.Narrow([]string{"mediawiki.recentchange", "mediawiki.page-create"})

	_, hjs := inproctest.Connect(tb, ns.ClientURL())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// Many catch-ups at once, not waited for: a fuzzer opens streams
	// faster than a closed one is noticed (at its next heartbeat).
	h, err := hub.New(hjs, hub.Options{Layout: lay, Catalog: cat, RingSize: 1024, MaxCatchUps: 5000,
		CatchUpWait: time.Second, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.Run(ctx) }()
	srv, err := New(Options{Layout: lay, Catalog: cat, Heartbeat: 100 * time.Millisecond, Retry: 2 * time.Second,
		WriteTimeout: time.Second, MaxDuration: 2 * time.Second, MaxClients: 50_000, Version: "fuzz"}, h, log, prometheus.NewRegistry())
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	app := srv.App()
	go app.Listener(ln)
	tb.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = srv.Stop(sctx)
		_ = app.ShutdownWithContext(sctx)
		cancel()
		<-done
	})
	inproctest.WaitFor(tb, 10*time.Second, h.Ready)
	return &fuzzServer{addr: ln.Addr().String(), hub: h}
}

// escapeTarget percent-encodes the bytes that would end a request target
// (spaces and control bytes); everything else, invalid UTF-8 included, is
// sent as it is.
func escapeTarget(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// headerValue drops the bytes that would end a header line.
func headerValue(s string) string { return strings.NewReplacer("\r", "", "\n", "").Replace(s) }

// get sends one GET on a fresh connection and returns the status, the
// headers and at most limit+1 bytes of the body; a 200 stream (chunked)
// is closed after its headers.
func (s *fuzzServer) get(target string, header [][2]string, limit int) (*http.Response, []byte, error) {
	conn, err := net.DialTimeout("tcp", s.addr, 2*time.Second)
	if err != nil {
		return nil, nil, err
	}
	// Reset rather than close: a fuzzer's thousands of connections a
	// second would otherwise use up the ephemeral ports in TIME_WAIT.
	_ = conn.(*net.TCPConn).SetLinger(0)
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var req bytes.Buffer
	req.WriteString("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n")
	for _, h := range header {
		req.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	req.WriteString("Connection: close\r\n\r\n")
	if _, err := conn.Write(req.Bytes()); err != nil {
		return nil, nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: http.MethodGet})
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode == http.StatusOK && resp.ContentLength < 0 {
		return resp, nil, nil // an endless stream: not drained by closing its Body
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	return resp, body, err
}

// loadTitles are the 503s a server gives for its load, whatever the request.
var loadTitles = []string{"Too Many Clients", "Too Many Clients Catching Up"}

// maxErrorBody is the bound errors.go documents for any error body.
const maxErrorBody = 2 << 10

// FuzzStreamRequest sends each input as a stream request, raw over TCP
// (path, query, Last-Event-ID and Accept; "EPOCH" in Last-Event-ID is the
// server's epoch), and checks the answer: never 5xx for the input (503 only
// for load), and every error EventStreams' JSON body with exactly its six
// members, status equal to the HTTP status, at most 2 KiB. Run it with
//
//	go test ./serve/api -run '^$' -fuzz '^FuzzStreamRequest$' -fuzztime 60s
func FuzzStreamRequest(f *testing.F) {
	const rc = "recentchange"
	garbage := strings.Repeat("\xa7garbage\x00,", 8<<10/10)
	seeds := [][4]string{
		{rc, "", "", ""},
		{rc + ",page-create", "", "", "application/json"},
		{"mediawiki.recentchange", "since=2001-09-09T01:46:40Z&wiki=enwiki", "", "text/event-stream"},
		{rc, "since=0000-01-01T00:00:00Z", "", ""},
		{rc, "since=-1", "", ""},
		{rc, "since=99999999999999999999", "", ""},
		{rc, "since=9999-12-31T23:59:59Z", "", ""},
		{rc, "since=9999999999999999", "", ""},
		{rc, "since=0", "", ""},
		{rc, "since=", "", ""},
		{rc, "since=%20", "", ""},
		{rc, "since=Mon,%2031%20Dec%209999%2023:59:59%20-2359", "", ""},
		{rc, "since=1%00", "", ""},
		{rc, "", `[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":9223372036854775807}]`, ""},
		{rc, "", `[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":0}]`, ""},
		{rc, "", `[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":1000000000005},{"topic":"codfw.mediawiki.recentchange","partition":0,"offset":-1}]`, ""},
		{rc, "", `[{"topic":"eqiad.mediawiki.page-create","partition":0,"timestamp":1}]`, ""},
		{rc, "", `"eqiad.mediawiki.recentchange,codfw.mediawiki.recentchange"`, ""},
		{rc, "", `[{"epoch":"ZZZZZZZZZZZZ","seq":47305,"timestamp":9223372036854775807}]`, ""},
		{rc, "", `[{"seq":18446744073709551615,"timestamp":0,"epoch":"x"}]`, ""},
		{rc, "", `[{"seq":18446744073709551615,"timestamp":0,"epoch":"EPOCH"}]`, ""},
		{rc, "", `[{"seq":3,"timestamp":1000000000003,"epoch":"EPOCH"}]`, ""},
		{rc, "", `[{"seq":10,"timestamp":1000000000010,"epoch":"EPOCH"}]`, ""},
		{rc, "", `[{"seq":1,"timestamp":9223372036854775807,"epoch":"EPOCH"}]`, ""},
		{rc, "", " ", ""},
		{rc, "", "\t", ""},
		{rc, "", garbage, ""},
		{rc, "", "[{\"seq\":1,\"timestamp\":0,\"epoch\":\"\xff\"}]", ""},
		{rc, "", "\x00", ""},
		{rc, "seq=0", "", ""},
		{rc, "seq=+1", "", ""},
		{rc, "seq=%201", "", ""},
		{rc, "seq= 1", "", ""},
		{rc, "seq=1", "", ""},
		{rc, "seq=11", "", ""},
		{rc, "seq=18446744073709551615", "", ""},
		{rc, "seq=18446744073709551616", "", ""},
		{rc, "seq=1&since=0", "", ""},
		{rc, "seq=1&seq=2", "", ""},
		{"", "", "", ""},
		{",", "", "", ""},
		{rc + ",", "", "", ""},
		{strings.Repeat("a,", 5000) + "a", "", "", ""},
		{strings.Repeat(rc+",", 32) + rc, "", "", ""},
		{strings.TrimSuffix(strings.Repeat("x,", 32), ","), "", "", ""},
		{rc + "%2Cpage-create", "", "", ""},
		{rc + "%2cpage-create", "", "", ""},
		{rc + "%2F..%2F..%2Fstreams", "", "", ""},
		{rc + "/page-create", "", "", ""},
		{"..%2F_info", "", "", ""},
		{"%", "", "", ""},
		{"%zz", "", "", ""},
		{rc + "%00", "", "", ""},
		{"\xff\xfe", "", "", ""},
		{"<script>", "", "", ""},
		{garbage, "", "", ""},
		{rc, "wiki=en.wiki", "", ""},
		{rc, "wiki=en%20wiki", "", ""},
		{rc, "wiki=en>", "", ""},
		{rc, "wiki=*", "", ""},
		{rc, "wiki=" + strings.TrimSuffix(strings.Repeat("w,", 1000), ","), "", ""},
		{rc, "type=edit,new&namespace=0,4&bot=false&domain=en.wikipedia.org", "", ""},
		{rc, "domain=en.wikipedia.org.&type=a*b&namespace=0x10&bot=TRUE", "", ""},
		{rc, "type=" + strings.Repeat("t", 100), "", ""},
		{rc, "foo=1&bar=2&baz&qux=&quux=5&corge=6", "", ""},
		{rc, "<script>=1", "", ""},
		{rc, strings.Repeat("%3C", 1000), "", ""},
		{rc, garbage, "", ""},
		{rc, "\xff=\xfe", "", ""},
		{rc, "", "", "application/json\x00"},
		{rc, "", "", garbage},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2], s[3])
	}
	s := startFuzzServer(f)
	f.Fuzz(func(t *testing.T, streams, query, lastEventID, accept string) {
		target := "/v2/stream/" + escapeTarget(streams)
		if query != "" {
			target += "?" + escapeTarget(query)
		}
		var header [][2]string
		if lastEventID != "" {
			header = append(header, [2]string{"Last-Event-ID", headerValue(strings.ReplaceAll(lastEventID, "EPOCH", s.hub.Epoch()))})
		}
		if accept != "" {
			header = append(header, [2]string{"Accept", headerValue(accept)})
		}
		resp, body, err := s.get(target, header, maxErrorBody)
		if err != nil {
			t.Fatalf("GET %q %q: %v", target, header, err)
		}
		checkAnswer(t, target, header, resp, body)
	})
}

func checkAnswer(t *testing.T, target string, header [][2]string, resp *http.Response, body []byte) {
	t.Helper()
	ctype := resp.Header.Get("Content-Type")
	switch {
	case resp.StatusCode == http.StatusOK && body == nil:
		if !slices.Contains([]string{"text/event-stream", "text/event-stream; charset=utf-8", "application/json; charset=utf-8"}, ctype) {
			t.Fatalf("GET %q %q: a stream of Content-Type %q", target, header, ctype)
		}
		return
	case resp.StatusCode == http.StatusOK:
		return // another route, reached by a path with dot segments
	case resp.StatusCode == http.StatusMovedPermanently || resp.StatusCode == http.StatusSeeOther:
		return // a redirect of another route (/, /rc)
	}
	if len(body) > maxErrorBody {
		t.Fatalf("GET %q %q: %d with a body of more than %d bytes: %.300q…", target, header, resp.StatusCode, maxErrorBody, body)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil || !strings.HasPrefix(ctype, "application/json") {
		t.Fatalf("GET %q %q: %d %q, body %q is not JSON: %v", target, header, resp.StatusCode, ctype, body, err)
	}
	keys := make([]string, 0, len(members))
	for k := range members {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"detail", "method", "status", "title", "type", "uri"}) {
		t.Fatalf("GET %q %q: %d body %s has the members %q", target, header, resp.StatusCode, body, keys)
	}
	var e errorBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Status != resp.StatusCode || e.Type == "" || e.Title == "" || e.Method != http.MethodGet {
		t.Fatalf("GET %q %q: %d body %s: %v", target, header, resp.StatusCode, body, err)
	}
	if resp.StatusCode >= 500 && !(resp.StatusCode == http.StatusServiceUnavailable && slices.Contains(loadTitles, e.Title)) {
		t.Fatalf("GET %q %q: %d %s", target, header, resp.StatusCode, body)
	}
	request := target
	for _, h := range header {
		request += h[1]
	}
	if dec, err := url.QueryUnescape(request); err == nil {
		request += dec
	}
	for _, internal := range []string{"eqiad.", "codfw.", "eventstreams."} {
		if strings.Contains(string(body), internal) && !strings.Contains(request, internal) {
			t.Fatalf("GET %q %q: the error shows topics or subjects: %s", target, header, body)
		}
	}
}
