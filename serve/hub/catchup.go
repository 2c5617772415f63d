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
	// emptyFetches counts the fetches in a row that returned nothing
	// while the consumer still had messages pending.
	emptyFetches int
}

// catchUpRetryWait bounds a consumer fetch after an empty one, and
// maxEmptyFetches how many empty fetches in a row end the stream (the
// client resumes from its id).
const (
	catchUpRetryWait = 100 * time.Millisecond
	maxEmptyFetches  = 100
)

// next reads the next batch, calling each for its messages in order, and
// reports whether the consumer had no message left after them when it
// answered.
func (c *consumerSource) next(ctx context.Context, each func(seq uint64, subject string, ts int64, data []byte)) (bool, error) {
	var batch jetstream.MessageBatch
	var err error
	if c.emptyFetches == 0 {
		batch, err = c.cons.FetchNoWait(catchUpBatch)
	} else {
		// The consumer had nothing to give at the last fetch although it is
		// not drained: wait a little for it rather than ask again at once.
		batch, err = c.cons.Fetch(catchUpBatch, jetstream.FetchMaxWait(catchUpRetryWait))
	}
	if err != nil {
		return false, err
	}
	drained, got, lost := false, false, false
	for m := range batch.Messages() {
		md, err := m.Metadata()
		if err != nil || lost {
			continue // drain the batch
		}
		if md.Sequence.Consumer != c.delivered+1 {
			lost = true
			continue
		}
		got = true
		c.delivered, c.last = md.Sequence.Consumer, md.Sequence.Stream
		drained = md.NumPending == 0
		each(md.Sequence.Stream, m.Subject(), headerTime(m.Headers(), md.Timestamp), m.Data())
	}
	if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, nats.ErrTimeout) {
		return false, err
	}
	if lost {
		return false, c.restart(ctx)
	}
	if got {
		c.emptyFetches = 0
		return drained, nil
	}
	// An empty answer does not say that the consumer is drained: a busy
	// server may answer a fetch before the consumer delivers. Ask the
	// consumer how many messages it still has for this client, and whether
	// it delivered some that never arrived (to a fetch that had ended).
	switch ci, err := c.info(ctx); {
	case err != nil:
	case ci.Delivered.Consumer > c.delivered:
		return false, c.restart(ctx)
	case ci.NumPending == 0:
		return true, nil
	}
	if c.emptyFetches++; c.emptyFetches > maxEmptyFetches {
		return false, fmt.Errorf("no messages after %d fetches while some are pending", maxEmptyFetches)
	}
	return false, nil
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
	c.cons, c.delivered, c.emptyFetches = cons, 0, 0
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
