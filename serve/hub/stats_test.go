package hub

import (
	"context"
	"testing"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	"github.com/wikimedia-eventstreams-go/eventstreams/serve/filter"
)

// TestStats: the ring's coverage is its events and their Kafka time span;
// catch-up slots are counted while held, and a request that finds none
// free counts as a wait, and as a refusal when none frees in time.
func TestStats(t *testing.T) {
	w := newWorld(t, 16)
	w.publish(100)
	// Events 84 to 99, with Kafka times 1e12+84 to 1e12+99 ms.
	inproctest.WaitFor(t, 10*time.Second, func() bool {
		n, span := w.hub.RingCoverage()
		return n == 16 && span == 15*time.Millisecond
	})

	w.hub.opts.MaxCatchUps, w.hub.opts.CatchUpWait = 1, 100*time.Millisecond
	w.hub.catchUps = make(chan struct{}, 1)
	check := func(when string, open, waited, refused int) {
		t.Helper()
		o, limit := w.hub.CatchUps()
		wt, rf := w.hub.CatchUpWaits()
		if o != open || limit != 1 || wt != uint64(waited) || rf != uint64(refused) {
			t.Errorf("%s: open %d of %d, waited %d, refused %d; want %d of 1, %d, %d", when, o, limit, wt, rf, open, waited, refused)
		}
	}
	check("at start", 0, 0, 0)
	all := filter.Filter{Streams: []string{"mediawiki_recentchange", "mediawiki_page-create"}}
	first, err := w.hub.Open(context.Background(), all, Position{Seq: 1})
	if err != nil {
		t.Fatal(err)
	}
	check("one catching up", 1, 0, 0)
	if _, err := w.hub.Open(context.Background(), all, Position{Seq: 1}); err != ErrBusy {
		t.Fatalf("second catch-up: %v, want ErrBusy", err)
	}
	check("a second refused", 1, 1, 1)
	readN(t, first, 100) // on the ring: its slot is free
	check("the first on the ring", 0, 1, 1)
	second, err := w.hub.Open(context.Background(), all, Position{Seq: 1})
	if err != nil {
		t.Fatal(err)
	}
	second.Close()
	check("a third served at once", 0, 1, 1)
}
