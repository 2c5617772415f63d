package hub

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wikimedia-eventstreams-go/eventstreams/serve/wire"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// Run feeds the ring until ctx ends. When the feed fails it tells every
// Reader (ErrFeedFailed), waits, and starts again from the stream's end.
func (h *Hub) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := h.feed(ctx)
		if ctx.Err() != nil {
			break
		}
		h.fail()
		h.mu.Lock()
		ran := h.epoch != "" // set when a feed starts
		h.mu.Unlock()
		var apiErr *jetstream.APIError
		if !ran && errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamNotFound {
			// A new deployment: serve started before ingest made the stream.
			h.log.Info("waiting for the JetStream stream, which ingest creates", slog.String("stream", h.opts.Layout.Stream),
				slog.Duration("in", backoff))
		} else {
			h.log.Warn("live feed stopped; restarting", slog.String("error", err.Error()), slog.Duration("in", backoff))
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
	h.fail()
	return nil
}

// feed runs one live consumer from the stream's current end.
func (h *Hub) feed(ctx context.Context) error {
	s, err := h.stream(ctx)
	if err != nil {
		return err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return err
	}
	epoch := layout.Epoch(info)
	// Preload the ring with the last RingSize events, so that clients
	// reconnecting after this process (re)started resume from memory
	// rather than each opening a catch-up consumer.
	head := info.State.LastSeq
	start := uint64(0)
	if head > uint64(len(h.ring)) {
		start = head - uint64(len(h.ring))
	}
	if info.State.FirstSeq > start+1 {
		start = info.State.FirstSeq - 1
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: h.subjects,
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    start + 1,
	})
	if err != nil {
		return err
	}
	h.setStatus(info)
	gen := h.started(epoch, layout.PreviousEpochs(info.Config.Metadata), start, head)
	h.log.Info("live feed started", slog.String("epoch", epoch), slog.Uint64("from_seq", start+1), slog.Uint64("head_seq", head))

	// A lost NATS connection (a restart, a network cut) ends the feed: its
	// clients get an error event and resume by id from a serve that is
	// connected, rather than hang on a silent stream. The ordered consumer
	// could resume by itself, but a client cannot tell a quiet stream from
	// a cut one.
	nc := h.js.Conn()
	lost := nc.StatusChanged(nats.DISCONNECTED, nats.RECONNECTING, nats.CLOSED)
	defer nc.RemoveStatusListener(lost)
	if !nc.IsConnected() {
		return errConnectionLost
	}

	failed := make(chan error, 1)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		md, err := m.Metadata()
		if err != nil {
			return
		}
		e := newEvent(h.opts.Layout, epoch, md.Sequence.Stream, m.Subject(), headerTime(m.Headers(), md.Timestamp), m.Data(), wire.Encode)
		if t, ok := h.tokens[e.Stream]; ok {
			e.Stream = t
		}
		h.add(gen, e)
	}, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if isFatal(err) {
			select {
			case failed <- err:
			default:
			}
		}
	}))
	if err != nil {
		return err
	}
	defer cc.Stop()
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	changed := make(chan error, 1)
	go func() { changed <- h.watch(wctx, s, epoch) }()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-failed:
		return err
	case <-lost:
		return errConnectionLost
	case err := <-changed:
		return err
	}
}

var errConnectionLost = errors.New("NATS connection lost")

// isFatal decides which consumer errors end the feed: the stream is gone
// (deleted, or recreated with another epoch). Other errors (a heartbeat
// missed, NATS reconnecting) are handled by the ordered consumer itself,
// which resumes after the last sequence it delivered.
func isFatal(err error) bool {
	return errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, jetstream.ErrConsumerDeleted) ||
		errors.Is(err, jetstream.ErrOrderedConsumerReset)
}
