package position

import (
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Fuzz targets for what serve parses from a request, beside
// FuzzParseLastEventID and FuzzParseSince (position_test.go, since_test.go),
// whose extra hostile seeds are in testdata/fuzz. Run one with
//
//	go test ./shared/position -run '^$' -fuzz '^FuzzParseSeq$' -fuzztime 60s

// hostileStrings are inputs every string target is seeded with.
var hostileStrings = []string{
	"", " ", "\t", " \t \t", "\r\n", "\x00", "1\x00", "\x001",
	"\xff\xfe", "\xc3", "\xc3\x28", "é", "１", // invalid UTF-8, a fullwidth digit
	strings.Repeat("\xa7garbage\x00,", 8<<10/10), // 8 KB of garbage
	strings.Repeat("9", 8<<10),
	strings.Repeat("a,", 4<<10),
	"-1", "+1", "0", "-0", "00", " 1", "1 ", "1e3", "0x10", "1.0", "1_000",
	"9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551616",
	"99999999999999999999", "000000000000000000001",
}

func FuzzParseSeq(f *testing.F) {
	for _, s := range hostileStrings {
		f.Add(s)
	}
	for _, s := range []string{"1", "seq=0", "0", "+1", " 1", "1\t", "\v1", "\u00a01", "\u20281", "12345678901234567890", "00000000000000000001"} {
		f.Add(s)
	}
	two64 := new(big.Int).Lsh(big.NewInt(1), 64)
	f.Fuzz(func(t *testing.T, in string) {
		n, err := ParseSeq(in)

		// The oracle: after trimming, 1 to 20 ASCII digits whose value
		// is in [1, 2^64-1].
		v := strings.TrimSpace(in)
		want, wantOK := new(big.Int), false
		if v != "" && len(v) <= maxSeqDigits && strings.Trim(v, "0123456789") == "" {
			want.SetString(v, 10)
			wantOK = want.Sign() > 0 && want.Cmp(two64) < 0
		}
		if err == nil {
			if !wantOK || want.Uint64() != n {
				t.Fatalf("ParseSeq(%q) = %d; the oracle says %v, %v", in, n, want, wantOK)
			}
			if again, err := ParseSeq(strconv.FormatUint(n, 10)); err != nil || again != n {
				t.Fatalf("ParseSeq(%q) = %d, but ParseSeq(%d) = %d, %v", in, n, n, again, err)
			}
			return
		}
		if wantOK {
			t.Fatalf("ParseSeq(%q): %v; the oracle accepts %v", in, err, want)
		}
		var inv *InvalidError
		if !errors.As(err, &inv) {
			t.Fatalf("ParseSeq(%q): %T is not an *InvalidError", in, err)
		}
		// "<text>: '<at most 100 bytes of the value>'"
		_, quoted, ok := strings.Cut(inv.Detail, ": '")
		if !ok || !strings.HasSuffix(quoted, "'") || !strings.HasPrefix(inv.Detail, "seq ") {
			t.Fatalf("ParseSeq(%q): Detail %q is not of the form \"seq …: '<value>'\"", in, inv.Detail)
		}
		quoted = quoted[:len(quoted)-1]
		if len(quoted) > maxEcho || !strings.HasPrefix(in, quoted) || len(in) <= maxEcho && quoted != in {
			t.Fatalf("ParseSeq(%q): Detail %q does not quote the value cut to %d bytes", in, inv.Detail, maxEcho)
		}
	})
}

// FuzzIDRoundTrip: the wire form of any ID is one line of valid JSON, and
// it parses back to the ID exactly when the ID is valid (with its epoch's
// bad bytes replaced otherwise).
func FuzzIDRoundTrip(f *testing.F) {
	f.Add(uint64(1234567), int64(1712236826001), "d0bdaqwt4umt")
	f.Add(uint64(1), int64(0), "a")
	f.Add(uint64(math.MaxUint64), int64(math.MaxInt64), strings.Repeat("Zz09_-", 10)+"abcd")
	f.Add(uint64(math.MaxUint64), int64(0), "x")
	f.Add(uint64(47305), int64(math.MaxInt64), "ZZZZZZZZZZZZ")
	f.Add(uint64(0), int64(-1), "")
	f.Add(uint64(2), int64(math.MinInt64), "a\"b\n\r\x00é\xff")
	f.Add(uint64(3), int64(4), strings.Repeat("e", MaxEpochLen+1))
	f.Add(uint64(5), int64(6), "</script>")
	f.Fuzz(func(t *testing.T, seq uint64, ts int64, epoch string) {
		id := ID{Seq: seq, Timestamp: ts, Epoch: epoch}
		wire := id.AppendJSON([]byte("prefix"))
		if !strings.HasPrefix(string(wire), "prefix") {
			t.Fatalf("AppendJSON overwrote its dst: %q", wire)
		}
		wire = wire[len("prefix"):]
		if s := id.String(); s != string(wire) {
			t.Fatalf("String() = %q, AppendJSON = %q", s, wire)
		}
		if !json.Valid(wire) || strings.ContainsAny(string(wire), "\r\n\x00") {
			t.Fatalf("%+v: wire form %q is not one line of valid JSON", id, wire)
		}

		r, err := ParseLastEventID(string(wire))
		valid := id.Validate() == nil
		parses := seq >= 1 && ts >= 0 && len(epoch) >= 1 && len(epoch) <= MaxEpochLen
		switch {
		case parses && err != nil:
			t.Fatalf("%+v: %s does not parse: %v", id, wire, err)
		case !parses && err == nil:
			t.Fatalf("%+v: %s parses to %+v", id, wire, r)
		case !parses:
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("%s: %T is not an *InvalidError", wire, err)
			}
			if (id.Validate() == nil) != (err == nil) {
				t.Fatalf("%+v: Validate() = %v, parse: %v", id, id.Validate(), err)
			}
		case r.Kind != KindID || r.ID.Seq != seq || r.ID.Timestamp != ts || len(r.ID.Epoch) != len(epoch) || !ValidEpoch(r.ID.Epoch):
			t.Fatalf("%+v → %s → %+v", id, wire, r)
		case valid && r.ID != id:
			t.Fatalf("a valid id %+v → %s → %+v", id, wire, r.ID)
		case !valid && r.ID.String() != string(wire):
			t.Fatalf("%+v → %s → %+v, written %s", id, wire, r.ID, r.ID)
		}

		// The fallback time of an id is never negative, whatever the id.
		ms, ok := Resume{Kind: KindID, ID: id}.EarliestTimestamp(nil)
		if !ok || ms < 0 || ts >= 0 && ms != max(ts-1, 0) {
			t.Fatalf("%+v: EarliestTimestamp = %d, %v", id, ms, ok)
		}
	})
}

