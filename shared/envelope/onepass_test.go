package envelope

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// onePassCases are events whose meta, wiki id and member layout take every
// path of parseEvent and enrichMeta: absent, null, duplicated or escaped
// keys, members Enrich replaces in place or appends, nested objects.
var onePassCases = []string{
	`{}`, ` { } `, `{"a":1}`, `{"meta":{}}`, `{"meta":null}`, `{"meta":null,"meta":{"id":"x"}}`,
	`{"meta":{"id":"x"},"meta":null}`, `{"meta":{"id":"x"},"meta":{"dt":"y"}}`, `{"meta":{"id":"x"},"meta":"s"}`,
	`{"meta":"s","meta":{"id":"x"}}`, `{"meta":{"id":1}}`, `{"meta":{"id":"a","id":2}}`, `{"meta":{"id":"a","id":"b"}}`,
	`{"meta":{"\u0069d":"esc"}}`, `{"m\u0065ta":{"id":"x","topic":"t"}}`, `{"meta":{"id":"a\"b"}}`,
	`{"meta":{"topic":"t","partition":1,"offset":2,"id":"x"}}`, `{"meta":{"offset":2,"topic":"t"}}`,
	`{"meta":{"topic":"t","x":{"topic":"u"},"topic":"v"}}`, `{"meta":{"partition":1,"partition":2,"id":"x","dt":"d"}}`,
	`{"meta":{"t\u006fpic":"t","topic":"u"}}`, `{"meta":{"a":[{"offset":1}],"offset":{"x":1}}}`,
	`{"meta" : { "id" : "x" , "topic" : "t" } , "wiki" : "w" }`,
	`{"wiki":"","database":"d","wiki_id":"i"}`, `{"wiki_id":"i","database":"d"}`, `{"wiki":1,"database":"d"}`,
	`{"database":"d","wiki":"w","wiki":"v"}`, `{"wiki":"\u0000"}`, `{"w\u0069ki":"esc"}`, `{"wiki":"a\\b"}`,
	`{"x":{"meta":{"id":"nested"},"wiki":"nested"}}`, `{"x":[{"meta":1}],"meta":{"id":"top"}}`,
	`{"meta":{"topic":"é","topic":"ü\"x","dt":"日本","p":{"é":"\u00e9"}}}`, `{"é":"ü","meta":{"id":"日本"},"wiki":"€"}`,
	"{\"a\":\"\xff\"}", "{\"a\":1}\xff", "\xff", "[\"\xed\xa0\x80\"]", "{\"a\":\"\xf4\x90\x80\x80\"}", "{\"a\":\"\xc3\"}",
	`{"meta":[]}`, `{"meta":1}`, `{"meta":true}`, `[]`, `"s"`, `1`, `{"a":`, `{"meta":{"id":"x"}`, "",
}

// checkOnePass compares Enrich and Inspect with the implementation they
// replaced (reference_test.go): the same bytes, Fields and error.
func checkOnePass(t *testing.T, in []byte) {
	t.Helper()
	for _, at := range []Coordinates{at, {Topic: "a\"b\u00e9<", Partition: -1, Offset: 1 << 40}} {
		got, gotF, gotErr := Enrich([]byte("dst:"), in, at)
		want, wantF, wantErr := refEnrich([]byte("dst:"), in, at)
		if !bytes.Equal(got, want) || gotF != wantF || !sameError(gotErr, wantErr) {
			t.Fatalf("Enrich(%q, %+v) = %q, %+v, %v; before: %q, %+v, %v", in, at, got, gotF, gotErr, want, wantF, wantErr)
		}
	}
	f, err := Inspect(in)
	_, _, _, wantF, wantErr := refInspect(in)
	if f != wantF || !sameError(err, wantErr) {
		t.Fatalf("Inspect(%q) = %+v, %v; before: %+v, %v", in, f, err, wantF, wantErr)
	}
	var reason Reason
	if inv := (*InvalidError)(nil); errors.As(err, &inv) {
		reason = inv.Reason
	}
	if want := wantReason(in); reason != want {
		t.Fatalf("Inspect(%q): reason %q, want %q", in, reason, want)
	}
}

// wantReason is why in cannot be stored, by encoding/json and
// unicode/utf8, or "" when it can.
func wantReason(in []byte) Reason {
	trimmed := bytes.TrimLeft(in, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return ReasonEmpty
	case !utf8.Valid(in):
		return ReasonInvalidUTF8
	case !json.Valid(in):
		return ReasonInvalidJSON
	case trimmed[0] != '{':
		return ReasonNotObject
	}
	var top map[string]json.RawMessage // the last of equal keys wins
	if err := json.Unmarshal(in, &top); err != nil {
		panic(err)
	}
	if meta, ok := top["meta"]; ok && meta[0] != '{' && string(meta) != "null" {
		return ReasonMetaNotObject
	}
	return ""
}

func sameError(a, b error) bool {
	var ia, ib *InvalidError
	if errors.As(a, &ia) != errors.As(b, &ib) {
		return false
	}
	return ia == nil || reflect.DeepEqual(ia, ib)
}

func TestEnrichOnePassMatchesReference(t *testing.T) {
	for _, c := range onePassCases {
		checkOnePass(t, []byte(c))
	}
	eachRecorded(t, func(_ string, line []byte) {
		checkOnePass(t, line)
		// The same event without its meta, with meta null, and with
		// meta's members doubled.
		if i := bytes.Index(line, []byte(`"meta":{`)); i >= 0 {
			s := string(line)
			checkOnePass(t, []byte(strings.Replace(s, `"meta":`, `"meta":null,"x":`, 1)))
			checkOnePass(t, []byte(strings.Replace(s, `"meta":{`, `"meta":{"topic":"x","offset":1,`, 1)))
			checkOnePass(t, []byte(strings.Replace(s, `"meta":{`, `"meta":{"partition":7,`, 1)))
		}
	})
}

func FuzzEnrichOnePass(f *testing.F) {
	for _, c := range onePassCases {
		f.Add([]byte(c))
	}
	f.Fuzz(checkOnePass)
}
