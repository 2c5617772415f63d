package mirror

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/input"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/envelope"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

const (
	maxPollRecords = 1000
	// idlePoll bounds a poll while acknowledgements are outstanding, so
	// that they are resolved and committed when no new records come.
	idlePoll = 20 * time.Millisecond
)

// pipeline mirrors one source. Everything runs on the goroutine of run, so
// its fields need no lock; what the source reports from other goroutines
// goes to the Mirror's reporter instead.
type pipeline struct {
	m        *Mirror
	cluster  string // the source's name
	src      input.Source
	js       jetstream.JetStream
	log      *slog.Logger
	maxEvent int

	q          *queue // published, not yet resolved, in send order
	marks      map[input.Partition]input.Position
	lastSeq    map[input.Partition]uint64   // stream sequence of each partition's last stored record
	oneAtATime bool                         // one unresolved record per partition: a replicated stream (partition.go)
	busy       map[input.Partition]bool     // partitions with an unresolved record
	heldBy     map[input.Partition][]*entry // records waiting for their partition's to resolve
	ready      []*entry                     // released records, to send next
	held       int                          // records in heldBy and ready
	mustDrain  bool                         // resolve everything in flight before publishing more
	failing    bool                         // a failure was logged since the queue was last empty
	reconnects uint64
	// asyncErrors counts the asynchronous publishes that failed, from
	// nats.go's goroutines; asyncErrorsSeen is its value when publish last
	// looked.
	asyncErrors     atomic.Uint64
	asyncErrorsSeen uint64
	// leaderChangesSeen is the Mirror's leaderChanges when publish last
	// looked.
	leaderChangesSeen uint64

	free    [][]byte         // message buffers of resolved entries, reused
	spare   []*entry         // resolved entries, reused with their message and header map (newEntry)
	counts  []streamCounters // by streamInfo.index, created when first used
	latency prometheus.Observer

	badLogged    int // bad records logged in the current second
	badSuppress  int // bad records not logged in the current second
	badLogSecond int64
}

// streamCounters are the per-stream series of one pipeline, looked up once.
type streamCounters struct {
	published, duplicates, skipped prometheus.Counter
}

// counters are the series of stream si, created when first used.
func (p *pipeline) counters(si *streamInfo) *streamCounters {
	c := &p.counts[si.index]
	if c.published == nil {
		c.published = p.m.metrics.published.WithLabelValues(p.cluster, si.name)
		c.duplicates = p.m.metrics.duplicates.WithLabelValues(p.cluster, si.name)
		c.skipped = p.m.metrics.skipped.WithLabelValues(p.cluster, si.name)
	}
	return c
}

// entry is one published message and the record it came from.
type entry struct {
	msg    *nats.Msg // never nil; Data is nil for an entry to skip
	fut    jetstream.PubAckFuture
	err    error // the publish failed before anything was sent
	tp     input.Partition
	pos    input.Position
	stream *streamInfo
	dead   envelope.Reason // "" for an event
	id     string          // de-dup id of an event
	skip   bool            // already stored: resolved without publishing
	claim  *claim          // the claim on id this entry's publish holds (inflight.go)
	follow *claim          // another pipeline's claim on id, followed instead of publishing
	holds  bool            // the partition's next records are held until this one is resolved (partition.go)
	sent   time.Time
	// coords are the values of msg's coordinate headers (coordinateHeaders),
	// one slice shared with msg.Header, so that setCoordinates sets them
	// without looking them up; nil until it first does, and whenever they
	// may no longer be msg.Header's.
	coords []string
}

