package hub

import (
	"github.com/wikimedia-eventstreams-go/eventstreams/serve/filter"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// The ring holds the most recent events in sequence order, written by the
// live feed only (started, add, fail) and read by every Reader under the
// read lock (readRing, snapshot). Each change closes the notify channel,
// which wakes the Readers waiting on it.

// started empties the ring for a feed (re)starting after sequence start
// of the stream instance epoch (which had the previous epochs previous),
// whose last sequence is head, and wakes the requests waiting for a ready
// feed. It returns the feed's generation.
func (h *Hub) started(epoch string, previous []layout.EpochRange, start, head uint64) uint64 {
	h.mu.Lock()
	h.previous = previous
	clear(h.ring)
	h.head, h.n = 0, 0
	h.coveredFrom, h.last, h.startLast = start, start, head
	h.epoch = epoch
	h.ready = true
	h.generation++
	gen := h.generation
	ch := h.notify
	h.notify = make(chan struct{})
	h.mu.Unlock()
	close(ch)
	return gen
}

// add appends an event (the consumer delivers in sequence order) and wakes
// the Readers.
func (h *Hub) add(gen uint64, e *Event) {
	h.mu.Lock()
	if gen != h.generation || e.Seq <= h.last {
		h.mu.Unlock()
		return
	}
	if h.n == len(h.ring) {
		h.coveredFrom = h.ring[h.head].Seq
		h.ring[h.head] = nil
		h.head = h.slot(1)
		h.n--
	}
	h.ring[h.slot(h.n)] = e
	h.n++
	h.last = e.Seq
	ch := h.notify
	h.notify = make(chan struct{})
	h.mu.Unlock()
	close(ch)
}

// fail ends the current feed: Readers on the ring get ErrFeedFailed.
func (h *Hub) fail() {
	h.mu.Lock()
	h.ready = false
	h.generation++
	ch := h.notify
	h.notify = make(chan struct{})
	h.mu.Unlock()
	close(ch)
}

// readRing appends to out the events after seq `after` that match f, at
// most limit. It returns the new cursor (the last seq examined), the
// channel that is closed at the next change, and ErrTooSlow when the
// events after `after` are no longer all in the ring.
func (h *Hub) readRing(gen uint64, after uint64, f *filter.Filter, out []*Event, limit int) ([]*Event, uint64, <-chan struct{}, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if gen != h.generation || !h.ready {
		return out, after, nil, ErrFeedFailed
	}
	if after < h.coveredFrom {
		return out, after, nil, ErrTooSlow
	}
	// The first event with seq > after. Readers on the ring are at or near
	// its newest event: look back from there a few slots, then search.
	lo := h.n
	for k := 0; k < nearNewest && lo > 0 && h.ring[h.slot(lo-1)].Seq > after; k++ {
		lo--
	}
	if lo > 0 && h.ring[h.slot(lo-1)].Seq > after {
		hi := lo
		lo = 0
		for lo < hi {
			mid := (lo + hi) / 2
			if h.ring[h.slot(mid)].Seq <= after {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
	}
	cursor := after
	for i := lo; i < h.n && len(out) < limit; i++ {
		e := h.ring[h.slot(i)]
		cursor = e.Seq
		if f.Match(e.Stream, e.Wiki, e) {
			out = append(out, e)
		}
	}
	if len(out) < limit {
		cursor = max(cursor, h.last)
	}
	return out, cursor, h.notify, nil
}

// nearNewest is how many of the newest events readRing examines before
// it searches the whole ring.
const nearNewest = 8

// slot is the index in h.ring of the i-th oldest event.
func (h *Hub) slot(i int) int {
	j := h.head + i
	if j >= len(h.ring) {
		j -= len(h.ring)
	}
	return j
}

// feedState is what a Reader needs to know of the feed at one moment.
type feedState struct {
	gen         uint64
	epoch       string
	previous    []layout.EpochRange
	coveredFrom uint64 // every matching event with seq in (coveredFrom, last] is in the ring
	last        uint64 // the newest sequence the stream is known to hold
	ready       bool
}

// snapshot returns the feed's state.
func (h *Hub) snapshot() feedState {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return feedState{gen: h.generation, epoch: h.epoch, previous: h.previous, coveredFrom: h.coveredFrom,
		last: max(h.last, h.startLast), ready: h.ready}
}
