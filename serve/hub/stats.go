package hub

import "time"

// What serve's metrics read of the hub (serve/api/metrics.go). Each
// accessor is safe for concurrent use and cheap enough for every scrape.

// CatchUps returns the catch-up consumers open or being opened, and the
// most allowed at once (MaxCatchUps).
func (h *Hub) CatchUps() (open, limit int) { return len(h.catchUps), cap(h.catchUps) }

// CatchUpWaits returns how many readers found every catch-up slot taken
// and waited for one, and how many of those got none within CatchUpWait
// (their requests were refused with ErrBusy).
func (h *Hub) CatchUpWaits() (waited, refused uint64) {
	return h.catchUpWaited.Load(), h.catchUpRefused.Load()
}

// RingCoverage returns how many events the ring holds and the span of
// their Kafka times (newest minus oldest): how far back a client can
// resume from memory, without a catch-up consumer.
func (h *Hub) RingCoverage() (events int, span time.Duration) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.n == 0 {
		return 0, 0
	}
	oldest, newest := h.ring[h.head], h.ring[(h.head+h.n-1)%len(h.ring)]
	return h.n, time.Duration(max(newest.Time-oldest.Time, 0)) * time.Millisecond
}
