package mirror

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/envelope"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

const (
	maxPollRecords = 1000
	// idlePoll bounds a poll while acknowledgements are outstanding, so
	// that they are resolved and committed when no new records come.
	idlePoll = 20 * time.Millisecond
	// badRecordLogs is how many bad records per second are logged one by
	// one; the rest are counted in the next log line.
	badRecordLogs = 10
	// kafkaShutdownTimeout bounds the final commit and the group leave.
	kafkaShutdownTimeout = 10 * time.Second
)

// pipeline mirrors one cluster. Everything but the franz-go callbacks runs
// on the goroutine of run, so its fields need no lock.
type pipeline struct {
	m        *Mirror
	cluster  string
	cl       *kgo.Client
	js       jetstream.JetStream
	log      *slog.Logger
	maxEvent int

	q          *queue // published, not yet resolved, in send order
	marks      map[string]map[int32]kgo.EpochOffset
	faulted    map[topicPartition]bool // partitions with a failed publish since the queue was last empty
	mustDrain  bool                    // resolve everything in flight before publishing more
	failing    bool                    // a failure was logged since the queue was last empty
	reconnects uint64

	free [][]byte // message buffers of resolved entries, reused

	badLogged    int // bad records logged in the current second
	badSuppress  int // bad records not logged in the current second
	badLogSecond int64
}

type topicPartition struct {
	topic     string
	partition int32
}

// entry is one published message and the record it came from.
type entry struct {
	msg       *nats.Msg
	fut       jetstream.PubAckFuture
	err       error // the publish failed before anything was sent
	topic     string
	partition int32
	offset    int64
	epoch     int32
	stream    *streamInfo
	dead      envelope.Reason // "" for an event
	id        string          // de-dup id of an event
	skip      bool            // already stored: resolved without publishing
	sent      time.Time
}

// run polls and publishes until ctx is canceled, then shuts down.
func (p *pipeline) run(ctx context.Context) error {
	p.log.Info("mirroring cluster", slog.Int("topics", len(p.m.topics)), slog.String("group", p.m.opts.Group.Name),
		slog.String("start", p.m.opts.Start.String()))
	p.reconnects = p.m.nc.Stats().Reconnects
	inFlight := p.m.metrics.inFlight.WithLabelValues(p.cluster)
	for ctx.Err() == nil {
		pollCtx, cancel := ctx, context.CancelFunc(func() {})
		if p.q.len() > 0 {
			pollCtx, cancel = context.WithTimeout(ctx, idlePoll)
		}
		fetches := p.cl.PollRecords(pollCtx, maxPollRecords)
		cancel()
		if ctx.Err() != nil {
			break // records of this poll are not published, so not committed: read again at the next start
		}
		fetches.EachError(p.fetchError)
		var err error
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			if err != nil || len(fp.Records) == 0 {
				return
			}
			consumed := p.m.metrics.consumed.WithLabelValues(p.cluster, fp.Topic)
			for _, r := range fp.Records {
				consumed.Inc()
				if err = p.publish(ctx, p.prepare(r)); err != nil {
					return
				}
			}
			last := fp.Records[len(fp.Records)-1].Offset
			p.m.metrics.lag.WithLabelValues(p.cluster, fp.Topic, strconv.Itoa(int(fp.Partition))).
				Set(float64(max(0, fp.HighWatermark-last-1)))
		})
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

// shutdown stops ingest for this cluster without losing anything. The order
// matters (at-least-once; JetStream de-duplicates the rest):
//
//  1. stop reading Kafka: run has returned from its last poll, and records
//     polled but not published are neither published nor committed;
//  2. wait for every outstanding JetStream acknowledgement, publishing
//     failed messages again, for at most ShutdownTimeout;
//  3. mark and commit the offsets of every acknowledged record;
//  4. leave the consumer group and close the client, so that the partitions
//     move to another ingest at once.
func (p *pipeline) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), p.m.opts.ShutdownTimeout)
	defer cancel()
	if err := p.drain(ctx); err != nil {
		p.log.Warn("stopping with unacknowledged messages; their records will be read again at the next start",
			slog.Int("in_flight", p.q.len()), slog.String("error", err.Error()))
	}
	// Committing and leaving get their own bound, so that a cluster that
	// cannot be reached delays the exit by seconds, not forever.
	kctx, kcancel := context.WithTimeout(context.Background(), kafkaShutdownTimeout)
	defer kcancel()
	p.flushMarks()
	if err := p.cl.CommitMarkedOffsets(kctx); err != nil {
		p.m.metrics.commitErrs.WithLabelValues(p.cluster).Inc()
		p.log.Warn("final offset commit failed; records since the last commit will be read again",
			slog.String("error", err.Error()))
	}
	if err := p.cl.LeaveGroupContext(kctx); err != nil {
		p.log.Warn("leaving the consumer group failed; the partitions move when the session times out",
			slog.String("error", err.Error()))
	}
	p.cl.Close()
	p.log.Info("cluster stopped")
}

