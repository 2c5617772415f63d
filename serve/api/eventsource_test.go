package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/position"
)

// TestEventSourceResume runs a real SSE client from outside the Go world,
// npm eventsource 5 under Node (infra/sseclient/client.mjs), against serve
// while events are published continuously. The server ends every stream
// after MaxDuration; the client reconnects by itself after the server's
// retry: with its own Last-Event-ID, and must see every event of the
// requested streams exactly once, in order. The client talks to serve
// through a TCP tap that records each connection's Last-Event-ID and picks
// its instance: always the same one, or alternating between two, so that
// every resume happens on the instance that did not write the id.
func TestEventSourceResume(t *testing.T) {
	node, script := nodeClient(t)
	const (
		events = 800 // the client exits after this many: 4 s or more of publishing
		retry  = 200 * time.Millisecond
	)
	tests := []struct {
		name      string
		instances int
	}{
		{"one instance", 1},
		{"alternating instances", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			var backends []*instance
			for range tt.instances {
				backends = append(backends, w.serve(func(o *Options) { o.MaxDuration = time.Second; o.Retry = retry }))
			}
			tap := newTap(t, backends)

			started := time.Now()
			lines := w.runClient(t, node, script, tap.url+"/v2/stream/recentchange,page-create", events)
			t.Logf("%d events in %v", events, time.Since(started).Round(time.Millisecond))

			// Every event, in order: data n rises by exactly 1, and the id is
			// the event's own (seq n+1, Kafka time 1e12+n plus 1 ms, the
			// stream's epoch), whichever instance wrote it.
			epoch := backends[0].hub.Epoch()
			var (
				got       []int
				lastID    string
				reconnect []string // the id the client held at each reconnect
				opens     int
			)
			for _, l := range lines {
				switch {
				case l.Open:
					opens++
				case l.ID != nil:
					v := n(t, l.Data)
					if len(got) > 0 && v != got[len(got)-1]+1 {
						t.Fatalf("after event %d the client got %d: a gap or a duplicate (message %d; reconnects so far %d)",
							got[len(got)-1], v, len(got), len(reconnect))
					}
					got = append(got, v)
					r, err := position.ParseLastEventID(*l.ID)
					if err != nil || r.Kind != position.KindID {
						t.Fatalf("id %q of event %d: kind %v, %v", *l.ID, v, r.Kind, err)
					}
					if want := (position.ID{Seq: uint64(v) + 1, Timestamp: 1e12 + int64(v) + 1, Epoch: epoch}); r.ID != want {
						t.Fatalf("id %q of event %d is %+v, want %+v", *l.ID, v, r.ID, want)
					}
					lastID = *l.ID
				case l.Error != nil && l.ReadyState != nil && *l.ReadyState == 0:
					// The stream ended and the client is reconnecting by itself.
					reconnect = append(reconnect, lastID)
				default:
					t.Fatalf("unexpected client output %+v", l)
				}
			}
			if len(got) != events {
				t.Fatalf("the client printed %d events, want %d", len(got), events)
			}
			if len(reconnect) < 2 {
				t.Fatalf("%d reconnects, want at least 2", len(reconnect))
			}
			if opens != len(reconnect)+1 {
				t.Errorf("%d opens for %d reconnects", opens, len(reconnect))
			}

			// Each reconnect was a stream ended by the maximum duration (the
			// last stream may have reached it too as the client left).
			var ended float64
			for _, b := range backends {
				ended += inproctest.Metric(b.reg, "eventstreams_disconnects_total", "reason", reasonMaxDuration)
			}
			if ended < float64(len(reconnect)) || ended > float64(len(reconnect)+1) {
				t.Errorf("%v streams ended by max_duration, %d reconnects", ended, len(reconnect))
			}

			// On the wire: the first request carries no Last-Event-ID, each
			// reconnect the last id the client had received, after the
			// server's retry: (200 ms), not the client's default (3 s).
			conns := tap.connections()
			if len(conns) != opens {
				t.Fatalf("%d connections through the tap, %d opens", len(conns), opens)
			}
			if conns[0].lastEventID != "" {
				t.Errorf("first request sent Last-Event-ID %q", conns[0].lastEventID)
			}
			var gaps []string
			for k, id := range reconnect {
				c := conns[k+1]
				if c.lastEventID != id {
					t.Errorf("reconnect %d sent Last-Event-ID %q, want %q", k+1, c.lastEventID, id)
				}
				gap := c.accepted.Sub(conns[k].ended)
				if gap < retry*3/4 || gap > 2*time.Second {
					t.Errorf("reconnect %d came %v after the stream ended, want about %v", k+1, gap, retry)
				}
				gaps = append(gaps, gap.Round(time.Millisecond).String())
			}
			t.Logf("%d reconnects (after %s), %v streams ended by max_duration", len(reconnect), strings.Join(gaps, ", "), ended)
		})
	}
}

