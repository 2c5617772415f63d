// Package api is serve's HTTP face: the EventStreams routes on Fiber
// (api.go), request validation with EventStreams' JSON error bodies
// (stream.go), and the stream loop that writes a client's events in the
// format it asked for (loop.go; the bytes are package wire's).
//
// A stream request is one worker: the handler validates it, resolves where
// it starts (Last-Event-ID, then seq, then since, else new events), opens a
// hub.Reader, and hijacks the connection; its loop then writes events
// until the client leaves, the maximum duration is reached, the reader
// fails, or the server stops. While it has nothing to write, a stream on
// the ring waits with one of a few shared writers instead of on a
// goroutine of its own (writers.go), and goes back to one whenever a
// write cannot complete at once. Fasthttp never cancels a request when the
// client leaves, so a departure is noticed by a failed write; heartbeats
// make sure one happens.
//
// A Server's methods are safe for concurrent use.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wikimedia-eventstreams-go/eventstreams/serve/hub"
	"github.com/wikimedia-eventstreams-go/eventstreams/serve/iplimit"
	"github.com/wikimedia-eventstreams-go/eventstreams/serve/ui"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/catalog"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// Options configure a Server.
type Options struct {
	Layout  layout.Layout
	Catalog *catalog.Catalog // the allowed streams
	// Heartbeat: a comment is sent when nothing was written for this long.
	Heartbeat time.Duration
	// MaxDuration ends a stream cleanly after this long (0: never).
	MaxDuration time.Duration
	// Retry is the reconnection delay suggested to clients.
	Retry time.Duration
	// ClientIPLimit bounds concurrent streams per client IP (0: none),
	// counted in this process unless IPLimiter is set.
	ClientIPLimit int
	// IPLimiter counts the streams of each client IP (package iplimit:
	// Process, or Cluster across serve processes); nil with ClientIPLimit
	// > 0: an iplimit.Process of that limit. With one, a request with no
	// client IP gets 400.
	IPLimiter IPLimiter
	// TrustClientIPHeader takes the client IP from X-Client-IP.
	TrustClientIPHeader bool
	// WriteTimeout drops a client that does not take a write within it.
	WriteTimeout time.Duration
	// MaxStreams bounds the streams named in one request (default 32).
	MaxStreams int
	// MaxFilterValues bounds the values of each filter (wiki, type,
	// namespace, domain; default 64).
	MaxFilterValues int
	// MaxClients bounds the streams open at once in this process; beyond
	// it a stream request gets 503 and should retry elsewhere.
	MaxClients int
	Version    string
	// IdleTimeout and RequestTimeout bound a connection that has not sent
	// a whole request (0: DefaultIdleTimeout, DefaultRequestTimeout).
	IdleTimeout    time.Duration
	RequestTimeout time.Duration
}

// Server serves the API.
type Server struct {
	opts    Options
	hub     *hub.Hub
	log     *slog.Logger
	metrics *metrics
	reg     *prometheus.Registry

	stopping chan struct{}
	stopOnce sync.Once
	streams  sync.WaitGroup // running stream loops
	writers  writers        // streams waiting for events (writers.go)
	open     atomic.Int64   // streams open (or being opened)

	spec []byte   // the OpenAPI document, built once
	ui   ui.Files // the web pages' files (pages.go)
}

// New builds a Server; its metrics are registered in reg, which /metrics
// serves.
func New(opts Options, h *hub.Hub, log *slog.Logger, reg *prometheus.Registry) (*Server, error) {
	if opts.Catalog == nil || h == nil || log == nil || reg == nil {
		return nil, errors.New("api: catalog, hub, logger and registry are required")
	}
	if opts.Heartbeat <= 0 || opts.Retry <= 0 || opts.WriteTimeout <= 0 || opts.MaxClients <= 0 ||
		opts.MaxDuration < 0 || opts.ClientIPLimit < 0 {
		return nil, errors.New("api: heartbeat, retry, write timeout and client limit must be positive, durations and limits not negative")
	}
	if opts.MaxStreams <= 0 {
		opts.MaxStreams = 32
	}
	if opts.MaxFilterValues <= 0 {
		opts.MaxFilterValues = 64
	}
	m, err := newMetrics(reg, h, opts.Catalog)
	if err != nil {
		return nil, err
	}
	srv := &Server{opts: opts, hub: h, log: log, metrics: m, reg: reg,
		stopping: make(chan struct{})}
	if opts.IPLimiter == nil && opts.ClientIPLimit > 0 {
		srv.opts.IPLimiter = iplimit.NewProcess(opts.ClientIPLimit)
	}
	if srv.spec, err = srv.buildSpec(); err != nil {
		return nil, fmt.Errorf("api: spec: %w", err)
	}
	if srv.ui, err = ui.Load(); err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	return srv, nil
}

