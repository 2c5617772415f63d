package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// stormResult is the JSON summary of -mode storm.
type stormResult struct {
	Mode         string `json:"mode"`
	Label        string `json:"label,omitempty"`
	Machine      string `json:"machine"`
	Note         string `json:"note"`
	Clients      int    `json:"clients"`
	EventsBack   int    `json:"events_back"`
	RingSize     int    `json:"serve_ring_size"` // 0: serve's default
	MaxConsumers int    `json:"stream_max_consumers"`
	AnchorID     string `json:"anchor_id"`
	tally
	ConnectedSeconds float64        `json:"all_connected_s"`
	Complete         int            `json:"clients_complete"`
	CompleteSeconds  float64        `json:"all_complete_s"`
	DoneP50          float64        `json:"client_done_p50_ms"`
	DoneP99          float64        `json:"client_done_p99_ms"`
	Replayed         int64          `json:"events_replayed"`
	ReplayPerSec     float64        `json:"replay_events_per_s"`
	StormMissing     int64          `json:"storm_missing"` // counted against the K each client must get
	Extra            int64          `json:"extra_events"`
	ServeCores       float64        `json:"serve_cpu_cores"`
	ServeUsPerEvent  float64        `json:"serve_cpu_us_per_event"`
	BenchCores       float64        `json:"bench_cpu_cores"`
	BoxCores         float64        `json:"box_cpu_busy_cores"`
	StealCores       float64        `json:"box_cpu_steal_cores"`
	RSSBeforeMiB     float64        `json:"serve_rss_before_mib"`
	RSSPeakMiB       float64        `json:"serve_rss_peak_mib"`
	HWMMiB           float64        `json:"serve_vmhwm_mib"`
	RSSAfterMiB      float64        `json:"serve_rss_after_mib"`
	OpenMeanMs       float64        `json:"serve_reader_open_mean_ms"`
	JSAPICalls       uint64         `json:"js_api_requests"`
	JSAPIErrors      uint64         `json:"js_api_errors"`
	JSConsumersMax   int            `json:"js_consumers_max"`
	ServeDisconnects map[string]int `json:"serve_disconnects,omitempty"`
	Floors           []floorRun     `json:"raw_replay_floors"`
	FloorSeconds     float64        `json:"floor_s"`
	// FloorRatio is serve's seconds per replayed event over the floor's:
	// with every client served, serve's storm time over the floor's.
	FloorRatio float64 `json:"serve_to_floor"`
}

