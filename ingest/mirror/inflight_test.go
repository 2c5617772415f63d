package mirror

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/input"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/catalog"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

func TestInFlightClaims(t *testing.T) {
	if newInFlight(1, 100) != nil || newInFlight(2, 0) != nil {
		t.Fatal("claims kept for one source, or without recent ids")
	}
	var none *inFlight
	if none.following("x") != nil || none.claim("x") != nil {
		t.Fatal("a nil set knows an id")
	}
	f := newInFlight(2, 100)
	c := f.claim("x")
	if c == nil || f.claim("x") != nil || f.following("x") != c || f.following("y") != nil {
		t.Fatal("one claim per id, found by its followers")
	}
	ctx := context.Background()
	if done, _, err := f.outcome(ctx, c, false); done || err != nil {
		t.Fatalf("an open claim reported done (%v, %v)", done, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if done, _, err := f.outcome(cctx, c, true); done || err == nil {
		t.Fatalf("waiting with a canceled context: done %v, err %v", done, err)
	}
	var wg sync.WaitGroup
	results := make([]bool, 3)
	for i := range results {
		wg.Go(func() {
			done, stored, err := f.outcome(ctx, c, true)
			results[i] = done && stored && err == nil
		})
	}
	f.finish("x", c, true)
	wg.Wait()
	for i, ok := range results {
		if !ok {
			t.Errorf("follower %d did not see the claim stored", i)
		}
	}
	if f.following("x") != nil {
		t.Error("a finished claim is still followed")
	}
	// An id claimed again after a finished claim: a new claim.
	c2 := f.claim("x")
	f.finish("x", c2, false)
	if done, stored, _ := f.outcome(ctx, c2, false); !done || stored {
		t.Errorf("a claim given up: done %v stored %v", done, stored)
	}
}

// TestFollowerResolvesWithTheClaim drives two pipelines of one Mirror by
// hand, on a real nats-server: the second reads an event the first is
// publishing, follows it without publishing, holds the next record of its
// partition, and resolves (is marked for commit) only once the first's
// publish is acknowledged.
func TestFollowerResolvesWithTheClaim(t *testing.T) {
	m, a, b, reg := newPipelinePair(t)
	ctx := context.Background()
	if err := a.publish(ctx, a.prepare(eventRecord("eqiad", "x"))); err != nil {
		t.Fatal(err)
	}
	e := b.prepare(eventRecord("codfw", "x"))
	if err := b.publish(ctx, e); err != nil {
		t.Fatal(err)
	}
	if e.follow == nil || e.fut != nil {
		t.Fatal("the second copy was published, not held behind the first")
	}
	if resolved, err := b.tryResolveHead(ctx); resolved || err != nil {
		t.Fatalf("the follower resolved before the claim (%v, %v)", resolved, err)
	}
	// The next record of the partition waits for the follower: if the
	// publish followed failed, it must not overtake it.
	next := b.prepare(eventRecord("codfw", "y"))
	next.pos.Offset = 8
	if err := b.publish(ctx, next); err != nil {
		t.Fatal(err)
	}
	if next.fut != nil || b.held != 1 {
		t.Fatalf("a record was sent behind an unresolved follower (held %d)", b.held)
	}
	if err := a.drain(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.flushHeld(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.drain(ctx); err != nil {
		t.Fatal(err)
	}
	if got := storedCount(t, m); got != 2 {
		t.Errorf("%d messages stored, want 2", got)
	}
	if len(b.busy) != 0 || b.held != 0 {
		t.Errorf("partitions still busy after everything resolved: %v, %d held", b.busy, b.held)
	}
	if b.marks[e.tp] != (input.Position{Offset: 8}) {
		t.Errorf("the follower's record is not marked for commit: %v", b.marks)
	}
	if got := inproctest.Metric(reg, "eventstreams_ingest_duplicates_skipped_total", "cluster", "codfw"); got != 1 {
		t.Errorf("copies skipped by the follower: %v, want 1", got)
	}
}

// TestFollowerPublishesWhenTheClaimIsGivenUp: the first pipeline stops
// with its publish unanswered (sent to a subject nothing acknowledges), so
// it gives up its claim, and the follower publishes its own copy.
func TestFollowerPublishesWhenTheClaimIsGivenUp(t *testing.T) {
	m, a, b, reg := newPipelinePair(t)
	silent, err := m.nc.SubscribeSync("silent.>") // receives, never acknowledges
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = silent.Unsubscribe() }()
	ctx := context.Background()
	ea := a.prepare(eventRecord("eqiad", "x"))
	ea.msg.Subject = "silent.x"
	if err := a.publish(ctx, ea); err != nil {
		t.Fatal(err)
	}
	if ea.claim == nil {
		t.Fatal("the first publish holds no claim")
	}
	e := b.prepare(eventRecord("codfw", "x"))
	if err := b.publish(ctx, e); err != nil {
		t.Fatal(err)
	}
	if e.follow == nil {
		t.Fatal("the second copy did not follow the first")
	}
	drained := make(chan error, 1)
	go func() { drained <- b.drain(ctx) }()
	a.shutdown() // gives up after ShutdownTimeout
	select {
	case err := <-drained:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the follower still waits for a claim given up")
	}
	if got := storedCount(t, m); got != 1 {
		t.Errorf("%d messages stored, want 1 (the follower's)", got)
	}
	if got := inproctest.Metric(reg, "eventstreams_ingest_events_published_total", "cluster", "codfw"); got != 1 {
		t.Errorf("events the follower published: %v, want 1", got)
	}
	if b.marks[e.tp] != (input.Position{Offset: 7}) {
		t.Errorf("the follower's record is not marked for commit: %v", b.marks)
	}
}

// newPipelinePair is a Mirror of two idle sources, "eqiad" and "codfw", on
// a new nats-server with its stream created, a pipeline for each, and the
// registry of their metrics. Publishes wait a minute for their
// acknowledgement; shutdown waits 200 ms.
func newPipelinePair(t *testing.T) (*Mirror, *pipeline, *pipeline, *prometheus.Registry) {
	t.Helper()
	_, js := inproctest.NATS(t, false)
	cat, err := catalog.Builtin([]string{"eqiad.", "codfw."})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m, err := New(Options{
		Layout: layout.Default(), Catalog: cat, Sources: []input.Opener{idleSource("eqiad"), idleSource("codfw")},
		Limits:      layout.Limits{MaxAge: time.Hour, DuplicateWindow: 10 * time.Minute, Replicas: 1},
		MaxInFlight: 16, MaxEventBytes: 1 << 20, RecentIDs: 100, ShutdownTimeout: 200 * time.Millisecond,
		PublishTimeout: time.Minute,
	}, Deps{NATS: js.Conn(), Logger: slog.New(slog.DiscardHandler), Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.ensureStream(context.Background(), js); err != nil {
		t.Fatal(err)
	}
	var ps []*pipeline
	for _, o := range m.opts.Sources {
		p, err := m.newPipeline(o, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		p.latency = m.metrics.latency.WithLabelValues(o.Name())
		ps = append(ps, p)
	}
	return m, ps[0], ps[1], reg
}

// eventRecord is a recentchange event with meta.id id, at offset 7 of
// partition 0 of eqiad's topic, as the cluster called dc holds it.
func eventRecord(dc, id string) *input.Record {
	return &input.Record{
		Topic: "eqiad.mediawiki.recentchange", Position: input.Position{Offset: 7}, Time: time.UnixMilli(1712236826000),
		Value: []byte(`{"$schema":"/mediawiki/recentchange/1.0.0","meta":{"id":"` + id +
			`","dt":"2024-04-04T13:20:26Z","domain":"canary","stream":"mediawiki.recentchange"},"wiki":"enwiki","read_from":"` + dc + `"}`),
	}
}

// storedCount is the number of messages in m's stream.
func storedCount(t *testing.T, m *Mirror) uint64 {
	t.Helper()
	js, err := jetstream.New(m.nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(context.Background(), m.opts.Layout.Stream)
	if err != nil {
		t.Fatal(err)
	}
	return st.CachedInfo().State.Msgs
}

// idleSource is a source with nothing to read: the tests drive its
// pipeline by hand.
type idleSource string

func (s idleSource) Name() string                                            { return string(s) }
func (s idleSource) Open(*slog.Logger, input.Reporter) (input.Source, error) { return s, nil }
func (idleSource) Poll(ctx context.Context, _ int) []input.Record            { <-ctx.Done(); return nil }
func (idleSource) Mark(map[input.Partition]input.Position)                   {}
func (idleSource) Close(context.Context)                                     {}
