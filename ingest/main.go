// Command ingest mirrors the allowed EventStreams topics of every Kafka
// cluster into one JetStream stream, each event once. It is configured only
// by environment variables (DESIGN §5, README "Configuration"); see package
// mirror for how it works.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/mirror"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/settings"
)

func main() {
	os.Exit(run())
}

// run returns the exit status: 0 after a clean shutdown, 1 on a failure
// while running, 2 on a configuration error (one line on stderr naming the
// variable).
func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var cfg config
	if err := settings.Process(&cfg); err != nil {
		return configError(err)
	}
	opts, err := cfg.options(ctx)
	if err != nil {
		return configError(err)
	}
	lis, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return configError(&settings.VarError{Var: "INGEST_METRICS_ADDR", Err: err})
	}
	level, _ := settings.ParseLevel(cfg.LogLevel)
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	log.Info("ingest starting", slog.Any("config", cfg), slog.Int("topics", len(opts.Catalog.Topics())))
	// Publishes must fail while NATS reconnects rather than be buffered:
	// a buffered message could be sent after a later one (see package mirror).
	nc, err := cfg.Connect("eventstreams-ingest", log, nats.ReconnectBufSize(-1))
	if err != nil {
		return configError(err)
	}
	defer nc.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m, err := mirror.New(opts, mirror.Deps{NATS: nc, Logger: log, Registerer: reg})
	if err != nil {
		log.Error("ingest cannot start", slog.String("error", err.Error()))
		return 1
	}

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("GET /healthz", m.HealthHandler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", slog.String("error", err.Error()))
		}
	}()

	// Shutdown order: the mirror stops reading Kafka, waits for JetStream's
	// acknowledgements, commits and leaves the groups (mirror.Run returns
	// only then); then the metrics server and the NATS connection close.
	runErr := m.Run(ctx)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	if err := nc.Drain(); err != nil {
		log.Warn("NATS drain", slog.String("error", err.Error()))
	}
	if runErr != nil {
		log.Error("ingest failed", slog.String("error", runErr.Error()))
		return 1
	}
	log.Info("ingest stopped")
	return 0
}

func configError(err error) int {
	fmt.Fprintln(os.Stderr, "ingest: configuration:", err)
	return 2
}
