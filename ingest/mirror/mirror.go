package mirror

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/source"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/catalog"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// StreamLimits are the JetStream stream's retention and de-duplication
// settings (DESIGN §3).
type StreamLimits struct {
	MaxAge          time.Duration // 0: no age limit
	MaxBytes        int64         // 0: no size limit
	DuplicateWindow time.Duration
	Replicas        int
}

// Options configure a Mirror. Zero values of the tuning fields take the
// defaults documented on each.
type Options struct {
	Layout   layout.Layout
	Catalog  *catalog.Catalog // the allowed streams; every topic of each is read
	Clusters []source.Cluster
	Group    source.Group
	Start    source.Start
	Security source.Security
	Limits   StreamLimits

	// MaxInFlight bounds unacknowledged publishes per cluster (default 2048).
	MaxInFlight int
	// MaxEventBytes is the largest record stored as an event; larger ones
	// are dead-lettered (default 1 MiB, lowered to fit the server's
	// max_payload).
	MaxEventBytes int
	// DeadLetterBytes bounds the payload kept of a dead letter (default 64 KiB).
	DeadLetterBytes int
	// PublishTimeout bounds the wait for one acknowledgement (default 5 s).
	PublishTimeout time.Duration
	// RecentIDs is how many acknowledged de-dup ids are remembered, so that
	// the other cluster's copy of an event is not published again (default
	// 100,000; negative: none, every copy goes to JetStream).
	RecentIDs int
	// ShutdownTimeout bounds the wait for outstanding acknowledgements when
	// stopping (default 30 s); what is not acknowledged by then is not
	// committed and is read again at the next start.
	ShutdownTimeout time.Duration
}

