package api

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/serve/chunked"
	"github.com/wikimedia-eventstreams-go/eventstreams/serve/hub"
	"github.com/wikimedia-eventstreams-go/eventstreams/serve/wire"
)

// streamState is what the stream loop needs from the request.
type streamState struct {
	reader    *hub.Reader
	ip        string
	releaseIP func() // gives the client IP's slot back
	names     []string
	enc       wire.Encoder
}

// stream is one client's stream once its response has begun: what its
// loop keeps between two wakes, whichever goroutine runs it.
type stream struct {
	// st and w are held by value: a writer's sweep reads them for every
	// stream, and a pointer to each would be one more memory load to wait
	// for.
	st        streamState
	w         chunked.Conn
	began     time.Time
	lastWrite time.Time
	end       time.Time // zero: no maximum duration
	// What a writer (writers.go) polled but left to the stream's own
	// goroutine: events not yet counted (their bytes may be pending in w),
	// and the error that came with them.
	unsent int
	polled []*hub.Event
	err    error
	failed error // a write of the writer failed
}

// run starts the stream of one client, on its hijacked connection, then
// runs its loop.
func (s *Server) run(conn net.Conn, st *streamState) {
	for _, n := range st.names {
		s.metrics.connected.WithLabelValues(n).Inc()
	}
	sorted := slices.Clone(st.names)
	slices.Sort(sorted)
	s.metrics.connections.WithLabelValues(strings.Join(sorted, ",")).Inc()

	if u, ok := conn.(interface{ UnsafeConn() net.Conn }); ok { // fasthttp's hijacked conn
		conn = u.UnsafeConn()
	}
	limitSendBuffer(conn)
	c := &stream{st: *st, began: time.Now()}
	c.w.Init(conn, s.opts.WriteTimeout)
	c.lastWrite = c.began
	if s.opts.MaxDuration > 0 {
		c.end = c.began.Add(s.opts.MaxDuration)
	}
	if reason := s.begin(c); reason != "" {
		s.finish(c, reason)
		return
	}
	s.resume(c)
}

// resume runs the loop of c on the calling goroutine until the stream ends
// or is parked with a writer.
func (s *Server) resume(c *stream) {
	if reason := s.loop(c); reason != "" {
		s.finish(c, reason)
	}
}

// finish ends a stream: its last chunk, the connection closed, and what
// the request held given back.
func (s *Server) finish(c *stream, reason string) {
	st := &c.st
	s.metrics.disconnects.WithLabelValues(reason).Inc()
	s.metrics.bytes.Add(float64(c.w.Written()))
	_ = c.w.Close()
	s.log.LogAttrs(context.Background(), slog.LevelInfo, "stream ended",
		slog.String("streams", strings.Join(st.names, ",")), slog.String("reason", reason),
		slog.Duration("duration", time.Since(c.began)), slog.Int64("bytes", c.w.Written()), slog.String("client_ip", st.ip))
	for _, n := range st.names {
		s.metrics.connected.WithLabelValues(n).Dec()
	}
	st.reader.Close()
	st.releaseIP()
	s.open.Add(-1)
	s.streams.Done()
}

// sendBuffer caps the kernel's send buffer of a stream connection (Linux
// doubles it for its bookkeeping). Left alone, the kernel grows it to
// megabytes (tcp_wmem), and a client that stops reading would have that
// much queued for it before its writes block and SERVE_WRITE_TIMEOUT drops
// it. 256 KiB still moves about 2.5 MB/s to a client 100 ms away.
const sendBuffer = 256 << 10

// limitSendBuffer applies sendBuffer to the TCP connection conn.
func limitSendBuffer(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(sendBuffer)
	}
}

// writeFailed is the disconnect reason of a failed write: a client that
// did not take a write within SERVE_WRITE_TIMEOUT is too slow (it stopped
// reading, or reads too little); any other failure means it left.
func writeFailed(err error) string {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return reasonTooSlow
	}
	return reasonClient
}

// flushed flushes w after a write that returned err, unless it failed.
func flushed(w *chunked.Conn, err error) error {
	if err != nil {
		return err
	}
	return w.Flush()
}

