package layout

import (
	"strconv"
	"strings"
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

// EpochCheckInterval is how often serve re-reads the stream's epoch. A
// promoted mirror is written only after twice this time, so that every
// serve has taken the new epoch before the first event of it: an id of the
// old epoch then never names an event stored after the promotion.
const EpochCheckInterval = 5 * time.Second

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

// MetadataPreviousEpochs is the key, in the stream's metadata, of the
// epochs the stream had before it was promoted from a mirror, each with the
// last sequence it names: "epoch:seq,epoch:seq". Up to that sequence, the
// mirror held exactly what the origin held, so an id of the previous epoch
// up to it still resumes exactly; a later one, issued by the origin after
// what the mirror had received, resumes by its time.
const MetadataPreviousEpochs = "es_previous_epochs"

// EpochRange is a previous epoch of a stream and the last sequence it names.
type EpochRange struct {
	Epoch string
	Last  uint64
}

// maxPreviousEpochs bounds the promotions remembered.
const maxPreviousEpochs = 8

// PreviousEpochs reads MetadataPreviousEpochs, skipping malformed entries.
func PreviousEpochs(md map[string]string) []EpochRange {
	var out []EpochRange
	for _, part := range strings.Split(md[MetadataPreviousEpochs], ",") {
		e, seq, ok := strings.Cut(part, ":")
		n, err := strconv.ParseUint(seq, 10, 64)
		if ok && err == nil && position.ValidEpoch(e) {
			out = append(out, EpochRange{Epoch: e, Last: n})
		}
	}
	return out
}

// Promoted returns the metadata of a mirror promoted to be written: a new
// epoch, and the mirror's epoch kept as a previous one up to last, its last
// sequence (at most the 8 latest previous epochs are kept).
func Promoted(md map[string]string, mirrorEpoch string, last uint64) map[string]string {
	prev := append(PreviousEpochs(md), EpochRange{Epoch: mirrorEpoch, Last: last})
	if len(prev) > maxPreviousEpochs {
		prev = prev[len(prev)-maxPreviousEpochs:]
	}
	parts := make([]string, len(prev))
	for i, r := range prev {
		parts[i] = r.Epoch + ":" + strconv.FormatUint(r.Last, 10)
	}
	out := WithEpoch(md, NewStreamEpoch())
	out[MetadataPreviousEpochs] = strings.Join(parts, ",")
	return out
}
