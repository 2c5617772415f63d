// Package chunked writes a streaming HTTP/1.1 response directly on a
// hijacked connection: the status line and headers, then the body as
// chunks, each write bounded by a deadline so that a client that stops
// reading is dropped instead of holding a goroutine and buffers forever.
// It knows nothing of what the body holds (package wire does).
//
// Bytes are appended to a buffer taken from a pool only while there is
// something to write, so an idle client holds no buffer. A Conn is used by
// one goroutine at a time.
//
// TryFlush writes without ever blocking (one non-blocking write on the
// socket), for a goroutine that writes to many connections: what the
// socket did not take stays pending, and the next Flush, a blocking write
// bounded by the timeout, finishes it first.
package chunked

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// flushAt is the buffered size at which Append writes a chunk by itself.
const flushAt = 16 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, flushAt+4<<10); return &b }}

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("chunked: connection closed")

// Conn is a streaming response on a raw connection. A Conn must not be
// copied once initialised.
type Conn struct {
	_        noCopy
	c        net.Conn
	raw      syscall.RawConn // nil: c has no file descriptor (TryFlush is not available)
	timeout  time.Duration
	deadline time.Time // the write deadline set on c
	buf      *[]byte
	pending  int  // > 0: (*buf)[pending:] is a chunk the socket has not taken yet
	pendingN int  // body bytes in that chunk
	hold     bool // Append does not flush by itself
	closed   bool
	written  int64

	// TryFlush's write, made once (a closure made per call would be an
	// allocation per write): it writes try and sets tried and tryErr.
	tryWrite func(fd uintptr) bool
	try      []byte
	tried    int
	tryErr   error
}

// noCopy makes go vet's copylocks check report a copied Conn.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// New wraps c; every write must complete within timeout.
func New(c net.Conn, timeout time.Duration) *Conn {
	w := new(Conn)
	w.Init(c, timeout)
	return w
}

// Init makes w a Conn wrapping c, as New does, for a Conn that is part of
// a larger struct.
func (w *Conn) Init(c net.Conn, timeout time.Duration) {
	*w = Conn{c: c, timeout: timeout}
	if sc, ok := c.(syscall.Conn); ok {
		w.raw, _ = sc.SyscallConn()
		w.tryWrite = func(fd uintptr) bool {
			for {
				w.tried, w.tryErr = syscall.Write(int(fd), w.try)
				if !errors.Is(w.tryErr, syscall.EINTR) {
					return true
				}
			}
		}
	}
}

// CanTryFlush reports whether TryFlush is available: c is a socket.
func (w *Conn) CanTryFlush() bool { return w.raw != nil }

// Pending reports whether a chunk is waiting for the socket (TryFlush did
// not complete).
func (w *Conn) Pending() bool { return w.pending > 0 }

// Hold stops Append from flushing a large buffer by itself (on: the caller
// calls TryFlush once it has appended a batch), or lets it again.
func (w *Conn) Hold(on bool) { w.hold = on }

// Written is the number of body bytes written so far (chunk framing excluded).
func (w *Conn) Written() int64 { return w.written }

// WriteHeader writes the status line and headers of a chunked response.
// headers are name/value pairs. It must come first.
func (w *Conn) WriteHeader(status int, reason string, headers [][2]string) error {
	b := w.take()
	*b = (*b)[:0]
	*b = append(*b, "HTTP/1.1 "...)
	*b = strconv.AppendInt(*b, int64(status), 10)
	*b = append(*b, ' ')
	*b = append(*b, reason...)
	*b = append(*b, "\r\n"...)
	for _, h := range headers {
		*b = append(*b, h[0]...)
		*b = append(*b, ": "...)
		*b = append(*b, h[1]...)
		*b = append(*b, "\r\n"...)
	}
	*b = append(*b, "Transfer-Encoding: chunked\r\n\r\n"...)
	err := w.write(*b)
	w.release()
	return err
}

// Append buffers body bytes, writing a chunk when the buffer is large.
func (w *Conn) Append(p []byte) error {
	b := w.take()
	*b = append(*b, p...)
	if len(*b) >= flushAt && !w.hold {
		return w.Flush()
	}
	return nil
}

