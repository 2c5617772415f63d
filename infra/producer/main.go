// Command producer writes realistic Wikimedia events (infra/eventgen) into
// Kafka, each event to the cluster of the datacenter it originates in, as
// MediaWiki does; MirrorMaker then copies each DC's topics to the other.
// It feeds the docker compose stack. Configuration, from the environment:
//
//	PRODUCER_KAFKA_CLUSTERS  name=host:port,…;name=… (required), e.g. eqiad=kafka-eqiad:9092;codfw=kafka-codfw:9092
//	PRODUCER_RATE            events per second (50)
//	LOG_LEVEL                debug, info, warn or error (info)
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/eventgen"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/source"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/settings"
)

type config struct {
	Clusters string  `envconfig:"PRODUCER_KAFKA_CLUSTERS"`
	Rate     float64 `envconfig:"PRODUCER_RATE" default:"50"`
	LogLevel string  `envconfig:"LOG_LEVEL" default:"info"`
}

func main() { os.Exit(run()) }

func run() int {
	var cfg config
	if err := settings.Process(&cfg); err != nil {
		return configError(err)
	}
	clusters, err := source.ParseClusters(cfg.Clusters)
	if err != nil {
		return configError(&settings.VarError{Var: "PRODUCER_KAFKA_CLUSTERS", Err: err})
	}
	if cfg.Rate <= 0 || cfg.Rate > 100_000 {
		return configError(&settings.VarError{Var: "PRODUCER_RATE", Err: errors.New("must be between 0 and 100000")})
	}
	level, err := settings.ParseLevel(cfg.LogLevel)
	if err != nil {
		return configError(&settings.VarError{Var: "LOG_LEVEL", Err: err})
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	var dcs []string
	clients := map[string]*kgo.Client{}
	for _, c := range clusters {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.Brokers...), kgo.AllowAutoTopicCreation(), kgo.ProducerLinger(5*time.Millisecond))
		if err != nil {
			return configError(&settings.VarError{Var: "PRODUCER_KAFKA_CLUSTERS", Err: err})
		}
		defer cl.Close()
		dcs = append(dcs, c.Name)
		clients[c.Name] = cl
	}
	gen, err := eventgen.New(eventgen.Options{Rate: cfg.Rate, DCs: dcs})
	if err != nil {
		log.Error("generator", slog.String("error", err.Error()))
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info("producing", slog.Float64("rate", cfg.Rate), slog.Any("clusters", dcs))
	err = gen.Run(ctx, func(e eventgen.Event) error {
		dc, _, _ := strings.Cut(e.Topic, ".")
		clients[dc].Produce(ctx, &kgo.Record{Topic: e.Topic, Key: e.Key, Value: e.Value, Timestamp: e.Time},
			func(_ *kgo.Record, err error) {
				if err != nil && ctx.Err() == nil {
					log.Warn("produce failed", slog.String("topic", e.Topic), slog.String("error", err.Error()))
				}
			})
		return nil
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Error("producer stopped", slog.String("error", err.Error()))
		return 1
	}
	for _, cl := range clients {
		_ = cl.Flush(context.Background())
	}
	return 0
}

func configError(err error) int {
	fmt.Fprintln(os.Stderr, "producer: configuration:", err)
	return 2
}
