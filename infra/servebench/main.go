// Command servebench measures serve under many concurrent SSE connections
// and prints figures a README can quote: a text table, then a one-line JSON
// summary (the last line of the output).
//
// It starts an in-process nats-server with JetStream (store in a temporary
// directory), creates the EVENTSTREAMS stream as ingest does, builds ./serve
// and runs it as a child process on a free loopback port, with
// ES_ALLOWED_STREAMS=mediawiki.recentchange, SERVE_MAX_CONNECTION_DURATION=0
// and LOG_LEVEL=warn. It raises its own RLIMIT_NOFILE soft limit to the hard
// limit first, so that serve inherits it. The load clients, the publisher
// and nats-server all run inside this process, on the same machine as
// serve: every figure includes that contention, and the output says so.
//
// Events are recentchange-like JSON of about 1 KB, published to
// eventstreams.mediawiki_recentchange.<wiki> with the Es-Timestamp header,
// as ingest writes them. Each carries "bench":{"n":<counter>,"ts_ns":<publish
// time>} first. Clients are raw TCP connections, one goroutine each, with a
// 4 KiB buffer that de-chunks and splits SSE lines in place. Each client
// checks that the SSE id's seq increases and that the counter is exactly
// the previous one + 1 (missing, duplicate and out-of-order events are
// counted), and records end-to-end latency (receive time − ts_ns) in a
// shared lock-free histogram.
//
// Modes:
//
//	-mode live (default): events flow at -rate per second; -clients
//	connections to /v2/stream/recentchange are ramped up (-ramp-batch every
//	-ramp-interval), then measured for -duration: deliveries per second,
//	end-to-end latency p50/p99/max, serve CPU (cores, µs per delivery, and
//	the share of it spent in the kernel, from /proc/<pid>/stat), serve RSS
//	before and after the connections and per connection (from
//	/proc/<pid>/status; the clients connect in two halves, and what the
//	second half added per connection is the marginal RSS), serve
//	goroutines and Go memory (from /metrics), and the sequence checks,
//	which must all be 0. After the
//	window the publisher stops and every client must reach the last event.
//
//	-mode storm: a probe client takes the SSE id of one event (the anchor);
//	-storm-events K more events are stored with no client connected; then
//	-clients clients connect at once with Last-Event-ID set to the anchor's
//	id ([{"seq":S,"timestamp":T,"epoch":E}]), and each must receive exactly
//	those K events. Reported: time until every client has all K, replay
//	events per second, serve CPU and peak RSS, the JetStream API requests
//	and consumers it took, and the sequence checks. With serve's default
//	ring (65,536 events) the replay comes from the ring; -ring-size 16
//	makes every client start behind the ring, so each opens its own
//	JetStream catch-up. That is also what happens after a serve restart: a
//	new process's ring holds nothing older than its start. Before and after
//	the storm, the raw-replay floor (replayfloor.go): as many readers, at most
//	-floor-cap at once, read the same K events straight from JetStream with
//	batched direct gets on one connection, with no serve in between; serve's
//	storm time is printed as a ratio to the faster floor run.
//
//	Held connections: -clients 19000 -rate 1 -source-addrs 4 in live mode
//	dials from 127.0.0.2–5, so that no source address runs out of
//	ephemeral ports; serve's own open-files limit is logged at start.
//
// Flags:
//
//	-mode live|storm       what to measure (live)
//	-clients N             concurrent SSE connections (1000)
//	-rate R                events per second published, live mode (10)
//	-duration D            measurement window after the ramp, live mode (30s)
//	-ramp-batch N          connections opened per ramp step (500)
//	-ramp-interval D       time between ramp steps (100ms)
//	-settle D              pause before each measurement (2s)
//	-storm-events K        events each storm client replays (1000)
//	-storm-timeout D       limit for a storm to complete (2m)
//	-ring-size N           SERVE_RING_SIZE for serve (0: serve's default)
//	-max-consumers N       the stream's MaxConsumers (default 10000, as ingest sets it)
//	-connect-timeout D     per connection: dial and response head (20s)
//	-drain-timeout D       for clients to reach the last event at the end (15s)
//	-buf N                 read buffer per client, bytes (4096)
//	-serve-bin PATH        use this serve binary instead of building ./serve
//	-serve-env K=V         extra environment for serve (repeatable)
//	-perf FILE             record serve with `perf record` during the window
//	                       and print the hottest functions (needs perf);
//	                       with several servers or rounds, one file per run
//	                       (FILE.<server>.<round>)
//	-label S               a label copied into the JSON summary
//	-server LIST           live mode: the servers to measure, in turn, with
//	                       the same clients, rate and window:
//	                       serve, floor, floor-goroutine (serve)
//	-rounds N              live mode: measure each server N times,
//	                       alternating (1)
//
// The floors (floor.go) are the least an SSE fan-out server can do on this
// machine: this program re-executed as a separate process, fed the same
// events, already framed as serve frames them, over a unix socket, and
// writing each with one write per connection: "floor" from GOMAXPROCS
// writer goroutines, "floor-goroutine" from one goroutine per connection.
// With more than one server, a last table gives serve's CPU per delivery,
// p99 latency and RSS per connection as ratios to each floor's, per round
// (the ratios are the figures to quote: the machine is shared and noisy).
//
//	-floor-cap N           storm: raw-replay readers at once (256, serve's
//	                       SERVE_MAX_CATCHUPS default)
//	-floor-batch N         storm: messages per request of the floor (256)
//	-source-addrs N        clients dial from 127.0.0.2 … 127.0.0.(N+1) (1:
//	                       the system's choice of source address)
//
// Examples (from the repository root):
//
//	go run ./infra/servebench -clients 1000 -rate 10 -duration 20s
//	go run ./infra/servebench -clients 15000 -rate 10 -duration 30s
//	go run ./infra/servebench -clients 5000 -duration 20s -perf /tmp/serve.perf
//	go run ./infra/servebench -clients 5000 -duration 20s -server serve,floor,floor-goroutine -rounds 2
//	go run ./infra/servebench -mode storm -clients 1000 -storm-events 1000
//	go run ./infra/servebench -mode storm -clients 1000 -storm-events 1000 -ring-size 16
//
// Limits of the machine: each connection is a file descriptor on both sides
// (the hard RLIMIT_NOFILE bounds -clients), and loopback connections from
// one source address to one port share the ephemeral port range
// (net.ipv4.ip_local_port_range, ~28,000 ports by default).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

