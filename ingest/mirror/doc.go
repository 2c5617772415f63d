// Package mirror copies the allowed streams' Kafka topics of every
// datacenter into one JetStream stream, each event exactly once. It is the
// middle of the flow Kafka → ingest → JetStream → serve.
//
// For each Kafka cluster, one pipeline goroutine owns a franz-go group
// consumer and does everything for that cluster, in order:
//
//  1. poll records;
//  2. turn each into a message (envelope.Enrich, subject, de-dup id,
//     headers) or, if it is not a storable event, into a dead letter;
//  3. publish it asynchronously, with at most MaxInFlight unacknowledged;
//  4. resolve acknowledgements in the order the messages were sent, and mark
//     a partition's offset for commit only when every record up to it is
//     acknowledged (a duplicate ack counts: the event is stored);
//  5. franz-go commits the marked offsets every second.
//
// Exactly once: both clusters hold both DCs' topics, so every event is read
// twice, and again after a restart; JetStream drops the copies by their
// Nats-Msg-Id within the stream's duplicate window.
//
// Partition order: messages of a partition are sent in offset order on one
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
// Concurrency: a Mirror's methods are safe for concurrent use. The only state
// shared between pipelines is the health record, behind a mutex, and the
// stream set-up, serialised by another.
package mirror