// hostileLastEventIDs are Last-Event-ID values from real clients and from
// attacks; the API's fuzz target has them too.
var hostileLastEventIDs = []string{
	`[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":9223372036854775807}]`,
	`[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":9223372036854775808}]`,
	`[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":0}]`,
	`[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":1},{"topic":"codfw.mediawiki.recentchange","partition":0,"offset":-1}]`,
	`[{"topic":"eqiad.mediawiki.recentchange","partition":2147483647,"offset":-9223372036854775808}]`,
	`[{"topic":"eqiad.mediawiki.recentchange","partition":-1,"timestamp":1}]`,
	`[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":-1}]`,
	`[{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":1e3}]`,
	`[{"epoch":"ZZZZZZZZZZZZ","seq":47305,"timestamp":9223372036854775807}]`,
	`[{"seq":18446744073709551615,"timestamp":0,"epoch":"x"}]`,
	`[{"seq":18446744073709551616,"timestamp":0,"epoch":"x"}]`,
	`[{"seq":0,"timestamp":0,"epoch":"x"}]`,
	`[{"seq":1,"timestamp":0,"epoch":"x","seq":2}]`,
	`[{"seq":1,"timestamp":0,"epoch":"x"},{"seq":1,"timestamp":0,"epoch":"x"}]`,
	`[{"seq":1,"timestamp":0,"epoch":"x\u0000"}]`,
	`"eqiad.mediawiki.recentchange,codfw.mediawiki.recentchange"`,
	`",,"`, `""`, `[]`, `[[]]`, `{}`, `null`, `0`, `[""]`, `[null]`,
	"[" + strings.Repeat(`"a",`, MaxEntries) + `"a"]`,
	`"` + strings.Repeat("a,", MaxEntries) + `a"`,
	strings.Repeat("[", 2000) + strings.Repeat("]", 2000),
	`[{"topic":"a","partition":0,"timestamp":1,"x":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}]`,
	"[{\"topic\":\"\xff\",\"partition\":0,\"timestamp\":1}]",
	"\x00", " [{\"seq\":1,\"timestamp\":0,\"epoch\":\"x\"}] \n",
}