// run polls and publishes until ctx is canceled, then shuts down.
func (p *pipeline) run(ctx context.Context) error {
	p.reconnects = p.m.nc.Stats().Reconnects
	inFlight := p.m.metrics.inFlight.WithLabelValues(p.cluster)
	p.latency = p.m.metrics.latency.WithLabelValues(p.cluster)
	for ctx.Err() == nil {
		pollCtx, cancel := ctx, context.CancelFunc(func() {})
		if p.q.len() > 0 {
			pollCtx, cancel = context.WithTimeout(ctx, idlePoll)
		}
		recs := p.src.Poll(pollCtx, maxPollRecords)
		cancel()
		if ctx.Err() != nil {
			break // records of this poll are not published, so not committed: read again at the next start
		}
		var err error
		var consumed prometheus.Counter
		topic := ""
		for i := range recs {
			r := &recs[i]
			if consumed == nil || r.Topic != topic {
				consumed, topic = p.m.metrics.consumed.WithLabelValues(p.cluster, r.Topic), r.Topic
			}
			consumed.Inc()
			if err = p.publish(ctx, p.prepare(r)); err != nil {
				break
			}
		}
		if err == nil {
			err = p.flushHeld(ctx)
		}
		if err == nil {
			err = p.resolveReady(ctx)
		}
		p.flushMarks()
		inFlight.Set(float64(p.q.len()))
		if err != nil {
			break // only a canceled ctx stops publishing
		}
	}
	p.shutdown()
	inFlight.Set(float64(p.q.len()))
	return nil
}

// shutdown stops ingest for this source without losing anything. The order
// matters (at-least-once; JetStream de-duplicates the rest):
//
//  1. stop reading the source: run has returned from its last poll, and
//     records polled but not published are neither published nor committed;
//  2. wait for every outstanding JetStream acknowledgement, publishing
//     failed messages again, for at most ShutdownTimeout;
//  3. mark and commit the positions of every acknowledged record;
//  4. give up the partitions and close the source (a Kafka consumer leaves
//     its group, so that the partitions move to another ingest at once).
//
// Steps 3 (the commit) and 4 are the source's Close, after the last Mark.
func (p *pipeline) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), p.m.opts.ShutdownTimeout)
	defer cancel()
	if err := p.drain(ctx); err != nil {
		p.log.Warn("stopping with unacknowledged messages; their records will be read again at the next start",
			slog.Int("in_flight", p.q.len()), slog.String("error", err.Error()))
		p.q.each(func(e *entry) { // the other pipelines publish their own copies
			if e.claim != nil {
				p.m.inflight.finish(e.id, e.claim, false)
				e.claim = nil
			}
		})
	}
	p.flushMarks()
	p.src.Close(context.Background())
	p.log.Info("cluster stopped")
}

// prepare turns a record into the message to publish: the enriched event,
// or a dead letter when the record is not a storable event, or an entry to
// skip when the event is already stored.
func (p *pipeline) prepare(r *input.Record) *entry {
	e := p.newEntry()
	e.tp, e.pos, e.stream = input.Partition{Topic: r.Topic, Partition: r.Partition}, r.Position, p.m.streams[r.Topic]
	if len(r.Value) > p.maxEvent {
		return p.deadLetter(e, r.Value, r.Time, envelope.ReasonTooLarge)
	}
	var ev envelope.Prepared
	var err error
	if r.Origin != nil {
		ev, err = envelope.PrepareAsIs(p.buffer(len(r.Value)), r.Value, e.stream.name)
	} else {
		ev, err = envelope.Prepare(p.buffer(len(r.Value)+128), r.Value, e.stream.name,
			envelope.Coordinates{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset})
	}
	if err != nil {
		var inv *envelope.InvalidError
		errors.As(err, &inv)
		return p.deadLetter(e, r.Value, r.Time, inv.Reason)
	}
	e.id = ev.ID
	if p.m.recent.has(e.id) {
		e.skip = true
		p.free = append(p.free, ev.Data[:0])
		return e
	}
	e.msg.Subject = p.m.opts.Layout.Subject(e.stream.token, ev.WikiToken)
	e.msg.Data = ev.Data
	p.setCoordinates(e, r.Time, e.id)
	if o := r.Origin; o != nil {
		if o.Topic == "" || o.Partition == "" || o.Offset == "" {
			e.coords = nil // a header deleted below: set them all again next time
		}
		setOrDel(e.msg.Header, layout.HeaderTopic, o.Topic)
		setOrDel(e.msg.Header, layout.HeaderPartition, o.Partition)
		setOrDel(e.msg.Header, layout.HeaderOffset, o.Offset)
	}
	return e
}