// begin writes the response head and the body's opening; it returns a
// disconnect reason if that failed.
func (s *Server) begin(c *stream) string {
	headers := append([][2]string{
		{"Content-Type", c.st.enc.ContentType()},
		{"Cache-Control", "no-cache"},
		{"Connection", "keep-alive"},
	}, securityHeaders...)
	if err := c.w.WriteHeader(200, "OK", headers); err != nil {
		return writeFailed(err)
	}
	if err := flushed(&c.w, c.st.enc.Open(&c.w, s.opts.Retry)); err != nil {
		return writeFailed(err)
	}
	return ""
}

// ended reports whether the stream's maximum duration is over at now.
func (c *stream) ended(now time.Time) bool { return !c.end.IsZero() && !now.Before(c.end) }

// heartbeatDue reports whether the stream has been silent for a heartbeat
// interval at now.
func (s *Server) heartbeatDue(c *stream, now time.Time) bool {
	return now.Sub(c.lastWrite) >= s.opts.Heartbeat
}

// due is how long until the stream's next heartbeat or its end.
func (s *Server) due(c *stream, now time.Time) time.Duration {
	d := c.lastWrite.Add(s.opts.Heartbeat).Sub(now)
	if !c.end.IsZero() {
		d = min(d, c.end.Sub(now))
	}
	return max(d, 0)
}

// loop writes the stream until it ends, and returns why it ended (a
// disconnect reason), or "" when it was parked with a writer: a stream
// with nothing to write waits there rather than on a goroutine of its own.
func (s *Server) loop(c *stream) string {
	w, st := &c.w, &c.st
	if c.failed != nil {
		return writeFailed(c.failed)
	}
	if c.unsent > 0 || w.Pending() { // left by a writer: finish its chunk first
		if err := w.Flush(); err != nil {
			return writeFailed(err)
		}
		s.metrics.events.Add(float64(c.unsent))
		c.unsent, c.lastWrite = 0, time.Now()
	}
	// One timer serves both the heartbeat and the maximum duration: it
	// fires at the earlier of the two; writing events only records the time
	// (no timer operation per event). It is made only when the loop waits.
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	buf := make([]*hub.Event, 0, pollBatch)
	ctx := context.Background()
	for {
		evs, err := c.polled, c.err
		c.polled, c.err = nil, nil
		if evs == nil && err == nil {
			evs, err = st.reader.Poll(ctx, buf[:0], pollBatch)
		}
		if len(evs) > 0 {
			for _, e := range evs {
				if err := st.enc.Event(w, &e.Encoded); err != nil {
					return writeFailed(err)
				}
			}
			if err := w.Flush(); err != nil {
				return writeFailed(err)
			}
			s.metrics.events.Add(float64(len(evs)))
			c.lastWrite = time.Now()
		}
		switch {
		case errors.Is(err, hub.ErrTooSlow):
			return reasonTooSlow
		case err != nil:
			s.writeError(w, st, err)
			return reasonFeedFailed
		}
		// Leave promptly when asked, even while events keep coming.
		select {
		case <-s.stopping:
			return reasonShutdown
		default:
		}
		if c.ended(time.Now()) {
			return reasonMaxDuration
		}
		if len(evs) > 0 || st.reader.Wait() == nil {
			continue
		}
		if s.park(c) {
			return ""
		}
		if timer == nil {
			timer = time.NewTimer(s.due(c, time.Now()))
		}
		select {
		case <-st.reader.Wait():
		case now := <-timer.C:
			if c.ended(now) {
				return reasonMaxDuration
			}
			if s.heartbeatDue(c, now) {
				if err := flushed(w, st.enc.Heartbeat(w)); err != nil {
					return writeFailed(err)
				}
				c.lastWrite = now
			}
			timer.Reset(s.due(c, time.Now()))
		case <-s.stopping:
			return reasonShutdown
		}
	}
}

// writeError sends EventStreams' error event before the stream ends:
// clients then reconnect with their last id.
func (s *Server) writeError(w *chunked.Conn, st *streamState, err error) {
	s.log.Warn("stream ended by an error", slog.String("error", err.Error()))
	if st.enc.Error(w) == nil {
		_ = w.Flush()
	}
}
