// Package relay reads an upstream EventStreams service (stream.wikimedia.org,
// or another instance of this project's serve) over SSE: it is ingest's
// second input.Source, beside the Kafka one of package source, feeding the
// same pipeline (package mirror) with the same ordering, acknowledgements,
// dead letters and metrics. It is the first step of the flow
// upstream EventStreams → ingest → JetStream → serve.
//
// One Upstream is one base URL, read on one connection that asks for every
// allowed stream at once (/v2/stream/a,b,c). Each event becomes a record:
//
//   - Topic and Partition: meta.topic (when it is a topic of the catalog;
//     else the first topic of meta.stream) and meta.partition, so that the
//     pipeline's per-partition order and its dead letters are by stream;
//   - Offset: a counter of the source, increasing in the order the events
//     came, so that a mark orders them whatever their upstream offsets;
//   - Origin: meta.topic, meta.partition and meta.offset as the upstream set
//     them; the event is stored as it came, its bytes unchanged;
//   - Time (Es-Timestamp): the SSE id's timestamp − 1 for the event's
//     topic-partition, else meta.dt, else the time it was read.
//
// Position. The upstream's SSE id of the last event of the longest prefix
// of events that JetStream acknowledged is kept in a NATS KV bucket
// (layout.Layout.RelayBucket), one key per upstream and stream,
// <upstream token>.<stream token>, written at most once a second and when
// the source closes. A restarted ingest resumes from it; a reconnect in the
// same process resumes from the last event read. How an id becomes a
// Last-Event-ID, and why nothing is skipped: see cursor.
//
// A good citizen of a public service: a User-Agent naming the project and
// its URL; one connection per upstream; reconnection with Last-Event-ID
// after the periodic cuts; exponential backoff with full jitter on errors;
// Retry-After honoured on 429 and 503; a connection silent for IdleTimeout
// is closed and opened again.
//
// The SSE parser is github.com/tmaxmax/go-sse's Read (MIT, maintained),
// used on the response body as a raw reader; its client is not used, since
// the reconnection policy, Last-Event-ID and idle detection are the relay's.
//
// Concurrency: an open source runs one reader goroutine per connection and
// one committer goroutine; Poll, Mark and Close are called by the pipeline's
// goroutine, as input.Source says. They share a channel of records and,
// behind a mutex, the acknowledged cursor.
package relay
