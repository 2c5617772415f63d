package mirror

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/input"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/standby"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/catalog"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// Options configure a Mirror. The tuning fields that ingest's configuration
// sets have no default here (package ingest/service is where their
// defaults are written): MaxInFlight, MaxEventBytes and ShutdownTimeout are
// required, and a zero RecentIDs means none. DeadLetterBytes and
// PublishTimeout, which are not configurable, take the defaults documented
// on each when zero.
type Options struct {
	Layout  layout.Layout
	Catalog *catalog.Catalog // the allowed streams; the sources read their topics
	Sources []input.Opener   // one pipeline each, e.g. every Kafka cluster
	Limits  layout.Limits

	// MaxInFlight bounds unacknowledged publishes per source (required).
	MaxInFlight int
	// MaxEventBytes is the largest record stored as an event; larger ones
	// are dead-lettered (required; lowered to fit the server's
	// max_payload).
	MaxEventBytes int
	// DeadLetterBytes bounds the payload kept of a dead letter (default 64 KiB).
	DeadLetterBytes int
	// PublishTimeout bounds the wait for one acknowledgement (default 5 s).
	PublishTimeout time.Duration
	// RecentIDs is how many acknowledged de-dup ids are remembered, so that
	// the other cluster's copy of an event is not published again (0 or
	// negative: none, and a copy read while the other is in flight is not
	// held back either (inFlight): every copy goes to JetStream).
	RecentIDs int
	// ShutdownTimeout bounds the wait for outstanding acknowledgements when
	// stopping (required); what is not acknowledged by then is not
	// committed and is read again at the next start.
	ShutdownTimeout time.Duration
	// Promote: when the stream is a mirror (a standby datacenter's copy
	// of the lost primary's), promote it to be written (standby.Promote)
	// and rewind the sources that can (input.Rewinder) to
	// standby.ResumeMargin before its last event, before reading them.
	// Without it, a mirror is refused (ErrStreamIsMirror).
	Promote bool
}

