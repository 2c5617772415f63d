// Package hub is serve's read side of JetStream (DESIGN §1, "How serve
// reads JetStream"): one shared live consumer per serve process, feeding a
// ring of the most recent events, each framed once as SSE; and, for a client
// that starts behind the ring, a short-lived consumer of its own, filtered to
// its subjects, that hands the client over to the ring by sequence, with no
// gap and no duplicate.
//
// Concurrency: Run is the only writer of the ring; any number of Readers, one
// per client goroutine, read it under a read lock and wait on a broadcast
// channel that is closed at each new batch. The consumer callback never waits
// for a client: a Reader that falls out of the ring fails with ErrTooSlow
// and the client resumes later from its id. A Reader is not safe for
// concurrent use.
package hub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/envelope"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/position"
)

// Errors a Reader returns; the SSE loop ends the stream on each.
var (
	// ErrTooSlow: the client fell so far behind that the events it still
	// needs have left the ring. It should reconnect with its last id.
	ErrTooSlow = errors.New("hub: client fell behind the ring")
	// ErrFeedFailed: the live feed stopped (NATS lost, stream deleted).
	ErrFeedFailed = errors.New("hub: live feed failed")
	// ErrNotReady: the live feed has not started yet, or is restarting.
	ErrNotReady = errors.New("hub: not ready")
	// ErrBusy: too many clients are catching up at once (in this process,
	// or consumers on the stream); the client should retry shortly.
	ErrBusy = errors.New("hub: too many clients catching up")
)

// Event is one stored event, framed once for every client.
type Event struct {
	Seq    uint64
	Time   int64  // Kafka timestamp, ms (from the Es-Timestamp header)
	Stream string // stream token of the subject
	Wiki   string // wiki token of the subject
	// Frame is the SSE frame: event: message, id:, data: <stored bytes>.
	Frame []byte
	// Line is the event's JSON on one line, for NDJSON: the stored bytes
	// (a slice of Frame), except that line breaks between JSON tokens, if
	// any, are spaces (a JSON string cannot hold a raw line break, so the
	// value is the same).
	Line []byte

	attrs atomic.Pointer[envelope.Attributes]
}

// Attributes are the members field filters select on, read from the event
// the first time a filter asks (most clients filter on streams only, and
// then the ring holds no attributes).
func (e *Event) Attributes() *envelope.Attributes {
	if a := e.attrs.Load(); a != nil {
		return a
	}
	a, _ := envelope.ReadAttributes(e.Line)
	e.attrs.CompareAndSwap(nil, &a) // concurrent readers compute the same value
	return e.attrs.Load()
}

// ID is the event's SSE id.
func (e *Event) ID(epoch string) position.ID {
	return position.ID{Seq: e.Seq, Timestamp: e.Time + 1, Epoch: epoch}
}

// frame builds the Event of one JetStream message.
func frame(l layout.Layout, epoch string, seq uint64, subject string, ts int64, data []byte) *Event {
	e := &Event{Seq: seq, Time: ts}
	e.Stream, e.Wiki = splitSubject(l, subject)
	buf := make([]byte, 0, len(data)+96)
	buf = append(buf, "event: message\nid: "...)
	buf = e.ID(epoch).AppendJSON(buf)
	buf = append(buf, "\ndata: "...)
	if bytes.IndexAny(data, "\r\n") < 0 {
		start := len(buf)
		buf = append(buf, data...)
		e.Frame = append(buf, "\n\n"...)
		e.Line = e.Frame[start : start+len(data)]
		return e
	}
	// JSON stored with line breaks between its tokens (a producer's pretty
	// printing): a line break would end the SSE field, so each line gets
	// its own data: field, which clients join back with "\n"; the NDJSON
	// line has spaces instead.
	line := make([]byte, 0, len(data))
	for i, l := range splitLines(data) {
		if i > 0 {
			buf = append(buf, "\ndata: "...)
			line = append(line, ' ')
		}
		buf = append(buf, l...)
		line = append(line, l...)
	}
	e.Line = line
	e.Frame = append(buf, "\n\n"...)
	return e
}

// splitLines splits p at each line ending SSE knows: CRLF, CR or LF.
func splitLines(p []byte) [][]byte {
	var out [][]byte
	for {
		i := bytes.IndexAny(p, "\r\n")
		if i < 0 {
			return append(out, p)
		}
		out = append(out, p[:i])
		if p[i] == '\r' && i+1 < len(p) && p[i+1] == '\n' {
			i++
		}
		p = p[i+1:]
	}
}