// prepare turns a record into the message to publish: the enriched event,
// or a dead letter when the record is not a storable event.
func (p *pipeline) prepare(r *kgo.Record) *entry {
	e := &entry{topic: r.Topic, partition: r.Partition, offset: r.Offset, epoch: r.LeaderEpoch,
		stream: p.m.streams[r.Topic]}
	l := p.m.opts.Layout
	var data []byte
	var err error
	var fields envelope.Fields
	if len(r.Value) > p.maxEvent {
		err = &envelope.InvalidError{Reason: envelope.ReasonTooLarge}
	} else {
		data, fields, err = envelope.Enrich(p.buffer(len(r.Value)+128), r.Value,
			envelope.Coordinates{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset})
	}
	if err != nil {
		var inv *envelope.InvalidError
		errors.As(err, &inv)
		return p.deadLetter(e, r.Value, r.Timestamp, inv.Reason)
	}
	e.id = envelope.DedupID(e.stream.name, r.Value, fields)
	if p.m.recent.has(e.id) {
		e.skip = true
		p.free = append(p.free, data[:0])
		return e
	}
	e.msg = &nats.Msg{
		Subject: l.Subject(e.stream.token, layout.WikiToken(fields.Wiki)),
		Data:    data,
		Header:  p.coordinates(e, r.Timestamp, e.id),
	}
	return e
}

func (p *pipeline) coordinates(e *entry, ts time.Time, msgID string) nats.Header {
	return nats.Header{
		layout.HeaderMsgID:     {msgID},
		layout.HeaderTimestamp: {strconv.FormatInt(ts.UnixMilli(), 10)},
		layout.HeaderCluster:   {p.cluster},
		layout.HeaderTopic:     {e.topic},
		layout.HeaderPartition: {strconv.FormatInt(int64(e.partition), 10)},
		layout.HeaderOffset:    {strconv.FormatInt(e.offset, 10)},
	}
}

// deadLetter makes e the dead letter of a record: its payload (truncated)
// under the stream's dead-letter subject, with its coordinates and the
// reason. Its id makes a re-read of the same record from the same cluster a
// duplicate.
func (p *pipeline) deadLetter(e *entry, value []byte, ts time.Time, reason envelope.Reason) *entry {
	e.dead = reason
	keep := value
	if len(keep) > p.m.opts.DeadLetterBytes {
		keep = keep[:p.m.opts.DeadLetterBytes]
	}
	id := "deadletter:" + p.cluster + ":" + e.topic + ":" + strconv.FormatInt(int64(e.partition), 10) + ":" + strconv.FormatInt(e.offset, 10)
	h := p.coordinates(e, ts, id)
	h.Set(layout.HeaderReason, string(reason))
	h.Set(layout.HeaderSize, strconv.Itoa(len(value)))
	if len(keep) < len(value) {
		h.Set(layout.HeaderTruncated, "true")
	}
	e.msg = &nats.Msg{
		Subject: p.m.opts.Layout.DeadLetterSubject(e.stream.token),
		Data:    append(p.buffer(len(keep)), keep...),
		Header:  h,
	}
	p.m.metrics.deadletters.WithLabelValues(p.cluster, e.topic, string(reason)).Inc()
	p.logBad(e, len(value))
	return e
}

