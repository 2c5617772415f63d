package position

import (
	"strconv"
	"strings"
	"time"
)

// maxSinceDigits bounds an integer since: 16 digits reach the year 318857.
const maxSinceDigits = 16

// InvalidSinceError is returned for a since value that is not a time. The
// request should be answered 400 with type invalid_timestamp, title
// "Invalid timestamp" and Detail() as the detail, as EventStreams does.
type InvalidSinceError struct {
	// Value is the since value as received, cut to at most 100 bytes.
	Value string
}

// Detail is EventStreams' text for this error, word for word.
func (e *InvalidSinceError) Detail() string {
	return "since timestamp is not a UTC milliseconds unix epoch and was not parseable: '" + e.Value + "'"
}

func (e *InvalidSinceError) Error() string { return e.Detail() }

// ParseSince parses the value of ?since= and returns the time to start
// from, inclusive, in ms since the epoch: the caller delivers every event
// whose Kafka timestamp is ≥ ms. Surrounding white space is trimmed, then
// the value is one of:
//
//   - an integer number of milliseconds since the epoch: 1 to 16 digits,
//     nothing else (no sign, no exponent, no 0x). A bare number is always
//     milliseconds, even "2019";
//   - ISO 8601 / RFC 3339: 2019-01-01T00:00:00Z, with or without fractional
//     seconds (cut to the millisecond), with Z or a numeric offset (+02:00
//     or +0200), without seconds (2019-01-01T00:00Z), or without an offset;
//     a space or a lower-case t may separate date and time. The date alone
//     (2019-01-01) or year and month (2019-01) mean UTC midnight;
//   - RFC 1123 / RFC 2822: Tue, 01 Jan 2019 00:00:00 GMT, Tue, 1 Jan 2019
//     00:00:00 +0000, with or without the weekday and the seconds. The zone
//     is a numeric offset, GMT, UT, UTC, Z, or one of RFC 2822's US zones
//     (EST, EDT, CST, CDT, MST, MDT, PST, PDT); other names are rejected
//     rather than guessed.
//
// A time without an offset is UTC. EventStreams (Date.parse) took it as the
// server's local time, which is UTC in production.
//
// Unlike EventStreams, an integer since really means that time (there it
// probably replayed the whole retention: quirk Q1 in shared/ARCHITECTURE.md
// "Quirks"). Textual times before 1970
// give a negative ms, which the caller can treat as "from the oldest".
//
// Anything else, and an empty value, is an *InvalidSinceError. The caller
// treats an empty since (?since=) as absent before calling, as EventStreams
// does.
func ParseSince(s string) (ms int64, err error) {
	v := strings.TrimSpace(s)
	switch {
	case v == "":
	case allDigits(v):
		if len(v) <= maxSinceDigits {
			n, err := strconv.ParseInt(v, 10, 64)
			if err == nil {
				return n, nil
			}
		}
	default:
		if t, ok := parseTime(v); ok {
			return t.UnixMilli(), nil
		}
	}
	return 0, &InvalidSinceError{Value: clip(s)}
}

func parseTime(v string) (time.Time, bool) {
	if len(v) >= 7 && allDigits(v[:4]) && v[4] == '-' {
		return parseISO(v)
	}
	return parseRFC2822(v)
}

var isoLayouts = [...]string{
	"2006-01-02T15:04:05Z07:00", // fractional seconds are accepted after :05
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04Z0700",
	"2006-01-02T15:04",
	"2006-01-02",
	"2006-01",
}

func parseISO(v string) (time.Time, bool) {
	if len(v) > 10 && (v[10] == ' ' || v[10] == 't') {
		v = v[:10] + "T" + v[11:]
	}
	if strings.HasSuffix(v, "z") {
		v = v[:len(v)-1] + "Z"
	}
	for _, layout := range isoLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// rfc2822Zones are the zone names RFC 2822 §4.3 defines, plus UTC and Z.
var rfc2822Zones = map[string]string{
	"GMT": "+0000", "UT": "+0000", "UTC": "+0000", "Z": "+0000",
	"EST": "-0500", "EDT": "-0400",
	"CST": "-0600", "CDT": "-0500",
	"MST": "-0700", "MDT": "-0600",
	"PST": "-0800", "PDT": "-0700",
}

var rfc2822Layouts = [...]string{
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04 -0700",
	"Mon, 2 Jan 2006 15:04:05",
	"Mon, 2 Jan 2006 15:04",
	"2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04 -0700",
	"2 Jan 2006 15:04:05",
	"2 Jan 2006 15:04",
}

func parseRFC2822(v string) (time.Time, bool) {
	f := strings.Fields(v)
	if len(f) < 4 || len(f) > 6 {
		return time.Time{}, false
	}
	if off, ok := rfc2822Zones[strings.ToUpper(f[len(f)-1])]; ok {
		f[len(f)-1] = off
	}
	v = strings.Join(f, " ")
	for _, layout := range rfc2822Layouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
