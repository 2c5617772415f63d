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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/eventgen"
	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc"
	ingest "github.com/wikimedia-eventstreams-go/eventstreams/ingest/service"
	serve "github.com/wikimedia-eventstreams-go/eventstreams/serve/service"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/catalog"
)

var dcs = [2]string{"eqiad", "codfw"}

// What the devstack keeps is bounded, so that it can run all day: without
// these, its memory grew by about 28 MB a minute at the default rate,
// nearly all of it the Kafka clusters' records.
const (
	// kafkaSegmentBytes: kfake frees deleted records a whole segment at a
	// time, and rolls a segment at 100 MiB by default; at 64 KiB, the open
	// segments of the 2 × 42 partitions hold at most about 5 MiB.
	kafkaSegmentBytes = 64 << 10
	// trimEvery: how often the Kafka clusters drop the records that ingest
	// and the mirror have committed (trimKafka).
	trimEvery = 10 * time.Second
	// streamMaxAge and streamMaxBytes bound JetStream's stream, on disk:
	// about an hour of history at the default rate (an event takes about
	// 1.4 KB stored), less at a higher -rate. Its file store keeps in
	// memory only the blocks used in the last 10 seconds.
	streamMaxAge   = time.Hour
	streamMaxBytes = 256 << 20
	// duplicateWindow: JetStream remembers each event's Nats-Msg-Id this
	// long (ingest's default is 15 minutes, to absorb a DC's outage), in
	// memory: up to about 300 bytes an id, 15 minutes of ids at the default
	// rate are some 13 MB, at -rate 1000 some 250 MB. Here the other DC's
	// copy comes through the in-process mirror within a second, and ingest
	// commits all it published when stopped.
	duplicateWindow = 2 * time.Minute
	// ringSize is serve's ring (SERVE_RING_SIZE, default 65,536 events,
	// about 90 MB once full): 8,192 events are nearly 3 minutes at the
	// default rate; a client further behind catches up from JetStream.
	ringSize = 8192
)

