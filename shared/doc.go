// Package shared holds the contract between ingest and serve and nothing else:
//
//   - catalog: the public stream names, their aliases and their Kafka topics;
//   - layout: the JetStream stream, its subjects and the message headers;
//   - envelope: how a Kafka record becomes a stored event (validation,
//     enrichment of meta, de-duplication id, wiki id);
//   - position: serve's resume positions: the SSE id, Last-Event-ID (ours
//     and EventStreams' Kafka-style ids), since and seq;
//   - settings: the configuration both services read.
//
// These packages import neither service. NATS-native readers may rely on
// what layout and envelope document: they are a public contract (shared/ARCHITECTURE.md "JetStream
// layout").
package shared