// AppendString is Append for a string.
func (w *Conn) AppendString(s string) error {
	b := w.take()
	*b = append(*b, s...)
	if len(*b) >= flushAt && !w.hold {
		return w.Flush()
	}
	return nil
}

// Flush writes what is buffered as one chunk, in one write, and gives the
// buffer back. A pending chunk is written first, and alone: nothing can
// have been appended after it.
func (w *Conn) Flush() error {
	if w.pending > 0 {
		err := w.write((*w.buf)[w.pending:])
		if err == nil {
			w.written += int64(w.pendingN)
		}
		w.pending, w.pendingN = 0, 0
		w.release()
		return err
	}
	chunk, n := w.frame()
	if chunk == nil {
		return nil
	}
	err := w.write(chunk)
	if err == nil {
		w.written += int64(n)
	}
	w.release()
	return err
}

// TryFlush is Flush with one non-blocking write: done is false when the
// socket did not take the whole chunk, which is then pending (Append must
// not be called before a Flush has finished it). It needs CanTryFlush.
func (w *Conn) TryFlush() (done bool, err error) {
	if w.closed {
		return false, ErrClosed
	}
	chunk, n := w.frame()
	if chunk == nil {
		return true, nil
	}
	if !w.deadline.IsZero() {
		// A deadline of the last blocking write, once past, would fail this
		// write; the next blocking write sets a new one.
		_ = w.c.SetWriteDeadline(time.Time{})
		w.deadline = time.Time{}
	}
	// An error of Write itself (a past write deadline) leaves the chunk to
	// the blocking Flush, which sets a new deadline.
	w.try, w.tried, w.tryErr = chunk, 0, nil
	_ = w.raw.Write(w.tryWrite)
	wrote, werr := w.tried, w.tryErr
	w.try, w.tryErr = nil, nil
	switch {
	case errors.Is(werr, syscall.EAGAIN):
		wrote = 0
	case werr != nil:
		w.release()
		return false, &net.OpError{Op: "write", Net: "tcp", Err: werr}
	}
	if wrote == len(chunk) {
		w.written += int64(n)
		w.release()
		return true, nil
	}
	w.pending, w.pendingN = len(*w.buf)-len(chunk)+max(wrote, 0), n
	return false, nil
}

// frame completes the buffered bytes as one chunk (its size line in the
// head room, its CRLF after) and returns it with its body size; nil when
// nothing is buffered (the buffer is given back).
func (w *Conn) frame() ([]byte, int) {
	if w.buf == nil || len(*w.buf) == headRoom {
		w.release()
		return nil, 0
	}
	b := *w.buf
	n := len(b) - headRoom
	var hex [16]byte
	h := strconv.AppendInt(hex[:0], int64(n), 16)
	start := headRoom - len(h) - 2
	copy(b[start:], h)
	copy(b[headRoom-2:], "\r\n")
	b = append(b, "\r\n"...)
	*w.buf = b
	return b[start:], n
}

// Close writes the last chunk, if it can, and closes the connection.
func (w *Conn) Close() error {
	if w.closed {
		return nil
	}
	err := w.Flush()
	if err == nil {
		err = w.write([]byte("0\r\n\r\n"))
	}
	w.closed = true
	w.release()
	if cerr := w.c.Close(); err == nil {
		err = cerr
	}
	return err
}

// headRoom is kept free at the start of the buffer for the chunk size line.
const headRoom = 18

func (w *Conn) take() *[]byte {
	if w.buf == nil {
		w.buf = bufPool.Get().(*[]byte)
		*w.buf = (*w.buf)[:headRoom]
	}
	return w.buf
}

func (w *Conn) release() {
	if w.buf == nil {
		return
	}
	if cap(*w.buf) <= 4*flushAt { // do not keep a buffer grown by one huge event
		bufPool.Put(w.buf)
	}
	w.buf = nil
}

// write writes p within the timeout. The deadline is moved only when less
// than half the timeout is left (a system call saved on most writes), so a
// write may get between half and all of the timeout.
func (w *Conn) write(p []byte) error {
	if w.closed {
		return ErrClosed
	}
	if now := time.Now(); w.deadline.Sub(now) < w.timeout/2 {
		w.deadline = now.Add(w.timeout)
		_ = w.c.SetWriteDeadline(w.deadline)
	}
	_, err := w.c.Write(p)
	return err
}