// runStack starts everything, prints where to look on out, and stops
// everything when ctx ends, in this order: the producer and the mirror
// between the clusters; serve (its streams end cleanly, then the server);
// ingest (it waits for JetStream's acknowledgements and commits); the
// Kafka clusters; NATS. Meanwhile it trims the Kafka clusters (trimKafka).
// In relay mode (cfg.upstream) there is no Kafka, MirrorMaker or producer:
// ingest reads the upstream.
func runStack(ctx context.Context, cfg config, log *slog.Logger, out io.Writer) error {
	serveLn, err := checkPorts(cfg)
	if err != nil {
		return err
	}
	defer serveLn.Close()
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

	ns, err := inproc.StartNATS(inproc.NATSOptions{StoreDir: filepath.Join(dir, "nats"), Port: natsPort(cfg.natsPort)})
	if err != nil {
		return err
	}
	defer ns.Shutdown()

	relayMode := cfg.upstream != ""
	var clusters [2]*kfake.Cluster
	var brokers []string
	for i, dc := range dcs {
		if relayMode {
			break // no Kafka: ingest reads the upstream
		}
		kdir := ""
		if cfg.data != "" {
			kdir = filepath.Join(dir, "kafka-"+dc)
		}
		c, err := inproc.StartKafka(inproc.KafkaOptions{Topics: cat.Topics(), Partitions: 1, Port: cfg.kafkaPorts[i], DataDir: kdir,
			SegmentBytes: kafkaSegmentBytes})
		if err != nil {
			return fmt.Errorf("kafka %s: %w", dc, err)
		}
		defer c.Close()
		clusters[i] = c
		brokers = append(brokers, dc+"="+strings.Join(c.ListenAddrs(), ","))
	}

	// ingest and serve, in process, through the same entry points as their
	// commands, with their documented defaults and these changes. Their
	// metrics share one registry, which serve's /metrics shows.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ingestCfg := ingest.DefaultConfig()
	ingestCfg.NATSURL = ns.ClientURL()
	if relayMode {
		ingestCfg.Source, ingestCfg.UpstreamURLs = ingest.SourceEventStreams, cfg.upstream
	} else {
		ingestCfg.KafkaClusters = strings.Join(brokers, ";")
		ingestCfg.Start = "earliest"
	}
	ingestCfg.MaxAge = streamMaxAge
	ingestCfg.MaxBytes = streamMaxBytes
	ingestCfg.DuplicateWindow = duplicateWindow
	metricsLn, err := net.Listen("tcp", "127.0.0.1:0") // ingest's own /metrics is not needed here
	if err != nil {
		return err
	}
	ingestCtx, stopIngest := context.WithCancel(context.Background())
	ingestDone := make(chan error, 1)
	go func() {
		ingestDone <- ingest.Run(ingestCtx, ingestCfg, ingest.Deps{Logger: log.With("service", "ingest"), Registry: reg,
			MetricsListener: metricsLn})
	}()
	defer func() {
		stopIngest()
		if err := <-ingestDone; err != nil {
			log.Warn("ingest stopped with an error", slog.String("error", err.Error()))
		}
	}()

	serveCfg := serve.DefaultConfig()
	serveCfg.NATSURL = ns.ClientURL()
	serveCfg.RingSize = ringSize
	ready := make(chan struct{})
	serveCtx, stopServe := context.WithCancel(context.Background())
	serveDone := make(chan error, 1)
	go func() {
		serveDone <- serve.Run(serveCtx, serveCfg, serve.Deps{Logger: log.With("service", "serve"), Registry: reg,
			Listener: serveLn, Version: "devstack", Ready: func(net.Addr) { close(ready) }})
	}()
	defer func() {
		stopServe()
		if err := <-serveDone; err != nil {
			log.Warn("serve stopped with an error", slog.String("error", err.Error()))
		}
	}()

	// "running" must mean that streams can be opened: serve's live feed
	// starts once ingest has created the JetStream stream.
	select {
	case <-ctx.Done():
		return nil
	case <-ready:
	case err := <-ingestDone:
		ingestDone <- err // for the deferred stop
		return fmt.Errorf("ingest: %w", err)
	case err := <-serveDone:
		serveDone <- err
		return fmt.Errorf("serve: %w", err)
	}

	// Without an upstream: MirrorMaker, the producer and the trimming of
	// the Kafka clusters.
	work, stopWork := context.WithCancel(ctx)
	var working sync.WaitGroup
	defer func() { stopWork(); working.Wait() }()
	workDone := make(chan error, 4)
	welcome := "Upstream      " + cfg.upstream + "  (relayed; the first start replays its last minute)"
	if !relayMode {
		gen, err := eventgen.New(eventgen.Options{Rate: cfg.rate})
		if err != nil {
			return err
		}
		for i := range dcs {
			working.Go(func() { workDone <- mirrorMaker(work, clusters[i], clusters[1-i], dcs[i], log) })
		}
		working.Go(func() { workDone <- produce(work, gen, clusters) })
		working.Go(func() { workDone <- trimKafka(work, clusters, ingestCfg.ConsumerGroup, log) })
		welcome = fmt.Sprintf("Kafka         eqiad %s, codfw %s  (%d topics in each)",
			strings.Join(clusters[0].ListenAddrs(), ","), strings.Join(clusters[1].ListenAddrs(), ","), len(cat.Topics()))
	}
	printWelcome(out, serveLn.Addr().String(), ns.ClientURL(), welcome)
	select {
	case <-ctx.Done():
	case err := <-workDone:
		if err != nil && ctx.Err() == nil {
			return err
		}
	case err := <-ingestDone:
		ingestDone <- err
		return fmt.Errorf("ingest stopped: %v", err)
	case err := <-serveDone:
		serveDone <- err
		return fmt.Errorf("serve stopped: %v", err)
	}
	fmt.Fprintln(out, "\nstopping…")
	return nil
}

