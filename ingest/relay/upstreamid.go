package relay

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/position"
)

// maxUpstreamID bounds an upstream id the relay reads. EventStreams' ids
// hold one entry per topic-partition of the connection: every public
// stream at once is 42 entries, about 3.9 KB, above what serve accepts
// from its own clients (position.MaxHeaderLen).
const maxUpstreamID = 1 << 20

// idEntry is one entry of an EventStreams id.
type idEntry struct {
	Topic     string `json:"topic"`
	Partition *int32 `json:"partition"`
	Timestamp *int64 `json:"timestamp"`
	Offset    *int64 `json:"offset"`
	Seq       *int64 `json:"seq"`
}

// upstreamID is a parsed upstream id: this project's (seq set, with its
// timestamp) or EventStreams' entries.
type upstreamID struct {
	seq     bool
	ts      int64
	entries []idEntry
}

// parseUpstreamID reads an id as an upstream sent it; false when it is
// not one (it is then ignored).
func parseUpstreamID(raw string) (upstreamID, bool) {
	if raw == "" || len(raw) > maxUpstreamID {
		return upstreamID{}, false
	}
	if strings.HasPrefix(raw, `[{"seq":`) {
		r, err := position.ParseLastEventID(raw)
		if err != nil || r.Kind != position.KindID {
			return upstreamID{}, false
		}
		return upstreamID{seq: true, ts: r.ID.Timestamp}, true
	}
	var entries []idEntry
	if json.Unmarshal([]byte(raw), &entries) != nil || len(entries) == 0 {
		return upstreamID{}, false
	}
	for _, e := range entries {
		if e.Topic == "" || e.Partition == nil || *e.Partition < 0 || e.Seq != nil {
			return upstreamID{}, false
		}
	}
	return upstreamID{entries: entries}, true
}

// eventTime is an event's Kafka timestamp as its upstream id gives it: the
// id's timestamp − 1 for the event's topic-partition (this project's ids:
// the id's), false when the id has none. It looks for the entry as
// KafkaSSE writes it ({"topic","partition","timestamp"}, JSON.stringify's
// order) rather than parsing the whole id for every event.
func eventTime(raw, topic string, partition int32) (time.Time, bool) {
	key := `"timestamp":`
	if !strings.HasPrefix(raw, `[{"seq":`) {
		key = `{"topic":` + strconv.Quote(topic) + `,"partition":` + strconv.FormatInt(int64(partition), 10) + `,"timestamp":`
	}
	i := strings.Index(raw, key)
	if i < 0 {
		return time.Time{}, false
	}
	rest := raw[i+len(key):]
	end := strings.IndexAny(rest, ",}")
	if end < 0 {
		return time.Time{}, false
	}
	ms, err := strconv.ParseInt(rest[:end], 10, 64)
	if err != nil || ms < 1 {
		return time.Time{}, false
	}
	return time.UnixMilli(ms - 1), true
}
