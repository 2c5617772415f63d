package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// pieces returns at most n bytes per Read, n random in [1, max].
type pieces struct {
	b   []byte
	rng *rand.Rand
	max int
}

func (p *pieces) Read(out []byte) (int, error) {
	if len(p.b) == 0 {
		return 0, io.EOF
	}
	n := min(len(out), len(p.b), 1+p.rng.IntN(p.max))
	copy(out, p.b[:n])
	p.b = p.b[n:]
	return n, nil
}

// chunk encodes body as chunks of random sizes, then the last chunk.
func chunk(body string, rng *rand.Rand) string {
	var b strings.Builder
	for len(body) > 0 {
		n := min(len(body), 1+rng.IntN(3000))
		fmt.Fprintf(&b, "%x\r\n%s\r\n", n, body[:n])
		body = body[n:]
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}

func TestRespReaderChunked(t *testing.T) {
	var body strings.Builder
	body.WriteString(":ok\n\nretry: 2000\n\n")
	var want []string
	for n := int64(1); n <= 300; n++ {
		data, _ := buildEvent(n, time.Unix(0, 1_700_000_000_000_000_000+n))
		if n%50 == 0 { // some long lines, beyond the initial buffer
			data = append(data[:len(data)-1], `,"pad":"`+strings.Repeat("x", 9000)+`"}`...)
		}
		id := eventID{Seq: uint64(n + 10), Timestamp: 1_700_000_000_000 + n, Epoch: "abc"}.header()
		fmt.Fprintf(&body, "event: message\nid: %s\ndata: %s\n\n", id, data)
		if n%7 == 0 {
			body.WriteString(":\n\n")
		}
		want = append(want, string(data))
	}
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		resp := "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(body.String(), rng)
		rd := newRespReader(&pieces{b: []byte(resp), rng: rng, max: 1 + rng.IntN(5000)}, 256)
		status, err := rd.line()
		if err != nil || string(status) != "HTTP/1.1 200 OK" {
			t.Fatalf("seed %d: status %q, %v", seed, status, err)
		}
		for {
			h, err := rd.line()
			if err != nil {
				t.Fatalf("seed %d: header: %v", seed, err)
			}
			if len(h) == 0 {
				break
			}
		}
		rd.startBody(true)
		var got []string
		for {
			l, err := rd.line()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			if bytes.HasPrefix(l, []byte("data: ")) {
				got = append(got, string(l[len("data: "):]))
				v, ok := fieldUint(l[:min(len(l), 160)], keyN)
				if !ok || v != uint64(len(got)) {
					t.Fatalf("seed %d: event %d: counter %d, %v", seed, len(got), v, ok)
				}
			}
		}
		if len(got) != len(want) {
			t.Fatalf("seed %d: %d events, want %d", seed, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("seed %d: event %d differs", seed, i+1)
			}
		}
	}
}

func TestBuildEventSize(t *testing.T) {
	for n := int64(1); n < 2000; n += 97 {
		data, wiki := buildEvent(n, time.Now())
		if len(data) < eventSize-8 || len(data) > eventSize+8 {
			t.Errorf("event %d: %d bytes", n, len(data))
		}
		if wiki == "" || bytes.ContainsAny(data, "\n\r") {
			t.Errorf("event %d: wiki %q or a newline", n, wiki)
		}
	}
}

func TestHistogram(t *testing.T) {
	var h histogram
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Millisecond / 10) // 0.1 ms … 1 s
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, time.Second}} {
		got := h.Quantile(c.q)
		if d := float64(got-c.want) / float64(c.want); d < -0.01 || d > 0.04 {
			t.Errorf("q%.2f = %v, want about %v", c.q, got, c.want)
		}
	}
	for v := uint64(0); v < 1<<20; v += 7 {
		if i := histIndex(v); histUpper(i) < v || (i > 0 && histUpper(i-1) >= v) {
			t.Fatalf("value %d: bucket %d, bounds (%d, %d]", v, i, histUpper(i-1), histUpper(i))
		}
	}
}