func (b *bench) storm(ctx context.Context) error {
	cfg := b.cfg
	res := stormResult{Mode: "storm", Label: cfg.label, Machine: machine(), Note: contentionNote,
		Clients: cfg.clients, EventsBack: cfg.stormEvents, RingSize: cfg.ringSize, MaxConsumers: cfg.maxConsumers}

	// The anchor: one event, and its id as serve writes it.
	probe := newClient(b.sink, b.serve.addr, streamPath)
	probe.keepID = true
	if _, err := b.connectAll(ctx, []*client{probe}, 1, 0); err != nil {
		return err
	}
	if probe.state.Load() != stConnected {
		<-probe.done
		return fmt.Errorf("probe client: %v", probe.err)
	}
	if err := b.pub.publishOne(ctx); err != nil {
		b.closeAll([]*client{probe})
		return fmt.Errorf("publishing the anchor event: %w", err)
	}
	var anchor eventID
	for deadline := time.Now().Add(10 * time.Second); ; {
		id, ok := probe.FirstID()
		if ok && probe.lastN.Load() > 0 {
			anchor = id
			break
		}
		if time.Now().After(deadline) {
			b.closeAll([]*client{probe})
			return errors.New("the probe client got no event within 10s of publishing the anchor")
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return err
		}
	}
	anchorN := probe.lastN.Load()
	b.closeAll([]*client{probe})
	b.sink.stopping.Store(false)
	if anchor.Epoch == "" || anchor.Seq == 0 || anchorN < 1 {
		return fmt.Errorf("the anchor event's id %+v (counter %d) is unusable", anchor, anchorN)
	}
	res.AnchorID = anchor.header()
	logf("anchor: event %d, id %s", anchorN, res.AnchorID)

	// K events with no client connected.
	t := time.Now()
	if err := b.pub.publishBurst(ctx, cfg.stormEvents); err != nil {
		return err
	}
	logf("stored %d events in %v", cfg.stormEvents, time.Since(t).Round(time.Millisecond))
	target := anchorN + int64(cfg.stormEvents)
	if b.pub.Published() != target {
		return fmt.Errorf("published counter %d, want %d", b.pub.Published(), target)
	}
	if err := sleep(ctx, cfg.settle); err != nil {
		return err
	}
	rssBefore, _ := b.serveMem()
	res.RSSBeforeMiB = mib(rssBefore)

	// The floor, before serve's storm: JetStream replays the same events
	// to as many readers, as many at once as serve's catch-up slots.
	f := b.floor(ctx, cfg.clients, cfg.stormEvents, anchor.Seq)
	logf("raw replay (before): %.2f s, %d events, %d short %s", f.Seconds, f.Events, f.Short, f.Err)
	res.Floors = append(res.Floors, f)
	if err := sleep(ctx, cfg.settle); err != nil {
		return err
	}

	// The storm.
	clients := make([]*client, cfg.clients)
	lastID := anchor.header()
	for i := range clients {
		c := newClient(b.sink, b.serve.addr, streamPath)
		c.lastEventID = lastID
		c.targetN = target
		clients[i] = c
	}
	defer b.closeAll(clients)
	logf("storm: %d clients connect at once with Last-Event-ID %s", cfg.clients, lastID)
	rss := sampleRSS(b.serve.pid(), 50*time.Millisecond)
	cons := b.sampleConsumers(100 * time.Millisecond)
	js0 := b.jsStats()
	cpu0 := sampleCPU(b.serve.pid())
	t0 := cpu0.at
	connected, err := b.connectAll(ctx, clients, len(clients), 0)
	if err != nil {
		rss.Stop()
		cons.Stop()
		return err
	}
	res.ConnectedSeconds = connected.Seconds()
	deadline := time.Now().Add(cfg.stormTimeout)
	for {
		pending := 0
		for _, c := range clients {
			if c.state.Load() == stConnected && c.doneAt.Load() == 0 {
				pending++
			}
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			logf("warning: %d clients had not received all %d events after %v", pending, cfg.stormEvents, cfg.stormTimeout)
			break
		}
		if err := sleep(ctx, 5*time.Millisecond); err != nil {
			rss.Stop()
			cons.Stop()
			return err
		}
	}
	cpu1 := sampleCPU(b.serve.pid())
	js1 := b.jsStats()
	res.JSConsumersMax = cons.Stop()
	res.JSAPICalls, res.JSAPIErrors = js1.APITotal-js0.APITotal, js1.APIErrors-js0.APIErrors
	res.RSSPeakMiB = mib(rss.Stop())
	rssAfter, hwm := b.serveMem()
	res.RSSAfterMiB, res.HWMMiB = mib(rssAfter), mib(hwm)
	res.ServeDisconnects = b.disconnects()
	if m, err := promMetrics(b.serve.addr, "eventstreams_reader_open_seconds_sum", "eventstreams_reader_open_seconds_count"); err == nil {
		if n := m["eventstreams_reader_open_seconds_count"]; n > 0 {
			res.OpenMeanMs = m["eventstreams_reader_open_seconds_sum"] / n * 1000
		}
	}
	b.closeAll(clients)
	res.tally = tallyClients(clients)

	// The floor again, after: the machine's load may have changed.
	f = b.floor(ctx, cfg.clients, cfg.stormEvents, anchor.Seq)
	logf("raw replay (after): %.2f s, %d events, %d short %s", f.Seconds, f.Events, f.Short, f.Err)
	res.Floors = append(res.Floors, f)
	for _, f := range res.Floors {
		if f.Err == "" && f.Short == 0 && (res.FloorSeconds == 0 || f.Seconds < res.FloorSeconds) {
			res.FloorSeconds = f.Seconds
		}
	}

	var done []time.Duration
	for _, c := range clients {
		if c.state.Load() == stFailed {
			continue
		}
		got := c.received.Load()
		res.Replayed += got
		if at := c.doneAt.Load(); at > 0 {
			done = append(done, time.Duration(at-t0.UnixNano()))
		}
		// Against the K events: a late first event, gaps, a short tail.
		if got == 0 {
			res.StormMissing += int64(cfg.stormEvents)
			continue
		}
		if c.firstN > anchorN+1 {
			res.StormMissing += c.firstN - (anchorN + 1)
		}
		if c.firstN <= anchorN {
			res.Extra += anchorN + 1 - c.firstN
		}
		res.StormMissing += c.missing
		if last := c.lastN.Load(); last < target {
			res.StormMissing += target - last
		}
	}
	res.Complete = len(done)
	if len(done) > 0 {
		slices.Sort(done)
		res.CompleteSeconds = done[len(done)-1].Seconds()
		res.DoneP50 = ms(done[len(done)/2])
		res.DoneP99 = ms(done[min(len(done)-1, len(done)*99/100)])
	}
	use := cpuBetween(cpu0, cpu1)
	if res.FloorSeconds > 0 && res.Replayed > 0 {
		floorEvents := float64(cfg.clients) * float64(cfg.stormEvents)
		res.FloorRatio = (res.CompleteSeconds / float64(res.Replayed)) / (res.FloorSeconds / floorEvents)
	}
	if res.CompleteSeconds > 0 {
		res.ReplayPerSec = float64(res.Replayed) / res.CompleteSeconds
	}
	res.ServeCores, res.BenchCores, res.BoxCores, res.StealCores = use.Serve, use.Bench, use.Box, use.Steal
	if res.Replayed > 0 {
		res.ServeUsPerEvent = use.ServeSec / float64(res.Replayed) * 1e6
	}
	printStorm(&res, use)
	printJSON(res)
	return nil
}

