package mirror

import (
	"context"
	"sync"
)

// inFlight holds the de-dup ids of the events being published, each with
// the claim of the pipeline that sent it. Both datacenters' clusters hold
// every event; live, the second copy comes seconds after the first and
// recentIDs skips it, but a mirror reading a backlog from both (after a
// restart, or an outage) reads the two copies within milliseconds of each
// other, before either is acknowledged: the pipeline that meets an id
// already in flight follows the claim instead of publishing the copy, and
// resolves its record when the claim does. JetStream then receives each
// event once, not twice. Safe for concurrent use; nil knows nothing
// (newInFlight).
//
// Order: a follower's partition sends nothing more until the claim is
// resolved (partition.go), since the claimant's failure, which the
// follower's pipeline does not see, must not be overtaken; and a claim is
// registered only once its message is written to the NATS connection that
// all pipelines share, so the follower's later messages come after it.
//
// Nothing is lost by following: a follower skips its copy only when the
// claimant's publish was acknowledged as the event; when the claimant
// gives up (it stopped with the publish unresolved, or the record became a
// dead letter) the follower publishes its own copy. Nor can two pipelines
// wait on each other: a follower waits on a record sent before it, and a
// pipeline resolves its records in the order it sent them, so every wait
// points back in time.
type inFlight struct {
	mu  sync.Mutex
	ids map[string]*claim
}

// claim is one pipeline's publish of an event, as others see it. Its
// fields are guarded by inFlight.mu.
type claim struct {
	done   bool          // resolved, or given up
	stored bool          // resolved: the event is in the stream
	wake   chan struct{} // made by the first follower that waits; closed when done
}

// newInFlight: none for one source, or when recent ids are not kept
// either (Options.RecentIDs).
func newInFlight(sources, recentIDs int) *inFlight {
	if sources < 2 || recentIDs <= 0 {
		return nil
	}
	return &inFlight{ids: map[string]*claim{}}
}

// following returns the claim on id of the pipeline publishing it, if any.
func (f *inFlight) following(id string) *claim {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ids[id]
}

// claim registers the caller's publish of id, once the message is written
// to the NATS connection, so that a follower's later messages are written
// after it (see send); nil when another pipeline's publish of id is
// registered already, or there is one source.
func (f *inFlight) claim(id string) *claim {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ids[id] != nil {
		return nil
	}
	c := &claim{}
	f.ids[id] = c
	return c
}

// finish resolves the caller's claim on id: stored says whether the event
// is in the stream. Its followers go on.
func (f *inFlight) finish(id string, c *claim, stored bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c.done, c.stored = true, stored
	if f.ids[id] == c {
		delete(f.ids, id)
	}
	if c.wake != nil {
		close(c.wake)
	}
}

// outcome reports whether c is resolved and, if so, whether its event is
// stored. With wait, it waits for the resolution as long as ctx allows.
func (f *inFlight) outcome(ctx context.Context, c *claim, wait bool) (done, stored bool, err error) {
	f.mu.Lock()
	if c.done || !wait {
		defer f.mu.Unlock()
		return c.done, c.stored, nil
	}
	if c.wake == nil {
		c.wake = make(chan struct{})
	}
	wake := c.wake
	f.mu.Unlock()
	select {
	case <-wake:
	case <-ctx.Done():
		return false, false, ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return true, c.stored, nil
}
