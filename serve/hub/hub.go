// Package hub is serve's read side of JetStream: one shared live consumer
// per serve process, feeding a ring of the most recent events, each
// encoded once for every client; and, for a client that starts behind the
// ring, a short-lived consumer of its own, filtered to its subjects, that
// hands the client over to the ring by sequence, with no gap and no
// duplicate. Where a client starts (its Last-Event-ID, seq or since) is
// decided here too, against the feed's stream instance and end.
//
// Files: feed.go runs the live consumer; ring.go is the ring; start.go
// decides where a client starts; reader.go is a client's Reader, and
// catchup.go its catch-up consumer; event.go is one event as the ring
// holds it; status.go reads the stream's state (cluster, mirror, epoch,
// size) for /readyz; stats.go is what serve's metrics read (catch-up
// slots, ring coverage).
//
// Concurrency: the feed is the only writer of the ring; any number of
// Readers, one per client goroutine, read it under a read lock and wait on
// a broadcast channel that is closed at each new batch. The consumer
// callback never waits for a client: a Reader that falls out of the ring
// fails with ErrTooSlow and the client resumes later from its id. A Reader
// is not safe for concurrent use.
package hub

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/catalog"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// Errors a Reader returns; the stream loop ends the stream on each.
var (
	// ErrTooSlow: the client fell so far behind that the events it still
	// needs have left the ring. It should reconnect with its last id.
	ErrTooSlow = errors.New("hub: client fell behind the ring")
	// ErrFeedFailed: the live feed stopped (NATS lost, stream deleted).
	ErrFeedFailed = errors.New("hub: live feed failed")
	// ErrNotReady: the live feed has not started yet, or is restarting.
	ErrNotReady = errors.New("hub: not ready")
	// ErrBusy: too many clients are catching up at once (in this process,
	// or consumers on the stream); the client should retry shortly.
	ErrBusy = errors.New("hub: too many clients catching up")
)

// Options configure a Hub.
type Options struct {
	Layout layout.Layout
	// Catalog holds the allowed streams: the live feed carries their
	// subjects (dead letters are never read), and EventStreams' ids name
	// their topics.
	Catalog *catalog.Catalog
	// RingSize is how many recent events are kept (at least 16). A client
	// further behind than this is disconnected and resumes from its id.
	RingSize int
	// MaxCatchUps bounds the catch-ups open at once (at least 1), and so
	// the events read ahead for them and the consumers they open; more
	// clients behind the ring wait up to CatchUpWait (default 30 s) for a
	// slot.
	MaxCatchUps int
	CatchUpWait time.Duration
	// ReadyWait bounds WaitReady (default 5 s): clients that reconnect
	// while the feed restarts after a NATS blip are served, not refused.
	ReadyWait time.Duration
	Logger    *slog.Logger
}

// Hub is the shared live feed and its ring.
type Hub struct {
	js       jetstream.JetStream
	opts     Options
	log      *slog.Logger
	subjects []string // of the live feed
	// tokens maps each stream token to the catalog's string of it, which
	// the ring's events take: filters hold the same strings, and equal
	// strings that share their bytes compare without reading them.
	tokens map[string]string

	mu          sync.RWMutex
	ring        []*Event // circular, oldest at head
	head, n     int
	coveredFrom uint64 // every matching event with seq in (coveredFrom, last] is in the ring
	last        uint64
	epoch       string
	previous    []layout.EpochRange // the stream's previous epochs (a promoted mirror's)
	ready       bool
	generation  uint64        // increases each time the feed (re)starts
	notify      chan struct{} // closed when events are added or the feed fails
	startLast   uint64        // the stream's last sequence when the feed started

	catchUps chan struct{} // a slot per open catch-up consumer
	// catchUpWaited and catchUpRefused count the readers that found every
	// slot taken, and those of them that got none in time (stats.go).
	catchUpWaited, catchUpRefused atomic.Uint64

	status Status // the stream as last read, under mu
}

// New builds a Hub; Run starts its feed.
func New(js jetstream.JetStream, opts Options) (*Hub, error) {
	switch {
	case opts.Catalog == nil || len(opts.Catalog.Streams()) == 0:
		return nil, errors.New("hub: no streams")
	case opts.RingSize < 16:
		return nil, errors.New("hub: ring size must be at least 16")
	case opts.MaxCatchUps < 1:
		return nil, errors.New("hub: at least one catch-up consumer must be allowed")
	case opts.Logger == nil:
		return nil, errors.New("hub: a logger is required")
	}
	if opts.CatchUpWait <= 0 {
		opts.CatchUpWait = 30 * time.Second
	}
	if opts.ReadyWait <= 0 {
		opts.ReadyWait = 5 * time.Second
	}
	var subjects []string
	tokens := map[string]string{}
	for _, s := range opts.Catalog.Streams() {
		subjects = append(subjects, opts.Layout.StreamFilter(s.Token))
		tokens[s.Token] = s.Token
	}
	return &Hub{js: js, opts: opts, log: opts.Logger, subjects: subjects, tokens: tokens,
		ring: make([]*Event, opts.RingSize), notify: make(chan struct{}),
		catchUps: make(chan struct{}, opts.MaxCatchUps)}, nil
}

// Epoch identifies the JetStream stream instance the feed reads ("" before
// the feed started).
func (h *Hub) Epoch() string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.epoch
}

// Ready reports whether the live feed is running.
func (h *Hub) Ready() bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.ready
}

// WaitReady waits, at most ReadyWait, until the live feed runs, and
// reports whether it does.
func (h *Hub) WaitReady(ctx context.Context) bool {
	t := time.NewTimer(h.opts.ReadyWait)
	defer t.Stop()
	for {
		h.mu.RLock()
		ready, ch := h.ready, h.notify
		h.mu.RUnlock()
		if ready {
			return true
		}
		select {
		case <-ch:
		case <-t.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// stream is the JetStream stream handle, for catch-up consumers and lookups.
func (h *Hub) stream(ctx context.Context) (jetstream.Stream, error) {
	return h.js.Stream(ctx, h.opts.Layout.Stream)
}
