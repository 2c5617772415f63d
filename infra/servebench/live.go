package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// liveResult is the JSON summary of -mode live.
type liveResult struct {
	Mode          string  `json:"mode"`
	Server        string  `json:"server"` // serve, floor, floor-goroutine
	Round         int     `json:"round"`
	Label         string  `json:"label,omitempty"`
	Machine       string  `json:"machine"`
	Note          string  `json:"note"`
	Clients       int     `json:"clients"`
	Rate          float64 `json:"rate"`
	WindowSeconds float64 `json:"window_s"`
	RampSeconds   float64 `json:"ramp_s"`
	tally
	Published        int64          `json:"published_in_window"`
	PublishErrors    int64          `json:"publish_errors"`
	PublishMaxLagMs  float64        `json:"publish_max_lag_ms"`
	Deliveries       int64          `json:"deliveries_in_window"`
	DeliveriesPerSec float64        `json:"deliveries_per_s"`
	ExpectedPerSec   float64        `json:"expected_per_s"`
	LatP50           float64        `json:"latency_p50_ms"`
	LatP90           float64        `json:"latency_p90_ms"`
	LatP99           float64        `json:"latency_p99_ms"`
	LatP999          float64        `json:"latency_p999_ms"`
	LatMax           float64        `json:"latency_max_ms"`
	ServeCores       float64        `json:"serve_cpu_cores"`
	ServeUsPerDeliv  float64        `json:"serve_cpu_us_per_delivery"`
	ServeSysShare    float64        `json:"serve_cpu_kernel_share"`
	BenchCores       float64        `json:"bench_cpu_cores"`
	BoxCores         float64        `json:"box_cpu_busy_cores"`
	StealCores       float64        `json:"box_cpu_steal_cores"`
	RSSIdleMiB       float64        `json:"serve_rss_idle_mib"`
	RSSConnMiB       float64        `json:"serve_rss_connected_mib"`
	RSSEndMiB        float64        `json:"serve_rss_window_end_mib"`
	RSSMaxMiB        float64        `json:"serve_rss_max_mib"`
	RSSPerConnKiB    float64        `json:"serve_rss_per_conn_kib"`
	RSSHalfMiB       float64        `json:"serve_rss_half_mib"`
	RSSMarginalKiB   float64        `json:"serve_rss_marginal_kib"`
	GoroutinesIdle   int            `json:"serve_goroutines_idle"`
	GoroutinesConn   int            `json:"serve_goroutines_connected"`
	GoroutinesEnd    int            `json:"serve_goroutines_window_end"`
	JSAPICalls       uint64         `json:"js_api_requests_in_window"`
	JSConsumers      int            `json:"js_consumers"`
	LastEvent        int64          `json:"last_event"`
	Lagging          int            `json:"clients_short_at_end"`
	TailMissing      int64          `json:"tail_missing"`
	ServeDisconnects map[string]int `json:"serve_disconnects,omitempty"`
	GoMemConn        string         `json:"serve_go_memory_connected,omitempty"`
	GoMemEnd         string         `json:"serve_go_memory_end,omitempty"`
}

// countConnected is how many of clients are connected.
func countConnected(clients []*client) int {
	n := 0
	for _, c := range clients {
		if c.state.Load() == stConnected {
			n++
		}
	}
	return n
}

