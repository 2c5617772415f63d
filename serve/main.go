// Command serve answers the EventStreams HTTP API from the JetStream stream
// that ingest writes. It is stateless: any number of replicas can run, and
// a client resumes exactly on any of them. It is configured only by
// environment variables (README "Configuration"); package service does
// the rest.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/wikimedia-eventstreams-go/eventstreams/serve/service"
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
	cfg, err := service.LoadConfig()
	if err != nil {
		return configError(err)
	}
	level, _ := settings.ParseLevel(cfg.LogLevel)
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	err = service.Run(ctx, cfg, service.Deps{Logger: log, Version: version})
	var varErr *settings.VarError
	switch {
	case errors.As(err, &varErr):
		return configError(err)
	case err != nil:
		log.Error("serve failed", slog.String("error", err.Error()))
		return 1
	}
	log.Info("serve stopped")
	return 0
}

func configError(err error) int {
	fmt.Fprintln(os.Stderr, "serve: configuration:", err)
	return 2
}
