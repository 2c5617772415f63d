package hub

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wikimedia-eventstreams-go/eventstreams/serve/filter"
)

// Reader delivers one client's events in sequence order: from its own
// catch-up consumer while it is behind the ring, then from the ring.
type Reader struct {
	h      *Hub
	filter filter.Filter
	gen    uint64
	epoch  string
	cursor uint64 // last seq delivered or passed over

	catchUp jetstream.Consumer // nil once on the ring
	stream  jetstream.Stream
	wait    <-chan struct{}
	bySince bool // skip events older than since until the first newer one
	since   int64
	// emptyFetches counts the catch-up fetches in a row that returned
	// nothing while the consumer still had messages pending.
	emptyFetches int
}

// catchUpRetryWait bounds a catch-up fetch after an empty one, and
// maxEmptyFetches how many empty fetches in a row end the stream (the
// client resumes from its id).
const (
	catchUpRetryWait = 100 * time.Millisecond
	maxEmptyFetches  = 100
)

// pendingNone reports whether the catch-up consumer has delivered every
// message it will give this client, asking the server.
func (r *Reader) pendingNone() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ci, err := r.catchUp.Info(ctx)
	return err == nil && ci.NumPending == 0
}

// storeSlack is how far before `since` the search for the first event
// starts, in JetStream's store time: an event is stored after it happened,
// give or take the clocks of the producers.
const storeSlack = 5 * time.Minute

// latestStart is the latest start time a consumer can be given: JetStream
// reads times as RFC 3339, whose years end at 9999.
var latestStart = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

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
	// A plain ephemeral pull consumer, not an ordered one: nats.go
	// recreates an ordered consumer on the server at every fetch.
	cfg := jetstream.ConsumerConfig{
		FilterSubjects:    f.Subjects(h.opts.Layout),
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       start.After + 1,
		AckPolicy:         jetstream.AckNonePolicy,
		InactiveThreshold: 30 * time.Second,
		MemoryStorage:     true,
		Replicas:          1,
	}
	if start.Kind == StartSince {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverAllPolicy, 0
		if from := time.UnixMilli(start.Since).Add(-storeSlack); from.After(time.Unix(0, 0)) {
			// Any time a client sends is valid: before 1970 means from the
			// first retained event; far in the future (ids with timestamps
			// near the int64 limit) is capped where JetStream's times end,
			// and finds nothing yet.
			if from.After(latestStart) {
				from = latestStart
			}
			cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &from
		}
		r.since, r.bySince, r.cursor = start.Since, true, 0
	}
	if err := h.acquireCatchUp(ctx); err != nil {
		return nil, err
	}
	s, err := h.stream(ctx)
	if err == nil {
		var cons jetstream.Consumer
		if cons, err = s.CreateConsumer(ctx, cfg); err == nil {
			r.catchUp, r.stream = cons, s
			return r, nil
		}
	}
	h.releaseCatchUp()
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeMaximumConsumersLimit {
		return nil, ErrBusy
	}
	return nil, fmt.Errorf("hub: catch-up: %w", err)
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

// pollCatchUp reads the next batch from the client's own consumer, and
// moves the Reader to the ring when that is exact: either the ring covers
// everything after the cursor, or the consumer has nothing pending, so no
// matching event lies between the cursor and the ring.
func (r *Reader) pollCatchUp(_ context.Context, out []*Event, limit int) ([]*Event, error) {
	before := r.h.snapshot()
	var batch jetstream.MessageBatch
	var err error
	if r.emptyFetches == 0 {
		batch, err = r.catchUp.FetchNoWait(limit)
	} else {
		// The consumer had nothing to give at the last poll although it is
		// not drained: wait a little for it rather than ask again at once.
		batch, err = r.catchUp.Fetch(limit, jetstream.FetchMaxWait(catchUpRetryWait))
	}
	if err != nil {
		r.Close()
		return out, fmt.Errorf("hub: catch-up: %w", err)
	}
	drained, got := false, false
	for m := range batch.Messages() {
		md, err := m.Metadata()
		if err != nil {
			continue
		}
		got = true
		r.cursor = md.Sequence.Stream
		drained = md.NumPending == 0
		ts := timestamp(m)
		if r.bySince && ts < r.since {
			continue
		}
		r.bySince = false
		if e := newEvent(r.h.opts.Layout, r.epoch, md.Sequence.Stream, m.Subject(), ts, m.Data()); r.filter.MatchFields(e) {
			out = append(out, e) // the consumer's subjects did the rest of the filter
		}
	}
	if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, nats.ErrTimeout) {
		r.Close()
		return out, fmt.Errorf("hub: catch-up: %w", err)
	}
	if !got {
		// An empty answer does not say that the consumer is drained: a
		// busy server may answer a fetch before the consumer delivers. Ask
		// the consumer how many messages it still has for this client.
		drained = r.pendingNone()
		if !drained {
			r.emptyFetches++
			if r.emptyFetches > maxEmptyFetches {
				r.Close()
				return out, fmt.Errorf("hub: catch-up: no messages after %d fetches while some are pending", maxEmptyFetches)
			}
		}
	} else {
		r.emptyFetches = 0
	}
	st := r.h.snapshot()
	if !st.ready || st.gen != r.gen || st.epoch != r.epoch {
		r.Close()
		return out, ErrFeedFailed
	}
	if r.cursor >= st.coveredFrom || drained && st.coveredFrom <= before.last {
		// No matching event lies in (cursor, coveredFrom]: either the
		// cursor is there already, or the consumer had none pending after
		// the stream held before.last (it was asked after that), and the
		// ring's coverage starts at or before it. A ring that moved past
		// that point meanwhile (a small ring, a fast stream) may lack
		// events the consumer has not given yet: read on from the consumer.
		r.cursor = max(r.cursor, st.coveredFrom)
		r.Close()
	}
	return out, nil
}

// Close releases the Reader's catch-up consumer, if any, on the server.
func (r *Reader) Close() {
	if r.catchUp == nil {
		return
	}
	name := r.catchUp.CachedInfo().Name
	r.catchUp = nil
	r.h.releaseCatchUp()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = r.stream.DeleteConsumer(ctx, name) // else the server drops it after InactiveThreshold
}