func (b *bench) live(ctx context.Context) (*liveResult, error) {
	cfg := b.cfg
	pubCtx, stopPub := context.WithCancel(ctx)
	var pubWG sync.WaitGroup
	pubWG.Add(1)
	go func() { defer pubWG.Done(); b.pub.runRate(pubCtx, cfg.rate) }()
	defer func() { stopPub(); pubWG.Wait() }()

	if err := sleep(ctx, cfg.settle); err != nil {
		return nil, err
	}
	res := liveResult{Mode: "live", Server: b.target, Label: cfg.label, Machine: machine(), Note: contentionNote,
		Clients: cfg.clients, Rate: cfg.rate}
	rssIdle, _ := b.serveMem()
	res.RSSIdleMiB = mib(rssIdle)
	res.GoroutinesIdle = b.goroutines()

	logf("connecting %d clients (%d every %v)", cfg.clients, cfg.rampBatch, cfg.rampInterval)
	clients := make([]*client, cfg.clients)
	for i := range clients {
		clients[i] = newClient(b.sink, b.serve.addr, streamPath)
	}
	defer b.closeAll(clients)
	// In two halves, with the RSS between them: what the second half adds
	// is what a connection costs (the marginal RSS), without what the first
	// connections' requests left behind (freed memory not yet returned to
	// the kernel, idle request goroutines), which the second half reuses.
	half := len(clients) / 2
	ramp, err := b.connectAll(ctx, clients[:half], cfg.rampBatch, cfg.rampInterval)
	if err != nil {
		return nil, err
	}
	if err := sleep(ctx, cfg.settle); err != nil {
		return nil, err
	}
	connectedHalf := countConnected(clients[:half])
	rssHalf, _ := b.serveMem()
	res.RSSHalfMiB = mib(rssHalf)
	ramp2, err := b.connectAll(ctx, clients[half:], cfg.rampBatch, cfg.rampInterval)
	if err != nil {
		return nil, err
	}
	ramp += ramp2
	res.RampSeconds = ramp.Seconds()
	connected := countConnected(clients)
	logf("%d connected, %d failed in %v", connected, cfg.clients-connected, ramp.Round(time.Millisecond))
	if connected == 0 {
		b.closeAll(clients)
		t := tallyClients(clients)
		return nil, fmt.Errorf("no client connected: %s", reasons(t.FailReasons))
	}
	if err := sleep(ctx, cfg.settle); err != nil {
		return nil, err
	}
	rssConn, _ := b.serveMem()
	res.RSSConnMiB = mib(rssConn)
	res.GoMemConn = b.goMemory()
	if n := connected - connectedHalf; n > 0 {
		res.RSSMarginalKiB = float64(rssConn-rssHalf) / float64(n)
	}
	res.GoroutinesConn = b.goroutines()

	// The window.
	logf("measuring for %v", cfg.duration)
	var perfDone <-chan error
	var perfFile string
	if cfg.perf != "" {
		out, _ := filepath.Abs(cfg.perf)
		if len(cfg.servers) > 1 || cfg.rounds > 1 { // one recording per run
			out += "." + b.target + "." + strconv.Itoa(b.round)
		}
		perfFile = out
		if perfDone, err = perfRecord(ctx, b.serve.pid(), out, cfg.duration); err != nil {
			return nil, err
		}
	}
	hist := &histogram{}
	recv0 := sumReceived(clients)
	pub0 := b.pub.Published()
	b.pub.maxLag.Store(0)
	js0 := b.jsStats()
	cpu0 := sampleCPU(b.serve.pid())
	b.sink.hist.Store(hist)
	rss := sampleRSS(b.serve.pid(), 250*time.Millisecond)
	werr := sleep(ctx, cfg.duration)
	b.sink.hist.Store(nil)
	cpu1 := sampleCPU(b.serve.pid())
	recv1 := sumReceived(clients)
	pub1 := b.pub.Published()
	rssMax := rss.Stop()
	js1 := b.jsStats()
	res.JSAPICalls, res.JSConsumers = js1.APITotal-js0.APITotal, js1.Consumers
	if werr != nil {
		return nil, werr
	}
	rssEnd, _ := b.serveMem()
	res.GoMemEnd = b.goMemory()
	res.GoroutinesEnd = b.goroutines()
	res.ServeDisconnects = b.disconnects()
	res.PublishMaxLagMs = ms(time.Duration(b.pub.maxLag.Load()))

	use := cpuBetween(cpu0, cpu1)
	res.WindowSeconds = use.Wall.Seconds()
	res.Published = pub1 - pub0
	res.PublishErrors = b.pub.errs.Load()
	res.Deliveries = recv1 - recv0
	res.DeliveriesPerSec = float64(res.Deliveries) / use.Wall.Seconds()
	res.ExpectedPerSec = float64(connected) * cfg.rate
	res.LatP50, res.LatP90 = ms(hist.Quantile(0.5)), ms(hist.Quantile(0.9))
	res.LatP99, res.LatP999, res.LatMax = ms(hist.Quantile(0.99)), ms(hist.Quantile(0.999)), ms(hist.Max())
	res.ServeCores, res.BenchCores, res.BoxCores, res.StealCores = use.Serve, use.Bench, use.Box, use.Steal
	if res.Deliveries > 0 {
		res.ServeUsPerDeliv = use.ServeSec / float64(res.Deliveries) * 1e6
	}
	if use.ServeSec > 0 {
		res.ServeSysShare = use.ServeSysSec / use.ServeSec
	}
	res.RSSEndMiB, res.RSSMaxMiB = mib(rssEnd), mib(max(rssMax, rssEnd))
	res.RSSPerConnKiB = float64(rssEnd-rssIdle) / float64(connected)

	var perfText string
	if perfDone != nil {
		if err := <-perfDone; err != nil {
			logf("warning: %v", err)
		} else if perfText, err = perfReport(ctx, perfFile); err != nil {
			logf("warning: %v", err)
		}
	}

	// Drain: no more events; every client still connected must reach the
	// last one.
	stopPub()
	pubWG.Wait()
	res.LastEvent = b.pub.Published()
	logf("publisher stopped at event %d; waiting for the clients to reach it", res.LastEvent)
	deadline := time.Now().Add(cfg.drainTimeout)
	for {
		short, _ := shortClients(clients, res.LastEvent)
		if short == 0 || time.Now().After(deadline) {
			break
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return nil, err
		}
	}
	res.Lagging, res.TailMissing = shortClients(clients, res.LastEvent)
	b.closeAll(clients)
	res.tally = tallyClients(clients)

	printLive(&res, cfg)
	if perfText != "" {
		fmt.Print(perfText)
	}
	printJSON(res)
	return &res, nil
}

