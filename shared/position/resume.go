package position

import "strconv"

// AllPartitions is the Partition of an entry that names only a topic.
const AllPartitions int32 = -1

// Kind says what a Last-Event-ID header held.
type Kind uint8

const (
	// KindNone is a header that was present but empty (or only spaces and tabs).
	// It is not an error: EventSource implementations may send an empty
	// id, and there is nothing to resume from, so the caller starts as if
	// the header were absent.
	KindNone Kind = iota
	// KindID is our id; Resume.ID is set.
	KindID
	// KindKafka is EventStreams' own Kafka-style id, or a KafkaSSE topic
	// list; Resume.Entries is set.
	KindKafka
)

func (k Kind) String() string {
	switch k {
	case KindNone:
		return "none"
	case KindID:
		return "id"
	case KindKafka:
		return "kafka"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Resume is a parsed Last-Event-ID header.
type Resume struct {
	Kind Kind
	// ID is set for KindID.
	ID ID
	// Entries are set for KindKafka, in the order of the header, with at
	// least one and at most MaxEntries of them.
	Entries []Entry
}

// Entry is one element of an EventStreams id or KafkaSSE topic list.
//
// EventStreams writes {topic, partition} plus timestamp (Kafka timestamp +
// 1 ms of the last event delivered from that partition) or offset (for a
// partition that delivered nothing yet, usually -1). An entry may carry both
// fields: both are kept (KafkaSSE dropped such entries when another entry
// had only a timestamp: quirk Q5 in shared/ARCHITECTURE.md "Quirks"). A topic-name entry ("a,b" or ["a","b"]) has
// Partition AllPartitions and neither field; in KafkaSSE it meant all
// partitions of the topic, from since if given, else from new events.
type Entry struct {
	// Topic is a non-empty string; whether it belongs to the requested
	// streams is the caller's question.
	Topic     string
	Partition int32
	// Offset may be negative: librdkafka logical offsets (-1 end, -2
	// beginning, ...). It is an offset in one Kafka cluster, meaningless in
	// the other and in JetStream.
	Offset    int64
	HasOffset bool
	// Timestamp is as written in the id: Kafka timestamp + 1 ms, ≥ 0.
	Timestamp    int64
	HasTimestamp bool
}

// EarliestTimestamp returns the time to resume from, inclusive, in ms since
// the epoch: resume with every event whose Kafka timestamp is ≥ ms.
//
// For KindKafka, ms is the smallest Timestamp among the entries whose topic
// keep accepts (keep nil accepts all), minus 1: the id's timestamps are
// Kafka timestamp + 1, so this is the Kafka timestamp of the oldest
// last-delivered event, which is delivered again rather than risk losing
// others of the same millisecond. Entries without a timestamp (offsets,
// topic names) carry no time and are ignored; ok is false when no accepted
// entry has one, and the caller then starts at new events.
//
// For KindID, ms is ID.Timestamp − 1 and keep is not called: the fallback
// for an id of another epoch (shared/ARCHITECTURE.md "Ids and resume"). For KindNone, ok is false.
//
// ms is never below 0.
func (r Resume) EarliestTimestamp(keep func(topic string) bool) (ms int64, ok bool) {
	switch r.Kind {
	case KindID:
		return max(r.ID.Timestamp-1, 0), true
	case KindKafka:
		for _, e := range r.Entries {
			if !e.HasTimestamp || keep != nil && !keep(e.Topic) {
				continue
			}
			if !ok || e.Timestamp < ms {
				ms, ok = e.Timestamp, true
			}
		}
		if ok {
			ms = max(ms-1, 0)
		}
		return ms, ok
	}
	return 0, false
}
