package mirror

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/envelope"
)

// metrics are ingest's Prometheus series. Label values are bounded by the
// configuration: cluster names, allowed topics and streams, partitions.
type metrics struct {
	consumed    *prometheus.CounterVec   // cluster, topic
	published   *prometheus.CounterVec   // cluster, stream
	duplicates  *prometheus.CounterVec   // cluster, stream
	skipped     *prometheus.CounterVec   // cluster, stream
	deadletters *prometheus.CounterVec   // cluster, topic, reason
	latency     *prometheus.HistogramVec // cluster
	lag         *prometheus.GaugeVec     // cluster, topic, partition
	inFlight    *prometheus.GaugeVec     // cluster
	retries     *prometheus.CounterVec   // cluster
	reorders    *prometheus.CounterVec   // cluster
	stalls      *prometheus.CounterVec   // cluster
	connErrors  *prometheus.CounterVec   // cluster
	commitErrs  *prometheus.CounterVec   // cluster
	// An upstream EventStreams (the relay source) only.
	reconnects    *prometheus.CounterVec // cluster, reason
	upstreamBytes *prometheus.CounterVec // cluster
	upstreamLag   *prometheus.GaugeVec   // cluster
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns = "eventstreams_ingest"
	m := &metrics{
		consumed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "records_consumed_total",
			Help: "Records read (Kafka records, or events of an upstream EventStreams), per cluster and topic."}, []string{"cluster", "topic"}),
		published: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "events_published_total",
			Help: "Events stored in JetStream (acknowledged, not duplicates), per cluster they were read from and stream."}, []string{"cluster", "stream"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "duplicates_total",
			Help: "Events JetStream acknowledged as duplicates and dropped (the other cluster's copy, or a re-read)."}, []string{"cluster", "stream"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "duplicates_skipped_total",
			Help: "Copies of events this process had already stored, or was storing, from the other cluster: not published again."}, []string{"cluster", "stream"}),
		deadletters: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "deadletters_total",
			Help: "Records that are not storable events, skipped and kept under the dead-letter subject."}, []string{"cluster", "topic", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "publish_seconds",
			Help:    "Time from publishing a message to resolving its JetStream acknowledgement.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}, []string{"cluster"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "consumer_lag",
			Help: "Records between the last one read and the partition's high watermark, as of the last fetch."}, []string{"cluster", "topic", "partition"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "in_flight",
			Help: "Messages published and not yet acknowledged."}, []string{"cluster"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "publish_retries_total",
			Help: "Publishes that failed and were sent again."}, []string{"cluster"}),
		reorders: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "partition_reorders_total",
			Help: "Events stored after a later event of their partition (by stream sequence; never expected)."}, []string{"cluster"}),
		stalls: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "publish_stalls_total",
			Help: "Times sending paused because the oldest message in flight had waited over a second for its acknowledgement (a stream leader lost)."}, []string{"cluster"}),
		connErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "kafka_connect_errors_total",
			Help: "Failed connections to Kafka brokers or to an upstream EventStreams."}, []string{"cluster"}),
		commitErrs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "commit_errors_total",
			Help: "Commits of positions that failed (Kafka offsets, or an upstream position in NATS KV); retried at the next commit."}, []string{"cluster"}),
		reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "upstream_reconnects_total",
			Help: "Connections to an upstream EventStreams opened again, per reason (cut, idle, status_429, status_5xx, status_4xx, not_sse, network, malformed, error_event)."}, []string{"cluster", "reason"}),
		upstreamBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "upstream_bytes_total",
			Help: "Bytes read from an upstream EventStreams (response bodies)."}, []string{"cluster"}),
		upstreamLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "upstream_lag_seconds",
			Help: "Now minus the time of the newest event read from an upstream EventStreams."}, []string{"cluster"}),
	}
	for _, c := range []prometheus.Collector{m.consumed, m.published, m.duplicates, m.skipped, m.deadletters, m.latency,
		m.lag, m.inFlight, m.retries, m.reorders, m.stalls, m.connErrors, m.commitErrs, m.reconnects, m.upstreamBytes, m.upstreamLag} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// zero makes the series of every source (cluster) and stream or topic that
// the configuration knows, at 0: rate() and increase() then see the first
// event published, dead-lettered or failed, and an alert on nothing
// published has a series to look at from the start. Partitions (lag) and
// the relay's reconnect reasons appear when met.
func (m *metrics) zero(clusters []string, streams map[string]*streamInfo) {
	for _, c := range clusters {
		for _, v := range []*prometheus.CounterVec{m.retries, m.reorders, m.stalls, m.connErrors, m.commitErrs} {
			v.WithLabelValues(c)
		}
		m.latency.WithLabelValues(c)
		m.inFlight.WithLabelValues(c)
		for topic, s := range streams {
			m.consumed.WithLabelValues(c, topic)
			m.published.WithLabelValues(c, s.name)
			m.duplicates.WithLabelValues(c, s.name)
			m.skipped.WithLabelValues(c, s.name)
			for _, r := range envelope.Reasons() {
				m.deadletters.WithLabelValues(c, topic, string(r))
			}
		}
	}
}
