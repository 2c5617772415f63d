package relay

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestCursorResumesWithoutSkipping: the Last-Event-ID built from upstream
// ids resumes every topic-partition at its last event's own millisecond
// (the id's timestamp − 1), keeps a time for partitions that delivered
// nothing (never KafkaSSE's offset -1, "latest"), and sends this
// project's own ids as they are.
func TestCursorResumesWithoutSkipping(t *testing.T) {
	topics := []string{"codfw.mediawiki.recentchange", "eqiad.mediawiki.recentchange"}
	const floor = 1700000000000
	tests := []struct {
		name      string
		ids       []string
		wantH     string
		wantSince int64
	}{
		{"nothing yet: since the first start", nil, "", floor},
		{"KafkaSSE id, one partition delivered",
			[]string{`[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":1670732822001},{"topic":"codfw.mediawiki.recentchange","partition":0,"offset":-1}]`},
			`[{"topic":"codfw.mediawiki.recentchange","partition":0,"timestamp":1700000000000},{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":1670732822000}]`, 0},
		{"a resolved offset keeps the time it had",
			[]string{`[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":5},{"topic":"codfw.mediawiki.recentchange","partition":0,"timestamp":9}]`,
				`[{"offset":17,"partition":0,"topic":"codfw.mediawiki.recentchange"},{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":7}]`},
			`[{"topic":"codfw.mediawiki.recentchange","partition":0,"timestamp":8},{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":6}]`, 0},
		{"a stream added since: its topic alone, from the floor",
			[]string{`[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":5}]`},
			`[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":4},"codfw.mediawiki.recentchange"]`, floor},
		{"this project's id, as it is",
			[]string{`[{"seq":41,"timestamp":5,"epoch":"abc"}]`, `[{"seq":42,"timestamp":6,"epoch":"abc"}]`},
			`[{"seq":42,"timestamp":6,"epoch":"abc"}]`, 0},
		{"not an id: ignored", []string{`nope`}, "", floor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCursor()
			c.started(time.UnixMilli(floor).Add(floorSlack))
			for _, id := range tt.ids {
				c.update(id)
			}
			h, since := c.header(topics)
			if h != tt.wantH || since != tt.wantSince {
				t.Errorf("header %s since %d\nwant   %s since %d", h, since, tt.wantH, tt.wantSince)
			}
			// What is stored per stream and loaded again gives the same.
			d := newCursor()
			d.merge(c.forStream("", topics))
			if h2, s2 := d.header(topics); h2 != h || s2 != since {
				t.Errorf("after a store and a load: %s since %d", h2, s2)
			}
		})
	}
}

// TestLongUpstreamIDs: an id of every public stream at once (over 4 KB,
// more than serve takes from its clients) moves the cursor, and each
// event's time is read from its own entry.
func TestLongUpstreamIDs(t *testing.T) {
	var entries []string
	for i := range 60 {
		entries = append(entries, fmt.Sprintf(`{"topic":"eqiad.mediawiki.some_long_stream_name_number_%d.v1","partition":0,"timestamp":%d}`, i, 1000+i))
	}
	raw := "[" + strings.Join(entries, ",") + "]"
	if len(raw) <= 4096 {
		t.Fatalf("id of %d bytes, want more than 4096", len(raw))
	}
	c := newCursor()
	if !c.update(raw) || len(c.ts) != 60 || c.ts[tp{"eqiad.mediawiki.some_long_stream_name_number_59.v1", 0}] != 1058 {
		t.Errorf("cursor after a long id: %v", c.ts)
	}
	if ts, ok := eventTime(raw, "eqiad.mediawiki.some_long_stream_name_number_7.v1", 0); !ok || ts.UnixMilli() != 1006 {
		t.Errorf("eventTime = %v, %v; want 1006", ts.UnixMilli(), ok)
	}
	if _, ok := eventTime(raw, "eqiad.mediawiki.some_long_stream_name_number_7.v1", 1); ok {
		t.Error("eventTime found a time for a partition the id does not name")
	}
	if ts, ok := eventTime(`[{"seq":5,"timestamp":1700000000001,"epoch":"abc"}]`, "any", 0); !ok || ts.UnixMilli() != 1700000000000 {
		t.Errorf("eventTime of our id = %v, %v", ts.UnixMilli(), ok)
	}
	for _, bad := range []string{`[]`, `[{"partition":0,"timestamp":1}]`, `[{"topic":"a","timestamp":1}]`, `{"topic":"a"}`, `x`} {
		if c.update(bad) {
			t.Errorf("update(%s) accepted it", bad)
		}
	}
}