// Deps are the Mirror's collaborators.
type Deps struct {
	NATS       *nats.Conn
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Mirror copies the sources' topics into JetStream. Build it with New and
// run it with Run.
type Mirror struct {
	opts     Options
	nc       *nats.Conn
	log      *slog.Logger
	metrics  *metrics
	streams  map[string]*streamInfo // by topic
	recent   *recentIDs
	inflight *inFlight

	ensureMu sync.Mutex

	healthMu sync.Mutex
	ready    bool                     // the JetStream stream exists
	sources  map[string]*sourceHealth // by source name

	// leaderChanges counts the stream leader elections seen (JetStream's
	// advisories), from the NATS connection's goroutine.
	leaderChanges atomic.Uint64
}

type streamInfo struct {
	name  string // canonical
	token string
	index int // among the Mirror's streams
}

const (
	defaultDeadLetterBytes = 64 << 10
	defaultPublishTimeout  = 5 * time.Second
	// headerBudget is room left in NATS's max_payload for headers and the
	// meta members Enrich adds.
	headerBudget = 4 << 10
)

// New checks the options and registers the metrics. It does not connect.
func New(opts Options, deps Deps) (*Mirror, error) {
	if deps.NATS == nil || deps.Logger == nil || deps.Registerer == nil {
		return nil, errors.New("mirror: NATS, Logger and Registerer are required")
	}
	if err := opts.Layout.Validate(); err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	if opts.Catalog == nil || len(opts.Sources) == 0 {
		return nil, errors.New("mirror: a catalog and at least one source are required")
	}
	names := map[string]bool{}
	for _, s := range opts.Sources {
		if s.Name() == "" || names[s.Name()] {
			return nil, fmt.Errorf("mirror: source name %q is empty or given twice", s.Name())
		}
		names[s.Name()] = true
	}
	if err := opts.Limits.Validate(); err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	setDefault(&opts.DeadLetterBytes, defaultDeadLetterBytes)
	setDefault(&opts.PublishTimeout, defaultPublishTimeout)
	if opts.MaxInFlight < 1 || opts.MaxEventBytes < 1 || opts.DeadLetterBytes < 1 || opts.ShutdownTimeout <= 0 {
		return nil, errors.New("mirror: MaxInFlight, MaxEventBytes, DeadLetterBytes and ShutdownTimeout must be positive")
	}

	met, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, fmt.Errorf("mirror: metrics: %w", err)
	}
	m := &Mirror{
		opts: opts, nc: deps.NATS, log: deps.Logger, metrics: met, streams: map[string]*streamInfo{},
		sources: map[string]*sourceHealth{}, recent: newRecentIDs(opts.RecentIDs),
		inflight: newInFlight(len(opts.Sources), opts.RecentIDs),
	}
	for i, s := range opts.Catalog.Streams() {
		si := &streamInfo{name: s.Name, token: s.Token, index: i}
		for _, t := range s.Topics {
			m.streams[t] = si
		}
	}
	var clusters []string
	for name := range names {
		m.sources[name] = &sourceHealth{}
		clusters = append(clusters, name)
	}
	met.zero(clusters, m.streams)
	return m, nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Run sets up the JetStream stream (waiting for NATS if it is not there
// yet), then opens every source and mirrors it until ctx is canceled, and
// shuts down in the order documented on pipeline.shutdown. It returns nil
// after a clean shutdown.
func (m *Mirror) Run(ctx context.Context) error {
	js, err := jetstream.New(m.nc)
	if err != nil {
		return fmt.Errorf("mirror: %w", err)
	}
	err = m.waitForStream(ctx, js)
	if errors.Is(err, ErrStreamIsMirror) && m.opts.Promote {
		err = m.promote(ctx, js)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped before anything was read
		}
		return err
	}
	sub, err := m.nc.Subscribe(leaderElectedSubject+"."+m.opts.Layout.Stream, func(*nats.Msg) { m.leaderChanges.Add(1) })
	if err != nil {
		return fmt.Errorf("mirror: %w", err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	maxEvent := m.opts.MaxEventBytes
	if limit := int(m.nc.MaxPayload()) - headerBudget; limit > 0 && limit < maxEvent {
		maxEvent = limit // room for the headers and the added meta members
	}
	m.log.Info("larger records are dead-lettered", slog.Int("max_event_bytes", maxEvent),
		slog.Int64("nats_max_payload", m.nc.MaxPayload()))

	var pipelines []*pipeline
	for _, o := range m.opts.Sources {
		p, err := m.newPipeline(o, maxEvent)
		if err != nil {
			for _, p := range pipelines {
				p.src.Close(context.Background())
			}
			return err
		}
		pipelines = append(pipelines, p)
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, p := range pipelines {
		g.Go(func() error { return p.run(gctx) })
	}
	return g.Wait()
}

// leaderElectedSubject is JetStream's advisory of a stream leader elected,
// followed by the stream's name.
const leaderElectedSubject = "$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED"

// promote makes the standby's mirror the stream ingest writes, and rewinds
// the sources to re-read what the lost primary may have stored without the
// mirror receiving it.
func (m *Mirror) promote(ctx context.Context, js jetstream.JetStream) error {
	p, err := standby.Promote(ctx, js, m.opts.Layout, m.opts.Limits)
	if err != nil {
		return fmt.Errorf("mirror: %w", err)
	}
	from := p.LastEventTime.Add(-standby.ResumeMargin)
	m.log.Warn("promoted the standby's mirror to the stream ingest writes",
		slog.Uint64("last_seq", p.LastSeq), slog.Time("last_event_time", p.LastEventTime), slog.Time("sources_from", from))
	// Every serve takes the new epoch before the first event of it is
	// written (see layout.EpochCheckInterval).
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(2 * layout.EpochCheckInterval):
	}
	for _, o := range m.opts.Sources {
		r, ok := o.(input.Rewinder)
		if !ok || p.LastEventTime.IsZero() {
			continue
		}
		if err := r.Rewind(ctx, from); err != nil {
			return fmt.Errorf("mirror: rewinding %s to %s: %w", o.Name(), from.Format(time.RFC3339), err)
		}
	}
	return m.waitForStream(ctx, js)
}

// waitForStream creates or updates the stream, retrying while NATS is
// unreachable, so that ingest can start before NATS does.
func (m *Mirror) waitForStream(ctx context.Context, js jetstream.JetStream) error {
	backoff := 100 * time.Millisecond
	for {
		err := m.ensureStream(ctx, js)
		if err == nil {
			return nil
		}
		if !retryableSetup(err) {
			return fmt.Errorf("mirror: JetStream stream %s: %w", m.opts.Layout.Stream, err)
		}
		m.log.Warn("JetStream not available yet, retrying", slog.String("error", err.Error()), slog.Duration("in", backoff))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// ensureStream creates the stream, or updates it to the configured limits.
func (m *Mirror) ensureStream(ctx context.Context, js jetstream.JetStream) error {
	m.ensureMu.Lock()
	defer m.ensureMu.Unlock()
	_, err := EnsureStream(ctx, js, m.opts.Layout, m.opts.Limits)
	m.healthMu.Lock()
	m.ready = err == nil
	m.healthMu.Unlock()
	if err == nil {
		m.log.Info("JetStream stream ready", slog.String("stream", m.opts.Layout.Stream),
			slog.Any("subjects", m.opts.Layout.Subjects()))
	}
	return err
}

// EnsureStream creates the JetStream stream of the layout
// (layout.StreamConfig) with a new epoch in its metadata, or updates an
// existing one to these limits, keeping its epoch (recording, for a stream
// created before epochs were recorded, the one serve derived from its
// creation time, so that ids already issued stay exact). It refuses a
// stream that mirrors another: a standby datacenter's copy is written by
// its mirror until it is promoted (README "A second datacenter").
func EnsureStream(ctx context.Context, js jetstream.JetStream, l layout.Layout, lim layout.Limits) (jetstream.Stream, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cfg := l.StreamConfig(lim)
	for {
		s, err := js.Stream(ctx, l.Stream)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			cfg.Metadata = layout.WithEpoch(nil, layout.NewStreamEpoch())
			s, err = js.CreateStream(ctx, cfg)
			if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				continue // created meanwhile by another ingest: update it
			}
			return s, err
		}
		if err != nil {
			return nil, err
		}
		info := s.CachedInfo()
		if info.Config.Mirror != nil {
			return nil, ErrStreamIsMirror
		}
		cfg.Metadata = layout.WithEpoch(info.Config.Metadata, layout.Epoch(info))
		return js.UpdateStream(ctx, cfg)
	}
}

// ErrStreamIsMirror is returned when the stream ingest would write mirrors another.
var ErrStreamIsMirror = errors.New("the stream is a mirror of another datacenter's stream; promote it before ingest writes it")

// newPipeline opens a source and gives it a pipeline.
func (m *Mirror) newPipeline(o input.Opener, maxEvent int) (*pipeline, error) {
	p := &pipeline{
		m: m, cluster: o.Name(), maxEvent: maxEvent,
		log:     m.log.With(slog.String("cluster", o.Name())),
		q:       newQueue(m.opts.MaxInFlight),
		marks:   map[input.Partition]input.Position{},
		lastSeq: map[input.Partition]uint64{},
		busy:    map[input.Partition]bool{},

		oneAtATime: m.opts.Limits.Replicas > 1,
		heldBy:     map[input.Partition][]*entry{},
		counts:     make([]streamCounters, len(m.opts.Catalog.Streams())),
	}
	js, err := jetstream.New(m.nc,
		jetstream.WithPublishAsyncMaxPending(m.opts.MaxInFlight+1),
		jetstream.WithPublishAsyncTimeout(m.opts.PublishTimeout),
		jetstream.WithPublishAsyncErrHandler(func(jetstream.JetStream, *nats.Msg, error) { p.asyncErrors.Add(1) }))
	if err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	p.js = js
	p.src, err = o.Open(p.log, &reporter{m: m, name: o.Name(), log: p.log})
	if err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	return p, nil
}
