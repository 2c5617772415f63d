// Command serve answers the EventStreams HTTP API (DESIGN §4) from the
// JetStream stream that ingest writes. It is stateless: any number of
// replicas can run, and a client resumes exactly on any of them. It is
// configured only by environment variables (README "Configuration").
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/wikimedia-eventstreams-go/eventstreams/serve/api"
	"github.com/wikimedia-eventstreams-go/eventstreams/serve/hub"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/settings"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run())
}

// run returns the exit status: 0 after a clean shutdown, 1 on a failure,
// 2 on a configuration error (one line on stderr naming the variable).
func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var cfg config
	if err := settings.Process(&cfg); err != nil {
		return configError(err)
	}
	if err := cfg.validate(); err != nil {
		return configError(err)
	}
	cat, err := cfg.Catalog(ctx)
	if err != nil {
		return configError(err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return configError(&settings.VarError{Var: "SERVE_ADDR", Err: err})
	}
	level, _ := settings.ParseLevel(cfg.LogLevel)
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	log.Info("serve starting", slog.Any("config", cfg), slog.Int("streams", len(cat.Streams())))
	nc, err := cfg.Connect("eventstreams-serve", log)
	if err != nil {
		return configError(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		log.Error("jetstream", slog.String("error", err.Error()))
		return 1
	}

	var tokens []string
	for _, s := range cat.Streams() {
		tokens = append(tokens, layout.StreamToken(s.Name))
	}
	h, err := hub.New(js, hub.Options{Layout: cfg.Layout(), Streams: tokens, RingSize: cfg.RingSize,
		MaxCatchUps: cfg.MaxCatchUps, Logger: log})
	if err != nil {
		log.Error("serve cannot start", slog.String("error", err.Error()))
		return 1
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv, err := api.New(api.Options{
		Layout: cfg.Layout(), Catalog: cat, Heartbeat: cfg.Heartbeat, MaxDuration: cfg.MaxDuration,
		Retry: cfg.Retry, ClientIPLimit: cfg.ClientIPLimit, TrustClientIPHeader: cfg.TrustClientIPHeader,
		WriteTimeout: cfg.WriteTimeout, MaxClients: cfg.MaxClients, Version: version,
	}, h, log, reg)
	if err != nil {
		log.Error("serve cannot start", slog.String("error", err.Error()))
		return 1
	}

	hubCtx, stopHub := context.WithCancel(context.Background())
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); _ = h.Run(hubCtx) }()

	app := srv.App()
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	log.Info("serving", slog.String("addr", ln.Addr().String()))

	status := 0
	select {
	case <-ctx.Done():
	case err := <-served:
		log.Error("server stopped", slog.String("error", err.Error()))
		status = 1
	}

	// Shutdown order: new stream requests are refused and every open stream
	// ends cleanly (clients reconnect to another replica and resume from
	// their ids); then the server stops accepting and closes idle
	// connections; then the live feed and NATS.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Stop(shutdownCtx); err != nil {
		log.Warn("streams still open at the shutdown timeout", slog.String("error", err.Error()))
	}
	if err := app.ShutdownWithContext(shutdownCtx); err != nil {
		log.Warn("server shutdown", slog.String("error", err.Error()))
	}
	stopHub()
	<-hubDone
	_ = nc.Drain()
	log.Info("serve stopped")
	return status
}

func configError(err error) int {
	fmt.Fprintln(os.Stderr, "serve: configuration:", err)
	return 2
}
