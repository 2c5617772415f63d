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

// run is the stream loop of one client, on its hijacked connection. It
// selects on four things: the next events, a heartbeat due, the maximum
// duration, and the server stopping; a client that left is noticed when a
// write fails.
func (s *Server) run(conn net.Conn, st *streamState) {
	defer s.streams.Done()
	defer s.open.Add(-1)
	defer st.releaseIP()
	defer st.reader.Close()
	for _, n := range st.names {
		s.metrics.connected.WithLabelValues(n).Inc()
	}
	defer func() {
		for _, n := range st.names {
			s.metrics.connected.WithLabelValues(n).Dec()
		}
	}()
	sorted := slices.Clone(st.names)
	slices.Sort(sorted)
	s.metrics.connections.WithLabelValues(strings.Join(sorted, ",")).Inc()

	limitSendBuffer(conn)
	w := chunked.New(conn, s.opts.WriteTimeout)
	began := time.Now()
	reason := s.loop(w, st)
	s.metrics.disconnects.WithLabelValues(reason).Inc()
	s.metrics.bytes.Add(float64(w.Written()))
	_ = w.Close()
	s.log.LogAttrs(context.Background(), slog.LevelInfo, "stream ended",
		slog.String("streams", strings.Join(st.names, ",")), slog.String("reason", reason),
		slog.Duration("duration", time.Since(began)), slog.Int64("bytes", w.Written()), slog.String("client_ip", st.ip))
}

// sendBuffer caps the kernel's send buffer of a stream connection (Linux
// doubles it for its bookkeeping). Left alone, the kernel grows it to
// megabytes (tcp_wmem), and a client that stops reading would have that
// much queued for it before its writes block and SERVE_WRITE_TIMEOUT drops
// it. 256 KiB still moves about 2.5 MB/s to a client 100 ms away.
const sendBuffer = 256 << 10

// limitSendBuffer applies sendBuffer to the TCP connection under conn.
func limitSendBuffer(conn net.Conn) {
	if u, ok := conn.(interface{ UnsafeConn() net.Conn }); ok { // fasthttp's hijacked conn
		conn = u.UnsafeConn()
	}
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

// loop writes the stream until it ends, and returns why it ended (a
// disconnect reason).
func (s *Server) loop(w *chunked.Conn, st *streamState) string {
	headers := append([][2]string{
		{"Content-Type", st.enc.ContentType()},
		{"Cache-Control", "no-cache"},
		{"Connection", "keep-alive"},
	}, securityHeaders...)
	if err := w.WriteHeader(200, "OK", headers); err != nil {
		return writeFailed(err)
	}
	if err := flushed(w, st.enc.Open(w, s.opts.Retry)); err != nil {
		return writeFailed(err)
	}

	// One timer serves both the heartbeat and the maximum duration: it
	// fires at the earlier of the two; writing events only records the time
	// (no timer operation per event).
	began := time.Now()
	lastWrite := began
	var end time.Time
	if s.opts.MaxDuration > 0 {
		end = began.Add(s.opts.MaxDuration)
	}
	due := func(now time.Time) time.Duration {
		d := lastWrite.Add(s.opts.Heartbeat).Sub(now)
		if !end.IsZero() {
			d = min(d, end.Sub(now))
		}
		return max(d, 0)
	}
	timer := time.NewTimer(due(began))
	defer timer.Stop()
	buf := make([]*hub.Event, 0, pollBatch)
	ctx := context.Background()
	for {
		evs, err := st.reader.Poll(ctx, buf[:0], pollBatch)
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
			lastWrite = time.Now()
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
		if !end.IsZero() && !time.Now().Before(end) {
			return reasonMaxDuration
		}
		if len(evs) > 0 || st.reader.Wait() == nil {
			continue
		}
		select {
		case <-st.reader.Wait():
		case now := <-timer.C:
			if !end.IsZero() && !now.Before(end) {
				return reasonMaxDuration
			}
			if now.Sub(lastWrite) >= s.opts.Heartbeat {
				if err := flushed(w, st.enc.Heartbeat(w)); err != nil {
					return writeFailed(err)
				}
				lastWrite = now
			}
			timer.Reset(due(time.Now()))
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
