// Command ingest mirrors the allowed EventStreams topics of every Kafka
// cluster into one JetStream stream, each event once. It is configured only
// by environment variables (README "Configuration"); package service runs
// it, and package mirror says how it works.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/service"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/settings"
)

func main() {
	os.Exit(run())
}

// run returns the exit status: 0 after a clean shutdown, 1 on a failure
// while running (logged by service.Run), 2 on a configuration error (one
// line on stderr naming the variable).
func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := service.LoadConfig()
	if err != nil {
		return configError(err)
	}
	level, _ := settings.ParseLevel(cfg.LogLevel) // validated by LoadConfig
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	err = service.Run(ctx, cfg, service.Deps{Logger: log})
	var ve *settings.VarError
	switch {
	case errors.As(err, &ve):
		return configError(err)
	case err != nil:
		return 1
	}
	return 0
}

func configError(err error) int {
	fmt.Fprintln(os.Stderr, "ingest: configuration:", err)
	return 2
}
