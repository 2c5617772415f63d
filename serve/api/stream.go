package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/wikimedia-eventstreams-go/eventstreams/serve/filter"
	"github.com/wikimedia-eventstreams-go/eventstreams/serve/hub"
	"github.com/wikimedia-eventstreams-go/eventstreams/serve/wire"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/catalog"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/position"
)

// queryParams are the query parameters a stream request may carry: where
// it starts, and the filters.
var queryParams = append([]string{"since", "seq"}, filter.Names()...)

// pollBatch is how many events a stream loop takes from its reader at once.
const pollBatch = 64

// stream validates a stream request, in EventStreams' order (client IP
// limit, stream names, since, then the resume position), opens the
// client's reader, and hands the connection to the stream loop.
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
	// Strings kept for the stream are copies: the request's buffers are
	// reused once its stream is parked (server.go).
	ip := strings.Clone(s.clientIP(c))
	releaseIP := func() {}
	if s.opts.IPLimiter != nil {
		if ip == "" {
			return s.fail(c, fiber.StatusBadRequest, "bad_request", "Missing Required X-Client-IP Header", "X-Client-IP is a required request header")
		}
		release, ok := s.opts.IPLimiter.Acquire(c.UserContext(), ip)
		if !ok {
			s.metrics.ipRejections.Inc()
			return s.fail(c, fiber.StatusTooManyRequests, "too_many_requests", "Too Many Concurrent Connections From Your Client IP",
				"Your HTTP client is likely opening too many concurrent connections.")
		}
		releaseIP = release
	}
	defer func() {
		if !handedOver {
			releaseIP()
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
	tokens := make([]string, len(streams))
	for i, st := range streams {
		tokens[i] = st.Token
	}
	f, err := filter.Parse(tokens, func(name string) string { return strings.Clone(c.Query(name)) }, s.opts.MaxFilterValues)
	if err != nil {
		return s.fail(c, fiber.StatusBadRequest, "bad_request", "Invalid Filter", err.Error())
	}

	// The start position depends on the feed's epoch and end: wait for a
	// feed that is restarting (clients reconnecting after a NATS blip)
	// rather than refuse them.
	if !s.hub.Ready() && !s.waitReady() {
		return s.fail(c, fiber.StatusServiceUnavailable, "unavailable", "Service Unavailable", "The live feed is starting; retry shortly.")
	}
	pos, bad := s.position(c)
	if bad != nil {
		return bad(c)
	}

	enc := wire.For(c.Get(fiber.HeaderAccept))
	if c.Method() == fiber.MethodHead { // the answer a GET would get, without its endless body
		if _, err := s.hub.Resolve(c.UserContext(), &f, pos); err != nil {
			return s.openFailed(c, err)
		}
		c.Set(fiber.HeaderContentType, enc.ContentType())
		c.Set(fiber.HeaderCacheControl, "no-cache")
		c.Status(fiber.StatusOK)
		return nil
	}

	opened := time.Now()
	reader, err := s.hub.Open(c.UserContext(), f, pos)
	s.metrics.openSeconds.Observe(time.Since(opened).Seconds())
	if err != nil {
		return s.openFailed(c, err)
	}

	names := make([]string, len(streams))
	for i, st := range streams {
		names[i] = st.Name
	}
	st := &streamState{reader: reader, ip: clip(ip, 64), releaseIP: releaseIP, names: names, enc: enc} // ip: for the log
	handedOver = true
	s.streams.Add(1)
	c.Context().HijackSetNoResponse(true)
	c.Context().Hijack(func(conn net.Conn) { s.run(conn, st) })
	return nil
}

// openFailed answers a request whose reader could not be opened.
func (s *Server) openFailed(c *fiber.Ctx, err error) error {
	var beyond *hub.BeyondEndError
	switch {
	case errors.As(err, &beyond) && beyond.FromLastEventID:
		return s.fail(c, fiber.StatusBadRequest, "invalid_last_event_id", "Invalid Last-Event-ID", err.Error())
	case errors.As(err, &beyond):
		return s.fail(c, fiber.StatusBadRequest, "invalid_seq", "Invalid seq", err.Error())
	case errors.Is(err, hub.ErrNotReady):
		return s.fail(c, fiber.StatusServiceUnavailable, "unavailable", "Service Unavailable", "The live feed is starting; retry shortly.")
	case errors.Is(err, hub.ErrBusy):
		c.Set(fiber.HeaderRetryAfter, "5")
		return s.fail(c, fiber.StatusServiceUnavailable, "unavailable", "Too Many Clients Catching Up",
			"Too many clients are replaying history at once; retry shortly.")
	}
	s.log.Error("opening a reader failed", slog.String("error", err.Error()))
	return s.fail(c, fiber.StatusServiceUnavailable, "unavailable", "Service Unavailable", "The event store is not reachable; retry shortly.")
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

// position parses where the client asked to start: since (validated even
// when Last-Event-ID wins, as EventStreams does), Last-Event-ID, seq. The
// hub decides what they mean (Hub.Resolve).
func (s *Server) position(c *fiber.Ctx) (hub.Position, func(*fiber.Ctx) error) {
	badRequest := func(typ, title, detail string) func(*fiber.Ctx) error {
		return func(c *fiber.Ctx) error { return s.fail(c, fiber.StatusBadRequest, typ, title, detail) }
	}
	var p hub.Position
	if raw := c.Query("since"); raw != "" {
		ms, err := position.ParseSince(raw)
		if err != nil {
			return p, badRequest("invalid_timestamp", "Invalid timestamp", err.Error())
		}
		p.Since, p.HasSince = ms, true
	}
	if h := string(c.Request().Header.Peek("Last-Event-ID")); h != "" {
		r, err := position.ParseLastEventID(h)
		if err != nil {
			return p, badRequest("invalid_last_event_id", "Invalid Last-Event-ID", err.Error())
		}
		p.LastEventID = r
		if r.Kind != position.KindNone {
			return p, nil // seq is not even parsed
		}
	}
	if raw := c.Query("seq"); raw != "" {
		seq, err := position.ParseSeq(raw)
		if err != nil {
			return p, badRequest("invalid_seq", "Invalid seq", err.Error())
		}
		p.Seq = seq
	}
	return p, nil
}
