package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	"github.com/wikimedia-eventstreams-go/eventstreams/serve/filter"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/catalog"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

var lay = layout.Default()

// world is a NATS server with the EventStreams stream, written to the way
// ingest writes it (subjects and the timestamp header), and a running Hub.
type world struct {
	t   *testing.T
	js  jetstream.JetStream
	hub *Hub
	mu  sync.Mutex
	n   int // events published
}

func newWorld(t *testing.T, ringSize int) *world {
	t.Helper()
	_, js := inproctest.NATS(t, true)
	h, err := New(js, options(ringSize, "mediawiki.recentchange", "mediawiki.page-create"))
	if err != nil {
		t.Fatal(err)
	}
	run(t, h)
	w := &world{t: t, js: js, hub: h}
	inproctest.WaitFor(t, 10*time.Second, h.Ready)
	return w
}

// run runs h's feed until the test ends.
func run(t *testing.T, h *Hub) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// options are a Hub's options for the named streams.
func options(ringSize int, streams ...string) Options {
	full, _ := catalog.Builtin(nil)
	cat, err := full.Narrow(streams)
	if err != nil {
		panic(err)
	}
	return Options{Layout: lay, Catalog: cat, RingSize: ringSize, MaxCatchUps: 256,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// publish stores n events, alternating streams and wikis; event i has
// Kafka timestamp 1e12+i and data {"n":i}. It also stores a dead letter
// every 7 events, which no reader must see.
func (w *world) publish(n int) {
	w.t.Helper()
	ctx := context.Background()
	for range n {
		w.mu.Lock()
		i := w.n
		w.n++
		w.mu.Unlock()
		streams := []string{"mediawiki_recentchange", "mediawiki_page-create"}
		wikis := []string{"enwiki", "dewiki", "_"}
		inproctest.Publish(w.t, w.js, inproctest.Event{Stream: streams[i%2], Wiki: wikis[i%3],
			Data: []byte(fmt.Sprintf(`{"n":%d}`, i)), Time: 1e12 + int64(i)})
		if i%7 == 0 {
			if _, err := w.js.Publish(ctx, lay.DeadLetterSubject("mediawiki_recentchange"), []byte("bad")); err != nil {
				w.t.Fatal(err)
			}
		}
	}
}

// readN reads n events from r, polling and waiting as the SSE loop does.
func readN(t *testing.T, r *Reader, n int) []*Event {
	t.Helper()
	var got []*Event
	deadline := time.After(20 * time.Second)
	for len(got) < n {
		evs, err := r.Poll(context.Background(), nil, 100)
		if err != nil {
			t.Fatalf("after %d events: %v", len(got), err)
		}
		got = append(got, evs...)
		if len(evs) > 0 || r.Wait() == nil {
			continue
		}
		select {
		case <-r.Wait():
		case <-deadline:
			t.Fatalf("read %d events of %d", len(got), n)
		}
	}
	return got
}

// readResuming is readN for a client that, when it falls out of the ring
// (the machine is busy, and the feed or the publisher outpaces it in a
// test's small ring), reopens as an SSE client does: after the last event
// it was given (its id), or where it first asked when it was given none.
func readResuming(t *testing.T, h *Hub, r **Reader, f filter.Filter, p Position, n int) []*Event {
	t.Helper()
	var got []*Event
	deadline := time.After(20 * time.Second)
	for len(got) < n {
		evs, err := (*r).Poll(context.Background(), nil, 100)
		got = append(got, evs...)
		if errors.Is(err, ErrTooSlow) {
			(*r).Close()
			if len(got) > 0 {
				p = Position{Seq: got[len(got)-1].Seq + 1}
			}
			if *r, err = h.Open(context.Background(), f, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("after %d events: %v", len(got), err)
		}
		if len(evs) > 0 || (*r).Wait() == nil {
			continue
		}
		select {
		case <-(*r).Wait():
		case <-deadline:
			t.Fatalf("read %d events of %d", len(got), n)
		}
	}
	return got
}

func TestLiveFeedFramesOnce(t *testing.T) {
	w := newWorld(t, 1024)
	r, err := w.hub.Open(context.Background(), filter.Filter{Streams: []string{"mediawiki_recentchange", "mediawiki_page-create"}}, Position{})
	if err != nil {
		t.Fatal(err)
	}
	w.publish(20)
	got := readN(t, r, 20)
	epoch := w.hub.Epoch()
	for i, e := range got {
		want := fmt.Sprintf("event: message\nid: [{\"seq\":%d,\"timestamp\":%d,\"epoch\":%q}]\ndata: {\"n\":%d}\n\n", e.Seq, 1e12+int64(i)+1, epoch, i)
		if string(e.Frame) != want {
			t.Fatalf("event %d frame\n%q\nwant\n%q", i, e.Frame, want)
		}
		if string(e.JSON()) != fmt.Sprintf(`{"n":%d}`, i) {
			t.Fatalf("event %d data %q", i, e.JSON())
		}
	}
	// A second reader at the head gets the very same frames (framed once).
	r2, _ := w.hub.Open(context.Background(), filter.Filter{Streams: []string{"mediawiki_recentchange"}}, Position{Seq: got[9].Seq + 1})
	more := readN(t, r2, 5)
	for _, e := range more {
		found := false
		for _, g := range got {
			if g == e {
				found = true
			}
		}
		if !found || e.Stream != "mediawiki_recentchange" {
			t.Errorf("seq %d: not the shared event of the ring, or wrong stream %s", e.Seq, e.Stream)
		}
	}
}

// TestCatchUpHandsOverExactly starts readers behind the ring while events
// keep arriving, with and without filters, and checks each gets every
// matching event once, in order, and leaves no consumer behind.
func TestCatchUpHandsOverExactly(t *testing.T) {
	w := newWorld(t, 64)
	w.publish(300) // before the hub's feed: only catch-up can read these
	tests := []struct {
		name   string
		filter filter.Filter
		match  func(i int) bool
	}{
		{"all", filter.Filter{Streams: []string{"mediawiki_recentchange", "mediawiki_page-create"}}, func(int) bool { return true }},
		{"one stream", filter.Filter{Streams: []string{"mediawiki_page-create"}}, func(i int) bool { return i%2 == 1 }},
		{"stream and wiki", filter.Filter{Streams: []string{"mediawiki_recentchange"}, Wikis: []string{"dewiki"}}, func(i int) bool { return i%2 == 0 && i%3 == 1 }},
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.publish(300) }() // while the readers catch up
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := w.hub.Open(context.Background(), tt.filter, Position{Seq: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { r.Close() }()
			want := 0
			for i := range 600 {
				if tt.match(i) {
					want++
				}
			}
			got := readResuming(t, w.hub, &r, tt.filter, Position{Seq: 1}, want)
			next := 0
			for _, e := range got {
				var n int
				fmt.Sscanf(string(e.JSON()), `{"n":%d}`, &n)
				for next < 600 && !tt.match(next) {
					next++
				}
				if n != next {
					t.Fatalf("got event %d, want %d (gap or duplicate at the hand-over)", n, next)
				}
				next++
			}
			if r.catchUp != nil {
				t.Error("the reader never moved to the ring")
			}
		})
	}
	wg.Wait()
	s, _ := w.hub.stream(context.Background())
	info, _ := s.Info(context.Background())
	if info.State.Consumers != 1 {
		t.Errorf("%d consumers on the stream, want only the live feed's", info.State.Consumers)
	}
}

func TestSlowReaderFallsOut(t *testing.T) {
	w := newWorld(t, 16)
	r, err := w.hub.Open(context.Background(), filter.Filter{Streams: []string{"mediawiki_recentchange"}}, Position{})
	if err != nil {
		t.Fatal(err)
	}
	w.publish(100)
	inproctest.WaitFor(t, 10*time.Second, func() bool { return w.hub.snapshot().coveredFrom > 0 })
	if _, err := r.Poll(context.Background(), nil, 10); err != ErrTooSlow {
		t.Fatalf("Poll = %v, want ErrTooSlow", err)
	}
}

func TestDeletedStreamFailsReaders(t *testing.T) {
	w := newWorld(t, 64)
	r, err := w.hub.Open(context.Background(), filter.Filter{Streams: []string{"mediawiki_recentchange"}}, Position{})
	if err != nil {
		t.Fatal(err)
	}
	w.publish(4)
	readN(t, r, 2)
	if err := w.js.DeleteStream(context.Background(), lay.Stream); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(20 * time.Second)
	for {
		_, err := r.Poll(context.Background(), nil, 10)
		if err == ErrFeedFailed {
			return
		}
		if err != nil {
			t.Fatalf("Poll = %v, want ErrFeedFailed", err)
		}
		select {
		case <-r.Wait():
		case <-deadline:
			t.Fatal("the reader was not told that the feed failed")
		}
	}
}

// TestSinceSelectsByKafkaTime: the events were stored just now, but carry
// Kafka timestamps of 2001 (a backlog ingested at once): since selects by
// the Kafka timestamp, not by when JetStream stored them.
func TestSinceSelectsByKafkaTime(t *testing.T) {
	w := newWorld(t, 64)
	w.publish(300)
	all := filter.Filter{Streams: []string{"mediawiki_recentchange", "mediawiki_page-create"}}
	since := Position{Since: 1e12 + 250, HasSince: true}
	r, err := w.hub.Open(context.Background(), all, since)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { r.Close() }()
	w.publish(10)
	got := readResuming(t, w.hub, &r, all, since, 60)
	for i, e := range got {
		if want := fmt.Sprintf(`{"n":%d}`, 250+i); string(e.JSON()) != want {
			t.Fatalf("event %d: %s, want %s", i, e.JSON(), want)
		}
	}
}

// TestRingPreloadedAtStart: a hub started on a stream that already holds
// events loads the last RingSize of them, so a client resuming after a
// serve restart reads from memory, and a client asking for new events gets
// only events stored after it connected.
func TestRingPreloadedAtStart(t *testing.T) {
	w := newWorld(t, 64)
	w.publish(100)
	h, err := New(w.js, options(1024, "mediawiki.recentchange", "mediawiki.page-create"))
	if err != nil {
		t.Fatal(err)
	}
	run(t, h)
	inproctest.WaitFor(t, 10*time.Second, h.Ready)

	all := filter.Filter{Streams: []string{"mediawiki_recentchange", "mediawiki_page-create"}}
	head, err := h.Open(context.Background(), all, Position{})
	if err != nil {
		t.Fatal(err)
	}
	// Event n is at seq n+1+n/7 (a dead letter follows every 7th event): resume after event 49.
	var seq49 uint64
	old, err := h.Open(context.Background(), all, Position{Seq: 1})
	if err != nil {
		t.Fatal(err)
	}
	seq49 = readN(t, old, 50)[49].Seq // readN may return more than asked
	old.Close()
	r, err := h.Open(context.Background(), all, Position{Seq: seq49 + 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.catchUp != nil {
		t.Error("resuming inside the preloaded ring opened a catch-up consumer")
	}
	for i, e := range readN(t, r, 50) {
		if want := fmt.Sprintf(`{"n":%d}`, 50+i); string(e.JSON()) != want {
			t.Fatalf("event %s, want %s", e.JSON(), want)
		}
	}
	w.publish(1)
	if got := readN(t, head, 1); string(got[0].Line) != `{"n":100}` {
		t.Errorf("a client at the head got %s first, want only the new event", got[0].Line)
	}
}

// TestCatchUpSlotsQueue: with one catch-up slot, a second client behind
// the ring waits for the first to finish instead of failing, and gives up
// with ErrBusy only after CatchUpWait.
// catchUpFilters are a filter of one subject and one of several.
var catchUpFilters = []struct {
	name string
	f    filter.Filter
}{
	{"one subject", filter.Filter{Streams: []string{"mediawiki_recentchange"}}},
	{"several subjects", filter.Filter{Streams: []string{"mediawiki_recentchange", "mediawiki_page-create"}}},
}

func TestCatchUpSlotsQueue(t *testing.T) {
	for _, tt := range catchUpFilters {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, 16)
			w.publish(300)
			w.hub.opts.MaxCatchUps, w.hub.opts.CatchUpWait = 1, 200*time.Millisecond
			w.hub.catchUps = make(chan struct{}, 1)
			first, err := w.hub.Open(context.Background(), tt.f, Position{Seq: 1})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.hub.Open(context.Background(), tt.f, Position{Seq: 1}); err != ErrBusy {
				t.Fatalf("second catch-up while the only slot is held: %v, want ErrBusy", err)
			}
			readN(t, first, 1) // one poll: 100 events of 150 or 300
			if first.catchUp == nil {
				t.Fatal("the first reader is on the ring after one poll")
			}
			first.Close() // a client that leaves mid catch-up frees its slot at once
			second, err := w.hub.Open(context.Background(), tt.f, Position{Seq: 1})
			if err != nil {
				t.Fatalf("after the first left: %v", err)
			}
			readN(t, second, 300/(3-len(tt.f.Streams))) // reaches the ring: its slot is released
			third, err := w.hub.Open(context.Background(), tt.f, Position{Seq: 1})
			if err != nil {
				t.Fatalf("after the second moved to the ring: %v", err)
			}
			third.Close()
		})
	}
}

// TestWaitReady: true at once when the feed runs; false after ReadyWait
// when it does not, or as soon as ctx ends.
func TestWaitReady(t *testing.T) {
	w := newWorld(t, 64)
	if !w.hub.WaitReady(context.Background()) {
		t.Error("WaitReady is false on a running feed")
	}
	_, js := inproctest.NATS(t, true)
	opts := options(64, "mediawiki.recentchange")
	opts.ReadyWait = 50 * time.Millisecond
	idle, err := New(js, opts) // never Run
	if err != nil {
		t.Fatal(err)
	}
	if idle.WaitReady(context.Background()) {
		t.Error("WaitReady is true on a feed that never started")
	}
	idle.opts.ReadyWait = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if idle.WaitReady(ctx) {
		t.Error("WaitReady is true after its context ended")
	}
}

// TestFeedWaitsForANewStream: a serve started before ingest made the stream
// says that it waits for it (not a warning that its feed stopped), and
// starts once the stream exists; a stream deleted later is a warning.
func TestFeedWaitsForANewStream(t *testing.T) {
	_, js := inproctest.NATS(t, false)
	var log inproctest.Buffer
	opts := options(64, "mediawiki.recentchange")
	opts.Logger = slog.New(slog.NewTextHandler(&log, nil))
	h, err := New(js, opts)
	if err != nil {
		t.Fatal(err)
	}
	run(t, h)
	inproctest.WaitFor(t, 10*time.Second, func() bool { return strings.Contains(log.String(), "waiting for the JetStream stream") })
	inproctest.CreateStream(t, js)
	inproctest.WaitFor(t, 10*time.Second, h.Ready)
	if strings.Contains(log.String(), "level=WARN") {
		t.Errorf("a warning while the stream did not exist yet:\n%s", log.String())
	}
	if err := js.DeleteStream(context.Background(), lay.Stream); err != nil {
		t.Fatal(err)
	}
	inproctest.WaitFor(t, 10*time.Second, func() bool { return strings.Contains(log.String(), `level=WARN msg="live feed stopped`) })
}

// TestSinceSkipsOlderEventsOfTheRingWithoutWaiting: a client resuming by
// time, whose first matching event lies far into the ring, gets it without
// a new event arriving (each poll used to skip one batch of older events,
// then wait for the next event stored).
func TestSinceSkipsOlderEventsOfTheRingWithoutWaiting(t *testing.T) {
	w := newWorld(t, 4096)
	w.publish(1000)
	inproctest.WaitFor(t, 10*time.Second, func() bool { return w.hub.snapshot().last >= 1000 })
	f := filter.Filter{Streams: []string{"mediawiki_recentchange", "mediawiki_page-create"}}
	r, err := w.hub.Open(context.Background(), f, Position{Since: 1e12 + 900, HasSince: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := readN(t, r, 100)
	if got[0].Time != 1e12+900 || got[99].Time != 1e12+999 {
		t.Fatalf("events from %d to %d, want 1e12+900 to 1e12+999", got[0].Time, got[99].Time)
	}
}

// TestCatchUpStormWithATinyRing: many clients resuming far behind a ring
// of 16 events, more than the catch-up slots, while events keep coming:
// each gets every event once, in order (the handover to the ring used to
// skip the events a small ring had dropped between the consumer's last
// answer and the handover).
func TestCatchUpStormWithATinyRing(t *testing.T) {
	for _, tt := range catchUpFilters {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, 16)
			w.hub.opts.MaxCatchUps = 4
			w.hub.catchUps = make(chan struct{}, 4)
			w.publish(500)
			const clients, more = 20, 500
			done := make(chan struct{})
			go func() { defer close(done); w.publish(more) }()
			// Event n is in the filter's streams if it is of recentchange
			// (even n) or the filter has both streams.
			step := 2
			if len(tt.f.Streams) == 2 {
				step = 1
			}
			var wg sync.WaitGroup
			errs := make(chan error, clients)
			for range clients {
				wg.Go(func() {
					r, err := w.hub.Open(context.Background(), tt.f, Position{Seq: 1})
					if err != nil {
						errs <- err
						return
					}
					got := readResuming(t, w.hub, &r, tt.f, Position{Seq: 1}, (500+more)/step)
					r.Close()
					for i, e := range got {
						if n := eventN(e); n != i*step {
							errs <- fmt.Errorf("event %d is n=%d", i, n)
							return
						}
					}
				})
			}
			wg.Wait()
			<-done
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

// eventN is the n of an event published by world.publish (its Kafka
// timestamp is 1e12+n).
func eventN(e *Event) int { return int(e.Time - 1e12) }
