package relay

import (
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
