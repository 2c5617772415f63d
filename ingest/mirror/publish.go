package mirror

import (
	"context"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// stallAfter: when the oldest message in flight has waited this long for
// its acknowledgement, nothing more is sent until it is resolved. A stream
// leader that dies takes the messages it had not replicated with it, and
// no acknowledgement comes for them; its successor is elected after at
// least nats-server's minimum election timeout, 4 s (less the 1 s between
// heartbeats), so a message sent to the new leader is held back until the
// lost ones have been sent again. A leader that steps down (a graceful
// shutdown, lame duck mode) is replaced within milliseconds and drops,
// without an answer, the messages still queued for it: that case is
// covered by the leader-elected advisory (Mirror.leaderChanges), which
// raises the same barrier. Acknowledgements normally take milliseconds; a
// slow one only pauses sending.
const stallAfter = time.Second

// publish sends e, or, in a replicated stream, holds it while an earlier
// record of its partition is unresolved (see partition.go), keeping at most
// MaxInFlight sent or held.
func (p *pipeline) publish(ctx context.Context, e *entry) error {
	for p.q.len() > 0 && p.q.len()+p.held >= p.m.opts.MaxInFlight {
		if err := p.resolveHead(ctx); err != nil {
			return err
		}
	}
	if err := p.sendReady(ctx); err != nil {
		return err
	}
	if p.busy[e.tp] {
		p.hold(e)
		return nil
	}
	return p.send(ctx, e)
}

// send publishes e asynchronously, never while an earlier failure is
// unresolved, or may be (see stallAfter).
func (p *pipeline) send(ctx context.Context, e *entry) error {
	if p.oneAtATime {
		p.busy[e.tp], e.holds = true, true
	}
	if r := p.m.nc.Stats().Reconnects; r != p.reconnects {
		// Messages written to the old connection may be lost; resolve
		// them before anything new can overtake them.
		p.reconnects = r
		p.mustDrain = p.q.len() > 0
	}
	if n := p.m.leaderChanges.Load(); n != p.leaderChangesSeen {
		// The stream has a new leader: the old one may have dropped, without
		// an answer, what it had not stored; resolve everything in flight
		// before anything can reach the new one.
		p.leaderChangesSeen = n
		p.mustDrain = p.q.len() > 0
	}
	if n := p.asyncErrors.Load(); n != p.asyncErrorsSeen {
		// A message in flight failed (an error answer, a timeout, the
		// connection lost): resolve everything before it first.
		p.asyncErrorsSeen = n
		p.mustDrain = p.q.len() > 0
	}
	e.sent = time.Now()
	if p.q.len() > 0 && e.sent.Sub(p.q.peek().sent) > stallAfter {
		p.m.metrics.stalls.WithLabelValues(p.cluster).Inc()
		p.mustDrain = true
	}
	if p.mustDrain {
		if err := p.drain(ctx); err != nil {
			return err
		}
		e.sent = time.Now()
	}
	if !e.skip && e.dead == "" {
		e.follow = p.m.inflight.following(e.id)
		if e.follow != nil && !e.holds {
			// Nothing of the partition is sent before the publish
			// followed is resolved: its failure, which this pipeline's
			// barriers do not see, must not let a later record overtake it.
			p.busy[e.tp], e.holds = true, true
		}
	}
	if !e.skip && e.follow == nil {
		e.fut, e.err = p.js.PublishMsgAsync(e.msg, jetstream.WithRetryAttempts(0))
		if e.err == nil && e.dead == "" {
			// Claimed only once written: every pipeline writes to the same
			// NATS connection, so whatever a follower sends next reaches
			// the server after this message.
			e.claim = p.m.inflight.claim(e.id)
		}
	}
	p.q.push(e)
	if e.err != nil {
		p.mustDrain = true
	}
	return nil
}

// resolveReady resolves the acknowledgements that have arrived, in order,
// without waiting.
func (p *pipeline) resolveReady(ctx context.Context) error {
	for p.q.len() > 0 {
		resolved, err := p.tryResolveHead(ctx)
		if err != nil || !resolved {
			return err
		}
	}
	return nil
}

// drain resolves everything in flight, waiting as long as ctx allows.
func (p *pipeline) drain(ctx context.Context) error {
	for p.q.len() > 0 {
		if err := p.resolveHead(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (p *pipeline) resolveHead(ctx context.Context) error {
	e := p.q.peek()
	if e.skip {
		return p.resolve(ctx, e, nil, nil)
	}
	if e.follow != nil {
		_, err := p.resolveFollower(ctx, e, true)
		return err
	}
	if e.err != nil {
		return p.resolve(ctx, e, nil, e.err)
	}
	select {
	case ack := <-e.fut.Ok():
		return p.resolve(ctx, e, ack, nil)
	case err := <-e.fut.Err():
		return p.resolve(ctx, e, nil, err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *pipeline) tryResolveHead(ctx context.Context) (bool, error) {
	e := p.q.peek()
	if e.skip {
		return true, p.resolve(ctx, e, nil, nil)
	}
	if e.follow != nil {
		return p.resolveFollower(ctx, e, false)
	}
	if e.err != nil {
		return true, p.resolve(ctx, e, nil, e.err)
	}
	select {
	case ack := <-e.fut.Ok():
		return true, p.resolve(ctx, e, ack, nil)
	case err := <-e.fut.Err():
		return true, p.resolve(ctx, e, nil, err)
	default:
		return false, nil
	}
}

// resolveFollower resolves the head entry e, which follows another
// pipeline's publish of its event, once that is resolved (with wait, it
// waits for it): as a skipped copy when the event is stored, else by
// publishing e's own copy now.
func (p *pipeline) resolveFollower(ctx context.Context, e *entry, wait bool) (bool, error) {
	done, stored, err := p.m.inflight.outcome(ctx, e.follow, wait)
	if err != nil || !done {
		return false, err
	}
	e.follow = nil
	if stored {
		e.skip = true
		return true, p.resolve(ctx, e, nil, nil)
	}
	actx, cancel := context.WithTimeout(ctx, p.m.opts.PublishTimeout)
	var ack *jetstream.PubAck
	ack, e.err = p.js.PublishMsg(actx, e.msg, jetstream.WithRetryAttempts(0))
	cancel()
	return true, p.resolve(ctx, e, ack, e.err) // a failure is retried from e.err if this is interrupted
}

// resolve completes the head entry: a failure is published again until
// JetStream takes it; then the entry leaves the queue and its position is
// marked for commit.
func (p *pipeline) resolve(ctx context.Context, e *entry, ack *jetstream.PubAck, err error) error {
	if e.skip {
		p.q.pop()
		p.release(e)
		p.counters(e.stream).skipped.Inc()
		p.mark(e)
		p.recycle(e)
		p.afterPop()
		return nil
	}
	if err != nil {
		p.mustDrain = true
		if ack, err = p.retry(ctx, e, err); err != nil {
			return err
		}
	}
	p.checkOrder(e, ack)
	p.q.pop()
	p.release(e)
	p.latency.Observe(time.Since(e.sent).Seconds())
	switch {
	case e.dead != "":
	case ack.Duplicate:
		p.counters(e.stream).duplicates.Inc()
		p.m.recent.add(e.id)
	default:
		p.counters(e.stream).published.Inc()
		p.m.recent.add(e.id)
	}
	if e.claim != nil {
		p.m.inflight.finish(e.id, e.claim, e.dead == "")
		e.claim = nil
	}
	p.mark(e)
	p.recycle(e)
	p.afterPop()
	return nil
}

// checkOrder compares the stream sequence at which e is stored (a
// duplicate's ack gives the sequence of the copy stored first) with the
// last one of its partition: a smaller one means that a later record of the
// partition was stored before it. The barriers above exist so that this
// never happens; should it, it is counted and logged.
func (p *pipeline) checkOrder(e *entry, ack *jetstream.PubAck) {
	if ack == nil || ack.Sequence == 0 {
		return
	}
	if last := p.lastSeq[e.tp]; ack.Sequence < last {
		p.m.metrics.reorders.WithLabelValues(p.cluster).Inc()
		p.log.Warn("an event was stored after a later event of its partition",
			slog.String("topic", e.tp.Topic), slog.Int("partition", int(e.tp.Partition)), slog.Int64("offset", e.pos.Offset),
			slog.Uint64("seq", ack.Sequence), slog.Uint64("later_seq", last))
		return
	}
	p.lastSeq[e.tp] = ack.Sequence
}

// afterPop ends a failure episode once nothing is in flight.
func (p *pipeline) afterPop() {
	if p.q.len() == 0 {
		p.mustDrain, p.failing = false, false
	}
}

// retry publishes e synchronously until JetStream stores it or ctx ends.
// The first attempt goes at once: after one failure (NATS restarting, the
// stream recreated) every message in flight fails too, and once the first
// is through the others usually are as well.
func (p *pipeline) retry(ctx context.Context, e *entry, cause error) (*jetstream.PubAck, error) {
	if ack, done, err := p.awaitInProcess(ctx, e, cause); done {
		return ack, err
	} else if err != nil {
		cause = err
	}
	if !p.failing { // the first failure since the queue was last empty
		p.failing = true
		p.log.Warn("publish failed; resolving everything in flight and retrying in order",
			slog.String("topic", e.tp.Topic), slog.Int("partition", int(e.tp.Partition)), slog.Int64("offset", e.pos.Offset),
			slog.Int("in_flight", p.q.len()), slog.String("error", cause.Error()))
	}
	backoff := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		p.m.metrics.retries.WithLabelValues(p.cluster).Inc()
		switch classifyPublishError(cause) {
		case recreateStream:
			if attempt > 1 {
				if err := p.m.ensureStream(ctx, p.js); err != nil {
					cause = err
				}
			}
		case rejectForever:
			p.reject(e, cause)
		}
		if attempt > 1 {
			if attempt == 2 || attempt%20 == 0 {
				p.log.Warn("publish still failing, retrying", slog.String("topic", e.tp.Topic), slog.Int("partition", int(e.tp.Partition)),
					slog.Int64("offset", e.pos.Offset), slog.Int("attempt", attempt), slog.Duration("backoff", backoff),
					slog.String("error", cause.Error()))
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
		}
		actx, cancel := context.WithTimeout(ctx, p.m.opts.PublishTimeout)
		ack, err := p.js.PublishMsg(actx, e.msg, jetstream.WithRetryAttempts(0))
		cancel()
		if err == nil {
			return ack, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// The message went, and a copy is now being replicated (perhaps
		// this very message, sent before the failure): wait for that.
		if ack, done, err2 := p.awaitInProcess(ctx, e, err); done {
			return ack, err2
		} else if err2 != nil {
			err = err2
		}
		cause = err
	}
}

// inProcessWait is the pause between asking again about a message whose
// id JetStream is still storing, and inProcessTries how often it asks
// before treating the answer as a failure.
const (
	inProcessWait  = 10 * time.Millisecond
	inProcessTries = 200
)

// awaitInProcess handles JetStream's "duplicate message id is in process"
// (409, error code 10158): in a replicated stream, a copy of the event
// (the other cluster's) is being stored and not yet replicated. The copy is
// not yet known to be stored, so the message is published again, after a
// short pause, until JetStream answers for certain: then it is a duplicate
// (or, if the copy was lost with a leader, stored now). done is false when
// the answer was another failure, err, for the caller to retry as any
// other.
func (p *pipeline) awaitInProcess(ctx context.Context, e *entry, cause error) (ack *jetstream.PubAck, done bool, err error) {
	for range inProcessTries {
		if classifyPublishError(cause) != inProcess {
			return nil, false, cause
		}
		select {
		case <-ctx.Done():
			return nil, true, ctx.Err()
		case <-time.After(inProcessWait):
		}
		actx, cancel := context.WithTimeout(ctx, p.m.opts.PublishTimeout)
		ack, cause = p.js.PublishMsg(actx, e.msg, jetstream.WithRetryAttempts(0))
		cancel()
		if cause == nil {
			return ack, true, nil
		}
		if ctx.Err() != nil {
			return nil, true, ctx.Err()
		}
	}
	return nil, false, cause
}
