package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/wikimedia-eventstreams-go/eventstreams/serve/hub"
	"github.com/wikimedia-eventstreams-go/eventstreams/serve/sse"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/catalog"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/position"
)

// queryParams are the query parameters a stream request may carry.
var queryParams = []string{"since", "seq", "wiki", "type", "namespace", "bot", "domain"}

// pollBatch is how many events a stream loop takes from its reader at once.
const pollBatch = 64

// stream validates a stream request, in EventStreams' order (reference
// §2.6: client IP limit, stream names, since, then the resume position),
// opens the client's reader, and hands the connection to the stream loop.
func (s *Server) stream(c *fiber.Ctx) error {
	select {
	case <-s.stopping:
		return s.fail(c, fiber.StatusServiceUnavailable, "unavailable", "Service Unavailable", "This server is shutting down; retry.")
	default:
	}
	if s.open.Add(1) > int64(s.opts.MaxClients) {
		s.open.Add(-1)
		return s.fail(c, fiber.StatusServiceUnavailable, "unavailable", "Too Many Clients",
			"This server holds as many streams as it may; retry shortly or elsewhere.")
	}
	handedOver := false
	defer func() {
		if !handedOver {
			s.open.Add(-1)
		}
	}()
	ip := s.clientIP(c)
	if s.opts.ClientIPLimit > 0 {
		if ip == "" {
			return s.fail(c, fiber.StatusBadRequest, "bad_request", "Missing Required X-Client-IP Header", "X-Client-IP is a required request header")
		}
		if !s.acquireIP(ip) {
			return s.fail(c, fiber.StatusTooManyRequests, "too_many_requests", "Too Many Concurrent Connections From Your Client IP",
				"Your HTTP client is likely opening too many concurrent connections.")
		}
	}
	defer func() {
		if !handedOver {
			s.releaseIP(ip)
		}
	}()

	streams, bad := s.resolveStreams(c.Params("streams"))
	if bad != nil {
		return bad(c)
	}
	var unknown []string
	c.Request().URI().QueryArgs().VisitAll(func(k, _ []byte) {
		if !slices.Contains(queryParams, string(k)) && len(unknown) < 5 {
			unknown = append(unknown, clip(string(k), 64))
		}
	})
	if len(unknown) > 0 {
		return s.fail(c, fiber.StatusBadRequest, "bad_request", "Unknown Query Parameter",
			"Unknown query parameters: "+strings.Join(unknown, ", ")+" (known: "+strings.Join(queryParams, ", ")+")")
	}
	filter, bad := s.filter(streams, c)
	if bad != nil {
		return bad(c)
	}

	// The start position depends on the feed's epoch and end: wait for a
	// feed that is restarting (clients reconnecting after a NATS blip)
	// rather than refuse them.
	if !s.hub.Ready() && !s.waitReady() {
		return s.fail(c, fiber.StatusServiceUnavailable, "unavailable", "Service Unavailable", "The live feed is starting; retry shortly.")
	}
	start, bad := s.start(c, streams)
	if bad != nil {
		return bad(c)
	}

	ndjson := strings.HasPrefix(c.Get(fiber.HeaderAccept), "application/json")
	if c.Method() == fiber.MethodHead { // the answer a GET would get, without its endless body
		c.Set(fiber.HeaderContentType, contentType(ndjson, c.Get(fiber.HeaderAccept) == ""))
		c.Set(fiber.HeaderCacheControl, "no-cache")
		c.Status(fiber.StatusOK)
		return nil
	}

	opened := time.Now()
	reader, err := s.hub.Open(c.UserContext(), filter, start)
	s.metrics.openSeconds.Observe(time.Since(opened).Seconds())
	if err != nil {
		if errors.Is(err, hub.ErrNotReady) {
			return s.fail(c, fiber.StatusServiceUnavailable, "unavailable", "Service Unavailable", "The live feed is starting; retry shortly.")
		}
		if errors.Is(err, hub.ErrBusy) {
			c.Set(fiber.HeaderRetryAfter, "5")
			return s.fail(c, fiber.StatusServiceUnavailable, "unavailable", "Too Many Clients Catching Up",
				"Too many clients are replaying history at once; retry shortly.")
		}
		s.log.Error("opening a reader failed", slog.String("error", err.Error()))
		return s.fail(c, fiber.StatusServiceUnavailable, "unavailable", "Service Unavailable", "The event store is not reachable; retry shortly.")
	}

	names := make([]string, len(streams))
	for i, st := range streams {
		names[i] = st.Name
	}
	st := &streamState{
		reader: reader, ip: ip, names: names,
		ndjson:   ndjson,
		noAccept: c.Get(fiber.HeaderAccept) == "",
	}
	handedOver = true
	s.streams.Add(1)
	c.Context().HijackSetNoResponse(true)
	c.Context().Hijack(func(conn net.Conn) { s.run(conn, st) })
	return nil
}

