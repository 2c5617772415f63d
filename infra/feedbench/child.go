package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/catalog"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// runChild is the load: a publisher at cfg.rate and cfg.feeds[0] live
// feeds. It talks to the parent over stdin and stdout, one line each:
// it prints "ready" once connected (live mode: once its feeds run); then
// "mark" answers "mark <deliveries> <published>", and "go" (catch-up mode)
// starts the feeds cfg.preload events back and answers "done <ms>" when
// every feed has read them. It returns when stdin closes.
func runChild(ctx context.Context, cfg config) error {
	n := cfg.feeds[0]
	pnc, err := nats.Connect(cfg.url, nats.Name("feedbench-publisher"))
	if err != nil {
		return err
	}
	defer pnc.Close()
	pjs, err := jetstream.New(pnc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		return err
	}
	s, err := pjs.Stream(ctx, layout.DefaultStream)
	if err != nil {
		return err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return err
	}
	var published atomic.Int64
	pctx, stopPub := context.WithCancel(ctx)
	defer stopPub()
	go publish(pctx, pjs, cfg.rate, &published)

	f := &feeds{counts: make([]atomic.Int64, n)}
	defer f.stop()
	if cfg.preload == 0 {
		if err := f.start(ctx, cfg.url, info.State.LastSeq+1); err != nil {
			return err
		}
	}
	out := bufio.NewWriter(os.Stdout)
	say := func(format string, args ...any) {
		fmt.Fprintf(out, format+"\n", args...)
		out.Flush()
	}
	say("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch strings.TrimSpace(in.Text()) {
		case "mark":
			say("mark %d %d", f.total(), published.Load())
		case "go":
			head := info.State.LastSeq
			t0 := time.Now()
			if err := f.start(ctx, cfg.url, head-uint64(cfg.preload)+1); err != nil {
				return err
			}
			for !f.allReached(int64(cfg.preload)) {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				time.Sleep(5 * time.Millisecond)
			}
			say("done %d", time.Since(t0).Milliseconds())
		}
	}
	return in.Err()
}

// feeds are live feeds as serve runs them, one NATS connection each.
type feeds struct {
	counts []atomic.Int64
	conns  []*nats.Conn
}

// start starts every feed at sequence from, at once.
func (f *feeds) start(ctx context.Context, url string, from uint64) error {
	cat, err := catalog.Builtin(nil)
	if err != nil {
		return err
	}
	var subjects []string
	for _, s := range cat.Streams() {
		subjects = append(subjects, layout.Default().StreamFilter(s.Token))
	}
	errs := make(chan error, len(f.counts))
	for i := range f.counts {
		nc, err := nats.Connect(url, nats.Name(fmt.Sprintf("feedbench-serve-%d", i+1)))
		if err != nil {
			return err
		}
		f.conns = append(f.conns, nc)
		go func() { errs <- f.run(ctx, nc, i, subjects, from) }()
	}
	for range f.counts {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

// run starts feed i: serve's live consumer (serve/hub/feed.go).
func (f *feeds) run(ctx context.Context, nc *nats.Conn, i int, subjects []string, from uint64) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	cons, err := js.OrderedConsumer(ctx, layout.DefaultStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: subjects, DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: from,
	})
	if err != nil {
		return err
	}
	// It stops when its connection closes.
	_, err = cons.Consume(func(m jetstream.Msg) {
		if _, err := m.Metadata(); err == nil {
			f.counts[i].Add(1)
		}
	})
	return err
}

func (f *feeds) total() int64 {
	var t int64
	for i := range f.counts {
		t += f.counts[i].Load()
	}
	return t
}

func (f *feeds) allReached(k int64) bool {
	for i := range f.counts {
		if f.counts[i].Load() < k {
			return false
		}
	}
	return true
}

func (f *feeds) stop() {
	for _, nc := range f.conns {
		nc.Close()
	}
}

// publish stores ~1 KB recentchange events at rate per second, every 10
// ms what is due (a late tick publishes more), each with a Nats-Msg-Id as
// ingest sends them.
func publish(ctx context.Context, js jetstream.JetStream, rate int, n *atomic.Int64) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	pad := strings.Repeat("x", 800)
	wikis := []string{"enwiki", "wikidatawiki", "commonswiki", "dewiki"}
	start := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		due := int64(time.Since(start).Seconds() * float64(rate))
		for n.Load() < due {
			i := n.Add(1)
			wiki := wikis[i%int64(len(wikis))]
			m := &nats.Msg{
				Subject: layout.Default().Subject(layout.StreamToken("mediawiki.recentchange"), wiki),
				Data: fmt.Appendf(nil, `{"$schema":"/mediawiki/recentchange/1.0.0","meta":{"id":"fb-%d-%d","stream":"mediawiki.recentchange"},"wiki":%q,"comment":%q}`,
					os.Getpid(), i, wiki, pad),
				Header: nats.Header{layout.HeaderMsgID: {fmt.Sprintf("fb-%d-%d", os.Getpid(), i)},
					layout.HeaderTimestamp: {fmt.Sprint(time.Now().UnixMilli())}},
			}
			if _, err := js.PublishMsgAsync(m); err != nil && ctx.Err() == nil {
				logf("publish: %v", err)
			}
		}
	}
}
