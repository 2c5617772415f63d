package hub

import (
	"testing"

	"github.com/wikimedia-eventstreams-go/eventstreams/serve/filter"
)

// TestReadRingFindsTheNextEventFromAnyCursor reads a wrapped ring, with
// gaps in its sequences, from every cursor it covers: near its newest
// event (looked up from the end) and far behind it (searched).
func TestReadRingFindsTheNextEventFromAnyCursor(t *testing.T) {
	const size = 64
	h := &Hub{ring: make([]*Event, size), notify: make(chan struct{})}
	gen := h.started("E", nil, 100, 100)
	var seqs []uint64
	for seq := uint64(101); len(seqs) < size+37; seq += 1 + seq%3 { // wraps; gaps of 0–2
		h.add(gen, &Event{Seq: seq, Stream: "s"})
		seqs = append(seqs, seq)
	}
	seqs = seqs[len(seqs)-size:]
	f := filter.Filter{Streams: []string{"s"}}
	for after := h.coveredFrom; after <= h.last; after++ {
		out, cursor, _, err := h.readRing(gen, after, &f, nil, 4)
		if err != nil {
			t.Fatalf("after %d: %v", after, err)
		}
		var want []uint64
		for _, s := range seqs {
			if s > after && len(want) < 4 {
				want = append(want, s)
			}
		}
		if len(out) != len(want) {
			t.Fatalf("after %d: %d events, want %v", after, len(out), want)
		}
		for i, e := range out {
			if e.Seq != want[i] {
				t.Fatalf("after %d: event %d is seq %d, want %d", after, i, e.Seq, want[i])
			}
		}
		if wantCursor := h.last; len(want) == 4 && cursor != want[3] || len(want) < 4 && cursor != wantCursor {
			t.Fatalf("after %d: cursor %d", after, cursor)
		}
	}
	if _, _, _, err := h.readRing(gen, h.coveredFrom-1, &f, nil, 4); err != ErrTooSlow {
		t.Fatalf("behind the ring: %v, want ErrTooSlow", err)
	}
}