// waitReady waits for the live feed (hub.WaitReady), unless the server
// stops meanwhile.
func (s *Server) waitReady() bool {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	return s.hub.WaitReady(ctx)
}

// resolveStreams maps the {streams} path element to allowed streams.
func (s *Server) resolveStreams(raw string) ([]*catalog.Stream, func(*fiber.Ctx) error) {
	if dec, err := url.PathUnescape(raw); err == nil {
		raw = dec
	}
	names := strings.Split(raw, ",")
	if len(names) > s.opts.MaxStreams {
		return nil, func(c *fiber.Ctx) error {
			return s.fail(c, fiber.StatusBadRequest, "bad_request", "Too Many Streams",
				fmt.Sprintf("At most %d streams may be requested at once; %d were.", s.opts.MaxStreams, len(names)))
		}
	}
	streams, err := s.opts.Catalog.Resolve(names)
	var unknown *catalog.UnknownStreamsError
	if errors.As(err, &unknown) {
		shown := make([]string, len(unknown.Names))
		for i, n := range unknown.Names {
			shown[i] = clip(n, 100)
			if n == "" {
				shown[i] = "(empty name)"
			}
		}
		return nil, func(c *fiber.Ctx) error {
			return s.fail(c, fiber.StatusBadRequest, "not_found", "Stream Not Found", "Invalid streams: "+strings.Join(shown, ","))
		}
	}
	return streams, nil
}

