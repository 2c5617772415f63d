// Package position is the one codec for resume positions of serve
// (shared/ARCHITECTURE.md "Ids and resume"): the SSE id written with every event, and the three ways
// a client says where to start, the Last-Event-ID header, ?since= and ?seq=.
//
// In the flow Kafka → ingest → JetStream → serve → client, it sits at the
// last step: serve writes an ID with each event and parses what the client
// sends back when it reconnects. It only encodes and decodes; choosing the
// JetStream start sequence from a position is serve's job.
//
// Our id is a JSON array holding one object,
//
//	[{"seq":1234567,"timestamp":1712236826001,"epoch":"d0bdaqwt4umt"}]
//
// where seq is the event's JetStream stream sequence, timestamp its Kafka
// timestamp + 1 ms (as EventStreams does) and epoch names the JetStream
// stream instance (NewEpoch). A resume with the serving stream's epoch is
// exact (start at seq+1); with another epoch it falls back to the time.
// Last-Event-ID also accepts EventStreams' own Kafka-style ids and
// KafkaSSE's topic lists (Resume, Entry), which carry only times.
//
// Input the client controls is bounded (MaxHeaderLen, MaxEntries) and every
// rejection is an *InvalidError or *InvalidSinceError whose text a 400 body
// can show as it is; no function panics on any input.
//
// Everything here is a pure function of its arguments and safe for
// concurrent use. Values returned are owned by the caller.
package position