// App returns the Fiber application with every route.
func (s *Server) App() *fiber.App {
	app := fiber.New(fiber.Config{
		DisableStartupMessage: true,
		ErrorHandler:          s.errorHandler,
		ReadBufferSize:        8 << 10,  // bounds the request line and headers
		BodyLimit:             16 << 10, // no route takes a body
		// Gives the read buffer back once a request is read: a stream
		// (hijacked) connection then holds none of it for its lifetime.
		// (fasthttp before v1.52 lost pipelined responses with it.)
		ReduceMemoryUsage: true,
		ReadTimeout:       s.requestTimeout(), // see server.go
		IdleTimeout:       s.idleTimeout(),
		AppName:           "eventstreams",
	})
	app.Use(s.commonHeaders)
	app.Get("/v2/stream/:streams", s.stream)
	app.Get("/v2/stream", func(c *fiber.Ctx) error { // also /v2/stream/: no stream named
		return s.fail(c, fiber.StatusBadRequest, "bad_request", "No Streams",
			"Name at least one stream, as in /v2/stream/recentchange or /v2/stream/recentchange,page-create; /v2/streams lists them.")
	})
	// CORS preflight, for fetch-based clients that send Last-Event-ID
	// themselves (EventSource does not need it): allowed headers are set
	// on every response by commonHeaders.
	app.Options("/*", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderAccessControlAllowMethods, "GET, HEAD, OPTIONS")
		c.Set(fiber.HeaderAccessControlMaxAge, "86400")
		return c.SendStatus(fiber.StatusNoContent)
	})
	app.Get("/v2/streams", s.streamList)
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	app.Get("/readyz", s.readyz)
	app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})))
	app.Get("/_info", s.info)
	app.Get("/_info/name", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"name": "eventstreams"}) })
	app.Get("/_info/version", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"version": s.opts.Version}) })
	app.All("/_info/home", func(c *fiber.Ctx) error { return c.Redirect(homepage, fiber.StatusMovedPermanently) })
	app.Get("/robots.txt", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, "text/plain")
		return c.SendString("User-agent: *\nDisallow: /\n")
	})
	app.Get("/", s.root) // also /?spec and /?doc (pages.go)
	app.Get(uiPrefix, s.uiFile)
	app.Get(uiPrefix+"/*", s.uiFile)
	app.Get("/rc", func(c *fiber.Ctx) error { return c.Redirect("/?doc", fiber.StatusMovedPermanently) })
	app.Use(func(c *fiber.Ctx) error {
		return s.fail(c, fiber.StatusNotFound, "not_found", "Not Found", "No route for "+c.Method()+" "+c.Path())
	})
	s.configureServer(app)
	return app
}

const homepage = "https://github.com/wikimedia-eventstreams-go/eventstreams"

// Stop ends every stream cleanly (clients reconnect elsewhere and resume)
// and waits for the stream loops to finish, or for ctx.
func (s *Server) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() { close(s.stopping) })
	done := make(chan struct{})
	go func() { s.streams.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// commonHeaders sets CORS and EventStreams' security headers on every
// response, with Last-Event-ID allowed.
func (s *Server) commonHeaders(c *fiber.Ctx) error {
	for _, h := range securityHeaders {
		c.Set(h[0], h[1])
	}
	return c.Next()
}

var securityHeaders = [][2]string{
	{"Access-Control-Allow-Origin", "*"},
	{"Access-Control-Allow-Headers", "accept, x-requested-with, content-type, last-event-id"},
	{"Access-Control-Expose-Headers", "etag"},
	{"X-XSS-Protection", "1; mode=block"},
	{"X-Content-Type-Options", "nosniff"},
	{"X-Frame-Options", "SAMEORIGIN"},
	{"Content-Security-Policy", csp},
	{"X-Content-Security-Policy", csp},
	{"X-WebKit-CSP", csp},
}

// csp is EventStreams' policy, with data: images allowed for Swagger UI
// (/?doc): scripts come only from this origin, and never inline.
const csp = "default-src 'self'; object-src 'none'; media-src *; img-src * data:; style-src *; frame-ancestors 'self'"

func (s *Server) readyz(c *fiber.Ctx) error {
	if !s.hub.Ready() {
		return s.fail(c, fiber.StatusServiceUnavailable, "unavailable", "Not Ready", "The live feed from JetStream is not running.")
	}
	return c.JSON(readiness{Status: "ready", Epoch: s.hub.Epoch(), Stream: s.hub.Status()})
}

// readiness is /readyz's body: the feed's epoch, and the stream as the
// feed last saw it (its NATS server, cluster placement, mirror lag).
type readiness struct {
	Status string     `json:"status"`
	Epoch  string     `json:"epoch"`
	Stream hub.Status `json:"stream"`
}

func (s *Server) info(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{
		"name":        "eventstreams",
		"version":     s.opts.Version,
		"description": "Wikimedia EventStreams: MediaWiki's event streams as Server-Sent Events, served from NATS JetStream",
		"home":        homepage,
	})
}

type streamEntry struct {
	Name        string   `json:"name"`
	Aliases     []string `json:"aliases"`
	Description string   `json:"description"`
	SchemaTitle string   `json:"schema_title,omitempty"`
	Topics      []string `json:"topics"`
}

func (s *Server) streamList(c *fiber.Ctx) error {
	var out []streamEntry
	for _, st := range s.opts.Catalog.Streams() {
		out = append(out, streamEntry{Name: st.Name, Aliases: st.Aliases, Description: st.Description,
			SchemaTitle: st.SchemaTitle, Topics: st.Topics})
	}
	return c.JSON(fiber.Map{"streams": out})
}

// clientIP is the address the per-IP limit counts.
func (s *Server) clientIP(c *fiber.Ctx) string {
	if s.opts.TrustClientIPHeader {
		return strings.TrimSpace(c.Get("X-Client-IP"))
	}
	return c.IP()
}

// IPLimiter counts the concurrent streams of each client IP.
type IPLimiter interface {
	// Acquire takes a slot for one stream of ip; ok is false when ip has
	// none free. release gives it back and may be called more than once.
	// It never fails otherwise: a limiter that cannot count admits.
	Acquire(ctx context.Context, ip string) (release func(), ok bool)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
