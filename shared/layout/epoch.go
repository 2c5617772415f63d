package layout

import (
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/position"
)

// MetadataEpoch is the key, in the stream's metadata, of the epoch that
// names the stream instance in every id serve writes. Ingest sets it when it
// creates the stream; a mirror of the stream in another datacenter is
// created with the same value, and a mirror promoted to be written keeps
// it, so that an id resumes exactly wherever the stream is read.
const MetadataEpoch = "es_epoch"

// NewStreamEpoch is the epoch of a stream created now.
func NewStreamEpoch() string { return position.NewEpoch(time.Now()) }

// Epoch is the epoch of the stream instance described by info: its
// es_epoch metadata, or, for a stream created without it, the one derived
// from its creation time (what serve used before the epoch was recorded).
func Epoch(info *jetstream.StreamInfo) string {
	if e := info.Config.Metadata[MetadataEpoch]; position.ValidEpoch(e) {
		return e
	}
	return position.NewEpoch(info.Created)
}

// WithEpoch returns the metadata of a stream with its epoch set, keeping the
// other entries of md.
func WithEpoch(md map[string]string, epoch string) map[string]string {
	out := make(map[string]string, len(md)+1)
	for k, v := range md {
		out[k] = v
	}
	out[MetadataEpoch] = epoch
	return out
}
