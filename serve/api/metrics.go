package api

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikimedia-eventstreams-go/eventstreams/serve/hub"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/catalog"
)

// metrics are serve's Prometheus series (README "How serve works"). Stream labels are
// canonical names of allowed streams; disconnect reasons are a fixed set.
type metrics struct {
	connected    *prometheus.GaugeVec   // stream
	connections  *prometheus.CounterVec // streams (sorted, comma-joined)
	events       prometheus.Counter
	bytes        prometheus.Counter
	disconnects  *prometheus.CounterVec // reason
	openSeconds  prometheus.Histogram   // time to open a reader (catch-up consumer creation included)
	ipRejections prometheus.Counter     // 429s of the per-IP limit
}

// Disconnect reasons.
const (
	reasonClient      = "client_gone"
	reasonMaxDuration = "max_duration"
	reasonShutdown    = "shutdown"
	reasonTooSlow     = "too_slow"
	reasonFeedFailed  = "feed_failed"
)

func newMetrics(reg prometheus.Registerer, h *hub.Hub, cat *catalog.Catalog) (*metrics, error) {
	const ns = "eventstreams"
	m := &metrics{
		connected: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "connected_clients",
			Help: "Clients connected, per requested stream."}, []string{"stream"}),
		connections: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "client_connections_total",
			Help: "Stream connections accepted, per combination of streams."}, []string{"streams"}),
		events: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "events_sent_total",
			Help: "Events written to clients."}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "bytes_sent_total",
			Help: "Body bytes written to stream clients."}),
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "disconnects_total",
			Help: "Streams ended, by reason."}, []string{"reason"}),
		openSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "reader_open_seconds",
			Help: "Time to open a client's reader, including its catch-up consumer.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		ipRejections: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "client_ip_rejections_total",
			Help: "Stream requests refused with 429, their client IP holding as many streams as SERVE_CLIENT_IP_CONNECTION_LIMIT allows."}),
	}
	// The stream as the feed last read it (every 5 s).
	lastSeq := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "stream_last_seq",
		Help: "The JetStream stream's last sequence, as last read."}, func() float64 { return float64(h.Status().LastSeq) })
	feedSeq := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "feed_last_seq",
		Help: "The last sequence the live feed has delivered to the ring."}, func() float64 { return float64(h.Status().FeedSeq) })
	mirrorLag := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "mirror_lag_events",
		Help: "When the stream is a standby datacenter's mirror: the primary's messages it does not hold yet (0 otherwise)."},
		func() float64 {
			if m := h.Status().Mirror; m != nil {
				return float64(m.Lag)
			}
			return 0
		})
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help}, f)
	}
	hubMetrics := []prometheus.Collector{
		gauge("feed_ready", "1 while the live feed runs (/readyz answers 200), 0 while it starts or restarts.",
			func() float64 { return b2f(h.Ready()) }),
		gauge("stream_bytes", "The JetStream stream's size in bytes, as last read.",
			func() float64 { return float64(h.Status().Bytes) }),
		gauge("stream_max_bytes", "The JetStream stream's byte limit (-1: none); at it, the oldest events are dropped.",
			func() float64 { return float64(h.Status().MaxBytes) }),
		gauge("mirror_last_active_seconds", "When the stream is a standby datacenter's mirror: seconds since it last heard from the primary (0 otherwise).",
			func() float64 {
				if m := h.Status().Mirror; m != nil {
					return m.ActiveAgo
				}
				return 0
			}),
		gauge("ring_events", "Events the ring of recent events holds (at most SERVE_RING_SIZE).",
			func() float64 { n, _ := h.RingCoverage(); return float64(n) }),
		gauge("ring_span_seconds", "Kafka time between the ring's oldest and newest events: how far back a client resumes from memory.",
			func() float64 { _, d := h.RingCoverage(); return d.Seconds() }),
		gauge("catchup_consumers", "Catch-up consumers open (or being opened) for clients behind the ring.",
			func() float64 { n, _ := h.CatchUps(); return float64(n) }),
		gauge("catchup_consumers_max", "The most catch-up consumers open at once (SERVE_MAX_CATCHUPS).",
			func() float64 { _, n := h.CatchUps(); return float64(n) }),
		counter("catchup_waits_total", "Stream requests that found every catch-up slot taken and waited for one.",
			func() float64 { n, _ := h.CatchUpWaits(); return float64(n) }),
		counter("catchup_refusals_total", "Stream requests refused (503) after waiting for a catch-up slot in vain.",
			func() float64 { _, n := h.CatchUpWaits(); return float64(n) }),
	}
	// Every disconnect reason and stream has its series from the start, so
	// that rate() and increase() see the first disconnect of each.
	for _, r := range []string{reasonClient, reasonMaxDuration, reasonShutdown, reasonTooSlow, reasonFeedFailed} {
		m.disconnects.WithLabelValues(r)
	}
	for _, s := range cat.Streams() {
		m.connected.WithLabelValues(s.Name)
	}
	for _, c := range append([]prometheus.Collector{m.connected, m.connections, m.events, m.bytes, m.disconnects, m.openSeconds, m.ipRejections,
		lastSeq, feedSeq, mirrorLag}, hubMetrics...) {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