func printStorm(r *stormResult, use cpuUse) {
	ring := "serve's default"
	if r.RingSize > 0 {
		ring = strconv.Itoa(r.RingSize)
	}
	mc := "unset (nats-server default)"
	if r.MaxConsumers > 0 {
		mc = strconv.Itoa(r.MaxConsumers)
	}
	fmt.Printf("servebench storm: %d clients reconnect at once, each %d events back (~1 KB); ring %s, stream MaxConsumers %s\n",
		r.Clients, r.EventsBack, ring, mc)
	fmt.Printf("machine: %s\n", r.Machine)
	fmt.Printf("note: %s; every figure includes that contention\n", r.Note)
	row("Last-Event-ID", "%s", r.AnchorID)
	row("clients connected / failed", "%d / %d  (all in %.2f s; connect p50 %.1f ms, p99 %.1f ms, max %.1f ms)",
		r.Connected, r.Failed, r.ConnectedSeconds, r.ConnectP50, r.ConnectP99, r.ConnectMax)
	if r.Failed > 0 {
		row("connect failures", "%s", reasons(r.FailReasons))
	}
	row("streams ended early", "%d  %s", r.Ended, reasons(r.EndReasons))
	row("clients with all events", "%d of %d  (all by %.2f s after the first dial; p50 %.0f ms, p99 %.0f ms)",
		r.Complete, r.Connected, r.CompleteSeconds, r.DoneP50, r.DoneP99)
	row("events replayed", "%d  = %.0f/s", r.Replayed, r.ReplayPerSec)
	row("serve CPU", "%.3f cores over %.2f s  = %.1f µs per event", r.ServeCores, use.Wall.Seconds(), r.ServeUsPerEvent)
	row("bench process CPU (clients+NATS)", "%.3f cores", r.BenchCores)
	row("whole machine CPU", "%.2f of %d cores busy  (%.2f neither serve nor bench: kernel, other processes; steal %.2f)",
		r.BoxCores, numCPU(), r.BoxCores-r.ServeCores-r.BenchCores, r.StealCores)
	row("serve RSS before → peak → after", "%.1f → %.1f → %.1f MiB  (VmHWM %.1f MiB)", r.RSSBeforeMiB, r.RSSPeakMiB, r.RSSAfterMiB, r.HWMMiB)
	row("serve reader open, mean", "%.1f ms  (catch-up consumer creation included)", r.OpenMeanMs)
	row("JetStream API requests / errors", "%d / %d  (consumers at most %d at once)", r.JSAPICalls, r.JSAPIErrors, r.JSConsumersMax)
	row("missing / duplicate / out-of-order", "%d / %d / %d  (extra %d, seq not increasing %d, unparsed %d, error events %d)",
		r.StormMissing, r.Duplicates, r.OutOfOrder, r.Extra, r.SeqNotIncr, r.Unparsed, r.ErrorEvents)
	for i, f := range r.Floors {
		when := "before"
		if i > 0 {
			when = "after"
		}
		printFloor(fmt.Sprintf("raw replay floor, %s (%s)", f.Method, when), f)
	}
	row("serve's storm / floor", "%.2f× per event  (serve %.2f s for %d events, floor %.2f s for %d)",
		r.FloorRatio, r.CompleteSeconds, r.Replayed, r.FloorSeconds, r.Clients*r.EventsBack)
	if len(r.ServeDisconnects) > 0 {
		row("serve disconnects (metrics)", "%s", fmtCounts(r.ServeDisconnects))
	}
	verdict := "OK"
	if r.StormMissing+r.Duplicates+r.OutOfOrder+r.Extra+r.SeqNotIncr+r.Unparsed > 0 || r.Failed > 0 || r.Complete < r.Clients {
		verdict = "PROBLEMS (see above)"
	}
	row("verdict", "%s", verdict)
}
