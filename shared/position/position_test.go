package position

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name byte for byte, or rewrites the
// file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < max(len(gl), len(wl)); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("%s differs at line %d:\n got: %q\nwant: %q\n(run go test -update if the change is intended)", path, i+1, g, w)
		}
	}
}

var ids = []struct {
	name string
	id   ID
}{
	{"typical", ID{Seq: 1234567, Timestamp: 1712236826001, Epoch: "d0bdaqwt4umt"}},
	{"first event", ID{Seq: 1, Timestamp: 0, Epoch: "a"}},
	{"largest", ID{Seq: 1<<64 - 1, Timestamp: 1<<63 - 1, Epoch: strings.Repeat("Zz09_-", 10) + "abcd"}},
	{"bad epoch bytes are replaced", ID{Seq: 2, Timestamp: 3, Epoch: "a\"b\n\r\x00é"}},
	{"invalid id is written anyway", ID{Seq: 0, Timestamp: -1, Epoch: ""}},
}

func TestAppendJSON(t *testing.T) {
	var out bytes.Buffer
	for _, tt := range ids {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.id.AppendJSON([]byte("prefix:"))
			if !bytes.HasPrefix(got, []byte("prefix:")) {
				t.Fatalf("dst not kept: %q", got)
			}
			got = got[len("prefix:"):]
			if s := tt.id.String(); s != string(got) {
				t.Errorf("String() = %q, AppendJSON = %q", s, got)
			}
			if bytes.ContainsAny(got, "\r\n\x00") {
				t.Errorf("%q is not safe in an SSE id field", got)
			}
			fmt.Fprintf(&out, "%s\n%s\n", tt.name, got)
		})
	}
	golden(t, "ids.golden", out.Bytes())
}

func TestRoundTrip(t *testing.T) {
	for _, tt := range ids {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseLastEventID(tt.id.String())
			if verr := tt.id.Validate(); verr != nil {
				if err == nil && r.ID == tt.id {
					t.Fatalf("Validate: %v, but %s parses back to itself", verr, tt.id)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != KindID || r.ID != tt.id {
				t.Fatalf("got %v %+v, want %+v", r.Kind, r.ID, tt.id)
			}
		})
	}
}

func TestAppendJSONAllocs(t *testing.T) {
	id := ids[0].id
	buf := make([]byte, 0, 128)
	if n := testing.AllocsPerRun(100, func() { buf = id.AppendJSON(buf[:0]) }); n != 0 {
		t.Errorf("AppendJSON allocates %v times per call with a reused buffer", n)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		id   ID
		ok   bool
	}{
		{"valid", ID{1, 0, "a"}, true},
		{"seq 0", ID{0, 0, "a"}, false},
		{"negative timestamp", ID{1, -1, "a"}, false},
		{"empty epoch", ID{1, 0, ""}, false},
		{"long epoch", ID{1, 0, strings.Repeat("a", 65)}, false},
		{"64-byte epoch", ID{1, 0, strings.Repeat("a", 64)}, true},
		{"epoch with dot", ID{1, 0, "a.b"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.id.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			var inv *InvalidError
			if err != nil && !errors.As(err, &inv) {
				t.Fatalf("%T is not an *InvalidError", err)
			}
		})
	}
}

func TestNewEpoch(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
		want string
	}{
		{"2024", time.Date(2024, 4, 4, 13, 20, 26, 123456789, time.UTC), "d0bdaqwt4umt"},
		{"same instant, other zone", time.Date(2024, 4, 4, 15, 20, 26, 123456789, time.FixedZone("CEST", 7200)), "d0bdaqwt4umt"},
		{"one ns later", time.Date(2024, 4, 4, 13, 20, 26, 123456790, time.UTC), "d0bdaqwt4umu"},
		{"unix epoch", time.Unix(0, 0), "0"},
		{"before 1970", time.Unix(0, -1), "3w5e11264sgsf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NewEpoch(tt.at)
			if got != tt.want {
				t.Errorf("NewEpoch = %q, want %q", got, tt.want)
			}
			if !ValidEpoch(got) {
				t.Errorf("NewEpoch = %q is not a valid epoch", got)
			}
		})
	}
	// A monotonic clock reading must not change the token.
	now := time.Now()
	if NewEpoch(now) != NewEpoch(now.Round(0)) {
		t.Error("NewEpoch depends on the monotonic clock reading")
	}
}

