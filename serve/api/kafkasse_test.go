package api

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestKafkaSSESuite ports the cases of KafkaSSE's and EventStreams' test
// suites that have an HTTP-level meaning here (shared/ARCHITECTURE.md
// "KafkaSSE test suite").
func TestKafkaSSESuite(t *testing.T) {
	w := newWorld(t)
	w.publish(10)
	a := w.serve(nil)
	stream := a.url + "/v2/stream/recentchange,page-create"

	t.Run("1 connect returns 200, chunked", func(t *testing.T) {
		c := open(t, stream, map[string]string{"Accept": "text/event-stream"})
		if len(c.resp.TransferEncoding) != 1 || c.resp.TransferEncoding[0] != "chunked" || c.resp.Header.Get("Connection") != "keep-alive" {
			t.Errorf("transfer encoding %v, connection %q", c.resp.TransferEncoding, c.resp.Header.Get("Connection"))
		}
	})

	// Last-Event-ID shapes KafkaSSE accepts (validateAssignments) → 200;
	// with offsets only, or topics outside the request, there is no time to
	// resume from: new events only, and no topic list is ever echoed.
	for _, tc := range []struct{ name, leid string }{
		{"4 offset 0 of one topic", `[{"topic":"eqiad.mediawiki.recentchange","partition":0,"offset":0}]`},
		{"6 two topics", `[{"topic":"eqiad.mediawiki.recentchange","partition":0,"offset":0},{"topic":"codfw.mediawiki.recentchange","partition":0,"offset":0}]`},
		{"13 unavailable topic", `[{"topic":"_nope_not_a_topic","partition":0,"offset":0}]`},
		{"14 topic of another stream", `[{"topic":"eqiad.mediawiki.page-delete","partition":0,"timestamp":1}]`},
		{"15 offset out of range resets to latest", `[{"topic":"eqiad.mediawiki.recentchange","partition":0,"offset":99999999999}]`},
		{"topic names", `["eqiad.mediawiki.recentchange"]`},
		{"topic list string", `"eqiad.mediawiki.recentchange,codfw.mediawiki.recentchange"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := open(t, stream, map[string]string{"Last-Event-ID": tc.leid})
			w.publish(1)
			_, data := c.event(t)
			if got := n(t, data); got != w.n-1 {
				t.Errorf("first event %d, want the new one, %d", got, w.n-1)
			}
		})
	}

	t.Run("7 timestamps resume by time", func(t *testing.T) {
		c := open(t, stream, map[string]string{"Last-Event-ID": `[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":1000000000004},{"topic":"codfw.mediawiki.recentchange","partition":0,"timestamp":1000000000006}]`})
		if _, data := c.event(t); n(t, data) != 3 {
			t.Errorf("first event %s, want 3 (the earliest timestamp − 1 ms)", data)
		}
	})

	// Shapes KafkaSSE rejects → 400 with the JSON error body.
	for _, leid := range []string{`"""{nope`, `[{"partition":0,"offset":0}]`, `[]`, `{}`, `[1]`, `1234`,
		`[{"topic":1234,"partition":0,"offset":0}]`, `[{"topic":"t","partition":"hi","offset":0}]`,
		`[{"topic":"t","partition":0,"offset":["bad","offset"]}]`, `[{"topic":"t","partition":0}]`, `[{"topic":"t","partition":0,"offset":1.5}]`} {
		t.Run("11-12 rejects "+leid, func(t *testing.T) {
			resp := get(t, stream, map[string]string{"Last-Event-ID": leid})
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 400 || !strings.Contains(string(raw), `"type":"invalid_last_event_id"`) {
				t.Errorf("%d %s", resp.StatusCode, raw)
			}
		})
	}

	t.Run("17 server-side filter", func(t *testing.T) {
		c := open(t, a.url+"/v2/stream/recentchange?wiki=dewiki", nil)
		w.publish(8)
		for range 2 {
			_, data := c.event(t)
			if i := n(t, data); i%2 != 0 || (i/2)%2 != 1 {
				t.Errorf("event %d is not a dewiki recentchange", i)
			}
		}
	})

	t.Run("ES app: security headers and CSP", func(t *testing.T) {
		resp := get(t, a.url+"/v2/streams", nil)
		want := "default-src 'self'; object-src 'none'; media-src *; img-src * data:; style-src *; frame-ancestors 'self'"
		for _, h := range []string{"Content-Security-Policy", "X-Content-Security-Policy", "X-WebKit-CSP"} {
			if resp.Header.Get(h) != want {
				t.Errorf("%s = %q", h, resp.Header.Get(h))
			}
		}
		if resp.Header.Get("X-XSS-Protection") != "1; mode=block" || resp.Header.Get("Access-Control-Expose-Headers") != "etag" {
			t.Errorf("headers %v", resp.Header)
		}
	})

	t.Run("ES info: /_info/home redirects", func(t *testing.T) {
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Get(a.url + "/_info/home")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 301 {
			t.Errorf("/_info/home → %d", resp.StatusCode)
		}
	})
}