// checkPorts tells at once, naming the flag that changes it, when a port
// the devstack needs is taken, rather than failing later less clearly. It
// returns serve's listener.
func checkPorts(cfg config) (net.Listener, error) {
	free := func(port int, what, flag string) error {
		if port == 0 {
			return nil
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			return fmt.Errorf("port %d (%s) is in use; choose another with %s (0: any free port)", port, what, flag)
		}
		return ln.Close()
	}
	if err := free(cfg.natsPort, "NATS", "-nats-port"); err != nil {
		return nil, err
	}
	for i, dc := range dcs {
		if cfg.upstream != "" {
			break // no Kafka in relay mode
		}
		if err := free(cfg.kafkaPorts[i], "Kafka "+dc, "-kafka-ports"); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, fmt.Errorf("serve's address %s cannot be used (%v); choose another with -addr", cfg.addr, err)
	}
	return ln, nil
}

func natsPort(p int) int {
	if p == 0 {
		return -1 // nats-server: any free port
	}
	return p
}

// mirrorMaker copies the topics that originate in one DC (those named
// dc.*) from its cluster to the other, record by record, keeping
// partition, key, value and timestamp, as MirrorMaker 2 does (with a
// different offset).
func mirrorMaker(ctx context.Context, from, to *kfake.Cluster, dc string, log *slog.Logger) error {
	src, err := kgo.NewClient(kgo.SeedBrokers(from.ListenAddrs()...),
		kgo.ConsumeRegex(), kgo.ConsumeTopics("^"+dc+`\..*`),
		kgo.ConsumerGroup(mirrorGroup(dc)), kgo.DisableAutoCommit(),
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

// mirrorGroup is the consumer group of the mirror of dc's topics.
func mirrorGroup(dc string) string { return "mirrormaker-" + dc }

// trimKafka deletes from the Kafka clusters, every trimEvery, the records
// that all their readers have committed (inproc.Trim), so that the
// clusters, which keep their records in memory, hold about a segment of
// each partition rather than everything produced since the start.
func trimKafka(ctx context.Context, clusters [2]*kfake.Cluster, ingestGroup string, log *slog.Logger) error {
	var clients [2]*kgo.Client
	for i, c := range clusters {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
		if err != nil {
			return err
		}
		defer cl.Close()
		clients[i] = cl
	}
	tick := time.NewTicker(trimEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		for i, cl := range clients {
			if _, err := inproc.Trim(ctx, cl, kafkaReaders(dcs[i], ingestGroup)); err != nil && ctx.Err() == nil {
				log.Warn("trimming Kafka failed; retried later", slog.String("cluster", dcs[i]), slog.String("error", err.Error()))
			}
		}
	}
}

// kafkaReaders are the consumer groups that read a topic in the cluster of
// dc: ingest reads every topic, and dc's mirror the topics of dc.
func kafkaReaders(dc, ingestGroup string) func(topic string) []string {
	return func(topic string) []string {
		if strings.HasPrefix(topic, dc+".") {
			return []string{ingestGroup, mirrorGroup(dc)}
		}
		return []string{ingestGroup}
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

// printWelcome says where to look; source is the line about what ingest
// reads.
func printWelcome(out io.Writer, addr, natsURL, source string) {
	host := addr
	if strings.HasPrefix(host, "[::]:") || strings.HasPrefix(host, "0.0.0.0:") || strings.HasPrefix(host, ":") {
		host = "localhost:" + host[strings.LastIndex(host, ":")+1:]
	}
	base := "http://" + host
	fmt.Fprintf(out, `EventStreams devstack is running.

  web UI        %[1]s/v2/ui
  API docs      %[1]s/?doc
  streams       %[1]s/v2/streams
  SSE           %[1]s/v2/stream/recentchange
  try           curl -N %[1]s/v2/stream/recentchange
                curl -N '%[1]s/v2/stream/recentchange,page-create?wiki=enwiki'
                curl -N '%[1]s/v2/stream/recentchange?type=edit,new&namespace=0&bot=false'
  NDJSON        curl -N -H 'Accept: application/json' %[1]s/v2/stream/revision-create
  spec          %[1]s/?spec
  metrics       %[1]s/metrics
  NATS          %[2]s  (JetStream stream EVENTSTREAMS, subjects eventstreams.<stream>.<wiki>)
  %[3]s

Ctrl-C stops everything.
`, base, natsURL, source)
}
