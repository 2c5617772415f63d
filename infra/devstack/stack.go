package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/eventgen"
	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/mirror"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/source"
	"github.com/wikimedia-eventstreams-go/eventstreams/serve/api"
	"github.com/wikimedia-eventstreams-go/eventstreams/serve/hub"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/catalog"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

var dcs = [2]string{"eqiad", "codfw"}

// runStack starts everything, prints where to look on out, and stops
// everything when ctx ends, in this order: the producer and the mirror
// between the clusters; serve (its streams end cleanly, then the server);
// ingest (it waits for JetStream's acknowledgements and commits); the
// Kafka clusters; NATS.
func runStack(ctx context.Context, cfg config, log *slog.Logger, out io.Writer) error {
	dir := cfg.data
	if dir == "" {
		tmp, err := os.MkdirTemp("", "eventstreams-devstack")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	cat, err := catalog.Builtin(nil)
	if err != nil {
		return err
	}
	lay := layout.Layout{Stream: layout.DefaultStream, Prefix: layout.DefaultPrefix}

	ns, err := inproc.StartNATS(inproc.NATSOptions{StoreDir: filepath.Join(dir, "nats"), Port: natsPort(cfg.natsPort)})
	if err != nil {
		return err
	}
	defer ns.Shutdown()

	var clusters [2]*kfake.Cluster
	for i, dc := range dcs {
		kdir := ""
		if cfg.data != "" {
			kdir = filepath.Join(dir, "kafka-"+dc)
		}
		c, err := inproc.StartKafka(inproc.KafkaOptions{Topics: cat.Topics(), Partitions: 1, Port: cfg.kafkaPorts[i], DataDir: kdir})
		if err != nil {
			return fmt.Errorf("kafka %s: %w", dc, err)
		}
		defer c.Close()
		clusters[i] = c
	}

	// ingest, in process.
	ingestNC, err := nats.Connect(ns.ClientURL(), nats.ReconnectBufSize(-1), nats.MaxReconnects(-1))
	if err != nil {
		return err
	}
	defer ingestNC.Close()
	reg := prometheus.NewRegistry()
	start, _ := source.ParseStart("earliest")
	var srcs []source.Cluster
	for i, dc := range dcs {
		srcs = append(srcs, source.Cluster{Name: dc, Brokers: clusters[i].ListenAddrs()})
	}
	m, err := mirror.New(mirror.Options{
		Layout: lay, Catalog: cat, Clusters: srcs, Start: start,
		Group:  source.Group{Name: "eventstreams-ingest", SessionTimeout: 10 * time.Second},
		Limits: mirror.StreamLimits{MaxAge: 24 * time.Hour, DuplicateWindow: 15 * time.Minute, Replicas: 1},
	}, mirror.Deps{NATS: ingestNC, Logger: log.With("service", "ingest"), Registerer: reg})
	if err != nil {
		return err
	}
	ingestCtx, stopIngest := context.WithCancel(context.Background())
	ingestDone := make(chan error, 1)
	go func() { ingestDone <- m.Run(ingestCtx) }()
	defer func() { stopIngest(); <-ingestDone }()

	// serve, in process, once ingest has created the stream.
	serveNC, err := nats.Connect(ns.ClientURL(), nats.MaxReconnects(-1))
	if err != nil {
		return err
	}
	defer serveNC.Close()
	js, _ := jetstream.New(serveNC)
	if err := waitForStream(ctx, js, lay.Stream); err != nil {
		return err
	}
	var tokens []string
	for _, s := range cat.Streams() {
		tokens = append(tokens, layout.StreamToken(s.Name))
	}
	h, err := hub.New(js, hub.Options{Layout: lay, Streams: tokens, Logger: log.With("service", "serve")})
	if err != nil {
		return err
	}
	hubCtx, stopHub := context.WithCancel(context.Background())
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); _ = h.Run(hubCtx) }()
	defer func() { stopHub(); <-hubDone }()
	for !h.Ready() { // "running" must mean that streams can be opened
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(20 * time.Millisecond):
		}
	}
	srv, err := api.New(api.Options{Layout: lay, Catalog: cat, Heartbeat: 15 * time.Second, MaxDuration: 15 * time.Minute,
		Retry: 2 * time.Second, Version: "devstack"}, h, log.With("service", "serve"), reg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	app := srv.App()
	go func() { _ = app.Listener(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Stop(sctx)
		_ = app.ShutdownWithContext(sctx)
	}()

	// MirrorMaker and the producer.
	work, stopWork := context.WithCancel(ctx)
	defer stopWork()
	workDone := make(chan error, 3)
	for i := range dcs {
		go func() { workDone <- mirrorMaker(work, clusters[i], clusters[1-i], dcs[i]+".", log) }()
	}
	gen, err := eventgen.New(eventgen.Options{Rate: cfg.rate})
	if err != nil {
		return err
	}
	go func() { workDone <- produce(work, gen, clusters) }()

	printWelcome(out, ln.Addr().String(), ns.ClientURL(), clusters, cat)
	select {
	case <-ctx.Done():
	case err := <-workDone:
		if err != nil && ctx.Err() == nil {
			return err
		}
	}
	fmt.Fprintln(out, "\nstopping…")
	return nil
}

func natsPort(p int) int {
	if p == 0 {
		return -1 // nats-server: any free port
	}
	return p
}

// waitForStream waits until ingest has created the JetStream stream.
func waitForStream(ctx context.Context, js jetstream.JetStream, name string) error {
	for {
		if _, err := js.Stream(ctx, name); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// mirrorMaker copies the topics that originate in one DC (prefix) from its
// cluster to the other, record by record, keeping partition, key, value and
// timestamp, as MirrorMaker 2 does (with a different offset).
func mirrorMaker(ctx context.Context, from, to *kfake.Cluster, prefix string, log *slog.Logger) error {
	src, err := kgo.NewClient(kgo.SeedBrokers(from.ListenAddrs()...),
		kgo.ConsumeRegex(), kgo.ConsumeTopics("^"+strings.ReplaceAll(prefix, ".", `\.`)+".*"),
		kgo.ConsumerGroup("mirrormaker-"+strings.TrimSuffix(prefix, ".")), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := kgo.NewClient(kgo.SeedBrokers(to.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return err
	}
	defer dst.Close()
	for {
		fetches := src.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var recs []*kgo.Record
		fetches.EachRecord(func(r *kgo.Record) {
			recs = append(recs, &kgo.Record{Topic: r.Topic, Partition: r.Partition, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp})
		})
		if len(recs) == 0 {
			continue
		}
		if err := dst.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			log.Warn("mirror produce failed", slog.String("error", err.Error()))
			continue // not committed: copied again
		}
		if err := src.CommitUncommittedOffsets(ctx); err != nil && ctx.Err() == nil {
			log.Warn("mirror commit failed", slog.String("error", err.Error()))
		}
	}
}

// produce writes generated events to the cluster of the DC they
// originate in.
func produce(ctx context.Context, gen *eventgen.Generator, clusters [2]*kfake.Cluster) error {
	var clients [2]*kgo.Client
	for i, c := range clusters {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ProducerLinger(5*time.Millisecond))
		if err != nil {
			return err
		}
		defer cl.Close()
		clients[i] = cl
	}
	err := gen.Run(ctx, func(e eventgen.Event) error {
		i := 0
		if strings.HasPrefix(e.Topic, dcs[1]+".") {
			i = 1
		}
		clients[i].Produce(ctx, &kgo.Record{Topic: e.Topic, Key: e.Key, Value: e.Value, Timestamp: e.Time}, nil)
		return nil
	})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func printWelcome(out io.Writer, addr, natsURL string, clusters [2]*kfake.Cluster, cat *catalog.Catalog) {
	host := addr
	if strings.HasPrefix(host, "[::]:") || strings.HasPrefix(host, "0.0.0.0:") || strings.HasPrefix(host, ":") {
		host = "localhost:" + host[strings.LastIndex(host, ":")+1:]
	}
	base := "http://" + host
	fmt.Fprintf(out, `EventStreams devstack is running.

  streams       %[1]s/v2/streams
  SSE           %[1]s/v2/stream/recentchange
  try           curl -N %[1]s/v2/stream/recentchange
                curl -N '%[1]s/v2/stream/recentchange,page-create?wiki=enwiki'
                curl -N '%[1]s/v2/stream/recentchange?type=edit,new&namespace=0&bot=false'
  NDJSON        curl -N -H 'Accept: application/json' %[1]s/v2/stream/revision-create
  spec          %[1]s/?spec
  metrics       %[1]s/metrics
  NATS          %[2]s  (JetStream stream EVENTSTREAMS, subjects eventstreams.<stream>.<wiki>)
  Kafka         eqiad %[3]s, codfw %[4]s  (%[5]d topics in each)

Ctrl-C stops everything.
`, base, natsURL, strings.Join(clusters[0].ListenAddrs(), ","), strings.Join(clusters[1].ListenAddrs(), ","), len(cat.Topics()))
}
