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
//  3. publish it asynchronously, with at most MaxInFlight unacknowledged;
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
// Nats-Msg-Id within the stream's duplicate window.
//
// Partition order: messages of a partition are sent in order on one
// connection, and nothing overtakes a failed publish. When a publish fails
// (an error, a timeout, NATS reconnecting) the pipeline stops sending,
// resolves every message in flight in order, publishes each failed one again
// synchronously until JetStream takes it, and only then sends new messages.
// After NATS reconnects the same barrier runs before the first new message,
// since messages written to the old connection may be lost. If a later
// message of the same partition had already been stored when an earlier one
// failed, the order is broken and can no longer be mended; that is counted in
// eventstreams_ingest_partition_reorders_total and logged.
//
// Concurrency: a Mirror's methods are safe for concurrent use. The state
// shared between pipelines, and with the sources' own goroutines, is the
// health record, behind a mutex, the recent-id set, behind another, and the
// stream set-up, serialised by a third.
package mirror
