package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Client states.
const (
	stConnecting int32 = iota
	stConnected
	stFailed // never got the stream's first bytes
	stEnded  // the stream ended or broke while the benchmark still wanted it
	stClosed // closed by the benchmark
)

// eventID is an SSE id of serve: [{"seq":S,"timestamp":T,"epoch":"E"}].
type eventID struct {
	Seq       uint64
	Timestamp int64
	Epoch     string
}

func (id eventID) header() string {
	return `[{"seq":` + strconv.FormatUint(id.Seq, 10) + `,"timestamp":` + strconv.FormatInt(id.Timestamp, 10) +
		`,"epoch":"` + id.Epoch + `"}]`
}

// sink is where clients record what they see; it is shared by all of them.
type sink struct {
	// hist receives the end-to-end latency of every event while set (the
	// measurement window); nil: latencies are not recorded.
	hist atomic.Pointer[histogram]
	// stopping: read errors from now on are the benchmark closing clients.
	stopping atomic.Bool
	// sources: where clients dial from (held.go).
	sources *sources
}

// client is one SSE connection, read by one goroutine. Counters read by
// the coordinator while the client runs are atomic; the sequence checks
// are the goroutine's own and are read after it has finished.
type client struct {
	sink *sink
	addr string
	path string
	// lastEventID, when set, is sent as the Last-Event-ID header.
	lastEventID string
	// keepID: remember the id of the first event (the probe client).
	keepID bool

	connMu  sync.Mutex
	conn    net.Conn
	closing bool
	rd      *respReader
	state   atomic.Int32

	started   bool         // run was started (set by the coordinator)
	baseN     atomic.Int64 // the last event published when it connected
	received  atomic.Int64 // events
	lastN     atomic.Int64 // payload counter of the newest event (-1: none yet)
	firstN    int64
	connected time.Duration // dial to ":ok"
	// doneAt, when targetN > 0: when the event with counter targetN
	// arrived (Unix ns); 0 until then.
	targetN int64
	start   time.Time
	doneAt  atomic.Int64
	done    chan struct{}

	lastSeq        uint64
	missing        int64 // counter gaps
	duplicates     int64 // counter equal to the previous one
	outOfOrder     int64 // counter below the previous one
	seqNotIncr     int64 // SSE id seq not above the previous one
	unparsed       int64 // events without a usable id or payload counter
	errorEvents    int64 // "event: error" frames
	firstID        eventID
	firstIDPresent bool
	err            error // why the stream ended (stFailed, stEnded)
	idMu           sync.Mutex
}

func newClient(s *sink, addr, path string) *client {
	c := &client{sink: s, addr: addr, path: path, done: make(chan struct{})}
	c.lastN.Store(-1)
	return c
}

var (
	keySeq   = []byte(`"seq":`)
	keyTS    = []byte(`"timestamp":`)
	keyEpoch = []byte(`"epoch":"`)
	keyN     = []byte(`"bench":{"n":`)
	keyTSNs  = []byte(`"ts_ns":`)
)

// run connects and reads events until the connection ends. connTimeout
// bounds the dial and the wait for the response's first bytes. connected
// is called once, when the stream's ":ok" has arrived or the attempt failed.
func (c *client) run(connTimeout time.Duration, bufSize int, connected func(ok bool)) {
	defer close(c.done)
	c.start = time.Now()
	err := c.connect(connTimeout, bufSize)
	if err != nil {
		c.err = err
		c.state.Store(stFailed)
		c.close()
		connected(false)
		return
	}
	connected(true)
	err = c.read()
	if c.sink.stopping.Load() && c.state.Load() != stEnded {
		c.state.Store(stClosed)
		return
	}
	c.err = err
	c.state.Store(stEnded)
}

