package hub

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// A catch-up fetches at most catchUpBatch events at a time, so that the
// events read ahead of the clients stay bounded: MaxCatchUps × about
// 128 KiB, 32 MiB at the default 256, half of what nats-server lets pile
// up for one connection before it closes it as a slow consumer
// (max_pending, 64 MiB): all catch-ups share serve's connection with the
// live feed.
const (
	catchUpBatch = 128
	// catchUpTimeout bounds a consumer's re-creation.
	catchUpTimeout = 10 * time.Second
)

// openSource starts a catch-up of subjects from sequence seq, or from
// store time from when set: a consumer of the client's own, filtered to
// them. (Batched direct gets, infra/servebench/directget, cost fewer API calls but
// were slower: nats-server answers all of one connection's direct gets
// one after another; README "Benchmarks".)
func (h *Hub) openSource(ctx context.Context, subjects []string, seq uint64, from *time.Time) (*consumerSource, error) {
	// A plain ephemeral pull consumer, not an ordered one: nats.go
	// recreates an ordered consumer on the server at every fetch.
	cfg := jetstream.ConsumerConfig{
		FilterSubjects:    subjects,
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       seq,
		AckPolicy:         jetstream.AckNonePolicy,
		InactiveThreshold: 30 * time.Second,
		MemoryStorage:     true,
		Replicas:          1,
	}
	if from != nil {
		cfg.DeliverPolicy, cfg.OptStartSeq, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, 0, from
	}
	s, err := h.stream(ctx)
	if err != nil {
		return nil, err
	}
	cons, err := s.CreateConsumer(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &consumerSource{cons: cons, stream: s, cfg: cfg}, nil
}

// consumerSource reads from an ephemeral consumer of the client's own.
// Without acks, a message the consumer delivered to a fetch that had
// already ended (a busy server, a fetch expiring) is lost to the client:
// a jump in the consumer sequence says so, and the source starts a new
// consumer after the last message it gave.
type consumerSource struct {
	cons   jetstream.Consumer
	stream jetstream.Stream
	cfg    jetstream.ConsumerConfig
	// delivered and last are the consumer and stream sequences of the
	// last message given (0: none yet).
	delivered, last uint64
	// lastEmpty says that the last fetch returned nothing; stalled counts
	// the empty fetches in a row after which the consumer still counted
	// messages pending.
	lastEmpty bool
	stalled   int
}

// catchUpRetryWait bounds a consumer fetch after an empty one, and
// maxEmptyFetches how many empty fetches in a row, while the consumer
// counts messages pending, end the stream (the client resumes from its id).
const (
	catchUpRetryWait = 100 * time.Millisecond
	maxEmptyFetches  = 100
)

// next reads the next batch, calling each for its messages in order, and
// returns the stream sequence up to which the source has given every
// message of its subjects: the last one given, or further when the
// server's consumer says it looked further and found none. It asks that
// only when the batch reached the end of what the consumer had and the
// last message given is before need (the reader leaves the source at need).
//
// How far it looked is asked of the consumer (its Delivered.Stream, which
// nats-server advances past the messages that do not match when it reaches
// the end of the stream), never inferred from the pending count a message
// carries: nats-server counts a newly stored message there only when its
// stream's signal loop gets to it, so a message may carry "0 pending"
// while a later one is stored and even already delivered to the live feed.
func (c *consumerSource) next(ctx context.Context, need uint64, each func(seq uint64, subject string, ts int64, data []byte)) (uint64, error) {
	var batch jetstream.MessageBatch
	var err error
	if !c.lastEmpty {
		batch, err = c.cons.FetchNoWait(catchUpBatch)
	} else {
		// The last fetch found nothing: wait a little, which also makes
		// the server look for matching messages (a no-wait fetch is refused
		// at once when the consumer counts none pending, without looking).
		batch, err = c.cons.Fetch(catchUpBatch, jetstream.FetchMaxWait(catchUpRetryWait))
	}
	if err != nil {
		return c.last, c.fetchFailed(ctx, err)
	}
	n, atEnd, lost := 0, false, false
	for m := range batch.Messages() {
		md, err := m.Metadata()
		if err != nil || lost {
			continue // drain the batch
		}
		if md.Sequence.Consumer != c.delivered+1 {
			lost = true
			continue
		}
		n++
		c.delivered, c.last = md.Sequence.Consumer, md.Sequence.Stream
		atEnd = md.NumPending == 0
		each(md.Sequence.Stream, m.Subject(), headerTime(m.Headers(), md.Timestamp), m.Data())
	}
	if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, nats.ErrTimeout) {
		return c.last, c.fetchFailed(ctx, err)
	}
	if lost {
		return c.last, c.restart(ctx)
	}
	c.lastEmpty = n == 0
	if n > 0 {
		c.stalled = 0
		if !atEnd && n == catchUpBatch || c.last >= need {
			return c.last, nil // more to read, or far enough
		}
	}
	// Near or at the end: ask the consumer how far it looked, and whether
	// it delivered messages that never arrived (to a fetch that had ended).
	ci, err := c.info(ctx)
	switch {
	case err != nil && n == 0:
		return c.last, c.stall() // no claim beyond the last message given
	case err != nil:
		return c.last, nil
	case ci.Delivered.Consumer > c.delivered:
		return c.last, c.restart(ctx)
	case n == 0 && ci.NumPending > 0:
		// Nothing arrives while the consumer counts some pending (a busy
		// server may answer a fetch before the consumer delivers).
		if err := c.stall(); err != nil {
			return c.last, err
		}
	default:
		c.stalled = 0
	}
	return max(c.last, ci.Delivered.Stream), nil
}