// Deps are the Mirror's collaborators.
type Deps struct {
	NATS       *nats.Conn
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Mirror copies Kafka topics into JetStream. Build it with New and run it
// with Run.
type Mirror struct {
	opts    Options
	nc      *nats.Conn
	log     *slog.Logger
	metrics *metrics
	topics  []string
	streams map[string]*streamInfo // by topic
	recent  *recentIDs

	ensureMu sync.Mutex

	healthMu sync.Mutex
	ready    bool                      // the JetStream stream exists
	kafka    map[string]*clusterHealth // by cluster name
}

type streamInfo struct {
	name  string // canonical
	token string
}

type clusterHealth struct {
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	ConnectedAt time.Time `json:"connected_at,omitzero"`
}

const (
	defaultMaxInFlight     = 2048
	defaultMaxEventBytes   = 1 << 20
	defaultDeadLetterBytes = 64 << 10
	defaultPublishTimeout  = 5 * time.Second
	defaultShutdownTimeout = 30 * time.Second
	defaultRecentIDs       = 100_000
	// headerBudget is room left in NATS's max_payload for headers and the
	// meta members Enrich adds.
	headerBudget = 4 << 10
	// maxConsumers is the stream's consumer limit.
	maxConsumers = 10_000
)

// New checks the options and registers the metrics. It does not connect.
func New(opts Options, deps Deps) (*Mirror, error) {
	if deps.NATS == nil || deps.Logger == nil || deps.Registerer == nil {
		return nil, errors.New("mirror: NATS, Logger and Registerer are required")
	}
	if err := opts.Layout.Validate(); err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	if opts.Catalog == nil || len(opts.Clusters) == 0 {
		return nil, errors.New("mirror: a catalog and at least one cluster are required")
	}
	if opts.Group.Name == "" {
		return nil, errors.New("mirror: a consumer group name is required")
	}
	if err := opts.Security.Validate(); err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	if opts.Limits.Replicas < 1 || opts.Limits.Replicas > 5 {
		return nil, fmt.Errorf("mirror: replicas %d: want 1 to 5", opts.Limits.Replicas)
	}
	if opts.Limits.MaxAge < 0 || opts.Limits.MaxBytes < 0 || opts.Limits.DuplicateWindow < 0 {
		return nil, errors.New("mirror: stream limits must not be negative")
	}
	if opts.Limits.MaxAge > 0 && opts.Limits.DuplicateWindow > opts.Limits.MaxAge {
		return nil, errors.New("mirror: the duplicate window must not exceed the maximum age")
	}
	setDefault(&opts.MaxInFlight, defaultMaxInFlight)
	setDefault(&opts.MaxEventBytes, defaultMaxEventBytes)
	setDefault(&opts.DeadLetterBytes, defaultDeadLetterBytes)
	setDefault(&opts.PublishTimeout, defaultPublishTimeout)
	setDefault(&opts.ShutdownTimeout, defaultShutdownTimeout)
	setDefault(&opts.RecentIDs, defaultRecentIDs)
	if opts.MaxInFlight < 1 || opts.MaxEventBytes < 1 || opts.DeadLetterBytes < 1 {
		return nil, errors.New("mirror: MaxInFlight, MaxEventBytes and DeadLetterBytes must be positive")
	}
	// Build every client's options now so that a bad CA file fails at start.
	for _, c := range opts.Clusters {
		if _, err := source.ClientOptions(c, []string{"t"}, opts.Group, opts.Start, opts.Security); err != nil {
			return nil, fmt.Errorf("mirror: cluster %s: %w", c.Name, err)
		}
	}

	met, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, fmt.Errorf("mirror: metrics: %w", err)
	}
	m := &Mirror{
		opts: opts, nc: deps.NATS, log: deps.Logger, metrics: met,
		topics: opts.Catalog.Topics(), streams: map[string]*streamInfo{},
		kafka: map[string]*clusterHealth{}, recent: newRecentIDs(opts.RecentIDs),
	}
	for _, s := range opts.Catalog.Streams() {
		si := &streamInfo{name: s.Name, token: layout.StreamToken(s.Name)}
		for _, t := range s.Topics {
			m.streams[t] = si
		}
	}
	for _, c := range opts.Clusters {
		m.kafka[c.Name] = &clusterHealth{}
	}
	return m, nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Run sets up the JetStream stream (waiting for NATS if it is not there
// yet), then mirrors every cluster until ctx is canceled, and shuts down in
// the order documented on pipeline.shutdown. It returns nil after a clean
// shutdown.
func (m *Mirror) Run(ctx context.Context) error {
	js, err := jetstream.New(m.nc)
	if err != nil {
		return fmt.Errorf("mirror: %w", err)
	}
	if err := m.waitForStream(ctx, js); err != nil {
		if ctx.Err() != nil {
			return nil // stopped before anything was read
		}
		return err
	}
	maxEvent := m.opts.MaxEventBytes
	if limit := int(m.nc.MaxPayload()) - headerBudget; limit > 0 && limit < maxEvent {
		maxEvent = limit // room for the headers and the added meta members
	}
	m.log.Info("larger records are dead-lettered", slog.Int("max_event_bytes", maxEvent),
		slog.Int64("nats_max_payload", m.nc.MaxPayload()))

	g, gctx := errgroup.WithContext(ctx)
	for _, c := range m.opts.Clusters {
		p, err := m.newPipeline(c, maxEvent)
		if err != nil {
			return err
		}
		g.Go(func() error { return p.run(gctx) })
	}
	return g.Wait()
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

// EnsureStream creates the JetStream stream of DESIGN §3, or updates an
// existing one to these limits.
func EnsureStream(ctx context.Context, js jetstream.JetStream, l layout.Layout, lim StreamLimits) (jetstream.Stream, error) {
	maxBytes := lim.MaxBytes
	if maxBytes == 0 {
		maxBytes = -1
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        l.Stream,
		Description: "Wikimedia EventStreams: every event of the allowed streams, once (written by ingest)",
		Subjects:    l.Subjects(),
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      lim.MaxAge,
		MaxBytes:    maxBytes,
		Duplicates:  lim.DuplicateWindow,
		Replicas:    lim.Replicas,
		AllowDirect: true,
		// serve opens short-lived catch-up consumers (at most
		// SERVE_MAX_CATCHUPS per replica); nats-server's default limit of
		// 1,000 per stream would be reached by four replicas.
		MaxConsumers: maxConsumers,
	})
}

func (m *Mirror) newPipeline(c source.Cluster, maxEvent int) (*pipeline, error) {
	js, err := jetstream.New(m.nc,
		jetstream.WithPublishAsyncMaxPending(m.opts.MaxInFlight+1),
		jetstream.WithPublishAsyncTimeout(m.opts.PublishTimeout))
	if err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	p := &pipeline{
		m: m, cluster: c.Name, js: js, maxEvent: maxEvent,
		log:     m.log.With(slog.String("cluster", c.Name)),
		q:       newQueue(m.opts.MaxInFlight),
		marks:   map[string]map[int32]kgo.EpochOffset{},
		faulted: map[topicPartition]bool{},
	}
	opts, err := source.ClientOptions(c, m.topics, m.opts.Group, m.opts.Start, m.opts.Security)
	if err != nil {
		return nil, fmt.Errorf("mirror: cluster %s: %w", c.Name, err)
	}
	opts = append(opts,
		kgo.WithHooks(&kafkaHooks{m: m, cluster: c.Name}),
		kgo.WithLogger(source.Logger(p.log)),
		kgo.OnPartitionsRevoked(p.onRevoked),
		kgo.OnPartitionsLost(p.onLost),
		kgo.AutoCommitCallback(p.onCommit),
	)
	p.cl, err = kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("mirror: cluster %s: %w", c.Name, err)
	}
	return p, nil
}

// kafkaHooks records broker connection outcomes for /healthz and metrics.
type kafkaHooks struct {
	m       *Mirror
	cluster string
}

func (h *kafkaHooks) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	h.m.healthMu.Lock()
	defer h.m.healthMu.Unlock()
	ch := h.m.kafka[h.cluster]
	if err != nil {
		h.m.metrics.connErrors.WithLabelValues(h.cluster).Inc()
		ch.LastError, ch.LastErrorAt = fmt.Sprintf("%s:%d: %v", meta.Host, meta.Port, err), time.Now()
		return
	}
	ch.ConnectedAt = time.Now()
}

// Health is what /healthz reports.
type Health struct {
	Status string                    `json:"status"` // "ok" or "unavailable"
	NATS   string                    `json:"nats"`   // NATS connection status
	Stream bool                      `json:"stream"` // the JetStream stream is set up
	Kafka  map[string]*clusterHealth `json:"kafka"`
}

// Health reports whether ingest can store events: NATS connected and the
// stream set up. A Kafka cluster that is down does not make ingest
// unhealthy, since the other datacenter's cluster holds the same events;
// its last error is shown.
func (m *Mirror) Health() (Health, bool) {
	m.healthMu.Lock()
	defer m.healthMu.Unlock()
	h := Health{NATS: m.nc.Status().String(), Stream: m.ready, Kafka: map[string]*clusterHealth{}}
	for name, ch := range m.kafka {
		c := *ch
		h.Kafka[name] = &c
	}
	ok := m.ready && m.nc.IsConnected()
	h.Status = "unavailable"
	if ok {
		h.Status = "ok"
	}
	return h, ok
}

// HealthHandler serves Health as JSON: 200 when healthy, 503 otherwise.
func (m *Mirror) HealthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h, ok := m.Health()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(h)
	})
}
