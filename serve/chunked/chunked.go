// Package chunked writes a streaming HTTP/1.1 response directly on a
// hijacked connection: the status line and headers, then the body as
// chunks, each write bounded by a deadline so that a client that stops
// reading is dropped instead of holding a goroutine and buffers forever.
// It knows nothing of what the body holds (package wire does).
//
// Bytes are appended to a buffer taken from a pool only while there is
// something to write, so an idle client holds no buffer. A Conn is used by
// one goroutine.
package chunked

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"time"
)

// flushAt is the buffered size at which Append writes a chunk by itself.
const flushAt = 16 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, flushAt+4<<10); return &b }}

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("chunked: connection closed")

// Conn is a streaming response on a raw connection.
type Conn struct {
	c        net.Conn
	timeout  time.Duration
	deadline time.Time // the write deadline set on c
	buf      *[]byte
	closed   bool
	written  int64
}

// New wraps c; every write must complete within timeout.
func New(c net.Conn, timeout time.Duration) *Conn {
	return &Conn{c: c, timeout: timeout}
}

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
	if len(*b) >= flushAt {
		return w.Flush()
	}
	return nil
}

// AppendString is Append for a string.
func (w *Conn) AppendString(s string) error {
	b := w.take()
	*b = append(*b, s...)
	if len(*b) >= flushAt {
		return w.Flush()
	}
	return nil
}

// Flush writes what is buffered as one chunk, in one write, and gives the
// buffer back.
func (w *Conn) Flush() error {
	if w.buf == nil || len(*w.buf) == headRoom {
		w.release()
		return nil
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
	err := w.write(b[start:])
	if err == nil {
		w.written += int64(n)
	}
	w.release()
	return err
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