func splitSubject(l layout.Layout, subject string) (stream, wiki string) {
	rest := strings.TrimPrefix(subject, l.Prefix+".")
	stream, wiki, _ = strings.Cut(rest, ".")
	return stream, wiki
}

// timestamp reads the Kafka timestamp header, falling back to the time
// JetStream stored the message.
func timestamp(m jetstream.Msg) int64 {
	if v := m.Headers().Get(layout.HeaderTimestamp); v != "" {
		if ts, err := strconv.ParseInt(v, 10, 64); err == nil {
			return ts
		}
	}
	if md, err := m.Metadata(); err == nil {
		return md.Timestamp.UnixMilli()
	}
	return 0
}

// Filter selects events by stream token and, optionally, wiki token (both
// also narrow the subjects a catch-up consumer reads) and field values.
// Within a list any value matches; every list given must match; an event
// without the member does not match a filter on it.
type Filter struct {
	Streams []string // stream tokens, at least one
	Wikis   []string // wiki tokens; empty: every wiki

	Types      []string // envelope.Attributes.Type
	Namespaces []int64  // envelope.Attributes.Namespace
	Bot        *bool    // envelope.Attributes.Bot
	Domains    []string // envelope.Attributes.Domain
}

// Match reports whether e passes the filter.
func (f *Filter) Match(e *Event) bool {
	if !slices.Contains(f.Streams, e.Stream) || (len(f.Wikis) > 0 && !slices.Contains(f.Wikis, e.Wiki)) {
		return false
	}
	return f.matchFields(e)
}

// matchFields applies the field filters only.
func (f *Filter) matchFields(e *Event) bool {
	if len(f.Types) == 0 && len(f.Namespaces) == 0 && f.Bot == nil && len(f.Domains) == 0 {
		return true
	}
	a := e.Attributes()
	switch {
	case len(f.Types) > 0 && (!a.HasType || !slices.Contains(f.Types, a.Type)),
		len(f.Namespaces) > 0 && (!a.HasNamespace || !slices.Contains(f.Namespaces, a.Namespace)),
		f.Bot != nil && (!a.HasBot || a.Bot != *f.Bot),
		len(f.Domains) > 0 && !slices.Contains(f.Domains, a.Domain):
		return false
	}
	return true
}

// Subjects are the JetStream filter subjects of f.
func (f *Filter) Subjects(l layout.Layout) []string {
	var out []string
	for _, s := range f.Streams {
		if len(f.Wikis) == 0 {
			out = append(out, l.StreamFilter(s))
			continue
		}
		for _, w := range f.Wikis {
			out = append(out, l.Subject(s, w))
		}
	}
	return out
}

// Options configure a Hub.
type Options struct {
	Layout layout.Layout
	// Streams are the stream tokens the live feed carries (the allowed
	// streams); dead letters are never read.
	Streams []string
	// RingSize is how many recent events are kept (default 65,536). A client
	// further behind than this is disconnected and resumes from its id.
	RingSize int
	// MaxCatchUps bounds the catch-up consumers open at once (default 256);
	// more clients behind the ring wait up to CatchUpWait (default 30 s)
	// for a slot.
	MaxCatchUps int
	CatchUpWait time.Duration
	// ReadyWait bounds WaitReady (default 5 s): clients that reconnect
	// while the feed restarts after a NATS blip are served, not refused.
	ReadyWait time.Duration
	Logger    *slog.Logger
}

// Hub is the shared live feed and its ring.
type Hub struct {
	js   jetstream.JetStream
	opts Options
	log  *slog.Logger

	mu          sync.RWMutex
	ring        []*Event // circular, oldest at head
	head, n     int
	coveredFrom uint64 // every matching event with seq in (coveredFrom, last] is in the ring
	last        uint64
	epoch       string
	ready       bool
	generation  uint64        // increases each time the feed (re)starts
	notify      chan struct{} // closed when events are added or the feed fails
	startLast   uint64        // the stream's last sequence when the feed started

	catchUps chan struct{} // a slot per open catch-up consumer
}

// New builds a Hub; Run starts its feed.
func New(js jetstream.JetStream, opts Options) (*Hub, error) {
	if len(opts.Streams) == 0 {
		return nil, errors.New("hub: no streams")
	}
	if opts.RingSize == 0 {
		opts.RingSize = 1 << 16
	}
	if opts.RingSize < 16 {
		return nil, errors.New("hub: ring size must be at least 16")
	}
	if opts.Logger == nil {
		return nil, errors.New("hub: a logger is required")
	}
	if opts.MaxCatchUps <= 0 {
		opts.MaxCatchUps = 256
	}
	if opts.CatchUpWait <= 0 {
		opts.CatchUpWait = 30 * time.Second
	}
	if opts.ReadyWait <= 0 {
		opts.ReadyWait = 5 * time.Second
	}
	return &Hub{js: js, opts: opts, log: opts.Logger, ring: make([]*Event, opts.RingSize), notify: make(chan struct{}),
		catchUps: make(chan struct{}, opts.MaxCatchUps)}, nil
}

