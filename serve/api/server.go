package api

import (
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// How long a connection may take to send a request. A hijacked stream
// connection is bound by none of them (fasthttp clears its deadlines when
// it hands it over, and the stream loop bounds its writes with
// SERVE_WRITE_TIMEOUT); Options.IdleTimeout and Options.RequestTimeout
// override them (tests).
const (
	// DefaultIdleTimeout closes a keep-alive connection on which no next
	// request begins within it.
	DefaultIdleTimeout = 60 * time.Second
	// DefaultRequestTimeout closes a new connection that sends nothing
	// within it, and bounds reading each request: its head and its body
	// must have arrived within it of the request's first byte, else the
	// request gets a 408 and the connection is closed. A new connection
	// thus has a whole request in at most twice this.
	DefaultRequestTimeout = 10 * time.Second
)

// allowedMethods are the methods serve answers (routes other than a
// stream's answer GET, and a method Fiber knows but no route takes gets a
// 404).
const allowedMethods = "GET, HEAD, OPTIONS"

func (s *Server) idleTimeout() time.Duration {
	if s.opts.IdleTimeout > 0 {
		return s.opts.IdleTimeout
	}
	return DefaultIdleTimeout
}

func (s *Server) requestTimeout() time.Duration {
	if s.opts.RequestTimeout > 0 {
		return s.opts.RequestTimeout
	}
	return DefaultRequestTimeout
}

// configureServer adds to the fasthttp server under app what Fiber's
// configuration cannot express.
//
// A new connection's first byte gets a deadline: fasthttp (v1.52) applies
// ReadTimeout from a request's first byte on, and IdleTimeout only between
// requests, so with ReduceMemoryUsage a connection that never sends a byte
// would wait for its first one forever (acquireByteReader reads it with no
// deadline).
//
// A method Fiber does not know (anything but its nine, e.g. PROPFIND or a
// lowercase get) gets a JSON 405 with Allow: Fiber's handler answers it
// with a text/plain 400 before any route or the error handler runs.
//
// A hijacked connection is closed by its stream, not by fasthttp: the
// hijack handler returns as soon as its stream is parked with a writer,
// which lets fasthttp free the request's context and the goroutine.
func (s *Server) configureServer(app *fiber.App) {
	srv := app.Server()
	srv.KeepHijackedConns = true
	first := s.requestTimeout()
	srv.ConnState = func(c net.Conn, state fasthttp.ConnState) {
		if state == fasthttp.StateNew {
			_ = c.SetReadDeadline(time.Now().Add(first))
		}
	}
	routes := srv.Handler
	srv.Handler = func(ctx *fasthttp.RequestCtx) {
		if !knownMethod(ctx.Request.Header.Method()) {
			s.unknownMethod(app, ctx)
			return
		}
		routes(ctx)
	}
}

// knownMethod reports whether Fiber routes method (fiber.DefaultMethods,
// as App leaves Config.RequestMethods unset).
func knownMethod(method []byte) bool {
	for _, m := range fiber.DefaultMethods {
		if string(method) == m {
			return true
		}
	}
	return false
}

// unknownMethod answers a request whose method Fiber does not know, with
// the headers every response has.
func (s *Server) unknownMethod(app *fiber.App, ctx *fasthttp.RequestCtx) {
	c := app.AcquireCtx(ctx)
	defer app.ReleaseCtx(c)
	for _, h := range securityHeaders {
		c.Set(h[0], h[1])
	}
	c.Set(fiber.HeaderAllow, allowedMethods)
	_ = s.fail(c, fiber.StatusMethodNotAllowed, "method_not_allowed", "Method Not Allowed",
		"This method is not served; the methods served are "+allowedMethods+".")
}
