package mirror

import (
	"context"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// publish sends e asynchronously, keeping at most MaxInFlight in flight and
// never sending while an earlier failure is unresolved.
func (p *pipeline) publish(ctx context.Context, e *entry) error {
	if r := p.m.nc.Stats().Reconnects; r != p.reconnects {
		// Messages written to the old connection may be lost; resolve
		// them before anything new can overtake them.
		p.reconnects = r
		p.mustDrain = p.q.len() > 0
	}
	if p.mustDrain {
		if err := p.drain(ctx); err != nil {
			return err
		}
	}
	for p.q.len() >= p.m.opts.MaxInFlight {
		if err := p.resolveHead(ctx); err != nil {
			return err
		}
	}
	e.sent = time.Now()
	if !e.skip {
		e.fut, e.err = p.js.PublishMsgAsync(e.msg, jetstream.WithRetryAttempts(0))
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

// resolve completes the head entry: a failure is published again until
// JetStream takes it; then the entry leaves the queue and its position is
// marked for commit.
func (p *pipeline) resolve(ctx context.Context, e *entry, ack *jetstream.PubAck, err error) error {
	if e.skip {
		p.q.pop()
		p.m.metrics.skipped.WithLabelValues(p.cluster, e.stream.name).Inc()
		p.mark(e)
		p.afterPop()
		return nil
	}
	if err != nil {
		p.faulted[e.tp] = true
		p.mustDrain = true
		if ack, err = p.retry(ctx, e, err); err != nil {
			return err
		}
	} else if !ack.Duplicate && p.faulted[e.tp] {
		p.m.metrics.reorders.WithLabelValues(p.cluster).Inc()
		p.log.Warn("an event was stored before an earlier event of its partition whose publish had failed",
			slog.String("topic", e.tp.Topic), slog.Int("partition", int(e.tp.Partition)), slog.Int64("offset", e.pos.Offset))
	}
	p.q.pop()
	p.m.metrics.latency.WithLabelValues(p.cluster).Observe(time.Since(e.sent).Seconds())
	switch {
	case e.dead != "":
	case ack.Duplicate:
		p.m.metrics.duplicates.WithLabelValues(p.cluster, e.stream.name).Inc()
		p.m.recent.add(e.id)
	default:
		p.m.metrics.published.WithLabelValues(p.cluster, e.stream.name).Inc()
		p.m.recent.add(e.id)
	}
	p.mark(e)
	if len(p.free) < 2*p.m.opts.MaxInFlight {
		p.free = append(p.free, e.msg.Data[:0])
	}
	p.afterPop()
	return nil
}

// afterPop ends a failure episode once nothing is in flight.
func (p *pipeline) afterPop() {
	if p.q.len() == 0 {
		clear(p.faulted)
		p.mustDrain, p.failing = false, false
	}
}

// retry publishes e synchronously until JetStream stores it or ctx ends.
// The first attempt goes at once: after one failure (NATS restarting, the
// stream recreated) every message in flight fails too, and once the first
// is through the others usually are as well.
func (p *pipeline) retry(ctx context.Context, e *entry, cause error) (*jetstream.PubAck, error) {
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
		cause = err
	}
}
