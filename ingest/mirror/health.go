package mirror

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// sourceHealth is what /healthz shows of a source.
type sourceHealth struct {
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	ConnectedAt time.Time `json:"connected_at,omitzero"`
}

// reporter is the input.Reporter of one source: it keeps the source's
// health for /healthz and its metrics. Safe for concurrent use.
type reporter struct {
	m    *Mirror
	name string
	log  *slog.Logger
}

func (r *reporter) Assigned(parts map[string][]int32) {
	r.log.Debug("partitions assigned", slog.Any("partitions", parts))
}

func (r *reporter) Released(parts map[string][]int32) {
	r.log.Debug("partitions released", slog.Any("partitions", parts))
	for topic, ps := range parts {
		for _, part := range ps {
			r.m.metrics.lag.DeleteLabelValues(r.name, topic, strconv.Itoa(int(part)))
		}
	}
}

func (r *reporter) Lag(topic string, partition int32, behind int64) {
	r.m.metrics.lag.WithLabelValues(r.name, topic, strconv.Itoa(int(partition))).Set(float64(behind))
}

func (r *reporter) Connected() {
	r.m.healthMu.Lock()
	defer r.m.healthMu.Unlock()
	r.m.sources[r.name].ConnectedAt = time.Now()
}

func (r *reporter) ConnectFailed(err error) {
	r.m.metrics.connErrors.WithLabelValues(r.name).Inc()
	r.failed(err)
}

func (r *reporter) ReadFailed(err error) { r.failed(err) }

func (r *reporter) failed(err error) {
	r.m.healthMu.Lock()
	defer r.m.healthMu.Unlock()
	h := r.m.sources[r.name]
	h.LastError, h.LastErrorAt = err.Error(), time.Now()
}

func (r *reporter) CommitFailed(error) {
	r.m.metrics.commitErrs.WithLabelValues(r.name).Inc()
}

func (r *reporter) Reconnected(reason string) {
	r.m.metrics.reconnects.WithLabelValues(r.name, reason).Inc()
}

func (r *reporter) Received(n int) {
	r.m.metrics.upstreamBytes.WithLabelValues(r.name).Add(float64(n))
}

func (r *reporter) Behind(d time.Duration) {
	r.m.metrics.upstreamLag.WithLabelValues(r.name).Set(d.Seconds())
}

// Health is what /healthz reports.
type Health struct {
	Status string                   `json:"status"` // "ok" or "unavailable"
	NATS   string                   `json:"nats"`   // NATS connection status
	Stream bool                     `json:"stream"` // the JetStream stream is set up
	Kafka  map[string]*sourceHealth `json:"kafka"`  // by source (Kafka cluster) name
}

// Health reports whether ingest can store events: NATS connected and the
// stream set up. A Kafka cluster that is down does not make ingest
// unhealthy, since the other datacenter's cluster holds the same events;
// its last error is shown.
func (m *Mirror) Health() (Health, bool) {
	m.healthMu.Lock()
	defer m.healthMu.Unlock()
	h := Health{NATS: m.nc.Status().String(), Stream: m.ready, Kafka: map[string]*sourceHealth{}}
	for name, sh := range m.sources {
		c := *sh
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
