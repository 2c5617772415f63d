package hub

import (
	"strings"
	"sync/atomic"

	"github.com/wikimedia-eventstreams-go/eventstreams/serve/wire"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/envelope"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/position"
)

// Event is one stored event, encoded once for every client.
type Event struct {
	Seq    uint64
	Time   int64  // Kafka timestamp, ms (from the Es-Timestamp header)
	Stream string // stream token of the subject
	Wiki   string // wiki token of the subject
	wire.Encoded

	attrs atomic.Pointer[envelope.Attributes]
}

// Attributes are the members field filters select on, read from the event
// the first time a filter asks (most clients filter on streams only, and
// then the ring holds no attributes).
func (e *Event) Attributes() *envelope.Attributes {
	if a := e.attrs.Load(); a != nil {
		return a
	}
	a, _ := envelope.ReadAttributes(e.JSON())
	e.attrs.CompareAndSwap(nil, &a) // concurrent readers compute the same value
	return e.attrs.Load()
}

// ID is the event's SSE id.
func (e *Event) ID(epoch string) position.ID {
	return position.ID{Seq: e.Seq, Timestamp: e.Time + 1, Epoch: epoch}
}

// newEvent builds the Event of one JetStream message, encoded by encode:
// wire.Encode for the ring's events, which every client on the ring gets,
// wire.Lazy for a catch-up's, which one client gets.
func newEvent(l layout.Layout, epoch string, seq uint64, subject string, ts int64, data []byte,
	encode func(position.ID, []byte) wire.Encoded) *Event {
	e := &Event{Seq: seq, Time: ts}
	e.Stream, e.Wiki = splitSubject(l, subject)
	e.Encoded = encode(e.ID(epoch), data)
	return e
}

func splitSubject(l layout.Layout, subject string) (stream, wiki string) {
	rest := strings.TrimPrefix(subject, l.Prefix+".")
	stream, wiki, _ = strings.Cut(rest, ".")
	return stream, wiki
}