func sumReceived(clients []*client) int64 {
	var n int64
	for _, c := range clients {
		n += c.received.Load()
	}
	return n
}

// shortClients counts the connected clients that have not yet received
// event last, and how many events they lack in all.
func shortClients(clients []*client, last int64) (int, int64) {
	n, missing := 0, int64(0)
	for _, c := range clients {
		if c.state.Load() != stConnected {
			continue
		}
		if got := c.lastN.Load(); got < last {
			n++
			if got < 0 {
				got = c.baseN.Load()
			}
			missing += last - got
		}
	}
	return n, missing
}

func printLive(r *liveResult, cfg config) {
	fmt.Printf("servebench live, %s: %d clients × %g events/s (~1 KB), window %.1f s\n", r.Server, cfg.clients, cfg.rate, r.WindowSeconds)
	fmt.Printf("machine: %s\n", r.Machine)
	fmt.Printf("note: %s; every figure includes that contention\n", r.Note)
	row("clients connected / failed", "%d / %d  (ramp %.1f s; connect p50 %.1f ms, p99 %.1f ms, max %.1f ms)",
		r.Connected, r.Failed, r.RampSeconds, r.ConnectP50, r.ConnectP99, r.ConnectMax)
	if r.Failed > 0 {
		row("connect failures", "%s", reasons(r.FailReasons))
	}
	row("streams ended early", "%d  %s", r.Ended, reasons(r.EndReasons))
	row("events published in window", "%d  (%.1f/s; publish errors %d; worst publish lag %.1f ms)",
		r.Published, float64(r.Published)/r.WindowSeconds, r.PublishErrors, r.PublishMaxLagMs)
	row("deliveries", "%d  = %.0f/s  (expected %.0f/s)", r.Deliveries, r.DeliveriesPerSec, r.ExpectedPerSec)
	row("end-to-end latency", "p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, max %.1f ms",
		r.LatP50, r.LatP90, r.LatP99, r.LatP999, r.LatMax)
	row("serve CPU", "%.3f cores  = %.1f µs per delivery (%.0f%% in the kernel: %.1f µs)",
		r.ServeCores, r.ServeUsPerDeliv, 100*r.ServeSysShare, r.ServeSysShare*r.ServeUsPerDeliv)
	row("bench process CPU (clients+NATS)", "%.3f cores", r.BenchCores)
	row("whole machine CPU", "%.2f of %d cores busy  (%.2f neither serve nor bench: kernel, other processes; steal %.2f)",
		r.BoxCores, numCPU(), r.BoxCores-r.ServeCores-r.BenchCores, r.StealCores)
	row("serve RSS idle → half → connected → end", "%.1f → %.1f → %.1f → %.1f MiB  (max %.1f MiB)", r.RSSIdleMiB, r.RSSHalfMiB, r.RSSConnMiB, r.RSSEndMiB, r.RSSMaxMiB)
	row("serve RSS per connection", "%.1f KiB  ((end − idle) / connected); marginal %.1f KiB  ((connected − half) / the second half)",
		r.RSSPerConnKiB, r.RSSMarginalKiB)
	if r.GoMemConn != "" {
		row("serve Go memory: connected; end", "%s; %s", r.GoMemConn, r.GoMemEnd)
	}
	row("serve goroutines idle → connected → end", "%d → %d → %d", r.GoroutinesIdle, r.GoroutinesConn, r.GoroutinesEnd)
	row("JetStream API requests in window", "%d  (consumers at the end: %d)", r.JSAPICalls, r.JSConsumers)
	row("missing / duplicate / out-of-order", "%d / %d / %d  (seq not increasing %d, unparsed %d, error events %d)",
		r.Missing, r.Duplicates, r.OutOfOrder, r.SeqNotIncr, r.Unparsed, r.ErrorEvents)
	row("clients short of the last event", "%d  (%d events; last event %d, after a %v drain)", r.Lagging, r.TailMissing, r.LastEvent, cfg.drainTimeout)
	if len(r.ServeDisconnects) > 0 {
		row("serve disconnects (metrics)", "%s", fmtCounts(r.ServeDisconnects))
	}
	verdict := "OK"
	if r.Missing+r.Duplicates+r.OutOfOrder+r.SeqNotIncr+r.Unparsed+r.TailMissing > 0 || r.Ended > 0 || r.Failed > 0 {
		verdict = "PROBLEMS (see above)"
	}
	row("verdict", "%s", verdict)
}

func fmtCounts(m map[string]int) string {
	s := ""
	for k, v := range m {
		if s != "" {
			s += ", "
		}
		s += k + "=" + strconv.Itoa(v)
	}
	return s
}