// setOrDel sets a header, or removes it when v is empty.
func setOrDel(h nats.Header, key, v string) {
	if v == "" {
		h.Del(key)
		return
	}
	setHeader(h, key, v)
}

// setHeader sets a header, in the value slice it already has: header maps
// are reused with their entries (newEntry).
func setHeader(h nats.Header, key, v string) {
	if s := h[key]; len(s) == 1 {
		s[0] = v
		return
	}
	h[key] = []string{v}
}

// coordinateHeaders are the headers every message has (README "What ingest
// stores"), in the order of entry.coords.
var coordinateHeaders = [...]string{layout.HeaderMsgID, layout.HeaderTimestamp, layout.HeaderCluster,
	layout.HeaderTopic, layout.HeaderPartition, layout.HeaderOffset}

// setCoordinates sets the headers every message has.
func (p *pipeline) setCoordinates(e *entry, ts time.Time, msgID string) {
	c := e.coords
	if c == nil {
		c = make([]string, len(coordinateHeaders))
		for k, key := range coordinateHeaders {
			e.msg.Header[key] = c[k : k+1 : k+1]
		}
		e.coords = c
	}
	// The three numbers in one string: one allocation.
	var buf [64]byte
	n := strconv.AppendInt(buf[:0], ts.UnixMilli(), 10)
	i := len(n)
	n = strconv.AppendInt(n, int64(e.tp.Partition), 10)
	j := len(n)
	numbers := string(strconv.AppendInt(n, e.pos.Offset, 10))
	c[0] = msgID
	c[1] = numbers[:i]
	c[2] = p.cluster
	c[3] = e.tp.Topic
	c[4] = numbers[i:j]
	c[5] = numbers[j:]
}

// newEntry is an empty entry, a resolved one reused when there is one: its
// message and header map are reused too, which saves most of a record's
// allocations. Nothing refers to an entry once it is resolved: nats.go
// encodes a message when it sends it, and forgets it when it is
// acknowledged.
func (p *pipeline) newEntry() *entry {
	n := len(p.spare)
	if n == 0 {
		return &entry{msg: &nats.Msg{Header: nats.Header{}}}
	}
	e := p.spare[n-1]
	p.spare = p.spare[:n-1]
	msg, coords := e.msg, e.coords
	if e.dead != "" {
		clear(msg.Header) // a dead letter's headers are not all overwritten
		coords = nil
	}
	*msg = nats.Msg{Header: msg.Header}
	*e = entry{msg: msg, coords: coords}
	return e
}

// recycle keeps a resolved entry, and its message's buffer, for reuse.
func (p *pipeline) recycle(e *entry) {
	if e.msg.Data != nil && len(p.free) < 2*p.m.opts.MaxInFlight {
		p.free = append(p.free, e.msg.Data[:0])
	}
	e.msg.Data, e.fut = nil, nil
	if len(p.spare) < p.m.opts.MaxInFlight {
		p.spare = append(p.spare, e)
	}
}

// mark records that every record of e's partition up to e is stored.
// Entries of a partition resolve in order, so the mark only moves forward.
func (p *pipeline) mark(e *entry) {
	p.marks[e.tp] = e.pos
}

// flushMarks hands the marks to the source, which commits them as it sees
// fit (Kafka: every second and before a partition is revoked).
func (p *pipeline) flushMarks() {
	if len(p.marks) == 0 {
		return
	}
	p.src.Mark(p.marks)
	clear(p.marks)
}

func (p *pipeline) buffer(size int) []byte {
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		if cap(b) >= size {
			return b
		}
	}
	return make([]byte, 0, size)
}
