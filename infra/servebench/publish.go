package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// benchLayout is the JetStream layout serve reads by default.
var benchLayout = layout.Default()

// streamToken is the subject token of mediawiki.recentchange.
var streamToken = layout.StreamToken("mediawiki.recentchange")

// createStream creates the stream as ingest does (layout.StreamConfig),
// without its age and byte limits, with a 2-minute duplicate window (the
// benchmark's events have no Nats-Msg-Id) and maxConsumers instead of
// layout.MaxConsumers: 0 leaves nats-server's default (1,000).
func createStream(ctx context.Context, js jetstream.JetStream, maxConsumers int) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cfg := benchLayout.StreamConfig(layout.Limits{DuplicateWindow: 2 * time.Minute, Replicas: 1})
	cfg.MaxConsumers = maxConsumers
	_, err := js.CreateStream(ctx, cfg)
	if err != nil {
		return fmt.Errorf("creating stream %s: %w", cfg.Name, err)
	}
	return nil
}

// wikis the events rotate through, with their domains.
var wikis = [][2]string{
	{"enwiki", "en.wikipedia.org"},
	{"wikidatawiki", "www.wikidata.org"},
	{"commonswiki", "commons.wikimedia.org"},
	{"dewiki", "de.wikipedia.org"},
	{"frwiki", "fr.wikipedia.org"},
	{"jawiki", "ja.wikipedia.org"},
}

const filler = "Bench edit: expanded the article with sourced material, fixed references and categories; " +
	"copyedit for tone and grammar per the manual of style, see talk page for the discussion. "

// eventSize is the target size of an event's JSON.
const eventSize = 1024

// buildEvent returns a recentchange-like event of about eventSize bytes.
// The bench fields come first so that clients find them cheaply:
// "bench":{"n":<counter>,"ts_ns":<publish time, ns>}.
func buildEvent(n int64, now time.Time) (data []byte, wiki string) {
	w := wikis[n%int64(len(wikis))]
	wiki, domain := w[0], w[1]
	dt := now.UTC().Format(time.RFC3339)
	build := func(comment string) []byte {
		b := make([]byte, 0, eventSize+64)
		b = append(b, `{"$schema":"/mediawiki/recentchange/1.0.0","bench":{"n":`...)
		b = strconv.AppendInt(b, n, 10)
		b = append(b, `,"ts_ns":`...)
		b = strconv.AppendInt(b, now.UnixNano(), 10)
		b = fmt.Appendf(b, `},"meta":{"uri":"https://%s/wiki/Bench_page_%d","request_id":"bench-%016x",`+
			`"id":"bench-%016x","dt":"%s","domain":"%s","stream":"mediawiki.recentchange",`+
			`"topic":"eqiad.mediawiki.recentchange","partition":0,"offset":%d},`, domain, n%5000, n, n^0x5bd1e995, dt, domain, 1429042371+n)
		b = fmt.Appendf(b, `"id":%d,"type":"edit","namespace":0,"title":"Bench page %d","title_url":"https://%s/wiki/Bench_page_%d",`+
			`"comment":"%s","timestamp":%d,"user":"ServeBench","bot":false,"notify_url":"https://%s/w/index.php?diff=%d&oldid=%d",`+
			`"minor":false,"patrolled":true,"length":{"old":2606,"new":2697},"revision":{"old":%d,"new":%d},`+
			`"server_url":"https://%s","server_name":"%s","server_script_path":"/w","wiki":"%s","parsedcomment":"%s"}`,
			910619087+n, n%5000, domain, n%5000, comment, now.Unix(), domain, 874176646+n, 874176645+n,
			874176645+n, 874176646+n, domain, domain, wiki, comment)
		return b
	}
	b := build("")
	if pad := (eventSize - len(b)) / 2; pad > 0 {
		comment := make([]byte, 0, pad)
		for len(comment) < pad {
			comment = append(comment, filler[:min(len(filler), pad-len(comment))]...)
		}
		b = build(string(comment))
	}
	return b, wiki
}

// eventMsg is the JetStream message of event n, as ingest would write it.
func eventMsg(n int64, now time.Time) *nats.Msg {
	data, wiki := buildEvent(n, now)
	m := nats.NewMsg(benchLayout.Subject(streamToken, layout.WikiToken(wiki)))
	m.Data = data
	m.Header.Set(layout.HeaderTimestamp, strconv.FormatInt(now.UnixMilli(), 10))
	return m
}

// publisher publishes events at a fixed rate, numbering them 1, 2, ….
type publisher struct {
	js jetstream.JetStream // nil when feeding a floor
	// send stores event n (to JetStream, or down a floor's feed socket).
	send   func(ctx context.Context, n int64, now time.Time) error
	next   atomic.Int64 // counter of the next event
	errs   atomic.Int64
	maxLag atomic.Int64 // ns: how late the most delayed publish started

	mu      sync.Mutex
	lastErr error
}

func newPublisher(js jetstream.JetStream) *publisher {
	p := &publisher{js: js, send: func(ctx context.Context, n int64, now time.Time) error {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := js.PublishMsg(ctx, eventMsg(n, now))
		return err
	}}
	p.next.Store(1)
	return p
}

// newFloorPublisher publishes to a floor (floor.go) instead of JetStream.
func newFloorPublisher(f *floorFeed) *publisher {
	p := &publisher{send: func(_ context.Context, n int64, now time.Time) error { return f.send(n, now) }}
	p.next.Store(1)
	return p
}

// Published is the counter of the last event stored (0: none).
func (p *publisher) Published() int64 { return p.next.Load() - 1 }

// publishOne publishes the next event synchronously (stored when it returns).
func (p *publisher) publishOne(ctx context.Context) error {
	n := p.next.Load()
	if err := p.send(ctx, n, time.Now()); err != nil {
		p.errs.Add(1)
		p.mu.Lock()
		p.lastErr = err
		p.mu.Unlock()
		return err
	}
	p.next.Store(n + 1)
	return nil
}

// runRate publishes rate events per second until ctx ends. Event i is due
// at start + i/rate; a late publish is not skipped (the counter stays dense)
// and the worst lateness is kept. A failed publish is retried as the next
// tick, with the same counter.
func (p *publisher) runRate(ctx context.Context, rate float64) {
	if rate <= 0 {
		<-ctx.Done()
		return
	}
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	for i := int64(0); ; i++ {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		} else if ctx.Err() != nil {
			return
		}
		if lag := int64(time.Since(due)); lag > p.maxLag.Load() {
			p.maxLag.Store(lag)
		}
		_ = p.publishOne(ctx)
	}
}

// publishBurst stores k events as fast as JetStream takes them (async
// publishes, at most 256 in flight), and waits for every acknowledgement.
func (p *publisher) publishBurst(ctx context.Context, k int) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	first := p.next.Load()
	futures := make([]jetstream.PubAckFuture, 0, k)
	for i := range int64(k) {
		f, err := p.js.PublishMsgAsync(eventMsg(first+i, time.Now()))
		if err != nil {
			return fmt.Errorf("publishing event %d: %w", first+i, err)
		}
		futures = append(futures, f)
	}
	select {
	case <-p.js.PublishAsyncComplete():
	case <-ctx.Done():
		return fmt.Errorf("waiting for %d publish acknowledgements: %w", k, ctx.Err())
	}
	for i, f := range futures {
		select {
		case err := <-f.Err():
			return fmt.Errorf("event %d not stored: %w", first+int64(i), err)
		default:
		}
	}
	p.next.Store(first + int64(k))
	return nil
}

// LastError is the most recent publish error, if any.
func (p *publisher) LastError() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastErr
}
