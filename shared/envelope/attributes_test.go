package envelope

import "testing"

func TestReadAttributes(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  Attributes
		ok    bool
	}{
		{"recentchange", `{"type":"edit","namespace":0,"bot":false,"meta":{"domain":"en.wikipedia.org","id":"x"},"title":"A"}`,
			Attributes{Type: "edit", HasType: true, Namespace: 0, HasNamespace: true, Bot: false, HasBot: true, Domain: "en.wikipedia.org"}, true},
		{"page event", `{"meta":{"domain":"de.wikipedia.org"},"page_namespace":14,"performer":{"user_text":"B","user_is_bot":true}}`,
			Attributes{Namespace: 14, HasNamespace: true, Bot: true, HasBot: true, Domain: "de.wikipedia.org"}, true},
		{"recentchange members win", `{"page_namespace":1,"performer":{"user_is_bot":true},"namespace":2,"bot":false}`,
			Attributes{Namespace: 2, HasNamespace: true, Bot: false, HasBot: true}, true},
		{"escaped keys and values", `{"t\u0079pe":"l\u006fg","name\u0073pace":-1}`,
			Attributes{Type: "log", HasType: true, Namespace: -1, HasNamespace: true}, true},
		{"other JSON types", `{"type":1,"namespace":"0","bot":"true","meta":{"domain":7}}`, Attributes{}, true},
		{"non-integer namespace", `{"namespace":1.5}`, Attributes{}, true},
		{"meta not an object", `{"meta":[1],"performer":null}`, Attributes{}, true},
		{"whitespace", "{ \"type\" :\n\"new\" , \"bot\" : true }", Attributes{Type: "new", HasType: true, Bot: true, HasBot: true}, true},
		{"not JSON", `{"type":"edit"`, Attributes{}, false},
		{"not an object", `["type"]`, Attributes{}, false},
		{"empty", ``, Attributes{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ReadAttributes([]byte(tt.value))
			if got != tt.want || ok != tt.ok {
				t.Errorf("ReadAttributes(%s) = %+v, %v; want %+v, %v", tt.value, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// FuzzReadAttributes: any bytes, never a panic.
func FuzzReadAttributes(f *testing.F) {
	for _, s := range []string{`{"type":"edit","namespace":0,"bot":false,"meta":{"domain":"x"}}`,
		`{"performer":{"user_is_bot":true},"page_namespace":3}`, `{"meta":{"domain":"a\"b"}}`, `{`, `"x"`, "{\"a\":[{\"b\":\"\\u00e9\"}]}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ReadAttributes(b)
	})
}

func TestReadMeta(t *testing.T) {
	tests := []struct {
		in   string
		want Meta
		ok   bool
	}{
		{`{"meta":{"stream":"mediawiki.recentchange","topic":"eqiad.mediawiki.recentchange","partition":0,"offset":4369496612,"dt":"2022-12-11T04:27:02Z"}}`,
			Meta{Topic: "eqiad.mediawiki.recentchange", Stream: "mediawiki.recentchange", DT: "2022-12-11T04:27:02Z", Partition: "0", Offset: "4369496612"}, true},
		{`{"meta":{"topic":"a\u002eb","partition":1.5,"offset":"7"}}`, Meta{Topic: "a.b"}, true},
		{`{"meta":{"partition":-1}, "meta":{"offset":3}}`, Meta{Offset: "3"}, true},
		{`{"meta":"x"}`, Meta{}, true},
		{`{}`, Meta{}, true},
		{`not json`, Meta{}, false},
		{`[1]`, Meta{}, false},
	}
	for _, tt := range tests {
		got, ok := ReadMeta([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("ReadMeta(%s) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
