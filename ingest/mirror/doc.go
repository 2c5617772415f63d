// Package mirror copies the allowed streams' Kafka topics of every
// datacenter into one JetStream stream, each event exactly once. It is the
// middle of the flow Kafka → ingest → JetStream → serve.
//
// For each source (a Kafka cluster: an input.Opener of package source), one
// pipeline goroutine owns the open input.Source and does everything for
// it, in order:
//
//  1. poll records;
//  2. turn each into a message (envelope.Prepare: the enriched event, its
//     de-dup id and subject; then headers) or, if it is not a storable
//     event, into a dead letter; an event whose id was acknowledged
//     recently is not published again;
//  3. publish it asynchronously, with at most MaxInFlight unacknowledged
//     (in a replicated stream, at most one per partition);
//  4. resolve acknowledgements in the order the messages were sent, and mark
//     a partition's position for commit only when every record up to it is
//     acknowledged (a duplicate ack counts: the event is stored);
//  5. the source commits the marked positions (franz-go: every second, and
//     before a partition is revoked).
//
// The pipeline knows nothing of Kafka: package input is its contract with
// a source.
//
// Exactly once: both clusters hold both DCs' topics, so every event is read
// twice, and again after a restart; JetStream drops the copies by their
// Nats-Msg-Id within the stream's duplicate window. Most copies are not
// even published: one whose id JetStream acknowledged recently is skipped
// (recent.go), and one whose id is being published by another pipeline
// waits for that publish instead (inflight.go).
//
// Partition order: messages of a partition are sent in order on one
// connection; in a replicated stream, one at a time per partition (see
// partition.go); and nothing overtakes a publish that failed or may have. The
// pipeline stops sending, resolves every message in flight in order, and
// publishes each failed one again synchronously until JetStream takes it,
// before it sends anything new, whenever: a publish fails (an error, a
// timeout); NATS reconnected (messages written to the old connection may
// be lost); JetStream announced a new stream leader (the old one drops what
// is still queued for it, without an answer); or the oldest message in
// flight has waited over a second (a stream leader that dies loses what it
// had not replicated, and its successor is elected only seconds later: see
// stallAfter).
// A 409 "duplicate message id is in process" (code 10158: the other
// cluster's copy is being replicated) is asked again until JetStream says
// "duplicate" or "stored". Every acknowledgement's stream sequence is
// checked against the partition's last: a smaller one, an event stored
// after a later one of its partition, is counted in
// eventstreams_ingest_partition_reorders_total and logged.
//
// Concurrency: a Mirror's methods are safe for concurrent use. The state
// shared between pipelines, and with the sources' own goroutines, is the
// health record, behind a mutex, the recent-id set and the ids in flight
// (inflight.go), behind one each, and the stream set-up, serialised by a
// fourth.
package mirror
