package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc"
)

// streamPath is the request every client makes.
const streamPath = "/v2/stream/recentchange"

// bench is what both modes share: NATS, the publisher and the server
// under test.
type bench struct {
	cfg     config
	tmp     string
	natsURL string
	ns      *server.Server
	js      jetstream.JetStream
	pub     *publisher
	serve   *serveProc // the server under test: serve or a floor
	target  string     // its name: serve, floor, floor-goroutine
	round   int        // live mode: the round being measured
	feed    *floorFeed // a floor's feed
	sink    *sink
	nofile  uint64
	// serveBin is the serve binary ("-": not needed).
	serveBin string
}

// run sets everything up, runs the mode, and tears everything down in
// reverse order (serve first, so that it does not see NATS go away).
func run(ctx context.Context, cfg config) (err error) {
	b := &bench{cfg: cfg, sink: &sink{sources: newSources(cfg.extra.sourceAddrs)}}
	if b.nofile, err = raiseFileLimit(); err != nil {
		return fmt.Errorf("raising the open-files limit: %w", err)
	}
	if need := uint64(cfg.clients) + 200; b.nofile < need {
		return fmt.Errorf("-clients %d needs about %d open files in this process and in serve; the hard limit (ulimit -Hn) is %d",
			cfg.clients, need, b.nofile)
	}

	b.tmp, err = os.MkdirTemp("", "servebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(b.tmp)

	ns, err := inproc.StartNATS(inproc.NATSOptions{StoreDir: filepath.Join(b.tmp, "js")})
	if err != nil {
		return err
	}
	defer ns.Shutdown()
	b.ns, b.natsURL = ns, ns.ClientURL()
	nc, err := nats.Connect(b.natsURL, nats.Name("servebench-publisher"))
	if err != nil {
		return fmt.Errorf("connecting to the in-process nats-server: %w", err)
	}
	defer nc.Close()
	if b.js, err = jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(256)); err != nil {
		return err
	}
	if err := createStream(ctx, b.js, cfg.maxConsumers); err != nil {
		return err
	}
	b.pub = newPublisher(b.js)

	if cfg.mode == "live" && !slices.Contains(cfg.servers, "serve") {
		b.serveBin = "-" // not needed
	} else if b.serveBin = cfg.serveBin; b.serveBin == "" {
		logf("building ./serve")
		if b.serveBin, err = buildServe(ctx, b.tmp); err != nil {
			return err
		}
	}
	if cfg.mode == "storm" {
		if err := b.start(ctx, "serve"); err != nil {
			return err
		}
		defer b.stop()
		return b.storm(ctx)
	}
	var results []*liveResult
	for round := 1; round <= cfg.rounds; round++ {
		for _, name := range cfg.servers {
			if cfg.rounds > 1 || len(cfg.servers) > 1 {
				logf("round %d of %d: %s", round, cfg.rounds, name)
			}
			if err := b.start(ctx, name); err != nil {
				return err
			}
			b.round = round
			res, err := b.live(ctx)
			b.stop()
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			res.Server, res.Round = name, round
			results = append(results, res)
		}
	}
	if len(results) > 1 {
		printRatios(results)
	}
	return nil
}

