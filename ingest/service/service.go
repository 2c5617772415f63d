// Package service is ingest's one entry point: Run wires a validated
// Config into a running mirror (the Kafka sources, or with
// INGEST_SOURCE=eventstreams the upstream EventStreams of package relay; the NATS connection,
// the metrics registry, the /metrics and /healthz server) and shuts it all
// down in order when its context ends. The ingest command calls it with
// the environment's configuration; the devstack calls it in process.
package service

import (
	"context"
	"log/slog"
	"net"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/input"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/mirror"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/relay"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/source"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/catalog"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/settings"
)

// Deps are what Run uses instead of making its own; every field is
// optional.
type Deps struct {
	// Logger receives ingest's logs (default: slog.Default()).
	Logger *slog.Logger
	// Registry gets ingest's metrics and is served on /metrics (default: a
	// new registry with the Go and process collectors).
	Registry *prometheus.Registry
	// MetricsListener is where /metrics and /healthz are served (default:
	// a listener on cfg.MetricsAddr). Run closes it.
	MetricsListener net.Listener
	// NATS is the connection to publish on; its publishes must fail while
	// it reconnects rather than be buffered (nats.ReconnectBufSize(-1)), or
	// a buffered message could be sent after a later one. Default: Run
	// connects with cfg's settings, and drains and closes the connection
	// when it returns. A connection given is left open.
	NATS *nats.Conn
}

// Run validates cfg, loads the stream catalog, and mirrors every Kafka
// cluster into JetStream until ctx ends; then it shuts down in order (see
// below) and returns nil. A configuration problem, found before anything
// starts, is a *settings.VarError naming the variable; Run logs every other
// failure before returning it, and logs "ingest stopped" after a clean stop.
func Run(ctx context.Context, cfg Config, deps Deps) error {
	log := deps.Logger
	if log == nil {
		log = slog.Default()
	}
	if deps.MetricsListener != nil {
		defer deps.MetricsListener.Close() // if Run returns before serving on it
	}
	if cfg.MirrorFrom != "" {
		return runStandby(ctx, cfg, deps, log)
	}
	kafka, err := cfg.kafka()
	if err != nil {
		return err
	}
	cat, err := cfg.Catalog(ctx)
	if err != nil {
		return err
	}
	var sources []input.Opener
	if cfg.Source == SourceKafka {
		if sources, err = kafkaSources(cfg, kafka, cat); err != nil {
			return err
		}
	}
	lis := deps.MetricsListener
	if lis == nil {
		if lis, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return &settings.VarError{Var: "INGEST_METRICS_ADDR", Err: err}
		}
		defer lis.Close()
	}
	log.Info("ingest starting", slog.Any("config", cfg), slog.Int("topics", len(cat.Topics())))
	nc := deps.NATS
	if nc == nil {
		// Publishes must fail while NATS reconnects rather than be buffered:
		// a buffered message could be sent after a later one (see package mirror).
		if nc, err = cfg.Connect("eventstreams-ingest", log, nats.ReconnectBufSize(-1)); err != nil {
			return err
		}
		defer nc.Close()
	}
	if cfg.Source == SourceEventStreams {
		if sources, err = relaySources(cfg, kafka, cat, nc); err != nil {
			log.Error("ingest cannot start", slog.String("error", err.Error()))
			return err
		}
	}
	reg := registry(deps)
	m, err := newMirror(cfg, sources, cat, nc, log, reg)
	if err != nil {
		log.Error("ingest cannot start", slog.String("error", err.Error()))
		return err
	}

	stopMetrics := serveMetrics(lis, reg, m.HealthHandler(), log)

	// Shutdown order: the mirror stops reading Kafka, waits for JetStream's
	// acknowledgements, commits and leaves the groups (mirror.Run returns
	// only then); then the metrics server and the NATS connection close.
	runErr := m.Run(ctx)
	stopMetrics()
	if deps.NATS == nil {
		if err := nc.Drain(); err != nil {
			log.Warn("NATS drain", slog.String("error", err.Error()))
		}
	}
	if runErr != nil {
		log.Error("ingest failed", slog.String("error", runErr.Error()))
		return runErr
	}
	log.Info("ingest stopped")
	return nil
}

// kafkaSources are the sources of the Kafka clusters. The only error left
// after the configuration's validation is an unusable CA file.
func kafkaSources(cfg Config, k kafkaSettings, cat *catalog.Catalog) ([]input.Opener, error) {
	group := source.Group{Name: cfg.ConsumerGroup, InstanceID: cfg.InstanceID, SessionTimeout: cfg.SessionTimeout}
	var sources []input.Opener
	for _, c := range k.clusters {
		s, err := source.NewKafka(c, cat.Topics(), group, k.start, k.security)
		if err != nil {
			return nil, &settings.VarError{Var: "INGEST_KAFKA_TLS_CA", Err: err}
		}
		sources = append(sources, s)
	}
	return sources, nil
}

// relaySources are the upstream EventStreams services of a relay, each
// read on one connection for every allowed stream.
func relaySources(cfg Config, k kafkaSettings, cat *catalog.Catalog, nc *nats.Conn) ([]input.Opener, error) {
	var sources []input.Opener
	for _, u := range k.upstreams {
		up, err := relay.New(relay.Options{URL: u.String(), Catalog: cat, UserAgent: strings.TrimSpace(cfg.UpstreamUserAgent),
			Bucket: cfg.Layout().RelayBucket(), Replicas: cfg.Replicas, MaxEventBytes: cfg.MaxEventBytes + 64<<10, Start: k.relayStart}, nc)
		if err != nil {
			return nil, err
		}
		sources = append(sources, up)
	}
	return sources, nil
}

// newMirror builds the mirror that reads the sources.
func newMirror(cfg Config, sources []input.Opener, cat *catalog.Catalog, nc *nats.Conn, log *slog.Logger,
	reg prometheus.Registerer) (*mirror.Mirror, error) {
	return mirror.New(mirror.Options{
		Layout:          cfg.Layout(),
		Catalog:         cat,
		Sources:         sources,
		Limits:          cfg.limits(),
		Promote:         cfg.Promote,
		MaxInFlight:     cfg.MaxInFlight,
		MaxEventBytes:   cfg.MaxEventBytes,
		RecentIDs:       cfg.RecentIDs,
		ShutdownTimeout: cfg.ShutdownTimeout,
	}, mirror.Deps{NATS: nc, Logger: log, Registerer: reg})
}
