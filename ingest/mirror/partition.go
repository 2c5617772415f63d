package mirror

import "context"

// In a replicated stream, one message per partition is unresolved at a
// time. A stream leader that steps down drops, without an answer, what is
// still queued for it, and its successor stores what comes next within
// milliseconds; no barrier raised on a sign of trouble (an error, a
// timeout, a reconnection, the leader-elected advisory) can be sure to come
// before a later message of the same partition reaches the successor. So a
// record is sent only once every earlier record of its partition is
// stored: its partition's order holds whatever the cluster does.
// Partitions are sent in parallel, each held record waiting for its
// predecessor's acknowledgement (a partition's throughput: one record per
// round trip; the pipeline's: that, times the partitions it reads). A
// stream of one server has no leader to change: there, up to MaxInFlight
// records are sent at once, and the barriers of publish.go keep the order
// through a restart of the server (a reconnection), except behind a record
// that follows another pipeline's publish (inflight.go), whose failure
// those barriers do not see: there too the partition's next records wait,
// each for the one before, until none is held.
//
// State, on the pipeline's goroutine: busy marks a partition with a record
// sent, or released and about to be sent, that the next ones wait for (the
// entry's holds); heldBy queues the records behind it; ready lists the
// released records to send next; held counts the records in heldBy and
// ready.

// hold queues e behind its partition's unresolved record.
func (p *pipeline) hold(e *entry) {
	p.heldBy[e.tp] = append(p.heldBy[e.tp], e)
	p.held++
}

// release is called when e left the queue. If e kept its partition busy,
// the next held record of the partition, if any, becomes ready to send (and
// keeps the partition busy, so that nothing overtakes it).
func (p *pipeline) release(e *entry) {
	if !e.holds {
		return
	}
	tp := e.tp
	h := p.heldBy[tp]
	if len(h) == 0 {
		delete(p.busy, tp)
		return
	}
	h[0].holds = true
	p.ready = append(p.ready, h[0])
	h[0] = nil
	if len(h) == 1 {
		delete(p.heldBy, tp)
	} else {
		p.heldBy[tp] = h[1:]
	}
}

// sendReady sends the released records, in the order they were released.
func (p *pipeline) sendReady(ctx context.Context) error {
	for len(p.ready) > 0 {
		e := p.ready[0]
		p.ready[0] = nil
		p.ready = p.ready[1:]
		p.held--
		if err := p.send(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// flushHeld resolves acknowledgements, waiting for them, and sends the
// records they release, until no record is held.
func (p *pipeline) flushHeld(ctx context.Context) error {
	for p.held > 0 {
		if err := p.sendReady(ctx); err != nil {
			return err
		}
		if p.q.len() == 0 {
			continue
		}
		if err := p.resolveHead(ctx); err != nil {
			return err
		}
	}
	return nil
}
