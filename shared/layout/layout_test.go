package layout

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func TestTokens(t *testing.T) {
	tests := []struct{ fn, in, want string }{
		{"stream", "mediawiki.recentchange", "mediawiki_recentchange"},
		{"stream", "mediawiki.page-create", "mediawiki_page-create"},
		{"stream", "mediawiki.page_change.v1", "mediawiki_page_change_v1"},
		{"wiki", "enwiki", "enwiki"},
		{"wiki", "", "_"},
		{"wiki", "zh-min-nan wiki.*>", "zh-min-nan_wiki___"},
		{"wiki", "ü", "__"},
		{"wiki", strings.Repeat("a", 100), strings.Repeat("a", 64)},
	}
	for _, tt := range tests {
		t.Run(tt.fn+"/"+tt.in, func(t *testing.T) {
			got := WikiToken(tt.in)
			if tt.fn == "stream" {
				got = StreamToken(tt.in)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLayout(t *testing.T) {
	l := Layout{Stream: DefaultStream, Prefix: DefaultPrefix}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := l.Subject("mediawiki_recentchange", "enwiki"); got != "eventstreams.mediawiki_recentchange.enwiki" {
		t.Errorf("Subject = %q", got)
	}
	if got := l.DeadLetterSubject("mediawiki_recentchange"); got != "eventstreams._deadletter.mediawiki_recentchange" {
		t.Errorf("DeadLetterSubject = %q", got)
	}
	if got := l.StreamFilter("mediawiki_recentchange"); got != "eventstreams.mediawiki_recentchange.*" {
		t.Errorf("StreamFilter = %q", got)
	}
	for _, bad := range []Layout{{"", "p"}, {"A.B", "p"}, {"S", ""}, {"S", "a..b"}, {"S", "a.>"}} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestStreamConfig(t *testing.T) {
	l := Layout{Stream: DefaultStream, Prefix: DefaultPrefix}
	c := l.StreamConfig(Limits{MaxAge: time.Hour, DuplicateWindow: 15 * time.Minute, Replicas: 3})
	if c.Name != "EVENTSTREAMS" || !slices.Equal(c.Subjects, []string{"eventstreams.>"}) || c.Storage != jetstream.FileStorage ||
		c.Retention != jetstream.LimitsPolicy || c.Discard != jetstream.DiscardOld || !c.AllowDirect || c.MaxConsumers != 10_000 ||
		c.MaxAge != time.Hour || c.MaxBytes != -1 || c.Duplicates != 15*time.Minute || c.Replicas != 3 || c.Description == "" {
		t.Errorf("StreamConfig = %+v", c)
	}
	if c := l.StreamConfig(Limits{MaxBytes: 1 << 30, Replicas: 1}); c.MaxBytes != 1<<30 || c.MaxAge != 0 {
		t.Errorf("MaxBytes %d, MaxAge %v", c.MaxBytes, c.MaxAge)
	}
	for _, bad := range []Limits{{}, {Replicas: 6}, {Replicas: 1, MaxAge: -1}, {Replicas: 1, MaxBytes: -1},
		{Replicas: 1, DuplicateWindow: -1}, {Replicas: 1, MaxAge: time.Minute, DuplicateWindow: time.Hour}} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if err := (Limits{Replicas: 1, DuplicateWindow: time.Hour}).Validate(); err != nil {
		t.Errorf("no age limit and a window: %v", err)
	}
}
