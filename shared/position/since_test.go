package position

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSince(t *testing.T) {
	const jan1 = 1546300800000 // 2019-01-01T00:00:00Z
	tests := []struct {
		in   string
		want int64
	}{
		{"1546300800000", jan1},
		{"0", 0},
		{"1527861924658", 1527861924658},
		{" 123 ", 123},
		{"2019", 2019}, // a bare number is always milliseconds
		{"9999999999999999", 9999999999999999},
		{"2019-01-01T00:00:00Z", jan1},
		{"2019-01-01T00:00:00z", jan1},
		{"2019-01-01t00:00:00Z", jan1},
		{"2019-01-01 00:00:00Z", jan1},
		{"2019-01-01T00:00:00.123Z", jan1 + 123},
		{"2019-01-01T00:00:00.123456789Z", jan1 + 123},
		{"2019-01-01T00:00:00,5Z", jan1 + 500},
		{"2019-01-01T00:00:00+02:00", jan1 - 2*3600000},
		{"2019-01-01T00:00:00-0130", jan1 + 90*60000},
		{"2019-01-01T00:00:00.250+02:00", jan1 - 2*3600000 + 250},
		{"2019-01-01T00:00Z", jan1},
		{"2019-01-01T00:00+01:00", jan1 - 3600000},
		{"2019-01-01T00:00:00", jan1},
		{"2019-01-01T00:00:00.5", jan1 + 500},
		{"2019-01-01T00:00", jan1},
		{"2019-01-01", jan1},
		{"2019-01", jan1},
		{"  2019-01-01T00:00:00Z\t", jan1},
		{"Tue, 01 Jan 2019 00:00:00 GMT", jan1},
		{"Tue, 1 Jan 2019 00:00:00 +0000", jan1},
		{"tue, 01 jan 2019 00:00:00 gmt", jan1},
		{"Tue, 01 Jan 2019 00:00:00 UTC", jan1},
		{"Tue, 01 Jan 2019 00:00:00 UT", jan1},
		{"Tue, 01 Jan 2019 00:00:00 Z", jan1},
		{"Mon, 31 Dec 2018 19:00:00 EST", jan1},
		{"Mon, 31 Dec 2018 16:00:00 PST", jan1},
		{"Tue, 01 Jan 2019 02:00:00 +0200", jan1},
		{"Tue, 01 Jan 2019 00:00 GMT", jan1},
		{"Tue, 01 Jan 2019 00:00:00", jan1},
		{"01 Jan 2019 00:00:00 GMT", jan1},
		{"1 Jan 2019 00:00 +0000", jan1},
		{"Tue,  1  Jan 2019  00:00:00  GMT", jan1},
		{"1969-12-31", -86400000},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSince(tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("ParseSince(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseSinceRejected(t *testing.T) {
	for _, in := range []string{
		"", "  ", "yesterday", "now", "0x10", "1e12", "-1", "+1", "1.5", "12345678901234567",
		"2019-13-01", "2019-02-30", "2019-01-01T25:00:00Z", "2019-01-01T00:00:00+02",
		"2019-1-1", "2019-01-01T00:00:00Zjunk", "Tue, 01 Jan 2019 00:00:00 CET",
		"Tue, 01 Jan 2019", "Jan 1 2019", "Tue, 32 Jan 2019 00:00:00 GMT",
		"Tuesday, 01-Jan-19 00:00:00 GMT", "\x00", strings.Repeat("9", 5000),
	} {
		t.Run(in, func(t *testing.T) {
			got, err := ParseSince(in)
			var inv *InvalidSinceError
			if !errors.As(err, &inv) {
				t.Fatalf("ParseSince(%q) = %d, %v; want an *InvalidSinceError", in, got, err)
			}
			if len(inv.Value) > maxEcho || !strings.HasPrefix(in, inv.Value) {
				t.Fatalf("Value = %q", inv.Value)
			}
		})
	}
}

func TestParseSinceDetail(t *testing.T) {
	// The exact body text of EventStreams (shared/ARCHITECTURE.md "Error bodies").
	_, err := ParseSince("yesterday")
	const want = "since timestamp is not a UTC milliseconds unix epoch and was not parseable: 'yesterday'"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}

func FuzzParseSince(f *testing.F) {
	for _, s := range []string{"1546300800000", "2019-01-01T00:00:00.123+02:00", "2019-01-01", "Tue, 01 Jan 2019 00:00:00 GMT", "yesterday", "1e12"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		_, err := ParseSince(in)
		if err == nil {
			return
		}
		var inv *InvalidSinceError
		if !errors.As(err, &inv) || len(inv.Value) > maxEcho {
			t.Fatalf("ParseSince(%q): %v", in, err)
		}
	})
}
