package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/serve/wire"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/position"
)

// The floor is the least an SSE fan-out server can do on this machine,
// run as a process of its own like serve (servebench re-executes itself
// with -floor-server), so that its CPU and memory are measured the same
// way. It answers the clients' request with a minimal chunked response
// head and ":ok", then writes each event it is fed, already framed as the
// clients expect (the same bytes serve would write: wire.Encode, as one
// HTTP chunk), with one write per connection: of one event, or of all
// those that came while it was writing (serve too writes what has
// accumulated at once). It has no JetStream, no filters, no
// per-connection framing: the events are appended to one log of bytes,
// and a connection's write is a slice of it. The benchmark feeds it over
// a unix socket: a 4-byte big-endian length, then the chunk.
//
//	pool:      GOMAXPROCS writer goroutines, each writing every event to
//	           its share of the connections (no goroutine per connection)
//	           with one non-blocking write; a connection whose socket is
//	           full gets a goroutine that finishes its writes (blocking)
//	           while the writer queues its next events, as serve must
//	           (a blocking write would hold up every other connection)
//	goroutine: one goroutine per connection, woken per event
const (
	floorPool      = "floor"
	floorGoroutine = "floor-goroutine"
)

// floorHead is the response head and the body's first chunk (":ok").
const floorHead = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n" +
	"5\r\n:ok\n\n\r\n"

// floorEpoch stands for serve's stream epoch in the floor's ids: the same
// length as serve's (layout epochs are 26-character ULIDs).
const floorEpoch = "01JBENCHFLOOR0000000000000"

// floorChunk is event n as serve would write it to an SSE client, as one
// HTTP chunk.
func floorChunk(n int64, now time.Time) []byte {
	data, _ := buildEvent(n, now)
	enc := wire.Encode(position.ID{Seq: uint64(n), Timestamp: now.UnixMilli() + 1, Epoch: floorEpoch}, data)
	b := make([]byte, 0, len(enc.Frame)+16)
	b = strconv.AppendInt(b, int64(len(enc.Frame)), 16)
	b = append(b, "\r\n"...)
	b = append(b, enc.Frame...)
	return append(b, "\r\n"...)
}

// floorServer is the floor process's state.
type floorServer struct {
	mode    string
	writers []*floorWriter // pool mode
	mu      sync.Mutex
	next    int           // the writer of the next connection
	log     []byte        // every event so far, as chunks
	notify  chan struct{} // closed when the log grows
}

// since returns the log from offset on, and a channel closed when it grows.
func (f *floorServer) since(offset int) ([]byte, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.log[offset:len(f.log):len(f.log)], f.notify
}

type floorWriter struct {
	f     *floorServer
	mu    sync.Mutex
	conns []*floorConn
}

// floorConn is a connection of the pool floor.
type floorConn struct {
	c   net.Conn
	raw syscall.RawConn
	mu  sync.Mutex
	// queue, when not nil: what a goroutine of the connection's own is
	// writing (the socket was full); the writer appends to it.
	queue []byte
	dead  bool
}

// write writes p without blocking the caller; false: the connection failed.
func (fc *floorConn) write(p []byte) bool {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if fc.dead {
		return false
	}
	if fc.queue != nil {
		fc.queue = append(fc.queue, p...)
		return true
	}
	var n int
	var err error
	_ = fc.raw.Write(func(fd uintptr) bool {
		n, err = syscall.Write(int(fd), p)
		return err != syscall.EINTR
	})
	switch {
	case err == syscall.EAGAIN:
		n = 0
	case err != nil:
		fc.dead = true
		_ = fc.c.Close()
		return false
	}
	if n < len(p) {
		fc.queue = append([]byte{}, p[n:]...)
		go fc.drain()
	}
	return true
}

// drain writes the queue with blocking writes until it is empty.
func (fc *floorConn) drain() {
	for {
		fc.mu.Lock()
		q := fc.queue
		if len(q) == 0 {
			fc.queue = nil
			fc.mu.Unlock()
			return
		}
		fc.queue = q[len(q):]
		fc.mu.Unlock()
		if _, err := fc.c.Write(q); err != nil {
			fc.mu.Lock()
			fc.dead, fc.queue = true, nil
			fc.mu.Unlock()
			_ = fc.c.Close()
			return
		}
	}
}

