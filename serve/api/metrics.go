package api

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikimedia-eventstreams-go/eventstreams/serve/hub"
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

func newMetrics(reg prometheus.Registerer, h *hub.Hub) (*metrics, error) {
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
	for _, c := range []prometheus.Collector{m.connected, m.connections, m.events, m.bytes, m.disconnects, m.openSeconds, m.ipRejections,
		lastSeq, feedSeq, mirrorLag} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
