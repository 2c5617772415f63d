package relay

import (
	"cmp"
	"encoding/json"
	"slices"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/position"
)

// tp is a topic-partition of the upstream.
type tp struct {
	topic     string
	partition int32
}

// cursor is where to resume reading an upstream, built from the SSE ids it
// sent. Two kinds of upstream ids exist:
//
//   - this project's serve: [{"seq","timestamp","epoch"}]; the id is
//     resumed as it is, exactly (seq+1);
//   - EventStreams (KafkaSSE): [{"topic","partition","timestamp"|"offset"}]
//     for every topic-partition of the connection, where timestamp is the
//     Kafka timestamp of the last event delivered from it + 1 ms. KafkaSSE
//     resumes each entry at the first offset whose timestamp is ≥ the
//     given one, which skips the other events of the last delivered
//     event's millisecond. The cursor keeps, per topic-partition, that
//     event's own timestamp instead (id timestamp − 1): the first offset at
//     or before the last delivered event, so nothing is skipped and the
//     repeats (that millisecond's events, or more where Kafka timestamps
//     go backwards) are dropped by JetStream's de-duplication by meta.id.
//     An entry with only an offset (a partition that delivered nothing on
//     that connection: -1, "latest", or an offset of one Kafka cluster,
//     meaningless in the other) keeps the time the cursor had for it, else
//     floor, so that its events are not lost to "latest" (quirk Q4).
//
// A cursor is used by one goroutine.
type cursor struct {
	seqID string       // the last id of this project's serve, "" otherwise
	ts    map[tp]int64 // Kafka timestamp (ms) to resume each topic-partition at, inclusive
	floor int64        // ms: where a topic-partition without a time resumes
}

func newCursor() *cursor { return &cursor{ts: map[tp]int64{}} }

func (c *cursor) clone() *cursor {
	d := &cursor{seqID: c.seqID, ts: make(map[tp]int64, len(c.ts)), floor: c.floor}
	for k, v := range c.ts {
		d.ts[k] = v
	}
	return d
}

// empty: nothing to resume from; the upstream starts at new events.
func (c *cursor) empty() bool { return c.seqID == "" && len(c.ts) == 0 }

// floorSlack is how far before the first connection a topic-partition that
// delivered nothing resumes: Kafka timestamps are the producers' clocks,
// which may be behind ours.
const floorSlack = time.Minute

// started records the time of a first connection with no position.
func (c *cursor) started(now time.Time) {
	if c.floor == 0 {
		c.floor = now.Add(-floorSlack).UnixMilli()
	}
}

// update moves the cursor to an upstream id; false when it is not one
// (it is then ignored). Ids are cumulative: the last id of a connection
// says all the cursor needs of it, given the cursor as it was before.
func (c *cursor) update(raw string) bool {
	id, ok := parseUpstreamID(raw)
	if !ok {
		return false
	}
	if id.seq {
		c.seqID = raw
		return true
	}
	c.seqID = ""
	for _, e := range id.entries {
		k := tp{e.Topic, *e.Partition}
		switch {
		case e.Timestamp != nil:
			c.ts[k] = max(*e.Timestamp-1, 0)
		default:
			if _, ok := c.ts[k]; !ok {
				c.ts[k] = c.floor
			}
		}
	}
	return true
}

// resumeEntry is one entry of the Last-Event-ID the relay sends.
type resumeEntry struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Timestamp int64  `json:"timestamp"`
}

// header is the Last-Event-ID to resume with ("" for none), for a
// connection reading topics, and the since to ask for (0 for none). With
// no id yet, since is floor: a relay stopped before its first event was
// stored starts again where it first started. With an EventStreams
// upstream, a topic without an entry (a stream added since) is named
// alone, which KafkaSSE reads from since, then floor.
func (c *cursor) header(topics []string) (h string, since int64) {
	if c.seqID != "" {
		return c.seqID, 0
	}
	if len(c.ts) == 0 {
		return "", c.floor
	}
	entries := make([]resumeEntry, 0, len(c.ts))
	have := map[string]bool{}
	for k, ms := range c.ts {
		entries = append(entries, resumeEntry{k.topic, k.partition, ms})
		have[k.topic] = true
	}
	slices.SortFunc(entries, func(a, b resumeEntry) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	items := make([]any, 0, len(entries)+len(topics))
	for _, e := range entries {
		items = append(items, e)
	}
	for _, t := range topics {
		if !have[t] {
			items = append(items, t)
			since = c.floor
		}
	}
	b, _ := json.Marshal(items)
	return string(b), since
}

// stored is the value of one key of the position bucket: the position of
// one upstream for one stream.
type stored struct {
	// ID is the last upstream id acknowledged, as the upstream sent it.
	ID string `json:"id"`
	// Resume are the stream's topic-partitions and the Kafka timestamp
	// each resumes at, inclusive (EventStreams upstreams only).
	Resume []resumeEntry `json:"resume,omitempty"`
	// Floor (ms) is where a topic-partition with no time resumes.
	Floor int64 `json:"floor,omitempty"`
}

// forStream is the stored position of one stream, of the topics given.
func (c *cursor) forStream(lastID string, topics []string) stored {
	s := stored{ID: lastID, Floor: c.floor}
	if c.seqID != "" {
		s.ID = c.seqID
		return s
	}
	for k, ms := range c.ts {
		if slices.Contains(topics, k.topic) {
			s.Resume = append(s.Resume, resumeEntry{k.topic, k.partition, ms})
		}
	}
	slices.SortFunc(s.Resume, func(a, b resumeEntry) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	return s
}

// merge adds one stream's stored position to a cursor being loaded. Of
// ids of this project's serve, the oldest (smallest seq) wins, so that no
// stream skips anything.
func (c *cursor) merge(s stored) {
	if s.Floor > 0 && (c.floor == 0 || s.Floor < c.floor) {
		c.floor = s.Floor
	}
	if r, err := position.ParseLastEventID(s.ID); err == nil && r.Kind == position.KindID {
		// This project's ids are short: the whole of serve's parser.
		if c.seqID == "" {
			c.seqID = s.ID
		} else if cur, err := position.ParseLastEventID(c.seqID); err == nil && r.ID.Seq < cur.ID.Seq {
			c.seqID = s.ID
		}
		return
	}
	for _, e := range s.Resume {
		c.ts[tp{e.Topic, e.Partition}] = e.Timestamp
	}
}

// sinceParam is the since query value of a time, as Date.parse reads it
// (an integer since is taken as a string by EventStreams: quirk Q1).
func sinceParam(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}