type config struct {
	mode           string
	clients        int
	rate           float64
	duration       time.Duration
	rampBatch      int
	rampInterval   time.Duration
	settle         time.Duration
	stormEvents    int
	stormTimeout   time.Duration
	ringSize       int
	maxConsumers   int
	connectTimeout time.Duration
	drainTimeout   time.Duration
	bufSize        int
	serveBin       string
	serveEnv       multiFlag
	perf           string
	label          string
	servers        []string // live mode: serve and floors, run in turn
	rounds         int
	// A floor process (floor.go): its mode, address and feed socket.
	floorServer, floorAddr, floorFeed string
	extra                             extraConfig // replayfloor.go
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("servebench", flag.ContinueOnError)
	fs.StringVar(&c.mode, "mode", "live", "live or storm")
	fs.IntVar(&c.clients, "clients", 1000, "concurrent SSE connections")
	fs.Float64Var(&c.rate, "rate", 10, "events per second (live mode)")
	fs.DurationVar(&c.duration, "duration", 30*time.Second, "measurement window (live mode)")
	fs.IntVar(&c.rampBatch, "ramp-batch", 500, "connections opened per ramp step")
	fs.DurationVar(&c.rampInterval, "ramp-interval", 100*time.Millisecond, "time between ramp steps")
	fs.DurationVar(&c.settle, "settle", 2*time.Second, "pause before each measurement")
	fs.IntVar(&c.stormEvents, "storm-events", 1000, "events each storm client replays")
	fs.DurationVar(&c.stormTimeout, "storm-timeout", 2*time.Minute, "limit for a storm to complete")
	fs.IntVar(&c.ringSize, "ring-size", 0, "SERVE_RING_SIZE (0: serve's default)")
	fs.IntVar(&c.maxConsumers, "max-consumers", 10000, "the stream's MaxConsumers (default 10000, as ingest sets it)")
	fs.DurationVar(&c.connectTimeout, "connect-timeout", 20*time.Second, "per connection: dial and response head")
	fs.DurationVar(&c.drainTimeout, "drain-timeout", 15*time.Second, "for clients to reach the last event at the end")
	fs.IntVar(&c.bufSize, "buf", 4096, "read buffer per client, bytes")
	fs.StringVar(&c.serveBin, "serve-bin", "", "serve binary (default: go build ./serve)")
	fs.Var(&c.serveEnv, "serve-env", "extra KEY=VALUE for serve's environment (repeatable)")
	fs.StringVar(&c.perf, "perf", "", "record serve with perf during the window into this file")
	fs.StringVar(&c.label, "label", "", "label for the JSON summary")
	servers := fs.String("server", "serve", "live mode: servers to measure in turn, comma-separated: serve, floor, floor-goroutine")
	fs.IntVar(&c.rounds, "rounds", 1, "live mode: how many times to measure each server, alternating")
	fs.StringVar(&c.floorServer, "floor-server", "", "internal: run as a floor of this mode")
	fs.StringVar(&c.floorAddr, "floor-addr", "", "internal: the floor's address")
	fs.StringVar(&c.floorFeed, "floor-feed", "", "internal: the floor's feed socket")
	registerExtraFlags(fs, &c.extra)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.floorServer != "" {
		return c, nil
	}
	c.servers = strings.Split(*servers, ",")
	for _, s := range c.servers {
		if s != "serve" && s != floorPool && s != floorGoroutine {
			return c, fmt.Errorf("-server %q: want serve, %s or %s", s, floorPool, floorGoroutine)
		}
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	case c.mode != "live" && c.mode != "storm":
		return c, fmt.Errorf("-mode %q: want live or storm", c.mode)
	case c.clients < 1:
		return c, errors.New("-clients must be at least 1")
	case c.rate < 0:
		return c, errors.New("-rate must not be negative")
	case c.mode == "live" && c.rate == 0:
		return c, errors.New("-rate must be positive in live mode")
	case c.duration <= 0 || c.rampBatch < 1 || c.rampInterval < 0 || c.settle < 0:
		return c, errors.New("-duration and -ramp-batch must be positive, -ramp-interval and -settle not negative")
	case c.rounds < 1:
		return c, errors.New("-rounds must be at least 1")
	case c.mode == "storm" && (len(c.servers) != 1 || c.servers[0] != "serve"):
		return c, errors.New("-mode storm measures serve only")
	case c.stormEvents < 1:
		return c, errors.New("-storm-events must be at least 1")
	case c.ringSize != 0 && c.ringSize < 16:
		return c, errors.New("-ring-size must be 0 or at least 16 (serve's minimum)")
	case c.bufSize < 256:
		return c, errors.New("-buf must be at least 256")
	case c.connectTimeout <= 0 || c.drainTimeout <= 0 || c.stormTimeout <= 0:
		return c, errors.New("timeouts must be positive")
	}
	if err := c.extra.validate(); err != nil {
		return c, err
	}
	for _, kv := range c.serveEnv {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return c, fmt.Errorf("-serve-env %q: want KEY=VALUE", kv)
		}
	}
	return c, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "servebench:", err)
		os.Exit(2)
	}
	if cfg.floorServer != "" {
		if err := runFloor(cfg.floorServer, cfg.floorAddr, cfg.floorFeed); err != nil {
			fmt.Fprintln(os.Stderr, "servebench floor:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, cfg)
	if err != nil && ctx.Err() != nil {
		err = errors.New("interrupted (serve stopped, temporary files removed)")
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "servebench:", err)
		os.Exit(1)
	}
}

func numCPU() int { return runtime.NumCPU() }

// printJSON prints v as the one-line summary.
func printJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fmt.Fprintln(os.Stderr, "servebench: summary:", err)
		return
	}
	fmt.Println(string(b))
}

// logf prints progress on stderr, so that stdout holds only results.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s servebench: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}
