package hub

import (
	"context"
	"fmt"
	"slices"

	"github.com/wikimedia-eventstreams-go/eventstreams/serve/filter"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/position"
)

// Position is where a client asked to start, as parsed from its request.
// The zero Position asks for new events only.
type Position struct {
	// LastEventID is the parsed Last-Event-ID header; it wins over Seq and
	// Since unless it is empty (position.KindNone).
	LastEventID position.Resume
	// Seq is ?seq, the first sequence wanted (0: not given).
	Seq uint64
	// Since is ?since in ms, when HasSince.
	Since    int64
	HasSince bool
}

// StartKind says how a Reader begins.
type StartKind uint8

const (
	// StartHead is only events stored from now on.
	StartHead StartKind = iota
	// StartAfter is the events after sequence Start.After (0: from the first
	// retained).
	StartAfter
	// StartSince is every event whose Kafka timestamp is at or after
	// Start.Since (ms), beginning at the first such event in stream order
	// (older events stored later may follow it).
	StartSince
)

// Start is where a Reader begins.
type Start struct {
	Kind  StartKind
	After uint64 // StartAfter
	Since int64  // StartSince
}

// MaxAhead is how far beyond the last sequence of the stream that serve
// reads a position may name and still be waited for. A client that read on
// a replica whose stream is ahead (another datacenter's, read here through
// a lagging mirror) resumes here with an id this stream does not hold yet:
// its Reader waits until the stream holds it, then continues exactly after
// it, rather than being refused (a browser's EventSource never retries after
// a refusal). A position further ahead cannot come from a lag.
const MaxAhead = 1 << 20

// BeyondEndError is a position naming a sequence more than MaxAhead beyond
// the end of the stream. Its text is safe to show the client.
type BeyondEndError struct {
	Seq uint64
	// FromLastEventID: the sequence came from Last-Event-ID, not ?seq.
	FromLastEventID bool
}

func (e *BeyondEndError) Error() string {
	if e.FromLastEventID {
		return fmt.Sprintf("Last-Event-ID names sequence %d, which is beyond the end of the stream by more than %d", e.Seq, MaxAhead)
	}
	return fmt.Sprintf("seq %d is beyond the end of the stream by more than %d", e.Seq, MaxAhead)
}

// Resolve decides where a client of f asking for p starts, in this
// precedence: Last-Event-ID, then seq, then since, else new events only.
//   - Our id of the stream instance the feed reads resumes exactly after
//     its sequence, also one the stream does not hold yet (see MaxAhead),
//     and so does one of a previous epoch of the stream up to the last
//     sequence it names (layout.PreviousEpochs); an id of another instance
//     (a re-created stream), or of a previous epoch past its last
//     sequence, resumes by its time.
//   - EventStreams' Kafka-style ids resume by the earliest timestamp of
//     the entries whose topic belongs to the requested streams; with none,
//     from new events.
//
// The error is ErrNotReady, or a *BeyondEndError.
func (h *Hub) Resolve(ctx context.Context, f *filter.Filter, p Position) (Start, error) {
	st := h.snapshot()
	if !st.ready {
		return Start{}, ErrNotReady
	}
	return h.resolve(ctx, st, f, p)
}

func (h *Hub) resolve(ctx context.Context, st feedState, f *filter.Filter, p Position) (Start, error) {
	switch id := p.LastEventID; id.Kind {
	case position.KindID:
		if !st.exact(id.ID) {
			ms, _ := id.EarliestTimestamp(nil)
			return Start{Kind: StartSince, Since: ms}, nil
		}
		if h.beyondEnd(ctx, st, id.ID.Seq) {
			return Start{}, &BeyondEndError{Seq: id.ID.Seq, FromLastEventID: true}
		}
		return Start{Kind: StartAfter, After: id.ID.Seq}, nil
	case position.KindKafka:
		ours := func(topic string) bool {
			s, ok := h.opts.Catalog.ByTopic(topic)
			return ok && slices.Contains(f.Streams, s.Token)
		}
		if ms, ok := id.EarliestTimestamp(ours); ok {
			return Start{Kind: StartSince, Since: ms}, nil
		}
		return Start{Kind: StartHead}, nil
	}
	if p.Seq > 0 {
		if h.beyondEnd(ctx, st, p.Seq-1) {
			return Start{}, &BeyondEndError{Seq: p.Seq}
		}
		return Start{Kind: StartAfter, After: p.Seq - 1}, nil
	}
	if p.HasSince {
		return Start{Kind: StartSince, Since: p.Since}, nil
	}
	return Start{Kind: StartHead}, nil
}

// exact reports whether id's sequence names the same event in the stream
// the feed reads: its epoch is the stream's, or a previous epoch of the
// stream (a promoted mirror's) up to the last sequence it names.
func (st feedState) exact(id position.ID) bool {
	if id.Epoch == st.epoch {
		return true
	}
	for _, r := range st.previous {
		if r.Epoch == id.Epoch && id.Seq <= r.Last {
			return true
		}
	}
	return false
}

// beyondEnd reports whether seq is more than MaxAhead past the stream's
// last sequence. The live feed's last is usually enough; only a seq beyond
// it (an id from a replica ahead) costs a stream lookup.
func (h *Hub) beyondEnd(ctx context.Context, st feedState, seq uint64) bool {
	if seq <= st.last+MaxAhead {
		return false
	}
	s, err := h.stream(ctx)
	if err != nil {
		return false
	}
	info, err := s.Info(ctx)
	if err != nil {
		return false
	}
	return seq > info.State.LastSeq+MaxAhead
}