// fetchFailed handles a failed fetch. A consumer that no longer exists
// (deleted by hand, dropped by the server after InactiveThreshold: a client
// that read nothing for that long, or lost with the NATS node that held it
// in memory) is replaced by one after the last message given, which fails
// if the stream itself is gone; any other error ends the source.
func (c *consumerSource) fetchFailed(ctx context.Context, err error) error {
	if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrConsumerNotFound) ||
		errors.Is(err, jetstream.ErrConsumerDeleted) {
		return c.restart(ctx)
	}
	return err
}

// stall counts an empty fetch that says nothing of the end, and fails the
// source after maxEmptyFetches in a row.
func (c *consumerSource) stall() error {
	if c.stalled++; c.stalled > maxEmptyFetches {
		return fmt.Errorf("no messages after %d fetches while some are pending", maxEmptyFetches)
	}
	return nil
}

// info asks the server for the consumer's state.
func (c *consumerSource) info(ctx context.Context) (*jetstream.ConsumerInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return c.cons.Info(ctx)
}

// restart replaces the consumer by one that starts after the last message
// given.
func (c *consumerSource) restart(ctx context.Context) error {
	c.close()
	if c.last > 0 {
		c.cfg.DeliverPolicy, c.cfg.OptStartSeq, c.cfg.OptStartTime = jetstream.DeliverByStartSequencePolicy, c.last+1, nil
	}
	ctx, cancel := context.WithTimeout(ctx, catchUpTimeout)
	defer cancel()
	cons, err := c.stream.CreateConsumer(ctx, c.cfg)
	if err != nil {
		return err
	}
	c.cons, c.delivered, c.lastEmpty, c.stalled = cons, 0, false, 0
	return nil
}

// close deletes the consumer.
func (c *consumerSource) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = c.stream.DeleteConsumer(ctx, c.cons.CachedInfo().Name) // else the server drops it after InactiveThreshold
}

// headerTime is the Kafka timestamp header, or else the time JetStream
// stored the message.
func headerTime(h nats.Header, stored time.Time) int64 {
	if v := h.Get(layout.HeaderTimestamp); v != "" {
		if ts, err := strconv.ParseInt(v, 10, 64); err == nil {
			return ts
		}
	}
	return stored.UnixMilli()
}