// Epoch identifies the JetStream stream instance the feed reads ("" before
// the feed started).
func (h *Hub) Epoch() string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.epoch
}

// Last is the newest sequence the hub knows the stream holds.
func (h *Hub) Last() uint64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return max64(h.last, h.startLast)
}

// Ready reports whether the live feed is running.
func (h *Hub) Ready() bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.ready
}

// Stream is the JetStream stream handle, for catch-up consumers and lookups.
func (h *Hub) Stream(ctx context.Context) (jetstream.Stream, error) {
	return h.js.Stream(ctx, h.opts.Layout.Stream)
}

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
		h.log.Warn("live feed stopped; restarting", slog.String("error", err.Error()), slog.Duration("in", backoff))
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
	s, err := h.Stream(ctx)
	if err != nil {
		return err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return err
	}
	epoch := position.NewEpoch(info.Created)
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
	var subjects []string
	for _, st := range h.opts.Streams {
		subjects = append(subjects, h.opts.Layout.StreamFilter(st))
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: subjects,
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    start + 1,
	})
	if err != nil {
		return err
	}

	h.mu.Lock()
	clear(h.ring)
	h.head, h.n = 0, 0
	h.coveredFrom, h.last, h.startLast = start, start, head
	h.epoch = epoch
	h.ready = true
	h.generation++
	gen := h.generation
	ch := h.notify // wakes Opens waiting for the feed
	h.notify = make(chan struct{})
	h.mu.Unlock()
	close(ch)
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
		h.add(gen, frame(h.opts.Layout, epoch, md.Sequence.Stream, m.Subject(), timestamp(m), m.Data()))
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
	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-failed:
		return err
	case <-lost:
		return errConnectionLost
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

// add appends an event (the consumer delivers in sequence order) and wakes
// the Readers.
func (h *Hub) add(gen uint64, e *Event) {
	h.mu.Lock()
	if gen != h.generation || e.Seq <= h.last {
		h.mu.Unlock()
		return
	}
	size := len(h.ring)
	if h.n == size {
		h.coveredFrom = h.ring[h.head].Seq
		h.ring[h.head] = nil
		h.head = (h.head + 1) % size
		h.n--
	}
	h.ring[(h.head+h.n)%size] = e
	h.n++
	h.last = e.Seq
	ch := h.notify
	h.notify = make(chan struct{})
	h.mu.Unlock()
	close(ch)
}

// fail ends the current feed: Readers on the ring get ErrFeedFailed.
func (h *Hub) fail() {
	h.mu.Lock()
	h.ready = false
	h.generation++
	ch := h.notify
	h.notify = make(chan struct{})
	h.mu.Unlock()
	close(ch)
}

