package api

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/serve/hub"
)

// A stream with nothing to write does not keep a goroutine (and its stack)
// of its own: its loop parks it with one of a few writers (GOMAXPROCS of
// them) and returns. On each change of the ring, and when a heartbeat or a
// stream's end is due, a writer sweeps its streams: it polls each one's
// reader, encodes what it gets and writes it with one non-blocking write
// (chunked.TryFlush), so that no socket can hold it up. Anything other than
// a complete write of live events or a heartbeat hands the stream back to
// a goroutine of its own, which runs the ordinary loop (loop.go) from
// where the writer left it: a socket that did not take the whole chunk
// (the rest is written with the blocking write and SERVE_WRITE_TIMEOUT), a
// failed write, a reader error, more events than one batch, the maximum
// duration, the server stopping. Disconnect reasons and the end of a
// stream are thus those of the loop alone; a writer counts the events it
// sent (events_sent_total) once per sweep. A catching-up client never
// parks: only a reader on the ring has a channel to wait on.

// writerBatch is how many events a writer takes from a reader per sweep;
// a stream with more waiting goes back to its own goroutine.
const writerBatch = 16

// writers are the Server's writers, started at the first park.
type writers struct {
	once sync.Once
	all  []*writer
	mu   sync.Mutex
	next int
}

// writer is one goroutine writing to many streams.
type writer struct {
	s      *Server
	wake   chan struct{} // a stream was added
	mu     sync.Mutex
	added  []*stream
	closed bool // stopped: parks are refused
	sent   int  // events written in the current sweep, counted at its end
}

// park hands c to a writer; false when it cannot (its connection is not a
// socket, or the server is stopping), and the loop then waits itself.
func (s *Server) park(c *stream) bool {
	if !c.w.CanTryFlush() {
		return false
	}
	ws := &s.writers
	ws.once.Do(func() {
		for range runtime.GOMAXPROCS(0) {
			w := &writer{s: s, wake: make(chan struct{}, 1)}
			ws.all = append(ws.all, w)
			go w.run()
		}
	})
	ws.mu.Lock()
	w := ws.all[ws.next]
	ws.next = (ws.next + 1) % len(ws.all)
	ws.mu.Unlock()

	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return false
	}
	w.added = append(w.added, c)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return true
}

// run sweeps the writer's streams at each wake until the server stops,
// then hands every stream back to a goroutine that ends it.
func (w *writer) run() {
	s := w.s
	var streams []*stream
	buf := make([]*hub.Event, 0, writerBatch)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		w.mu.Lock()
		streams = append(streams, w.added...)
		clear(w.added)
		w.added = w.added[:0]
		w.mu.Unlock()

		now := time.Now()
		wait := time.Hour
		var ring <-chan struct{}
		kept := streams[:0]
		for _, c := range streams {
			if !w.step(c, now, buf) {
				go s.resume(c)
				continue
			}
			kept = append(kept, c)
			if ring == nil {
				// The first stream swept polled first: if the ring has
				// changed since, its channel is closed already.
				ring = c.st.reader.Wait()
			}
			wait = min(wait, s.due(c, now))
		}
		clear(streams[len(kept):])
		streams = kept
		if w.sent > 0 { // once per sweep: the counter is shared by every writer
			s.metrics.events.Add(float64(w.sent))
			w.sent = 0
		}
		timer.Reset(wait)

		select {
		case <-ring:
		case <-timer.C:
		case <-w.wake:
		case <-s.stopping:
			w.mu.Lock()
			w.closed = true
			streams = append(streams, w.added...)
			w.added = nil
			w.mu.Unlock()
			for _, c := range streams {
				go s.resume(c) // its loop sees the server stopping
			}
			return
		}
	}
}

// step writes what stream c has to write now, without blocking; false
// hands c back to its own goroutine (with what was polled and not yet
// counted kept in c).
func (w *writer) step(c *stream, now time.Time, buf []*hub.Event) bool {
	s := w.s
	if c.ended(now) {
		return false
	}
	evs, err := c.st.reader.Poll(context.Background(), buf[:0], writerBatch)
	if err != nil || c.st.reader.Wait() == nil {
		c.polled, c.err = clone(evs), err
		return false
	}
	c.w.Hold(true)
	defer c.w.Hold(false)
	switch {
	case len(evs) > 0:
		for _, e := range evs {
			_ = c.st.enc.Event(&c.w, &e.Encoded) // buffered: Hold
		}
	case s.heartbeatDue(c, now):
		_ = c.st.enc.Heartbeat(&c.w)
	default:
		return true
	}
	done, err := c.w.TryFlush()
	if err != nil {
		c.failed = err
		return false
	}
	if !done {
		c.unsent = len(evs)
		return false
	}
	w.sent += len(evs)
	c.lastWrite = now
	return len(evs) < writerBatch
}

// clone copies evs out of the writer's buffer (nil when empty).
func clone(evs []*hub.Event) []*hub.Event {
	if len(evs) == 0 {
		return nil
	}
	return append([]*hub.Event(nil), evs...)
}