// sleep waits for d or ctx.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// connectAll starts the clients, batch at a time, and waits until each is
// connected or has failed. It returns how long that took.
func (b *bench) connectAll(ctx context.Context, clients []*client, batch int, interval time.Duration) (time.Duration, error) {
	results := make(chan bool, len(clients))
	start := time.Now()
	for i := 0; i < len(clients); i += batch {
		for _, c := range clients[i:min(i+batch, len(clients))] {
			c.started = true
			go c.run(b.cfg.connectTimeout, b.cfg.bufSize, func(ok bool) {
				if ok {
					c.baseN.Store(b.pub.Published())
				}
				results <- ok
			})
		}
		if interval > 0 && i+batch < len(clients) {
			if err := sleep(ctx, interval); err != nil {
				return 0, err
			}
		}
	}
	// Every client gives up within connectTimeout; the margin is for a
	// starved scheduler.
	limit := time.NewTimer(b.cfg.connectTimeout + 30*time.Second)
	defer limit.Stop()
	for range clients {
		select {
		case <-results:
		case <-limit.C:
			return time.Since(start), errors.New("clients neither connected nor failed within the connect timeout")
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	return time.Since(start), nil
}

// closeAll closes every client and waits for their goroutines.
func (b *bench) closeAll(clients []*client) {
	b.sink.stopping.Store(true)
	for _, c := range clients {
		c.close()
	}
	limit := time.After(30 * time.Second)
	for _, c := range clients {
		if !c.started {
			continue
		}
		select {
		case <-c.done:
		case <-limit:
			logf("warning: client goroutines did not all finish within 30s of closing")
			return
		}
	}
}

// tally sums the clients' states and checks.
type tally struct {
	Connected   int            `json:"connected"`
	Failed      int            `json:"failed"`
	Ended       int            `json:"ended_early"` // stream ended or broke before the benchmark closed it
	FailReasons map[string]int `json:"fail_reasons,omitempty"`
	EndReasons  map[string]int `json:"end_reasons,omitempty"`
	Missing     int64          `json:"missing"`
	Duplicates  int64          `json:"duplicates"`
	OutOfOrder  int64          `json:"out_of_order"`
	SeqNotIncr  int64          `json:"seq_not_increasing"`
	Unparsed    int64          `json:"unparsed"`
	ErrorEvents int64          `json:"error_events"`
	ConnectP50  float64        `json:"connect_p50_ms"`
	ConnectP99  float64        `json:"connect_p99_ms"`
	ConnectMax  float64        `json:"connect_max_ms"`
}

// reason shortens an error for grouping: the addresses vary.
func reason(err error) string {
	if err == nil {
		return "unknown"
	}
	s := err.Error()
	for _, cut := range []string{"127.0.0.1:"} {
		for {
			i := strings.Index(s, cut)
			if i < 0 {
				break
			}
			j := i + len(cut)
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			s = s[:i] + "<addr>" + s[j:]
		}
	}
	return clip(s, 160)
}

// tallyClients must run after the clients' goroutines have finished.
func tallyClients(clients []*client) tally {
	t := tally{FailReasons: map[string]int{}, EndReasons: map[string]int{}}
	var conn []time.Duration
	for _, c := range clients {
		switch c.state.Load() {
		case stConnecting: // never started
			continue
		case stFailed:
			t.Failed++
			t.FailReasons[reason(c.err)]++
			continue
		case stEnded:
			t.Ended++
			t.EndReasons[reason(c.err)]++
		}
		t.Connected++
		conn = append(conn, c.connected)
		t.Missing += c.missing
		t.Duplicates += c.duplicates
		t.OutOfOrder += c.outOfOrder
		t.SeqNotIncr += c.seqNotIncr
		t.Unparsed += c.unparsed
		t.ErrorEvents += c.errorEvents
	}
	if len(conn) > 0 {
		slices.Sort(conn)
		t.ConnectP50 = ms(conn[len(conn)/2])
		t.ConnectP99 = ms(conn[min(len(conn)-1, len(conn)*99/100)])
		t.ConnectMax = ms(conn[len(conn)-1])
	}
	return t
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func mib(kb int64) float64 { return float64(kb) / 1024 }

// serveMem is serve's RSS now, in KiB (0 when unreadable).
func (b *bench) serveMem() (rss, hwm int64) {
	rss, hwm, err := memKB(strconv.Itoa(b.serve.pid()))
	if err != nil {
		logf("warning: reading serve's memory: %v", err)
	}
	return rss, hwm
}

// goroutines asks serve's /metrics (-1 when unavailable).
func (b *bench) goroutines() int {
	if b.target != "serve" {
		return -1
	}
	m, err := promMetrics(b.serve.addr, "go_goroutines")
	if err != nil {
		logf("warning: serve /metrics: %v", err)
		return -1
	}
	if v, ok := m["go_goroutines"]; ok {
		return int(v)
	}
	return -1
}

// goMemory is where serve's memory is, from the Go runtime's figures in
// its /metrics ("" when unavailable): heap in use, goroutine stacks, and
// heap freed but not yet returned to the kernel (all in RSS).
func (b *bench) goMemory() string {
	if b.target != "serve" {
		return ""
	}
	m, err := promMetrics(b.serve.addr, "go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes",
		"go_memstats_heap_idle_bytes", "go_memstats_heap_released_bytes")
	if err != nil {
		return ""
	}
	return fmt.Sprintf("heap in use %.1f MiB, stacks %.1f MiB, freed heap kept %.1f MiB", mib(int64(m["go_memstats_heap_inuse_bytes"])>>10),
		mib(int64(m["go_memstats_stack_inuse_bytes"])>>10), mib(int64(m["go_memstats_heap_idle_bytes"]-m["go_memstats_heap_released_bytes"])>>10))
}

// disconnects is eventstreams_disconnects_total by reason.
func (b *bench) disconnects() map[string]int {
	if b.target != "serve" {
		return nil
	}
	m, err := promMetrics(b.serve.addr, "eventstreams_disconnects_total")
	if err != nil {
		return nil
	}
	out := map[string]int{}
	for k, v := range m {
		if i := strings.Index(k, `reason="`); i >= 0 {
			r := k[i+len(`reason="`):]
			r = r[:strings.IndexByte(r, '"')]
			out[r] = int(v)
		}
	}
	return out
}

const contentionNote = "load clients, publisher and nats-server run in this benchmark process on the same machine as serve"

func machine() string {
	return fmt.Sprintf("%d CPUs (%s), %s/%s, %s", numCPU(), cpuModel(), runtime.GOOS, runtime.GOARCH, runtime.Version())
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// row prints one line of the results table.
func row(name string, format string, args ...any) {
	fmt.Printf("  %-40s %s\n", name, fmt.Sprintf(format, args...))
}

func reasons(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%d× %s", v, k))
	}
	slices.Sort(parts)
	return strings.Join(parts, "; ")
}

// jsStats is the in-process nats-server's JetStream API and consumer counts.
type jsStats struct {
	APITotal, APIErrors uint64
	Consumers           int
}

func (b *bench) jsStats() jsStats {
	info, err := b.ns.Jsz(nil)
	if err != nil || info == nil {
		return jsStats{}
	}
	return jsStats{APITotal: info.API.Total, APIErrors: info.API.Errors, Consumers: info.Consumers}
}

// consumerSampler records the most JetStream consumers seen until stopped.
type consumerSampler struct {
	stop, done chan struct{}
	max        int
}

func (b *bench) sampleConsumers(every time.Duration) *consumerSampler {
	s := &consumerSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			s.max = max(s.max, b.jsStats().Consumers)
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Stop ends sampling and returns the maximum.
func (s *consumerSampler) Stop() int {
	close(s.stop)
	<-s.done
	return s.max
}
