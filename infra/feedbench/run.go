package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// result is one measurement, for one number of feeds.
type result struct {
	Feeds        int     `json:"feeds"`
	Seconds      float64 `json:"seconds"`             // the window (live) or the catch-up time
	NATSCores    float64 `json:"nats_cores"`          // the cluster's CPU / Seconds
	Deliveries   float64 `json:"deliveries_per_s"`    // live mode: what the feeds read
	Published    float64 `json:"published_per_s"`     // live mode
	FeedCores    float64 `json:"feed_cores"`          // live mode: above the 0-feed run, per feed
	DeliveryUS   float64 `json:"delivery_us"`         // live mode: above the 0-feed run, per delivery
	CatchUpMS    int64   `json:"catchup_ms"`          // catch-up mode
	CatchUpCPUMS float64 `json:"catchup_nats_cpu_ms"` // catch-up mode: the cluster's CPU meanwhile
	RSSMiB       float64 `json:"nats_rss_mib"`        // this process (the cluster) after the run
}

// run starts the cluster and measures each number of feeds in turn.
func run(ctx context.Context, cfg config) error {
	dir, err := os.MkdirTemp("", "feedbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	c, err := inproc.StartCluster(inproc.ClusterOptions{Dir: dir, SyncAlways: cfg.syncAlways})
	if err != nil {
		return err
	}
	defer c.Shutdown()
	if err := createStream(ctx, c); err != nil {
		return err
	}
	if cfg.preload > 0 {
		logf("storing %d events to read back", cfg.preload)
		if err := fill(ctx, c.URL(), cfg.preload); err != nil {
			return err
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	var results []result
	for _, n := range cfg.feeds {
		logf("%d feeds", n)
		r, err := measure(ctx, cfg, exe, c.URL(), n)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	// A feed's cost is what the cluster spends above the runs without
	// feeds (publishing and storing alone), averaged: give 0 several times,
	// between the others, on a noisy machine.
	var base float64
	var zeros int
	for _, r := range results {
		if r.Feeds == 0 {
			base += r.NATSCores
			zeros++
		}
	}
	for i, r := range results {
		if zeros > 0 && r.Feeds > 0 && cfg.preload == 0 {
			results[i].FeedCores = (r.NATSCores - base/float64(zeros)) / float64(r.Feeds)
			results[i].DeliveryUS = 1e6 * (r.NATSCores - base/float64(zeros)) / r.Deliveries
		}
	}
	fmt.Printf("3-node cluster in process, R3 stream, sync_always=%v, %d events/s of ~1 KB, GOMAXPROCS=%d on this machine, shared with the load\n",
		cfg.syncAlways, cfg.rate, numCPU())
	for _, r := range results {
		if cfg.preload > 0 {
			fmt.Printf("feeds %3d: all caught up %d events back in %6d ms, NATS CPU %7.0f ms, NATS RSS %4.0f MiB\n",
				r.Feeds, cfg.preload, r.CatchUpMS, r.CatchUpCPUMS, r.RSSMiB)
			continue
		}
		fmt.Printf("feeds %3d: NATS %.3f cores, deliveries %7.0f/s, published %5.0f/s, per feed %.4f cores, per delivery %5.1f µs, NATS RSS %4.0f MiB\n",
			r.Feeds, r.NATSCores, r.Deliveries, r.Published, r.FeedCores, r.DeliveryUS, r.RSSMiB)
	}
	b, err := json.Marshal(map[string]any{"rate": cfg.rate, "sync_always": cfg.syncAlways, "preload": cfg.preload, "results": results})
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}

// measure runs the child with n feeds and measures the cluster meanwhile.
func measure(ctx context.Context, cfg config, exe, url string, n int) (result, error) {
	r := result{Feeds: n}
	cmd := exec.CommandContext(ctx, exe, "-child", "-url", url, "-feeds", strconv.Itoa(n),
		"-rate", strconv.Itoa(cfg.rate), "-preload", strconv.Itoa(cfg.preload))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return r, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return r, err
	}
	if err := cmd.Start(); err != nil {
		return r, err
	}
	defer cmd.Wait() //nolint:errcheck // its error is the closed pipe's
	defer stdin.Close()
	lines := bufio.NewScanner(stdout)
	ask := func(cmd string) ([]string, error) {
		if cmd != "" {
			if _, err := io.WriteString(stdin, cmd+"\n"); err != nil {
				return nil, err
			}
		}
		if !lines.Scan() {
			return nil, fmt.Errorf("the load process ended (%v)", lines.Err())
		}
		return strings.Fields(lines.Text()), nil
	}
	if _, err := ask(""); err != nil { // ready
		return r, err
	}
	time.Sleep(cfg.settle)
	if cfg.preload > 0 {
		cpu0 := cpuTime()
		f, err := ask("go")
		if err != nil || len(f) != 2 {
			return r, fmt.Errorf("catch-up: %v %v", f, err)
		}
		r.CatchUpCPUMS = float64((cpuTime() - cpu0).Milliseconds())
		r.CatchUpMS, _ = strconv.ParseInt(f[1], 10, 64)
		r.Seconds = float64(r.CatchUpMS) / 1000
		r.NATSCores = r.CatchUpCPUMS / float64(r.CatchUpMS)
		r.RSSMiB = rssMiB()
		return r, nil
	}
	m0, err := ask("mark")
	if err != nil {
		return r, err
	}
	cpu0, t0 := cpuTime(), time.Now()
	time.Sleep(cfg.duration)
	m1, err := ask("mark")
	if err != nil {
		return r, err
	}
	cpu, elapsed := cpuTime()-cpu0, time.Since(t0)
	r.Seconds = elapsed.Seconds()
	r.NATSCores = cpu.Seconds() / r.Seconds
	r.Deliveries = float64(atoi(m1[1])-atoi(m0[1])) / r.Seconds
	r.Published = float64(atoi(m1[2])-atoi(m0[2])) / r.Seconds
	r.RSSMiB = rssMiB()
	return r, nil
}

func atoi(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }

// createStream creates the stream as ingest does, R3, and waits for its
// leader.
func createStream(ctx context.Context, c *inproc.Cluster) error {
	nc, err := nats.Connect(c.URL())
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	cfg := layout.Default().StreamConfig(layout.Limits{DuplicateWindow: 2 * time.Minute, Replicas: 3})
	deadline := time.Now().Add(time.Minute)
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := js.CreateOrUpdateStream(cctx, cfg)
		cancel()
		if err == nil && c.StreamLeader(cfg.Name) >= 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("stream %s: no leader after a minute: %v", cfg.Name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fill stores k events as fast as the cluster takes them.
func fill(ctx context.Context, url string, k int) error {
	nc, err := nats.Connect(url)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(1024))
	if err != nil {
		return err
	}
	data := []byte(`{"$schema":"/mediawiki/recentchange/1.0.0","meta":{"stream":"mediawiki.recentchange"},"wiki":"enwiki","comment":"` +
		strings.Repeat("x", 900) + `"}`)
	subject := layout.Default().Subject(layout.StreamToken("mediawiki.recentchange"), "enwiki")
	for range k {
		if _, err := js.PublishAsync(subject, data); err != nil {
			return err
		}
	}
	select {
	case <-js.PublishAsyncComplete():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssMiB is this process's resident set, from /proc/self/status.
func rssMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
