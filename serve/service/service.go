// Package service is serve's one entry point: Run wires the live feed
// (package hub) and the HTTP API (package api) from a Config, serves until
// its context ends, and shuts down in order. serve's main and the devstack
// both call it; main only reads the configuration first.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/wikimedia-eventstreams-go/eventstreams/serve/api"
	"github.com/wikimedia-eventstreams-go/eventstreams/serve/hub"
	"github.com/wikimedia-eventstreams-go/eventstreams/serve/iplimit"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/settings"
)

// Deps are what Run takes beside the configuration. Only Logger is
// required.
type Deps struct {
	Logger *slog.Logger
	// Registry receives serve's metrics, and /metrics serves it. When nil,
	// Run makes one with the Go and process collectors.
	Registry *prometheus.Registry
	// Listener is where the API is served. When nil, Run listens on
	// Config.Addr.
	Listener net.Listener
	// NATS is the connection to read JetStream on. When nil, Run connects
	// as the configuration says, and drains the connection at the end.
	NATS *nats.Conn
	// Version is what /_info and /?spec show ("dev" when empty).
	Version string
	// Ready, when set, is called once the live feed runs and the API
	// listens: stream requests can be served from then on.
	Ready func(addr net.Addr)
}

// Run serves the API until ctx ends, then shuts down: new stream requests
// are refused and every open stream ends cleanly (clients reconnect to
// another replica and resume from their ids); the server stops accepting
// and closes idle connections; then the live feed and NATS stop. A
// configuration problem found on the way (the catalog, the listen address,
// NATS_URL) is a *settings.VarError naming the variable.
func Run(ctx context.Context, cfg Config, deps Deps) error {
	log := deps.Logger
	if log == nil {
		return errors.New("serve: a logger is required")
	}
	if deps.Version == "" {
		deps.Version = "dev"
	}
	cat, err := cfg.Catalog(ctx)
	if err != nil {
		return err
	}
	ln := deps.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return &settings.VarError{Var: "SERVE_ADDR", Err: err}
		}
	}
	defer ln.Close()
	log.Info("serve starting", slog.Any("config", cfg), slog.Int("streams", len(cat.Streams())))
	nc := deps.NATS
	if nc == nil {
		if nc, err = cfg.Connect("eventstreams-serve", log); err != nil {
			return err
		}
		defer func() { _ = nc.Drain() }()
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("serve: jetstream: %w", err)
	}
	h, err := hub.New(js, hub.Options{Layout: cfg.Layout(), Catalog: cat, RingSize: cfg.RingSize,
		MaxCatchUps: cfg.MaxCatchUps, Logger: log})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	reg := deps.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	opts := api.Options{
		Layout: cfg.Layout(), Catalog: cat, Heartbeat: cfg.Heartbeat, MaxDuration: cfg.MaxDuration,
		Retry: cfg.Retry, ClientIPLimit: cfg.ClientIPLimit, TrustClientIPHeader: cfg.TrustClientIPHeader,
		WriteTimeout: cfg.WriteTimeout, MaxClients: cfg.MaxClients, Version: deps.Version,
	}
	if cfg.ClientIPLimit > 0 && cfg.ClientIPLimitScope == ScopeCluster {
		lim, err := iplimit.NewCluster(js, iplimit.ClusterOptions{Limit: cfg.ClientIPLimit, Stream: cfg.Stream,
			TTL: cfg.ClientIPLimitTTL, Logger: log, Registerer: reg})
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		// Stopped at return, after Stop below ended the streams, which
		// deleted their slots; NATS is drained after it.
		limCtx, stopLim := context.WithCancel(context.Background())
		limDone := make(chan struct{})
		go func() { defer close(limDone); _ = lim.Run(limCtx) }()
		defer func() { stopLim(); <-limDone }()
		opts.IPLimiter = lim
	}
	srv, err := api.New(opts, h, log, reg)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}

	hubCtx, stopHub := context.WithCancel(context.Background())
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); _ = h.Run(hubCtx) }()
	defer func() { stopHub(); <-hubDone }()

	app := srv.App()
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	log.Info("serving", slog.String("addr", ln.Addr().String()))
	if deps.Ready != nil {
		go func() {
			for !h.WaitReady(ctx) { // bounded waits, until the feed runs or ctx ends
				if ctx.Err() != nil {
					return
				}
			}
			deps.Ready(ln.Addr())
		}()
	}

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-served:
		runErr = fmt.Errorf("serve: server stopped: %w", err)
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Stop(shutdownCtx); err != nil {
		log.Warn("streams still open at the shutdown timeout", slog.String("error", err.Error()))
	}
	if err := app.ShutdownWithContext(shutdownCtx); err != nil {
		log.Warn("server shutdown", slog.String("error", err.Error()))
	}
	return runErr
}