// filter builds the reader's filter: the streams, and the filters of the
// query (DESIGN §4): wiki (by subject), type, namespace, bot and domain
// (by the event's members).
func (s *Server) filter(streams []*catalog.Stream, c *fiber.Ctx) (hub.Filter, func(*fiber.Ctx) error) {
	var f hub.Filter
	for _, st := range streams {
		f.Streams = append(f.Streams, layout.StreamToken(st.Name))
	}
	var bad string
	values := func(param, what string, ok func(string) bool) []string {
		raw := c.Query(param)
		if raw == "" || bad != "" {
			return nil
		}
		var out []string
		for _, v := range strings.Split(raw, ",") {
			v = strings.TrimSpace(v)
			if !ok(v) {
				bad = fmt.Sprintf("%s: %q is not %s", param, clip(v, 64), what)
				return nil
			}
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
		if len(out) > s.opts.MaxFilterValues {
			bad = fmt.Sprintf("%s: at most %d values may be given", param, s.opts.MaxFilterValues)
			return nil
		}
		return out
	}
	token := func(v string) bool { return v != "" && len(v) <= 64 && layout.WikiToken(v) == v }
	f.Wikis = values("wiki", "a wiki id (letters, digits, '-' and '_', at most 64)", token)
	f.Types = values("type", "an event type (letters, digits, '-' and '_', at most 64)", token)
	for _, n := range values("namespace", "a namespace number", func(n string) bool { _, err := strconv.ParseInt(n, 10, 64); return err == nil }) {
		ns, _ := strconv.ParseInt(n, 10, 64)
		f.Namespaces = append(f.Namespaces, ns)
	}
	f.Domains = values("domain", "a domain (letters, digits, '-' and '.')", validDomain)
	switch raw := c.Query("bot"); {
	case raw == "" || bad != "":
	case raw == "true" || raw == "false":
		b := raw == "true"
		f.Bot = &b
	default:
		bad = fmt.Sprintf("bot: %q is not true or false", clip(raw, 64))
	}
	if bad != "" {
		return f, func(c *fiber.Ctx) error {
			return s.fail(c, fiber.StatusBadRequest, "bad_request", "Invalid Filter", bad)
		}
	}
	return f, nil
}

// validDomain accepts a host name: letters, digits, '-' and '.', at most
// 253 bytes (meta.domain, e.g. en.wikipedia.org).
func validDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for _, r := range d {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// start resolves where the client begins, in this precedence:
// Last-Event-ID, then ?seq, then ?since, else new events only. since is
// validated even when Last-Event-ID wins, as EventStreams does.
func (s *Server) start(c *fiber.Ctx, streams []*catalog.Stream) (hub.Start, func(*fiber.Ctx) error) {
	badRequest := func(typ, title, detail string) func(*fiber.Ctx) error {
		return func(c *fiber.Ctx) error { return s.fail(c, fiber.StatusBadRequest, typ, title, detail) }
	}
	var since int64
	hasSince := false
	if raw := c.Query("since"); raw != "" {
		ms, err := position.ParseSince(raw)
		if err != nil {
			return hub.Start{}, badRequest("invalid_timestamp", "Invalid timestamp", err.Error())
		}
		since, hasSince = ms, true
	}

	if h := string(c.Request().Header.Peek("Last-Event-ID")); h != "" {
		r, err := position.ParseLastEventID(h)
		if err != nil {
			return hub.Start{}, badRequest("invalid_last_event_id", "Invalid Last-Event-ID", err.Error())
		}
		switch r.Kind {
		case position.KindID:
			if r.ID.Epoch == s.hub.Epoch() {
				if s.beyondEnd(c.UserContext(), r.ID.Seq) {
					return hub.Start{}, badRequest("invalid_last_event_id", "Invalid Last-Event-ID",
						fmt.Sprintf("Last-Event-ID names sequence %d, which is beyond the end of the stream", r.ID.Seq))
				}
				return hub.Start{After: r.ID.Seq}, nil
			}
			ms, _ := r.EarliestTimestamp(nil) // another stream instance: resume by time
			return hub.Start{BySince: true, Since: ms}, nil
		case position.KindKafka:
			topics := map[string]bool{}
			for _, st := range streams {
				for _, t := range st.Topics {
					topics[t] = true
				}
			}
			if ms, ok := r.EarliestTimestamp(func(t string) bool { return topics[t] }); ok {
				return hub.Start{BySince: true, Since: ms}, nil
			}
			return hub.Start{Head: true}, nil
		}
	}
	if raw := c.Query("seq"); raw != "" {
		seq, err := position.ParseSeq(raw)
		if err != nil {
			return hub.Start{}, badRequest("invalid_seq", "Invalid seq", err.Error())
		}
		if s.beyondEnd(c.UserContext(), seq-1) {
			return hub.Start{}, badRequest("invalid_seq", "Invalid seq",
				fmt.Sprintf("seq %d is beyond the end of the stream", seq))
		}
		return hub.Start{After: seq - 1}, nil
	}
	if hasSince {
		return hub.Start{BySince: true, Since: since}, nil
	}
	return hub.Start{Head: true}, nil
}

// beyondEnd reports whether seq is past the stream's last sequence. The
// live feed's last is usually enough; only a seq beyond it (an id from a
// replica slightly ahead) costs a stream lookup.
func (s *Server) beyondEnd(ctx context.Context, seq uint64) bool {
	if seq <= s.hub.Last() {
		return false
	}
	st, err := s.hub.Stream(ctx)
	if err != nil {
		return false
	}
	info, err := st.Info(ctx)
	if err != nil {
		return false
	}
	return seq > info.State.LastSeq
}

// streamState is what the stream loop needs from the request.
type streamState struct {
	reader   *hub.Reader
	ip       string
	names    []string
	ndjson   bool
	noAccept bool
}

// run is the stream loop of one client, on its hijacked connection. It
// selects on four things: the next events, a heartbeat due, the maximum
// duration, and the server stopping; a client that left is noticed when a
// write fails.
func (s *Server) run(conn net.Conn, st *streamState) {
	defer s.streams.Done()
	defer s.open.Add(-1)
	defer s.releaseIP(st.ip)
	defer st.reader.Close()
	for _, n := range st.names {
		s.metrics.connected.WithLabelValues(n).Inc()
		defer s.metrics.connected.WithLabelValues(n).Dec()
	}
	sorted := slices.Clone(st.names)
	slices.Sort(sorted)
	s.metrics.connections.WithLabelValues(strings.Join(sorted, ",")).Inc()

	limitSendBuffer(conn)
	w := sse.New(conn, s.opts.WriteTimeout)
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

// contentType is the stream's Content-Type: EventStreams omits the charset
// when the request had no Accept header.
func contentType(ndjson, noAccept bool) string {
	switch {
	case ndjson:
		return "application/json; charset=utf-8"
	case noAccept:
		return "text/event-stream"
	}
	return "text/event-stream; charset=utf-8"
}

func (s *Server) loop(w *sse.Conn, st *streamState) string {
	headers := append([][2]string{
		{"Content-Type", contentType(st.ndjson, st.noAccept)},
		{"Cache-Control", "no-cache"},
		{"Connection", "keep-alive"},
	}, securityHeaders...)
	if w.WriteHeader(200, "OK", headers) != nil {
		return reasonClient
	}
	if st.ndjson {
		_ = w.AppendString("\n")
	} else {
		_ = w.AppendString(":ok\n\n")
		_ = w.AppendString("retry: " + itoa(s.opts.Retry.Milliseconds()) + "\n\n")
	}
	if w.Flush() != nil {
		return reasonClient
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
	timer := time.NewTimer(s.opts.Heartbeat)
	defer timer.Stop()
	buf := make([]*hub.Event, 0, pollBatch)
	ctx := context.Background()
	for {
		evs, err := st.reader.Poll(ctx, buf[:0], pollBatch)
		if len(evs) > 0 {
			for _, e := range evs {
				var werr error
				if st.ndjson {
					werr = w.Append(e.Line)
					if werr == nil {
						werr = w.AppendString("\n")
					}
				} else {
					werr = w.Append(e.Frame)
				}
				if werr != nil {
					return reasonClient
				}
			}
			if w.Flush() != nil {
				return reasonClient
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
				if st.ndjson {
					_ = w.AppendString("\n")
				} else {
					_ = w.AppendString(":\n\n")
				}
				if w.Flush() != nil {
					return reasonClient
				}
				lastWrite = now
			}
			timer.Reset(due(time.Now()))
		case <-s.stopping:
			return reasonShutdown
		}
	}
}

// writeError sends EventStreams' error event (reference §2.9) before the
// stream ends: clients then reconnect with their last id.
func (s *Server) writeError(w *sse.Conn, st *streamState, err error) {
	s.log.Warn("stream ended by an error", slog.String("error", err.Error()))
	body := `{"message":"The event feed was interrupted; reconnect to resume.","name":"FeedError","status":503}`
	if st.ndjson {
		_ = w.AppendString(body + "\n")
	} else {
		_ = w.AppendString("event: error\ndata: " + body + "\n\n")
	}
	_ = w.Flush()
}