// nodeClient locates Node and the installed npm client, or skips (fails
// when ES_REQUIRE_NODE_CLIENT=1, as in CI).
func nodeClient(t *testing.T) (node, script string) {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "infra", "sseclient"))
	if err != nil {
		t.Fatal(err)
	}
	node, nodeErr := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(dir, "node_modules", "eventsource"))
	if nodeErr != nil || modErr != nil {
		msg := "the npm eventsource client is not installed: with node on PATH, run `npm ci` in infra/sseclient"
		if os.Getenv("ES_REQUIRE_NODE_CLIENT") == "1" {
			t.Fatalf("%s (node: %v; module: %v)", msg, nodeErr, modErr)
		}
		t.Skip(msg)
	}
	return node, filepath.Join(dir, "client.mjs")
}

// clientLine is one line of client.mjs's output.
type clientLine struct {
	Open       bool    `json:"open"`
	ID         *string `json:"id"`
	Data       string  `json:"data"`
	Error      *string `json:"error"`
	Code       *int    `json:"code"`
	ReadyState *int    `json:"readyState"`
}

// runClient runs client.mjs on url until it has printed want events, and
// returns its output. Meanwhile it publishes 10 events every 50 ms, on the
// test's goroutine, so the client runs for want/200 seconds at least.
func (w *world) runClient(t *testing.T, node, script, url string, want int) []clientLine {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, node, script, url, strconv.Itoa(want), "30000")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var err error
publishing:
	for {
		select {
		case err = <-done:
			break publishing
		case <-tick.C:
			w.publish(10)
		}
	}
	var lines []clientLine
	sc := bufio.NewScanner(bytes.NewReader(stdout.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l clientLine
		if jerr := json.Unmarshal(sc.Bytes(), &l); jerr != nil {
			t.Fatalf("client output %q: %v", sc.Text(), jerr)
		}
		lines = append(lines, l)
	}
	if err != nil {
		t.Fatalf("client: %v\nstderr: %s\nlast output: %s", err, stderr.String(), lastLines(stdout.String(), 10))
	}
	return lines
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// tap is a TCP proxy in front of serve instances: connection i goes to
// instance i mod len(instances). It records the Last-Event-ID of each
// connection's request, when it was accepted and when the instance ended it.
type tap struct {
	url string

	mu    sync.Mutex
	conns []*tapConn
	open  map[net.Conn]bool
}

type tapConn struct {
	lastEventID      string
	accepted, ended  time.Time
	client, upstream net.Conn
}

func newTap(t *testing.T, backends []*instance) *tap {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tap{url: "http://" + ln.Addr().String(), open: map[net.Conn]bool{}}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for c := range p.open {
			c.Close()
		}
		p.mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			tc := &tapConn{accepted: time.Now(), client: c}
			p.conns = append(p.conns, tc)
			addr := strings.TrimPrefix(backends[(len(p.conns)-1)%len(backends)].url, "http://")
			p.open[c] = true
			p.mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); p.forward(tc, addr) }()
		}
	}()
	return p
}

// forward reads the request head (to record Last-Event-ID), passes it on
// unchanged, then copies both ways until the instance ends the response.
func (p *tap) forward(tc *tapConn, addr string) {
	defer func() {
		p.mu.Lock()
		tc.ended = time.Now()
		delete(p.open, tc.client)
		if tc.upstream != nil {
			delete(p.open, tc.upstream)
			tc.upstream.Close()
		}
		p.mu.Unlock()
		tc.client.Close()
	}()
	br := bufio.NewReader(tc.client)
	var head bytes.Buffer
	var lastEventID string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		head.WriteString(line)
		if line == "\r\n" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "Last-Event-ID") {
			lastEventID = strings.TrimSpace(v)
		}
	}
	up, err := net.Dial("tcp", addr)
	if err != nil {
		return
	}
	p.mu.Lock()
	tc.lastEventID, tc.upstream = lastEventID, up
	p.open[up] = true
	p.mu.Unlock()
	if _, err := up.Write(head.Bytes()); err != nil {
		return
	}
	go func() { _, _ = io.Copy(up, br) }() // ends when either side is closed
	_, _ = io.Copy(tc.client, up)
}

func (p *tap) connections() []tapConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]tapConn, len(p.conns))
	for i, c := range p.conns {
		out[i] = *c
	}
	return out
}
