// Command devstack runs the whole system in one process, for a newcomer
// with nothing installed but Go:
//
//	go run ./infra/devstack
//
// It starts an embedded nats-server with JetStream, two Kafka clusters
// (franz-go's kfake) named eqiad and codfw with each DC's topics copied to
// the other as MirrorMaker does, a producer of realistic events
// (infra/eventgen), ingest, and serve on :8092; then it prints where to
// look, the web UI (/v2/ui) first. Ctrl-C stops everything cleanly, in the reverse order.
//
// What it keeps is bounded, so that it can be left running all day: the
// Kafka clusters drop, every 10 seconds, the records that ingest and the
// mirror have committed; JetStream keeps an hour of events (at most 256
// MiB, on disk) and their ids for de-duplication 2 minutes; serve's ring
// holds 8,192 events.
//
// Flags (each also read from the environment variable in brackets):
//
//	-addr        serve's listen address (SERVE_ADDR, default :8092)
//	-nats-port   NATS client port (DEVSTACK_NATS_PORT, default 4222; 0: any free port)
//	-kafka-ports eqiad and codfw broker ports (DEVSTACK_KAFKA_PORTS, default 9092,9093; 0,0: any)
//	-data        directory for NATS's and Kafka's data, kept across runs
//	             (DEVSTACK_DATA; default: a temporary directory, removed at exit)
//	-rate        events per second produced (DEVSTACK_RATE, default 50)
//	-upstream    relay mode: read an upstream EventStreams at this base URL
//	             (DEVSTACK_UPSTREAM, e.g. https://stream.wikimedia.org)
//	             instead of running Kafka and the producer
//
// In relay mode (go run ./infra/devstack -upstream https://stream.wikimedia.org)
// it runs embedded NATS, ingest with INGEST_SOURCE=eventstreams reading
// every allowed stream of the upstream, and serve: a local, replayable copy
// of the upstream's live traffic, kept an hour.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/relay"
)

func main() {
	os.Exit(run())
}

func run() int {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := runStack(ctx, cfg, log, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		return 1
	}
	return 0
}

// config is the devstack's command line.
type config struct {
	addr       string
	natsPort   int
	kafkaPorts [2]int
	data       string
	rate       float64
	upstream   string // relay mode when set
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("devstack", flag.ContinueOnError)
	var c config
	var kafkaPorts string
	fs.StringVar(&c.addr, "addr", envOr("SERVE_ADDR", ":8092"), "serve's listen address")
	fs.IntVar(&c.natsPort, "nats-port", envInt("DEVSTACK_NATS_PORT", 4222), "NATS client port (0: any free port)")
	fs.StringVar(&kafkaPorts, "kafka-ports", envOr("DEVSTACK_KAFKA_PORTS", "9092,9093"), "eqiad and codfw broker ports")
	fs.StringVar(&c.data, "data", os.Getenv("DEVSTACK_DATA"), "directory for NATS and Kafka data, kept across runs (default: temporary)")
	fs.Float64Var(&c.rate, "rate", envFloat("DEVSTACK_RATE", 50), "events per second produced")
	fs.StringVar(&c.upstream, "upstream", os.Getenv("DEVSTACK_UPSTREAM"), "relay an upstream EventStreams at this base URL instead of running Kafka (e.g. https://stream.wikimedia.org)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	ports := strings.Split(kafkaPorts, ",")
	if len(ports) != 2 {
		return c, errors.New("-kafka-ports: want two ports, eqiad,codfw")
	}
	for i, p := range ports {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 0 || n > 65535 {
			return c, fmt.Errorf("-kafka-ports: %q is not a port", p)
		}
		c.kafkaPorts[i] = n
	}
	if c.natsPort < 0 || c.natsPort > 65535 {
		return c, fmt.Errorf("-nats-port: %d is not a port", c.natsPort)
	}
	if c.upstream != "" {
		if _, err := relay.ParseURLs(c.upstream); err != nil {
			return c, fmt.Errorf("-upstream: %w", err)
		}
	}
	if c.rate <= 0 || c.rate > 100_000 {
		return c, fmt.Errorf("-rate: %v: want between 0 and 100000 events per second", c.rate)
	}
	return c, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func envInt(key string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return n
	}
	return def
}

func envFloat(key string, def float64) float64 {
	if f, err := strconv.ParseFloat(os.Getenv(key), 64); err == nil {
		return f
	}
	return def
}