// FuzzEarliestTimestamp: the resume time of any accepted Last-Event-ID is
// the oldest accepted timestamp minus 1 ms, never below 0.
func FuzzEarliestTimestamp(f *testing.F) {
	for _, h := range append(append([]string{}, hostileLastEventIDs...), hostileStrings...) {
		f.Add(h, "")
		f.Add(h, "eqiad.")
	}
	f.Fuzz(func(t *testing.T, in, keepPrefix string) {
		r, err := ParseLastEventID(in)
		if err != nil {
			return // FuzzParseLastEventID checks the errors
		}
		keep := func(topic string) bool { return strings.HasPrefix(topic, keepPrefix) }
		ms, ok := r.EarliestTimestamp(keep)
		want, wantOK := int64(0), false
		switch r.Kind {
		case KindID:
			want, wantOK = max(r.ID.Timestamp-1, 0), true
		case KindKafka:
			for _, e := range r.Entries {
				if e.HasTimestamp && keep(e.Topic) && (!wantOK || e.Timestamp-1 < want) {
					want, wantOK = e.Timestamp-1, true
				}
			}
			want = max(want, 0)
		}
		if ms < 0 || ms != want || ok != wantOK {
			t.Fatalf("%q, keep %q: EarliestTimestamp = %d, %v; want %d, %v", in, keepPrefix, ms, ok, want, wantOK)
		}
		if ms2, ok2 := r.EarliestTimestamp(nil); ms2 < 0 || ok && !ok2 || ok2 && ok && ms2 > ms {
			t.Fatalf("%q: keep-all EarliestTimestamp = %d, %v; with keep %d, %v", in, ms2, ok2, ms, ok)
		}
	})
}

// hostileSinces are since values from real clients and from attacks.
var hostileSinces = []string{
	"0000-01-01T00:00:00Z", "0000-01-01", "-1", "-0", "+1", "99999999999999999999", "9999999999999999", "10000000000000000",
	"9999-12-31T23:59:59Z", "9999-12-31T23:59:59.999999999-23:59", "0000-01-01T00:00:00+23:59",
	"2019-01-01T00:00:00Z", "2019-01-01T24:00:00Z", "2019-02-30", "2019-13", "2019-01-01T00:00:00+99:99",
	"Tue, 01 Jan 2019 00:00:00 GMT", "Tue, 01 Jan 2019 00:00:00 CEST", "Mon, 31 Dec 9999 23:59:59 -2359",
	"1 Jan 0000 00:00 +2359", "yesterday", "now", "1e12", "0x10", "2019-01-01T00:00:00Z\x00",
}

// FuzzSinceRoundTrip: an accepted since names a time that its integer and
// RFC 3339 forms name too, and surrounding spaces do not matter; a rejected
// one quotes at most 100 bytes of the value.
func FuzzSinceRoundTrip(f *testing.F) {
	for _, s := range append(append([]string{}, hostileSinces...), hostileStrings...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ms, err := ParseSince(in)
		ms2, err2 := ParseSince(" \t" + in + "\n ")
		if (err == nil) != (err2 == nil) || ms != ms2 {
			t.Fatalf("ParseSince(%q) = %d, %v; with spaces around: %d, %v", in, ms, err, ms2, err2)
		}
		if err != nil {
			var inv *InvalidSinceError
			if !errors.As(err, &inv) {
				t.Fatalf("ParseSince(%q): %T is not an *InvalidSinceError", in, err)
			}
			if len(inv.Value) > maxEcho || !strings.HasPrefix(in, inv.Value) || len(in) <= maxEcho && inv.Value != in ||
				inv.Error() != inv.Detail() || !strings.HasSuffix(inv.Detail(), "'"+inv.Value+"'") {
				t.Fatalf("ParseSince(%q): Value %q, Detail %q", in, inv.Value, inv.Detail())
			}
			return
		}
		if v := strings.TrimSpace(in); v != "" && strings.Trim(v, "0123456789") == "" {
			if n, err := strconv.ParseInt(v, 10, 64); err != nil || n != ms || len(v) > maxSinceDigits {
				t.Fatalf("ParseSince(%q) = %d, an integer of %d digits", in, ms, len(v))
			}
		}
		if ms >= 0 && ms < 1e16 {
			if again, err := ParseSince(strconv.FormatInt(ms, 10)); err != nil || again != ms {
				t.Fatalf("ParseSince(%q) = %d, but ParseSince(\"%d\") = %d, %v", in, ms, ms, again, err)
			}
		}
		tm := time.UnixMilli(ms).UTC()
		if y := tm.Year(); y >= 0 && y <= 9999 {
			for _, s := range []string{tm.Format("2006-01-02T15:04:05.000Z07:00"), tm.Format("2006-01-02 15:04:05.000-0700")} {
				if again, err := ParseSince(s); err != nil || again != ms {
					t.Fatalf("ParseSince(%q) = %d, but ParseSince(%q) = %d, %v", in, ms, s, again, err)
				}
			}
		}
	})
}