// runFloor is the floor process: it serves addr until SIGTERM, fed from
// the unix socket feed.
func runFloor(mode, addr, feed string) error {
	if mode != floorPool && mode != floorGoroutine {
		return fmt.Errorf("-floor-server %q: want %s or %s", mode, floorPool, floorGoroutine)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fl, err := net.Listen("unix", feed)
	if err != nil {
		return err
	}
	f := &floorServer{mode: mode, notify: make(chan struct{})}
	if mode == floorPool {
		for range runtime.GOMAXPROCS(0) {
			w := &floorWriter{f: f}
			f.writers = append(f.writers, w)
			go w.run()
		}
	}
	go f.feed(fl)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.accept(c)
		}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	_ = ln.Close()
	_ = fl.Close()
	return nil
}

// feed reads the events from the benchmark and hands them out.
func (f *floorServer) feed(fl net.Listener) {
	c, err := fl.Accept()
	if err != nil {
		return
	}
	r := bufio.NewReaderSize(c, 64<<10)
	var n [4]byte
	for {
		if _, err := io.ReadFull(r, n[:]); err != nil {
			return
		}
		frame := make([]byte, binary.BigEndian.Uint32(n[:]))
		if _, err := io.ReadFull(r, frame); err != nil {
			return
		}
		f.mu.Lock()
		// Past the length of every slice handed out (since caps them): a
		// reallocation or an append leaves those intact.
		f.log = append(f.log, frame...)
		ch := f.notify
		f.notify = make(chan struct{})
		f.mu.Unlock()
		close(ch)
	}
}

// accept reads a request head; a stream request gets the stream, anything
// else (servebench's /readyz) an empty 200.
func (f *floorServer) accept(c net.Conn) {
	buf := make([]byte, 1024) // on the heap: a parked goroutine keeps its stack small
	n := 0
	for !bytes.Contains(buf[:n], []byte("\r\n\r\n")) {
		if n == len(buf) {
			_ = c.Close()
			return
		}
		m, err := c.Read(buf[n:])
		if err != nil {
			_ = c.Close()
			return
		}
		n += m
	}
	if !bytes.HasPrefix(buf[:n], []byte("GET "+streamPath+" ")) {
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		_ = c.Close()
		return
	}
	if _, err := io.WriteString(c, floorHead); err != nil {
		_ = c.Close()
		return
	}
	if f.mode == floorPool {
		fc := &floorConn{c: c}
		if sc, ok := c.(syscall.Conn); ok {
			fc.raw, _ = sc.SyscallConn()
		}
		w := f.writers[f.nextWriter()]
		w.mu.Lock()
		w.conns = append(w.conns, fc)
		w.mu.Unlock()
		return // this goroutine ends; the writer has the connection
	}
	f.mu.Lock()
	cursor := len(f.log)
	f.mu.Unlock()
	for {
		p, ch := f.since(cursor)
		if len(p) == 0 {
			<-ch
			continue
		}
		if _, err := c.Write(p); err != nil {
			_ = c.Close()
			return
		}
		cursor += len(p)
	}
}

func (f *floorServer) nextWriter() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := f.next
	f.next = (f.next + 1) % len(f.writers)
	return i
}

// run writes what the log gained to each of the writer's connections, one
// write each; a connection whose write fails is dropped.
func (w *floorWriter) run() {
	w.f.mu.Lock()
	cursor := len(w.f.log)
	w.f.mu.Unlock()
	for {
		fr, ch := w.f.since(cursor)
		if len(fr) == 0 {
			<-ch
			continue
		}
		cursor += len(fr)
		w.mu.Lock()
		conns := w.conns
		w.mu.Unlock()
		dead := false
		for i, c := range conns {
			if !c.write(fr) {
				conns[i], dead = nil, true
			}
		}
		if dead {
			w.mu.Lock()
			kept := w.conns[:0]
			for _, c := range w.conns {
				if c != nil {
					kept = append(kept, c)
				}
			}
			w.conns = kept
			w.mu.Unlock()
		}
	}
}

// floorFeed is the benchmark's side of the feed socket.
type floorFeed struct {
	mu sync.Mutex
	c  net.Conn
}

func dialFloorFeed(path string) (*floorFeed, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("unix", path)
		if err == nil {
			return &floorFeed{c: c}, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the floor's feed socket: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// send feeds event n to the floor.
func (f *floorFeed) send(n int64, now time.Time) error {
	chunk := floorChunk(n, now)
	b := make([]byte, 4, 4+len(chunk))
	binary.BigEndian.PutUint32(b, uint32(len(chunk)))
	b = append(b, chunk...)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.c == nil {
		return errors.New("floor feed closed")
	}
	_, err := f.c.Write(b)
	return err
}

func (f *floorFeed) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.c != nil {
		_ = f.c.Close()
		f.c = nil
	}
}
