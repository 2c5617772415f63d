package layout

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// MaxConsumers is the stream's consumer limit. serve opens short-lived
// catch-up consumers (at most SERVE_MAX_CATCHUPS per replica); nats-server's
// default limit of 1,000 per stream would be reached by four replicas.
const MaxConsumers = 10_000

// Limits are the JetStream stream's retention, de-duplication and
// replication settings (ingest's INGEST_MAX_AGE, INGEST_MAX_BYTES,
// INGEST_DUPLICATE_WINDOW and INGEST_REPLICAS).
type Limits struct {
	MaxAge   time.Duration // 0: no age limit
	MaxBytes int64         // 0: no size limit
	// DuplicateWindow is how long JetStream remembers a Nats-Msg-Id to drop
	// copies of an event (0: nats-server's default, 2 minutes).
	DuplicateWindow time.Duration
	Replicas        int // 1 to 5
}

// Validate checks that the limits can be set on a stream.
func (lim Limits) Validate() error {
	if lim.Replicas < 1 || lim.Replicas > 5 {
		return fmt.Errorf("replicas %d: want 1 to 5", lim.Replicas)
	}
	if lim.MaxAge < 0 || lim.MaxBytes < 0 || lim.DuplicateWindow < 0 {
		return errors.New("stream limits must not be negative")
	}
	if lim.MaxAge > 0 && lim.DuplicateWindow > lim.MaxAge {
		return errors.New("the duplicate window must not exceed the maximum age")
	}
	return nil
}

// StreamConfig is the configuration of the one JetStream stream that holds
// every event (README "What ingest stores"): subjects <prefix>.>, file
// storage, retention by age and size discarding the oldest, direct gets
// allowed, at most MaxConsumers consumers. Ingest creates or updates the
// stream with it; tests and benchmarks that stand in for ingest use it too.
func (l Layout) StreamConfig(lim Limits) jetstream.StreamConfig {
	maxBytes := lim.MaxBytes
	if maxBytes == 0 {
		maxBytes = -1
	}
	return jetstream.StreamConfig{
		Name:         l.Stream,
		Description:  "Wikimedia EventStreams: every event of the allowed streams, once (written by ingest)",
		Subjects:     l.Subjects(),
		Storage:      jetstream.FileStorage,
		Retention:    jetstream.LimitsPolicy,
		Discard:      jetstream.DiscardOld,
		MaxAge:       lim.MaxAge,
		MaxBytes:     maxBytes,
		Duplicates:   lim.DuplicateWindow,
		Replicas:     lim.Replicas,
		AllowDirect:  true,
		MaxConsumers: MaxConsumers,
	}
}

// MirrorConfig is the configuration of a standby datacenter's copy of the
// stream: a JetStream mirror of the stream of the same name in the
// JetStream domain originDomain (reached over leaf nodes), which keeps the
// origin's sequence numbers, with the same limits and the origin's epoch
// metadata (originMetadata), so that an id resumes exactly in either. A
// mirror has no subjects of its own: only its origin writes it, until it is
// promoted (its mirror configuration removed).
func (l Layout) MirrorConfig(lim Limits, originDomain string, originMetadata map[string]string) jetstream.StreamConfig {
	cfg := l.StreamConfig(lim)
	cfg.Description = "Wikimedia EventStreams: a mirror of the stream of JetStream domain " + originDomain
	cfg.Subjects = nil
	cfg.Mirror = &jetstream.StreamSource{Name: l.Stream, Domain: originDomain}
	cfg.Metadata = map[string]string{}
	for _, k := range []string{MetadataEpoch, MetadataPreviousEpochs} {
		if v, ok := originMetadata[k]; ok {
			cfg.Metadata[k] = v
		}
	}
	return cfg
}