// readRing appends to out the events after seq `after` that match f, at
// most max. It returns the new cursor (the last seq examined), the channel
// that is closed at the next change, and ErrTooSlow when the events after
// `after` are no longer all in the ring.
func (h *Hub) readRing(gen uint64, after uint64, f *Filter, out []*Event, max int) ([]*Event, uint64, <-chan struct{}, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if gen != h.generation || !h.ready {
		return out, after, nil, ErrFeedFailed
	}
	if after < h.coveredFrom {
		return out, after, nil, ErrTooSlow
	}
	size := len(h.ring)
	// The first event with seq > after: binary search over the ring.
	lo, hi := 0, h.n
	for lo < hi {
		mid := (lo + hi) / 2
		if h.ring[(h.head+mid)%size].Seq <= after {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	cursor := after
	for i := lo; i < h.n && len(out) < max; i++ {
		e := h.ring[(h.head+i)%size]
		cursor = e.Seq
		if f.Match(e) {
			out = append(out, e)
		}
	}
	if len(out) < max {
		cursor = max64(cursor, h.last)
	}
	return out, cursor, h.notify, nil
}

func max64(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

// snapshot returns the feed's generation, epoch and coverage.
func (h *Hub) snapshot() (gen uint64, epoch string, coveredFrom uint64, ready bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.generation, h.epoch, h.coveredFrom, h.ready
}

// WaitReady waits, at most ReadyWait, until the live feed runs, and
// reports whether it does.
func (h *Hub) WaitReady(ctx context.Context) bool {
	t := time.NewTimer(h.opts.ReadyWait)
	defer t.Stop()
	for {
		h.mu.RLock()
		ready, ch := h.ready, h.notify
		h.mu.RUnlock()
		if ready {
			return true
		}
		select {
		case <-ch:
		case <-t.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// Reader delivers one client's events in sequence order: from its own
// catch-up consumer while it is behind the ring, then from the ring.
type Reader struct {
	h      *Hub
	filter Filter
	gen    uint64
	epoch  string
	cursor uint64 // last seq delivered or passed over

	catchUp jetstream.Consumer // nil once on the ring
	stream  jetstream.Stream
	wait    <-chan struct{}
	bySince bool // skip events older than since until the first newer one
	since   int64
}

// Start is where a Reader begins.
type Start struct {
	// After: the events after this sequence (0: from the first retained).
	After uint64
	// BySince overrides After: every event whose Kafka timestamp is at or
	// after Since (ms), beginning at the first such event in stream order
	// (older events stored later may follow it).
	BySince bool
	Since   int64
	// Head, when set, overrides both: only events stored from now on.
	Head bool
}

// storeSlack is how far before `since` the search for the first event
// starts, in JetStream's store time: an event is stored after it happened,
// give or take the clocks of the producers.
const storeSlack = 5 * time.Minute

// Open starts reading the events of f from start.
func (h *Hub) Open(ctx context.Context, f Filter, start Start) (*Reader, error) {
	gen, epoch, coveredFrom, ready := h.snapshot()
	if !ready {
		return nil, ErrNotReady
	}
	r := &Reader{h: h, filter: f, gen: gen, epoch: epoch, cursor: start.After}
	switch {
	case start.Head:
		h.mu.RLock()
		r.cursor = max64(h.last, h.startLast) // while the ring preloads, events up to startLast are not new
		h.mu.RUnlock()
		return r, nil
	case !start.BySince && start.After >= coveredFrom:
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
	if start.BySince {
		from := time.UnixMilli(start.Since).Add(-storeSlack)
		cfg.DeliverPolicy, cfg.OptStartSeq, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, 0, &from
		r.since, r.bySince, r.cursor = start.Since, true, 0
	}
	if err := h.acquireCatchUp(ctx); err != nil {
		return nil, err
	}
	s, err := h.Stream(ctx)
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
	t := time.NewTimer(h.opts.CatchUpWait)
	defer t.Stop()
	select {
	case h.catchUps <- struct{}{}:
		return nil
	case <-t.C:
		return ErrBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hub) releaseCatchUp() { <-h.catchUps }

// Epoch is the epoch of the ids this Reader's events carry.
func (r *Reader) Epoch() string { return r.epoch }

// Poll returns, without waiting for new events, up to max of the next
// events (appended to out). When it returns none, Wait gives the channel
// to wait on.
func (r *Reader) Poll(ctx context.Context, out []*Event, max int) ([]*Event, error) {
	if r.catchUp != nil {
		return r.pollCatchUp(ctx, out, max)
	}
	var err error
	n := len(out)
	out, r.cursor, r.wait, err = r.h.readRing(r.gen, r.cursor, &r.filter, out, max)
	if r.bySince {
		out = r.skipOlder(out, n)
	}
	return out, err
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
func (r *Reader) pollCatchUp(ctx context.Context, out []*Event, max int) ([]*Event, error) {
	batch, err := r.catchUp.FetchNoWait(max)
	if err != nil {
		r.Close()
		return out, fmt.Errorf("hub: catch-up: %w", err)
	}
	drained := true
	for m := range batch.Messages() {
		md, err := m.Metadata()
		if err != nil {
			continue
		}
		r.cursor = md.Sequence.Stream
		drained = md.NumPending == 0
		ts := timestamp(m)
		if r.bySince && ts < r.since {
			continue
		}
		r.bySince = false
		if e := frame(r.h.opts.Layout, r.epoch, md.Sequence.Stream, m.Subject(), ts, m.Data()); r.filter.matchFields(e) {
			out = append(out, e) // the consumer's subjects did the rest of the filter
		}
	}
	if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
		r.Close()
		return out, fmt.Errorf("hub: catch-up: %w", err)
	}
	gen, epoch, coveredFrom, ready := r.h.snapshot()
	if !ready || gen != r.gen || epoch != r.epoch {
		r.Close()
		return out, ErrFeedFailed
	}
	if r.cursor >= coveredFrom || drained {
		// No matching event lies in (cursor, coveredFrom]: the consumer had
		// none pending, and the ring's coverage starts at or before the
		// stream's end that the consumer saw.
		r.cursor = max64(r.cursor, coveredFrom)
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