func TestParseSeq(t *testing.T) {
	tests := []struct {
		in   string
		want uint64 // 0: rejected
	}{
		{"1", 1},
		{"1234567", 1234567},
		{" 42 ", 42},
		{"007", 7},
		{"18446744073709551615", 1<<64 - 1},
		{"00000000000000000001", 1},
		{"", 0},
		{"0", 0},
		{"-1", 0},
		{"+1", 0},
		{"1.0", 0},
		{"1e3", 0},
		{"0x10", 0},
		{"abc", 0},
		{"18446744073709551616", 0},
		{"000000000000000000001", 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSeq(tt.in)
			if tt.want == 0 {
				var inv *InvalidError
				if !errors.As(err, &inv) {
					t.Fatalf("ParseSeq(%q) = %d, %v; want an *InvalidError", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseSeq(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

// errorCases are the rejected inputs whose Detail texts are in
// testdata/errors.golden.
var errorCases = []struct {
	fn, name, in string
}{
	{"ParseLastEventID", "not JSON", `"""{nope`},
	{"ParseLastEventID", "truncated", `[{"seq":1,`},
	{"ParseLastEventID", "two values", `[] []`},
	{"ParseLastEventID", "too long", "[" + strings.Repeat(`"a",`, 1249) + `"a"]`},
	{"ParseLastEventID", "empty array", `[]`},
	{"ParseLastEventID", "object", `{}`},
	{"ParseLastEventID", "null", `null`},
	{"ParseLastEventID", "number", `1234`},
	{"ParseLastEventID", "number entry", `[1]`},
	{"ParseLastEventID", "null entry", `[null]`},
	{"ParseLastEventID", "nested array", `[["a"]]`},
	{"ParseLastEventID", "empty topic name", `["a",""]`},
	{"ParseLastEventID", "empty topic list", `""`},
	{"ParseLastEventID", "empty name in list", `"a,,b"`},
	{"ParseLastEventID", "257 entries", "[" + strings.Repeat(`"a",`, 256) + `"a"]`},
	{"ParseLastEventID", "257 names", `"` + strings.Repeat("a,", 256) + `a"`},
	{"ParseLastEventID", "no topic", `[{"partition":0,"offset":0}]`},
	{"ParseLastEventID", "numeric topic", `[{"topic":1,"partition":0,"offset":0}]`},
	{"ParseLastEventID", "empty topic", `[{"topic":"","partition":0,"offset":0}]`},
	{"ParseLastEventID", "no partition", `[{"topic":"a","offset":0}]`},
	{"ParseLastEventID", "negative partition", `[{"topic":"a","partition":0,"offset":0},{"topic":"b","partition":1,"offset":0},{"topic":"c","partition":-1,"offset":0}]`},
	{"ParseLastEventID", "float partition", `[{"topic":"a","partition":0.5,"offset":0}]`},
	{"ParseLastEventID", "string partition", `[{"topic":"a","partition":"0","offset":0}]`},
	{"ParseLastEventID", "huge partition", `[{"topic":"a","partition":2147483648,"offset":0}]`},
	{"ParseLastEventID", "no offset or timestamp", `[{"topic":"a","partition":0}]`},
	{"ParseLastEventID", "float offset", `[{"topic":"a","partition":0,"offset":1.5}]`},
	{"ParseLastEventID", "exponent offset", `[{"topic":"a","partition":0,"offset":1e3}]`},
	{"ParseLastEventID", "1.0 offset", `[{"topic":"a","partition":0,"offset":1.0}]`},
	{"ParseLastEventID", "string offset", `[{"topic":"a","partition":0,"offset":"3"}]`},
	{"ParseLastEventID", "null offset", `[{"topic":"a","partition":0,"offset":null}]`},
	{"ParseLastEventID", "object offset", `[{"topic":"a","partition":0,"offset":{"x":1}}]`},
	{"ParseLastEventID", "huge offset", `[{"topic":"a","partition":0,"offset":9223372036854775808}]`},
	{"ParseLastEventID", "huge negative offset", `[{"topic":"a","partition":0,"offset":-9223372036854775809}]`},
	{"ParseLastEventID", "negative timestamp", `[{"topic":"a","partition":0,"timestamp":-1}]`},
	{"ParseLastEventID", "float timestamp", `[{"topic":"a","partition":0,"timestamp":1631630383001.5}]`},
	{"ParseLastEventID", "huge timestamp", `[{"topic":"a","partition":0,"timestamp":99999999999999999999999}]`},
	{"ParseLastEventID", "duplicate member", `[{"topic":"a","partition":0,"topic":"b","offset":0}]`},
	{"ParseLastEventID", "ours: seq 0", `[{"seq":0,"timestamp":1,"epoch":"e"}]`},
	{"ParseLastEventID", "ours: negative seq", `[{"seq":-1,"timestamp":1,"epoch":"e"}]`},
	{"ParseLastEventID", "ours: float seq", `[{"seq":1.5,"timestamp":1,"epoch":"e"}]`},
	{"ParseLastEventID", "ours: string seq", `[{"seq":"3","timestamp":1,"epoch":"e"}]`},
	{"ParseLastEventID", "ours: huge seq", `[{"seq":18446744073709551616,"timestamp":1,"epoch":"e"}]`},
	{"ParseLastEventID", "ours: no seq", `[{"timestamp":1,"epoch":"e"}]`},
	{"ParseLastEventID", "ours: no timestamp", `[{"seq":1,"epoch":"e"}]`},
	{"ParseLastEventID", "ours: negative timestamp", `[{"seq":1,"timestamp":-5,"epoch":"e"}]`},
	{"ParseLastEventID", "ours: huge timestamp", `[{"seq":1,"timestamp":9223372036854775808,"epoch":"e"}]`},
	{"ParseLastEventID", "ours: no epoch", `[{"seq":1,"timestamp":1}]`},
	{"ParseLastEventID", "ours: empty epoch", `[{"seq":1,"timestamp":1,"epoch":""}]`},
	{"ParseLastEventID", "ours: epoch with dot", `[{"seq":1,"timestamp":1,"epoch":"a.b"}]`},
	{"ParseLastEventID", "ours: numeric epoch", `[{"seq":1,"timestamp":1,"epoch":7}]`},
	{"ParseLastEventID", "ours: long epoch", `[{"seq":1,"timestamp":1,"epoch":"` + strings.Repeat("a", 65) + `"}]`},
	{"ParseLastEventID", "ours: two objects", `[{"seq":1,"timestamp":1,"epoch":"e"},{"seq":2,"timestamp":1,"epoch":"e"}]`},
	{"ParseLastEventID", "ours after kafka", `[{"topic":"a","partition":0,"offset":0},{"seq":1,"timestamp":1,"epoch":"e"}]`},
	{"ParseLastEventID", "ours: not in an array", `{"seq":1,"timestamp":1,"epoch":"e"}`},
	{"ParseLastEventID", "ours: duplicate seq", `[{"seq":1,"seq":2,"timestamp":1,"epoch":"e"}]`},
	{"ParseLastEventID", "5000-byte header", `[{"topic":"` + strings.Repeat("x", 4960) + `","partition":0,"offset":-1}]`},
	{"ParseSince", "yesterday", "yesterday"},
	{"ParseSince", "empty", ""},
	{"ParseSince", "spaces", "   "},
	{"ParseSince", "hex", "0x10"},
	{"ParseSince", "exponent", "1e12"},
	{"ParseSince", "negative", "-1"},
	{"ParseSince", "17 digits", "12345678901234567"},
	{"ParseSince", "unknown zone", "Tue, 01 Jan 2019 00:00:00 CET"},
	{"ParseSince", "day out of range", "2019-02-30"},
	{"ParseSince", "long value is cut", strings.Repeat("é", 80)},
	{"ParseSeq", "zero", "0"},
	{"ParseSeq", "text", "abc"},
	{"ParseSeq", "too large", "18446744073709551616"},
	{"ParseSeq", "long value is cut", strings.Repeat("9", 150)},
}

func detail(fn, in string) (string, error) {
	switch fn {
	case "ParseLastEventID":
		_, err := ParseLastEventID(in)
		var inv *InvalidError
		if !errors.As(err, &inv) {
			return "", fmt.Errorf("got %v, want an *InvalidError", err)
		}
		return inv.Detail, nil
	case "ParseSince":
		_, err := ParseSince(in)
		var inv *InvalidSinceError
		if !errors.As(err, &inv) {
			return "", fmt.Errorf("got %v, want an *InvalidSinceError", err)
		}
		if inv.Error() != inv.Detail() {
			return "", fmt.Errorf("Error() %q != Detail() %q", inv.Error(), inv.Detail())
		}
		return inv.Detail(), nil
	case "ParseSeq":
		_, err := ParseSeq(in)
		var inv *InvalidError
		if !errors.As(err, &inv) {
			return "", fmt.Errorf("got %v, want an *InvalidError", err)
		}
		return inv.Detail, nil
	}
	panic(fn)
}

func TestErrors(t *testing.T) {
	var out bytes.Buffer
	for _, tt := range errorCases {
		t.Run(tt.fn+"/"+tt.name, func(t *testing.T) {
			d, err := detail(tt.fn, tt.in)
			if err != nil {
				t.Fatalf("%s(%.100q): %v", tt.fn, tt.in, err)
			}
			if echo := longestEcho(d, tt.in); echo > maxEcho {
				t.Errorf("Detail repeats %d bytes of the input: %q", echo, d)
			}
			if !utf8.ValidString(d) {
				t.Errorf("Detail is not valid UTF-8: %q", d)
			}
			in := tt.in
			if len(in) > 120 {
				in = fmt.Sprintf("%s…(%d bytes)", in[:60], len(in))
			}
			fmt.Fprintf(&out, "%s %s: %q\n\t%s\n", tt.fn, tt.name, in, d)
		})
	}
	golden(t, "errors.golden", out.Bytes())
}

// longestEcho is the length of the longest substring of in found in d, for
// inputs made of repeats (a rough but sufficient check).
func longestEcho(d, in string) int {
	lo, hi := 0, len(in)
	for lo < hi { // the longest prefix of some suffix would be exact; prefixes suffice here
		mid := (lo + hi + 1) / 2
		if strings.Contains(d, in[:mid]) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

func TestParseLastEventID(t *testing.T) {
	const realID = `[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":1631630383001},{"topic":"codfw.mediawiki.recentchange","partition":0,"offset":-1}]`
	tests := []struct {
		name string
		in   string
		want Resume
	}{
		{"empty", "", Resume{Kind: KindNone}},
		{"spaces", " \t ", Resume{Kind: KindNone}},
		{"ours", `[{"seq":1234567,"timestamp":1712236826001,"epoch":"d0bdaqwt4umt"}]`,
			Resume{Kind: KindID, ID: ID{1234567, 1712236826001, "d0bdaqwt4umt"}}},
		{"ours, other key order and spaces", ` [ { "epoch" : "x-_Y9", "timestamp" : 0, "seq" : 18446744073709551615 } ] `,
			Resume{Kind: KindID, ID: ID{1<<64 - 1, 0, "x-_Y9"}}},
		{"ours, unknown members ignored", `[{"seq":5,"timestamp":6,"epoch":"e","v":2,"x":{"y":[1,{}]}}]`,
			Resume{Kind: KindID, ID: ID{5, 6, "e"}}},
		{"eventstreams 2021", realID, Resume{Kind: KindKafka, Entries: []Entry{
			{Topic: "eqiad.mediawiki.recentchange", Partition: 0, Timestamp: 1631630383001, HasTimestamp: true},
			{Topic: "codfw.mediawiki.recentchange", Partition: 0, Offset: -1, HasOffset: true},
		}}},
		{"eventstreams 2025, codfw active", `[{"topic":"eqiad.mediawiki.recentchange","partition":0,"offset":-1},{"topic":"codfw.mediawiki.recentchange","partition":0,"timestamp":1762467620155}]`,
			Resume{Kind: KindKafka, Entries: []Entry{
				{Topic: "eqiad.mediawiki.recentchange", Partition: 0, Offset: -1, HasOffset: true},
				{Topic: "codfw.mediawiki.recentchange", Partition: 0, Timestamp: 1762467620155, HasTimestamp: true},
			}}},
		{"node-rdkafka key order", `[{"offset":-1,"partition":0,"topic":"codfw.mediawiki.recentchange"}]`,
			Resume{Kind: KindKafka, Entries: []Entry{{Topic: "codfw.mediawiki.recentchange", Offset: -1, HasOffset: true}}}},
		{"offset and timestamp both kept", `[{"topic":"a","partition":3,"offset":-2000,"timestamp":5}]`,
			Resume{Kind: KindKafka, Entries: []Entry{{Topic: "a", Partition: 3, Offset: -2000, HasOffset: true, Timestamp: 5, HasTimestamp: true}}}},
		{"extreme numbers", `[{"topic":"a","partition":2147483647,"offset":-9223372036854775808,"timestamp":9223372036854775807}]`,
			Resume{Kind: KindKafka, Entries: []Entry{{Topic: "a", Partition: 2147483647, Offset: -1 << 63, HasOffset: true, Timestamp: 1<<63 - 1, HasTimestamp: true}}}},
		{"kafka entry, unknown members ignored", `[{"topic":"a","partition":0,"offset":1,"extra":[1,2]}]`,
			Resume{Kind: KindKafka, Entries: []Entry{{Topic: "a", Offset: 1, HasOffset: true}}}},
		{"topic list string", `"eqiad.mediawiki.recentchange,codfw.mediawiki.recentchange"`,
			Resume{Kind: KindKafka, Entries: []Entry{
				{Topic: "eqiad.mediawiki.recentchange", Partition: AllPartitions},
				{Topic: "codfw.mediawiki.recentchange", Partition: AllPartitions},
			}}},
		{"topic array", `["eqiad.mediawiki.recentchange"]`,
			Resume{Kind: KindKafka, Entries: []Entry{{Topic: "eqiad.mediawiki.recentchange", Partition: AllPartitions}}}},
		{"topics and objects mixed", `["a",{"topic":"b","partition":1,"timestamp":2}]`,
			Resume{Kind: KindKafka, Entries: []Entry{
				{Topic: "a", Partition: AllPartitions},
				{Topic: "b", Partition: 1, Timestamp: 2, HasTimestamp: true},
			}}},
		{"256 entries", "[" + strings.Repeat(`"a",`, 255) + `"a"]`, Resume{Kind: KindKafka, Entries: repeatEntry(256)}},
		{"256 names", `"` + strings.Repeat("a,", 255) + `a"`, Resume{Kind: KindKafka, Entries: repeatEntry(256)}},
		{"4096 bytes", `"` + strings.Repeat("a", 4094) + `"`, Resume{Kind: KindKafka, Entries: []Entry{{Topic: strings.Repeat("a", 4094), Partition: AllPartitions}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLastEventID(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func repeatEntry(n int) []Entry {
	es := make([]Entry, n)
	for i := range es {
		es[i] = Entry{Topic: "a", Partition: AllPartitions}
	}
	return es
}

func TestEarliestTimestamp(t *testing.T) {
	eqiad := func(topic string) bool { return strings.HasPrefix(topic, "eqiad.") }
	tests := []struct {
		name   string
		in     string
		keep   func(string) bool
		want   int64
		wantOK bool
	}{
		{"real id: the timestamp entry, minus 1",
			`[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":1631630383001},{"topic":"codfw.mediawiki.recentchange","partition":0,"offset":-1}]`,
			nil, 1631630383000, true},
		{"minimum across entries",
			`[{"topic":"eqiad.x","partition":0,"timestamp":300},{"topic":"eqiad.x","partition":1,"timestamp":101},{"topic":"codfw.x","partition":0,"timestamp":200}]`,
			nil, 100, true},
		{"keep filters topics",
			`[{"topic":"eqiad.x","partition":0,"timestamp":300},{"topic":"codfw.x","partition":0,"timestamp":200}]`,
			eqiad, 299, true},
		{"no accepted entry has a timestamp",
			`[{"topic":"eqiad.x","partition":0,"offset":5},{"topic":"codfw.x","partition":0,"timestamp":200}]`,
			eqiad, 0, false},
		{"offsets only", `[{"topic":"a","partition":0,"offset":-1}]`, nil, 0, false},
		{"topic list", `"a,b"`, nil, 0, false},
		{"timestamp 0 stays at 0", `[{"topic":"a","partition":0,"timestamp":0}]`, nil, 0, true},
		{"ours: timestamp minus 1, keep ignored", `[{"seq":9,"timestamp":1712236826001,"epoch":"e"}]`,
			func(string) bool { return false }, 1712236826000, true},
		{"ours: timestamp 0", `[{"seq":9,"timestamp":0,"epoch":"e"}]`, nil, 0, true},
		{"none", ``, nil, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseLastEventID(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := r.EarliestTimestamp(tt.keep)
			if got != tt.want || ok != tt.wantOK {
				t.Fatalf("got %d, %v; want %d, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindNone: "none", KindID: "id", KindKafka: "kafka", 9: "Kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("%d: got %q, want %q", k, got, want)
		}
	}
}

func FuzzParseLastEventID(f *testing.F) {
	for _, id := range ids {
		f.Add(id.id.String())
	}
	for _, c := range errorCases {
		if c.fn == "ParseLastEventID" {
			f.Add(c.in)
		}
	}
	f.Add(`[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":1631630383001},{"topic":"codfw.mediawiki.recentchange","partition":0,"offset":-1}]`)
	f.Add(`"a,b"`)
	f.Add(`[{"seq":1,"timestamp":2,"epoch":"e","x":[{"seq":2}]}]`)
	f.Fuzz(func(t *testing.T, in string) {
		r, err := ParseLastEventID(in)
		if err != nil {
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("%T is not an *InvalidError", err)
			}
			if len(inv.Detail) > 200 {
				t.Fatalf("Detail too long: %q", inv.Detail)
			}
			return
		}
		switch r.Kind {
		case KindNone:
			if strings.Trim(in, " \t") != "" {
				t.Fatalf("%q parsed as none", in)
			}
		case KindID:
			if err := r.ID.Validate(); err != nil {
				t.Fatalf("%q parsed to an invalid id %+v: %v", in, r.ID, err)
			}
			again, err := ParseLastEventID(string(r.ID.AppendJSON(nil)))
			if err != nil || again.Kind != KindID || again.ID != r.ID {
				t.Fatalf("%q → %+v → %s → %+v, %v", in, r.ID, r.ID, again, err)
			}
		case KindKafka:
			if len(r.Entries) == 0 || len(r.Entries) > MaxEntries {
				t.Fatalf("%q gave %d entries", in, len(r.Entries))
			}
			for _, e := range r.Entries {
				if e.Topic == "" || e.Partition < AllPartitions || e.HasTimestamp && e.Timestamp < 0 {
					t.Fatalf("%q gave a bad entry %+v", in, e)
				}
			}
			if ms, ok := r.EarliestTimestamp(nil); ok && ms < 0 {
				t.Fatalf("%q: EarliestTimestamp = %d", in, ms)
			}
		default:
			t.Fatalf("%q: kind %v", in, r.Kind)
		}
	})
}

func BenchmarkAppendJSON(b *testing.B) {
	id := ID{Seq: 1234567, Timestamp: 1712236826001, Epoch: "d0bdaqwt4umt"}
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		buf = id.AppendJSON(buf[:0])
	}
}
