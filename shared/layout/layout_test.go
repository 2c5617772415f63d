package layout

import (
	"strings"
	"testing"
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
