// Command feedbench measures what serve processes' live feeds cost NATS,
// for the capacity model (docs/capacity.md). It prints a text table and,
// last, a one-line JSON summary.
//
// It starts a 3-node NATS cluster in this process (inproc.StartCluster,
// routes over loopback, sync_interval: always as shipped) holding the
// EVENTSTREAMS stream as ingest creates it, R3. A child process (this
// program again, with -child) publishes ~1 KB recentchange events at -rate
// per second, with Nats-Msg-Id as ingest does, and runs N live feeds as N
// serve processes run theirs (serve/hub/feed.go): each its own NATS
// connection with one ordered consumer filtered to every catalog stream's
// subjects. Only the nats-servers run in this process, so its CPU (user +
// system, getrusage) is what the cluster spends.
//
// Modes:
//
//	live (default): for each N of -feeds, the feeds start at the stream's
//	end; after -settle, the cluster's CPU is measured for -duration, with
//	the deliveries the feeds counted. The cost of a feed is the CPU above
//	the average of the N = 0 runs (publishing and storing alone), per feed
//	and per delivery; on a noisy machine give 0 several times.
//
//	catchup (-preload K): the stream is first filled with K events; then
//	the N feeds start at once, each K events back, as every serve does when
//	its node died and its feed restarts (serve preloads its ring with the
//	last SERVE_RING_SIZE events), while events keep coming at -rate.
//	Reported: the time until every feed has read the K events, and the
//	cluster's CPU meanwhile.
//
// Examples:
//
//	go run ./infra/feedbench -feeds 0,20,0,50,0 -rate 500 -duration 20s
//	go run ./infra/feedbench -feeds 1,10,20 -preload 16384
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type config struct {
	feeds      []int
	rate       int
	duration   time.Duration
	settle     time.Duration
	preload    int
	syncAlways bool
	// child: run the publisher and the feeds against url.
	child bool
	url   string
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("feedbench", flag.ContinueOnError)
	feeds := fs.String("feeds", "0,20,0,50,0", "numbers of live feeds (serve processes) to measure, comma-separated")
	fs.IntVar(&c.rate, "rate", 500, "events published per second (a multiple of 100)")
	fs.DurationVar(&c.duration, "duration", 15*time.Second, "measurement window, live mode")
	fs.DurationVar(&c.settle, "settle", 3*time.Second, "pause before each measurement")
	fs.IntVar(&c.preload, "preload", 0, "catch-up mode: events each feed reads back at once (0: live mode)")
	fs.BoolVar(&c.syncAlways, "sync-always", true, "sync_interval: always on the nodes (false: nats-server's default)")
	fs.BoolVar(&c.child, "child", false, "internal: run the publisher and feeds")
	fs.StringVar(&c.url, "url", "", "internal: the cluster's NATS_URL")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	for _, f := range strings.Split(*feeds, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return c, fmt.Errorf("-feeds %q: want non-negative integers", *feeds)
		}
		c.feeds = append(c.feeds, n)
	}
	switch {
	case c.rate < 100 || c.rate%100 != 0:
		return c, errors.New("-rate must be a positive multiple of 100")
	case c.duration <= 0 || c.settle < 0 || c.preload < 0:
		return c, errors.New("-duration must be positive, -settle and -preload not negative")
	case c.child && c.url == "":
		return c, errors.New("-child needs -url")
	}
	return c, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "feedbench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if cfg.child {
		err = runChild(ctx, cfg)
	} else {
		err = run(ctx, cfg)
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "feedbench:", err)
		os.Exit(1)
	}
}

// logf prints progress on stderr, so that stdout holds only results.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s feedbench: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

func numCPU() int { return runtime.GOMAXPROCS(0) }
