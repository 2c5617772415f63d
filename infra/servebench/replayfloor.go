package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/servebench/directget"
)

// extraConfig holds the flags of this file and of held.go, kept apart from
// main.go's.
type extraConfig struct {
	floorCap    int
	floorBatch  int
	sourceAddrs int
}

func registerExtraFlags(fs *flag.FlagSet, c *extraConfig) {
	fs.IntVar(&c.floorCap, "floor-cap", 256, "storm: raw-replay readers at once (serve's SERVE_MAX_CATCHUPS)")
	fs.IntVar(&c.floorBatch, "floor-batch", 256, "storm: messages per batched direct get of the raw-replay floor")
	fs.IntVar(&c.sourceAddrs, "source-addrs", 1, "clients dial from this many loopback addresses (127.0.0.2, …); 1: the system's choice")
}

func (c *extraConfig) validate() error {
	if c.floorCap < 1 || c.floorBatch < 1 || c.sourceAddrs < 1 || c.sourceAddrs > 250 {
		return errors.New("-floor-cap and -floor-batch must be at least 1, -source-addrs between 1 and 250")
	}
	return nil
}

// floorRun is one raw replay: every reader reads the K events after the
// anchor from JetStream, with no serve in between.
type floorRun struct {
	Method  string  `json:"method"`
	Seconds float64 `json:"s"`
	Events  int64   `json:"events"`
	Short   int     `json:"readers_short"` // readers that did not get exactly K
	APICall uint64  `json:"js_api_requests"`
	Err     string  `json:"error,omitempty"`
}

// floor replays the storm's events straight from JetStream: readers
// readers, at most cap at once (as serve's catch-up slots), each reading
// the k events with stream sequences after anchor that match the storm
// clients' subject. It uses one NATS connection, as serve does.
func (b *bench) floor(ctx context.Context, readers, k int, anchor uint64) floorRun {
	res := floorRun{Method: "direct get, batch " + strconv.Itoa(b.cfg.extra.floorBatch)}
	nc, err := nats.Connect(b.natsURL, nats.Name("servebench-floor"))
	if err != nil {
		res.Err = err.Error()
		return res
	}
	defer nc.Close()
	subject := benchLayout.StreamFilter(streamToken)
	js0 := b.jsStats()
	var events atomic.Int64
	var short atomic.Int32
	var firstErr atomic.Value
	slots := make(chan struct{}, b.cfg.extra.floorCap)
	var wg sync.WaitGroup
	start := time.Now()
	for range readers {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			res.Err = ctx.Err().Error()
			return res
		}
		wg.Go(func() {
			defer func() { <-slots }()
			rctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			n, err := floorDirect(rctx, nc, subject, anchor, b.cfg.extra.floorBatch)
			events.Add(n)
			if err != nil {
				firstErr.CompareAndSwap(nil, err.Error())
			}
			if n != int64(k) {
				short.Add(1)
			}
		})
	}
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	res.Events, res.Short = events.Load(), int(short.Load())
	res.APICall = b.jsStats().APITotal - js0.APITotal
	if e, ok := firstErr.Load().(string); ok {
		res.Err = e
	}
	return res
}

// floorDirect reads with batched direct gets, batch messages at a time,
// until the end of the stream.
func floorDirect(ctx context.Context, nc *nats.Conn, subject string, after uint64, batch int) (int64, error) {
	g, err := directget.New(nc, benchLayout.Stream, batch)
	if err != nil {
		return 0, err
	}
	defer g.Close()
	var n int64
	var bytes int
	for seq := after + 1; ; {
		r, err := g.Get(ctx, directget.Request{Seq: seq, Subject: subject, Batch: batch}, func(m *directget.Msg) {
			n++
			bytes += len(m.Data)
		})
		if err != nil {
			return n, err
		}
		if r.Last == 0 || r.Pending == 0 {
			return n, nil
		}
		seq = r.Last + 1
	}
}

// printFloor prints one floor run as a row.
func printFloor(name string, f floorRun) {
	row(name, "%.2f s  (%.0f events/s; %d events, %d readers short, %d JetStream API requests)%s",
		f.Seconds, float64(f.Events)/max(f.Seconds, 1e-9), f.Events, f.Short, f.APICall, errNote(f.Err))
}

func errNote(e string) string {
	if e == "" {
		return ""
	}
	return fmt.Sprintf("  error: %s", e)
}