// logBad logs a bad record once, with its coordinates, at most
// badRecordLogs times a second.
func (p *pipeline) logBad(e *entry, size int) {
	now := time.Now().Unix()
	if now != p.badLogSecond {
		p.badLogSecond, p.badLogged = now, 0
	}
	if p.badLogged >= badRecordLogs {
		p.badSuppress++
		return
	}
	p.badLogged++
	p.log.LogAttrs(context.Background(), slog.LevelWarn, "bad record skipped and dead-lettered",
		slog.String("topic", e.topic), slog.Int("partition", int(e.partition)), slog.Int64("offset", e.offset),
		slog.String("reason", string(e.dead)), slog.Int("size", size), slog.Int("not_logged_before", p.badSuppress))
	p.badSuppress = 0
}

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
// JetStream takes it; then the entry leaves the queue and its offset is
// marked for commit.
func (p *pipeline) resolve(ctx context.Context, e *entry, ack *jetstream.PubAck, err error) error {
	tp := topicPartition{e.topic, e.partition}
	if e.skip {
		p.q.pop()
		p.m.metrics.skipped.WithLabelValues(p.cluster, e.stream.name).Inc()
		p.mark(e)
		p.afterPop()
		return nil
	}
	if err != nil {
		p.faulted[tp] = true
		p.mustDrain = true
		if ack, err = p.retry(ctx, e, err); err != nil {
			return err
		}
	} else if !ack.Duplicate && p.faulted[tp] {
		p.m.metrics.reorders.WithLabelValues(p.cluster).Inc()
		p.log.Warn("an event was stored before an earlier event of its partition whose publish had failed",
			slog.String("topic", e.topic), slog.Int("partition", int(e.partition)), slog.Int64("offset", e.offset))
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
			slog.String("topic", e.topic), slog.Int("partition", int(e.partition)), slog.Int64("offset", e.offset),
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
				p.log.Warn("publish still failing, retrying", slog.String("topic", e.topic), slog.Int("partition", int(e.partition)),
					slog.Int64("offset", e.offset), slog.Int("attempt", attempt), slog.Duration("backoff", backoff),
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

// reject turns an event JetStream will never store into a dead letter; a
// dead letter that is still too large is cut to 1 KiB.
func (p *pipeline) reject(e *entry, cause error) {
	if e.dead == "" {
		p.log.Warn("JetStream refused an event for good; keeping it as a dead letter",
			slog.String("topic", e.topic), slog.Int("partition", int(e.partition)), slog.Int64("offset", e.offset),
			slog.String("error", cause.Error()))
		ts, _ := strconv.ParseInt(e.msg.Header.Get(layout.HeaderTimestamp), 10, 64)
		p.deadLetter(e, e.msg.Data, time.UnixMilli(ts), envelope.ReasonRejected)
		return
	}
	if len(e.msg.Data) > 1024 {
		e.msg.Data = e.msg.Data[:1024]
		e.msg.Header.Set(layout.HeaderTruncated, "true")
	}
}

// mark records that every record of e's partition up to e is stored.
// Entries of a partition resolve in offset order, so the mark only moves
// forward (franz-go ignores a rewind after a partition is read again).
func (p *pipeline) mark(e *entry) {
	parts := p.marks[e.topic]
	if parts == nil {
		parts = map[int32]kgo.EpochOffset{}
		p.marks[e.topic] = parts
	}
	parts[e.partition] = kgo.EpochOffset{Epoch: e.epoch, Offset: e.offset + 1}
}

// flushMarks hands the marks to franz-go, which commits them every second
// and before a partition is revoked.
func (p *pipeline) flushMarks() {
	if len(p.marks) == 0 {
		return
	}
	p.cl.MarkCommitOffsets(p.marks)
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

func (p *pipeline) fetchError(topic string, partition int32, err error) {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return // our own poll timeout
	}
	p.log.Warn("fetch error", slog.String("topic", topic), slog.Int("partition", int(partition)), slog.String("error", err.Error()))
	p.m.healthMu.Lock()
	ch := p.m.kafka[p.cluster]
	ch.LastError, ch.LastErrorAt = err.Error(), time.Now()
	p.m.healthMu.Unlock()
}

// onRevoked commits what is marked before partitions move to another
// member (franz-go's default does this too, but it is replaced here).
// Records in flight for them are still resolved; their marks are ignored,
// and the new owner reads them again (JetStream drops the copies).
func (p *pipeline) onRevoked(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
	if err := cl.CommitMarkedOffsets(ctx); err != nil {
		p.m.metrics.commitErrs.WithLabelValues(p.cluster).Inc()
		p.log.Warn("commit before revoke failed", slog.String("error", err.Error()))
	}
	p.forgetLag(revoked)
}

func (p *pipeline) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	p.forgetLag(lost)
}

func (p *pipeline) forgetLag(parts map[string][]int32) {
	for topic, ps := range parts {
		for _, part := range ps {
			p.m.metrics.lag.DeleteLabelValues(p.cluster, topic, strconv.Itoa(int(part)))
		}
	}
}

func (p *pipeline) onCommit(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
	if err == nil && resp != nil {
		for _, t := range resp.Topics {
			for _, part := range t.Partitions {
				if part.ErrorCode != 0 {
					err = errors.New("offset commit refused by the broker (code " + strconv.Itoa(int(part.ErrorCode)) + ")")
				}
			}
		}
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		p.m.metrics.commitErrs.WithLabelValues(p.cluster).Inc()
		p.log.Warn("offset commit failed; it is retried at the next commit", slog.String("error", err.Error()))
	}
}

// queue is a FIFO of entries with a fixed capacity.
type queue struct {
	items      []*entry
	head, size int
}

func newQueue(capacity int) *queue { return &queue{items: make([]*entry, capacity)} }

func (q *queue) len() int      { return q.size }
func (q *queue) peek() *entry  { return q.items[q.head] }
func (q *queue) push(e *entry) { q.items[(q.head+q.size)%len(q.items)] = e; q.size++ }
func (q *queue) pop() {
	q.items[q.head] = nil
	q.head = (q.head + 1) % len(q.items)
	q.size--
}
