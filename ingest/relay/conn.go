package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sse "github.com/tmaxmax/go-sse"

	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/input"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/envelope"
)

// item is a record and the upstream id it came with.
type item struct {
	rec input.Record
	id  string
}

// reader reads the upstream, one connection after another, until its
// context ends. It runs on its own goroutine.
type reader struct {
	u      *Upstream
	log    *slog.Logger
	report input.Reporter
	out    chan<- item
	cur    *cursor // where the next connection resumes, but for lastID
	lastID string  // the upstream id of the last event read, not yet in cur
	offset int64   // the next record's Offset
	errors int     // failed connections since the last one that delivered events
}

// outcome is how a connection ended.
type outcome struct {
	reason     string // the Reconnected reason
	events     int
	retryAfter time.Duration
	err        error // what went wrong, nil for a clean cut
}

func (r *reader) run(ctx context.Context) {
	for {
		o := r.connect(ctx)
		if ctx.Err() != nil {
			return
		}
		r.report.Reconnected(o.reason)
		wait := r.wait(o)
		attrs := []slog.Attr{slog.String("reason", o.reason), slog.Int("events", o.events), slog.Duration("in", wait)}
		if o.err != nil {
			r.report.ReadFailed(o.err)
			r.log.LogAttrs(ctx, slog.LevelWarn, "upstream connection failed; reconnecting",
				append(attrs, slog.String("error", o.err.Error()))...)
		} else {
			r.log.LogAttrs(ctx, slog.LevelInfo, "upstream ended the stream; reconnecting", attrs...)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// wait is how long to wait before the next connection: about nothing after
// a clean cut of a connection that delivered events (the upstream's
// periodic cuts), else an exponential backoff with jitter (a random wait
// between half and all of MinBackoff·2^(n-1), at most MaxBackoff), and at
// least Retry-After when the upstream gave one.
func (r *reader) wait(o outcome) time.Duration {
	opts := r.u.opts
	if o.events > 0 {
		r.errors = 0
	}
	if o.err == nil && o.events > 0 {
		return rand.N(opts.MinBackoff/4 + 1)
	}
	r.errors++
	b := opts.MinBackoff << min(r.errors-1, 20)
	if b <= 0 || b > opts.MaxBackoff {
		b = opts.MaxBackoff
	}
	w := b/2 + rand.N(b/2+1)
	if o.retryAfter > 0 {
		w = max(w, min(o.retryAfter, opts.MaxRetryAfter))
	}
	return w
}

// connect opens one connection and reads it to its end.
func (r *reader) connect(ctx context.Context) outcome {
	if r.lastID != "" {
		r.cur.update(r.lastID) // parsed once per connection, not per event
		r.lastID = ""
	}
	header, since := r.cur.header(r.u.topics)
	r.cur.started(time.Now())
	connCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(connCtx, http.MethodGet, r.u.streamURL(since), nil)
	if err != nil {
		return outcome{reason: "request", err: err}
	}
	req.Header.Set("User-Agent", r.u.opts.UserAgent)
	req.Header.Set("Accept", "text/event-stream")
	if header != "" {
		req.Header.Set("Last-Event-ID", header)
	}
	resp, err := r.u.opts.Client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			r.report.ConnectFailed(err)
		}
		return outcome{reason: "network", err: err}
	}
	defer resp.Body.Close()
	if o, ok := checkResponse(resp); !ok {
		r.report.ConnectFailed(o.err)
		return o
	}
	r.report.Connected()
	r.log.Debug("upstream connected", slog.String("last_event_id", header))

	body := &watchedBody{r: resp.Body, report: r.report}
	body.watch(r.u.opts.IdleTimeout, cancel)
	defer body.stop()
	events := 0
	for ev, err := range sse.Read(body, &sse.ReadConfig{MaxEventSize: r.u.opts.MaxEventBytes}) {
		if err != nil {
			return r.ended(ctx, body, events, err)
		}
		switch {
		case ev.Type == "error":
			return outcome{reason: "error_event", events: events, err: fmt.Errorf("upstream error event: %.512s", ev.Data)}
		case ev.Type != "" && ev.Type != "message", ev.Data == "":
			continue
		}
		it, ok := r.record(ev)
		if !ok {
			continue
		}
		body.delivering.Store(true)
		select {
		case r.out <- it:
		case <-ctx.Done():
			return outcome{reason: "stopped", events: events}
		}
		body.delivering.Store(false)
		events++
	}
	return r.ended(ctx, body, events, nil)
}

// ended classifies the end of a stream that had started: the one place
// that names why a connection ended while reading.
func (r *reader) ended(ctx context.Context, body *watchedBody, events int, err error) outcome {
	switch {
	case ctx.Err() != nil:
		return outcome{reason: "stopped", events: events}
	case body.idle.Load():
		return outcome{reason: "idle", events: events, err: fmt.Errorf("no byte for %v", r.u.opts.IdleTimeout)}
	case err == nil && body.err() == nil:
		return outcome{reason: "cut", events: events} // the upstream's periodic cut, or any clean end
	case body.err() != nil:
		return outcome{reason: "network", events: events, err: body.err()}
	}
	return outcome{reason: "malformed", events: events, err: fmt.Errorf("unreadable SSE: %w", err)}
}

// checkResponse accepts a 200 with an SSE content type. Anything else is
// retried later: a 429 or 503 after its Retry-After, an HTML page (an
// error page of a proxy) or a 5xx after a backoff, and a 4xx too (it may
// be a proxy's; the error shows it).
func checkResponse(resp *http.Response) (outcome, bool) {
	ct := resp.Header.Get("Content-Type")
	if resp.StatusCode == http.StatusOK && strings.HasPrefix(strings.ToLower(ct), "text/event-stream") {
		return outcome{}, true
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	err := fmt.Errorf("HTTP %d, %s: %q", resp.StatusCode, ct, snippet)
	o := outcome{err: err}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		o.reason = "status_429"
	case resp.StatusCode >= 500:
		o.reason = "status_5xx"
	case resp.StatusCode != http.StatusOK:
		o.reason = "status_4xx"
	default:
		o.reason = "not_sse"
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		o.retryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return o, false
}

// retryAfter reads a Retry-After value: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// record makes the record of an SSE event; false for an event of a stream
// that was not asked for (counted and skipped).
func (r *reader) record(ev sse.Event) (item, bool) {
	now := time.Now()
	if ev.LastEventID != "" {
		r.lastID = ev.LastEventID
	}
	data := []byte(ev.Data)
	m, parsed := envelope.ReadMeta(data)
	topic, known := r.topicOf(m.Topic, m.Stream)
	if parsed && !known {
		r.report.ReadFailed(fmt.Errorf("an event of stream %q, topic %q, which was not asked for", m.Stream, m.Topic))
		return item{}, false
	}
	var part int32
	o := &input.Origin{Topic: m.Topic, Offset: m.Offset}
	if n, err := strconv.ParseInt(m.Partition, 10, 32); err == nil {
		part, o.Partition = int32(n), m.Partition
	}
	t, ok := eventTime(ev.LastEventID, m.Topic, part)
	if !ok {
		if dt, err := time.Parse(time.RFC3339, m.DT); err == nil {
			t, ok = dt, true
		}
	}
	if ok {
		r.report.Behind(now.Sub(t))
	} else {
		t = now
	}
	rec := input.Record{Topic: topic, Partition: part, Position: input.Position{Offset: r.offset}, Time: t, Value: data, Origin: o}
	r.offset++
	return item{rec: rec, id: ev.LastEventID}, true
}

// topicOf is the catalog topic of an event: its meta.topic when it is one,
// else the first topic of its meta.stream. Data that names neither (not
// JSON, no meta) goes to the first topic, where the pipeline dead-letters
// it; known is false only for a stream that was not asked for.
func (r *reader) topicOf(topic, stream string) (string, bool) {
	cat := r.u.opts.Catalog
	if _, ok := cat.ByTopic(topic); ok {
		return topic, true
	}
	if s, ok := cat.Lookup(stream); ok {
		return s.Topics[0], true
	}
	return cat.Streams()[0].Topics[0], topic == "" && stream == ""
}

// watchedBody is a response body that counts its bytes and closes the
// connection (cancel) when no byte came for the idle timeout, except while
// the reader waits for the pipeline to take a record.
type watchedBody struct {
	r          io.Reader
	report     input.Reporter
	timer      *time.Timer
	idleFor    time.Duration
	idle       atomic.Bool // the timeout fired
	delivering atomic.Bool
	mu         sync.Mutex
	readErr    error
}

func (b *watchedBody) watch(d time.Duration, cancel context.CancelFunc) {
	b.idleFor = d
	b.timer = time.AfterFunc(d, func() {
		if b.delivering.Load() {
			b.timer.Reset(d) // waiting for the pipeline, not the upstream
			return
		}
		b.idle.Store(true)
		cancel()
	})
}

func (b *watchedBody) stop() { b.timer.Stop() }

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		b.report.Received(n)
		b.timer.Reset(b.idleFor)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		b.mu.Lock()
		b.readErr = err
		b.mu.Unlock()
	}
	return n, err
}

func (b *watchedBody) err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.readErr
}