// connect dials, sends the request and reads up to the body's ":ok".
func (c *client) connect(timeout time.Duration, bufSize int) error {
	d := net.Dialer{Timeout: timeout, LocalAddr: c.sink.sources.pick()}
	conn, err := d.Dial("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	c.connMu.Lock()
	c.conn = conn
	closing := c.closing
	c.connMu.Unlock()
	if closing {
		return errors.New("closed by the benchmark before connecting")
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	var req strings.Builder
	req.WriteString("GET " + c.path + " HTTP/1.1\r\nHost: " + c.addr +
		"\r\nAccept: text/event-stream\r\nUser-Agent: servebench\r\n")
	if c.lastEventID != "" {
		req.WriteString("Last-Event-ID: " + c.lastEventID + "\r\n")
	}
	req.WriteString("\r\n")
	if _, err := io.WriteString(conn, req.String()); err != nil {
		return fmt.Errorf("write request: %w", err)
	}
	rd := newRespReader(conn, bufSize)
	status, err := rd.line()
	if err != nil {
		return fmt.Errorf("read status: %w", err)
	}
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 200")) {
		return c.httpError(rd, string(status))
	}
	chunked := false
	for {
		h, err := rd.line()
		if err != nil {
			return fmt.Errorf("read headers: %w", err)
		}
		if len(h) == 0 {
			break
		}
		if k, v, ok := bytes.Cut(h, []byte(":")); ok && bytes.EqualFold(bytes.TrimSpace(k), []byte("Transfer-Encoding")) &&
			bytes.Contains(bytes.ToLower(v), []byte("chunked")) {
			chunked = true
		}
	}
	rd.startBody(chunked)
	// The body starts with ":ok".
	l, err := rd.line()
	if err != nil {
		return fmt.Errorf("read first body line: %w", err)
	}
	if string(l) != ":ok" {
		return fmt.Errorf("first body line %q, want \":ok\"", clip(string(l), 80))
	}
	_ = conn.SetDeadline(time.Time{})
	c.connected = time.Since(c.start)
	c.rd = rd
	c.state.Store(stConnected)
	return nil
}

// httpError reads a short error body for the message.
func (c *client) httpError(rd *respReader, status string) error {
	var body []byte
	length := -1
	for {
		h, err := rd.line()
		if err != nil || len(h) == 0 {
			break
		}
		if k, v, ok := bytes.Cut(h, []byte(":")); ok && bytes.EqualFold(bytes.TrimSpace(k), []byte("Content-Length")) {
			length, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	if length > 0 {
		body = rd.rest(min(length, 512))
	}
	return fmt.Errorf("HTTP %s: %s", strings.TrimPrefix(status, "HTTP/1.1 "), clip(string(body), 200))
}

// read parses SSE frames until the connection ends.
func (c *client) read() error {
	rd := c.rd
	var (
		isError bool
		haveID  bool
		seq     uint64
		haveN   bool
		n       int64
		tsNs    int64
	)
	for {
		l, err := rd.line()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return errors.New("the server ended the stream")
			}
			return err
		}
		if len(l) == 0 { // end of a frame
			if haveN || haveID || isError {
				c.event(isError, haveID, seq, haveN, n, tsNs)
			}
			isError, haveID, haveN = false, false, false
			continue
		}
		switch l[0] {
		case ':': // comment: ":ok", heartbeats
		case 'e':
			if bytes.HasPrefix(l, []byte("event:")) {
				isError = string(bytes.TrimSpace(l[len("event:"):])) == "error"
			}
		case 'i':
			if bytes.HasPrefix(l, []byte("id: ")) {
				seq, haveID = fieldUint(l, keySeq)
				if c.keepID && !c.firstIDPresent && haveID {
					c.keepFirstID(l[len("id: "):])
				}
			}
		case 'd':
			if bytes.HasPrefix(l, []byte("data: ")) {
				head := l[:min(len(l), 160)] // the bench fields come first
				var v, ts uint64
				var ok1, ok2 bool
				v, ok1 = fieldUint(head, keyN)
				ts, ok2 = fieldUint(head, keyTSNs)
				haveN = ok1 && ok2
				n, tsNs = int64(v), int64(ts)
				if haveN {
					if h := c.sink.hist.Load(); h != nil {
						h.Record(time.Duration(time.Now().UnixNano() - tsNs))
					}
				}
			}
		}
	}
}

func (c *client) event(isError, haveID bool, seq uint64, haveN bool, n, _ int64) {
	if isError {
		c.errorEvents++
		return
	}
	if !haveID || !haveN {
		c.unparsed++
		return
	}
	if seq <= c.lastSeq {
		c.seqNotIncr++
	}
	c.lastSeq = max(c.lastSeq, seq)
	prev := c.lastN.Load()
	switch {
	case prev < 0:
		c.firstN = n
	case n == prev+1:
	case n > prev+1:
		c.missing += n - prev - 1
	case n == prev:
		c.duplicates++
	default:
		c.outOfOrder++
	}
	if n > prev {
		c.lastN.Store(n)
	}
	c.received.Add(1)
	if c.targetN > 0 && n == c.targetN {
		c.doneAt.Store(time.Now().UnixNano())
	}
}

func (c *client) keepFirstID(raw []byte) {
	id := eventID{}
	id.Seq, _ = fieldUint(raw, keySeq)
	ts, _ := fieldUint(raw, keyTS)
	id.Timestamp = int64(ts)
	if i := bytes.Index(raw, keyEpoch); i >= 0 {
		rest := raw[i+len(keyEpoch):]
		if j := bytes.IndexByte(rest, '"'); j >= 0 {
			id.Epoch = string(rest[:j])
		}
	}
	c.idMu.Lock()
	c.firstID, c.firstIDPresent = id, true
	c.idMu.Unlock()
}

// FirstID is the id of the first event, for a client with keepID.
func (c *client) FirstID() (eventID, bool) {
	c.idMu.Lock()
	defer c.idMu.Unlock()
	return c.firstID, c.firstIDPresent
}

// close ends the connection from the benchmark's side.
func (c *client) close() {
	c.connMu.Lock()
	defer c.connMu.Unlock()
	c.closing = true
	if c.conn != nil {
		_ = c.conn.Close()
	}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
