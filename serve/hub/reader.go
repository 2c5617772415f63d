package hub

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wikimedia-eventstreams-go/eventstreams/serve/filter"
	"github.com/wikimedia-eventstreams-go/eventstreams/serve/wire"
)

// Reader delivers one client's events in sequence order: from its own
// catch-up source while it is behind the ring, then from the ring.
type Reader struct {
	h      *Hub
	filter filter.Filter
	gen    uint64
	epoch  string
	cursor uint64 // last seq delivered or passed over (while catching up: read from the source)

	catchUp *consumerSource // nil once on the ring
	// pending are events read from the catch-up source and not yet
	// returned (the cursor may be past them: the source had nothing
	// more up to it).
	pending []*Event
	wait    <-chan struct{}
	bySince bool // skip events older than since until the first newer one
	since   int64
}

// storeSlack is how far before `since` the search for the first event
// starts, in JetStream's store time: an event is stored after it happened,
// give or take the clocks of the producers.
const storeSlack = 5 * time.Minute

// latestStart is the latest start time JetStream can be given: it reads
// times as RFC 3339 but compares them in int64 nanoseconds, which end in
// 2262 (a later time wraps around and selects from the stream's start).
var latestStart = time.Unix(0, math.MaxInt64).UTC().Truncate(time.Second)

// Open starts reading the events of f from where p asks (see Resolve). The
// error is ErrNotReady, ErrBusy, a *BeyondEndError, or a failure to reach
// JetStream.
func (h *Hub) Open(ctx context.Context, f filter.Filter, p Position) (*Reader, error) {
	st := h.snapshot()
	if !st.ready {
		return nil, ErrNotReady
	}
	start, err := h.resolve(ctx, st, &f, p)
	if err != nil {
		return nil, err
	}
	r := &Reader{h: h, filter: f, gen: st.gen, epoch: st.epoch, cursor: start.After}
	switch {
	case start.Kind == StartHead:
		r.cursor = st.last // while the ring preloads, events up to the stream's end then are not new
		return r, nil
	case start.Kind == StartAfter && start.After >= st.coveredFrom:
		return r, nil
	}
	var from *time.Time
	if start.Kind == StartSince {
		if t := time.UnixMilli(start.Since).Add(-storeSlack); t.After(time.Unix(0, 0)) {
			// Any time a client sends is valid: before 1970 means from the
			// first retained event; far in the future (ids with timestamps
			// near the int64 limit) is capped where JetStream's times end,
			// and finds nothing yet.
			if t.After(latestStart) {
				t = latestStart
			}
			from = &t
		}
		r.since, r.bySince, r.cursor = start.Since, true, 0
	}
	if err := h.acquireCatchUp(ctx); err != nil {
		return nil, err
	}
	src, err := h.openSource(ctx, f.Subjects(h.opts.Layout), start.After+1, from)
	if err != nil {
		h.releaseCatchUp()
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeMaximumConsumersLimit {
			return nil, ErrBusy
		}
		return nil, fmt.Errorf("hub: catch-up: %w", err)
	}
	r.catchUp = src
	return r, nil
}

// acquireCatchUp waits, as long as ctx and CatchUpWait allow, for one of
// the MaxCatchUps slots: a reconnect storm queues here instead of
// creating thousands of consumers at once.
func (h *Hub) acquireCatchUp(ctx context.Context) error {
	select {
	case h.catchUps <- struct{}{}:
		return nil
	default:
		h.catchUpWaited.Add(1)
	}
	t := time.NewTimer(h.opts.CatchUpWait)
	defer t.Stop()
	select {
	case h.catchUps <- struct{}{}:
		return nil
	case <-t.C:
		h.catchUpRefused.Add(1)
		return ErrBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hub) releaseCatchUp() { <-h.catchUps }

// Epoch is the epoch of the ids this Reader's events carry.
func (r *Reader) Epoch() string { return r.epoch }

// Poll returns, without waiting for new events, up to limit of the next
// events (appended to out). When it returns none, Wait gives the channel
// to wait on.
func (r *Reader) Poll(ctx context.Context, out []*Event, limit int) ([]*Event, error) {
	if r.catchUp != nil {
		return r.pollCatchUp(ctx, out, limit)
	}
	n := len(out)
	for {
		var err error
		out, r.cursor, r.wait, err = r.h.readRing(r.gen, r.cursor, &r.filter, out, limit)
		if !r.bySince {
			return out, err
		}
		full := len(out) >= limit
		out = r.skipOlder(out, n)
		// A batch of events all older than since says nothing of what
		// follows it in the ring: read on rather than wait for a new event.
		if err != nil || len(out) > n || !full {
			return out, err
		}
	}
}

// skipOlder drops, from out[n:], the events older than r.since that come
// before the first event at or after it.
func (r *Reader) skipOlder(out []*Event, n int) []*Event {
	for i := n; i < len(out); i++ {
		if out[i].Time >= r.since {
			r.bySince = false
			return append(out[:n], out[i:]...)
		}
	}
	return out[:n]
}

// Wait is closed when new events may be available. It is nil while the
// Reader is catching up (Poll then returns events, or moves to the ring).
func (r *Reader) Wait() <-chan struct{} { return r.wait }

// pollCatchUp returns the next events of the client's catch-up source,
// reading a batch when none is pending, and moves the Reader to the ring
// when that is exact: none is pending and the ring covers everything after
// the cursor (the last sequence up to which the source gave every event).
func (r *Reader) pollCatchUp(ctx context.Context, out []*Event, limit int) ([]*Event, error) {
	if len(r.pending) == 0 {
		if err := r.fill(ctx); err != nil {
			r.Close()
			return out, fmt.Errorf("hub: catch-up: %w", err)
		}
	}
	k := min(limit, len(r.pending))
	out = append(out, r.pending[:k]...)
	clear(r.pending[:k]) // the batch's array must not hold sent events
	r.pending = r.pending[k:]
	st := r.h.snapshot()
	if !st.ready || st.gen != r.gen || st.epoch != r.epoch {
		r.Close()
		return out, ErrFeedFailed
	}
	if len(r.pending) == 0 && r.cursor >= st.coveredFrom {
		r.Close()
	}
	return out, nil
}

// fill reads the next batch of the catch-up source into r.pending, and
// moves the cursor to where the source has given every event.
func (r *Reader) fill(ctx context.Context) error {
	r.pending = r.pending[:0]
	scanned, err := r.catchUp.next(ctx, r.h.snapshot().coveredFrom, func(seq uint64, subject string, ts int64, data []byte) {
		r.cursor = seq
		if r.bySince && ts < r.since {
			return
		}
		r.bySince = false
		if e := newEvent(r.h.opts.Layout, r.epoch, seq, subject, ts, data, wire.Lazy); r.filter.MatchFields(e) {
			r.pending = append(r.pending, e) // the source's subjects did the rest of the filter
		}
	})
	r.cursor = max(r.cursor, scanned)
	return err
}

// Close releases the Reader's catch-up source, if any, and its slot.
func (r *Reader) Close() {
	if r.catchUp == nil {
		return
	}
	src := r.catchUp
	r.catchUp, r.pending = nil, nil
	r.h.releaseCatchUp()
	src.close()
}
