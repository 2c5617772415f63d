// Package input is the contract between ingest's pipeline (package mirror)
// and what it reads from: a Source delivers records in partition order and
// commits the positions the pipeline marks as stored; a Reporter, given to
// the source by the mirror, receives the rest of what the source observes
// (its partitions, its lag, its health).
//
// The first Source is a Kafka cluster read with a consumer group (package
// source). The second is an upstream EventStreams service read over SSE,
// its position kept in a NATS KV bucket (package relay). Both plug into
// the same pipeline, with the same ordering, acknowledgement, failure
// barrier and commit logic.
package input

import (
	"context"
	"log/slog"
	"time"
)

// Opener is a configured source, not yet reading. The mirror opens each of
// its sources once per run, when the JetStream stream is ready, so that
// nothing is read before it can be stored. An Opener may be opened again
// (several mirrors, or a restart): each Open returns a new Source.
type Opener interface {
	// Name names the source: the cluster label of ingest's metrics, the
	// Es-Cluster header of every message read from it, its entry in
	// /healthz. Names are unique within a mirror.
	Name() string
	// Open starts reading. log carries the source's name; r receives what
	// the source reports, from any goroutine.
	Open(log *slog.Logger, r Reporter) (Source, error)
}

// Source is an open source, used by one pipeline goroutine: Poll, then
// Mark, repeatedly, then Close once.
type Source interface {
	// Poll returns the next records, at most maxRecords, waiting until some
	// arrive or ctx ends; it may return records it already had when ctx
	// ends. The records of a partition come in their order, within a poll
	// and from one poll to the next, and only of the topics the source was
	// configured with. The slice and the records are the pipeline's until
	// the next Poll. A source retries its own failures and reports them to
	// its Reporter; Poll does not fail.
	Poll(ctx context.Context, maxRecords int) []Record
	// Mark says that, in each partition given, every record up to and
	// including the one at that position is stored, so its position may
	// be committed (by the source, as and when it sees fit: Kafka commits
	// the marks every second and before a partition is revoked). Positions
	// of a partition are marked in order, and only for records this Source
	// returned. Mark does not keep the map.
	Mark(map[Partition]Position)
	// Close commits what is marked, gives up the source's partitions (a
	// Kafka consumer leaves its group, so that they move to another ingest
	// at once) and releases the source, in that order. It bounds its own
	// wait, so that a source that cannot be reached delays the exit by
	// seconds, not forever. The pipeline calls it last, after its final
	// Mark.
	Close(ctx context.Context)
}

// Partition names a partition of a topic.
type Partition struct {
	Topic     string
	Partition int32
}

// Position is where a record is in its partition.
type Position struct {
	// Offset orders the records of a partition. It is stored with the
	// event, as meta.offset and the Es-Offset header.
	Offset int64
	// Epoch is opaque to the pipeline, which hands it back with Offset
	// when it marks the record: a source's qualifier of the offset (Kafka:
	// the leader epoch the record was read at, with which franz-go detects
	// a truncated log), 0 when it has none.
	Epoch int32
}

// Record is one record read from a source.
type Record struct {
	Topic     string
	Partition int32
	Position
	// Time is the record's timestamp, stored as the Es-Timestamp header.
	Time time.Time
	// Value is the record's bytes: the event.
	Value []byte
	// Origin is nil for a record read from Kafka: the pipeline sets the
	// event's meta.topic, meta.partition and meta.offset to the record's
	// coordinates. A record relayed from an upstream EventStreams, which
	// set them already, has an Origin: its event is stored as it came, and
	// Origin gives the coordinate headers.
	Origin *Origin
}

// Origin is where an upstream EventStreams read an event: its meta.topic,
// meta.partition and meta.offset as they are in the event ("" when
// absent), which become the Es-Topic, Es-Partition and Es-Offset headers.
type Origin struct {
	Topic, Partition, Offset string
}

// Reporter receives what a source observes besides its records. The
// mirror implements it for each source, for its metrics and /healthz. Its
// methods are safe for concurrent use: a source may call them from its own
// goroutines (franz-go calls rebalance and connection hooks from its own).
type Reporter interface {
	// Assigned and Released say which partitions the source started and
	// stopped reading, e.g. in a consumer-group rebalance (Released: revoked
	// or lost). The lag of a released partition is forgotten.
	Assigned(parts map[string][]int32)
	Released(parts map[string][]int32)
	// Lag is how many records of a partition are after the last one read,
	// as of the last fetch (Kafka: from the high watermark).
	Lag(topic string, partition int32, behind int64)
	// Connected: the source connected (for /healthz).
	Connected()
	// ConnectFailed: a connection failed; counted and shown in /healthz.
	ConnectFailed(err error)
	// ReadFailed: reading failed; shown in /healthz. The source retries.
	ReadFailed(err error)
	// CommitFailed: committing marked positions failed; counted. The
	// positions are committed again at the next commit.
	CommitFailed(err error)

	// What a source read over HTTP observes (an upstream EventStreams; the
	// Kafka source calls none of these).

	// Reconnected: the source connects again, for a reason such as
	// "cut" (the upstream ended the stream), "idle", "status_429",
	// "status_5xx", "network", "malformed"; counted per reason.
	Reconnected(reason string)
	// Received: n more bytes were read from the upstream.
	Received(n int)
	// Behind: how far behind real time the newest event read is (now minus
	// its time).
	Behind(d time.Duration)
}

// Rewinder is an Opener whose committed positions can be moved back to a
// time, before it is opened: when a standby datacenter's mirror is promoted,
// ingest re-reads from a little before the mirror's last event what the
// lost primary may have stored without the mirror receiving it (the
// duplicate window drops what was stored already).
type Rewinder interface {
	// Rewind sets the position of every partition to its first record
	// at or after t (its end if none).
	Rewind(ctx context.Context, t time.Time) error
}
