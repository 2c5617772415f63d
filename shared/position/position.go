package position

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxEpochLen bounds an epoch token. NewEpoch makes at most 13 bytes.
const MaxEpochLen = 64

// maxEcho bounds how much of a client's input an error repeats.
const maxEcho = 100

// ID is the position of one event in the JetStream stream, and what serve
// writes as the SSE id of that event.
type ID struct {
	// Seq is the JetStream stream sequence of the event, ≥ 1.
	Seq uint64
	// Timestamp is the event's Kafka timestamp in ms since the epoch plus
	// one, as in EventStreams' ids: the first millisecond after the event.
	Timestamp int64
	// Epoch names the JetStream stream instance the sequence belongs to;
	// see NewEpoch and ValidEpoch.
	Epoch string
}

// AppendJSON appends the id's wire form to dst and returns the extended
// buffer:
//
//	[{"seq":1234567,"timestamp":1712236826001,"epoch":"d0bdaqwt4umt"}]
//
// It does not allocate beyond growing dst. It does not validate either: the
// caller writes valid ids (see Validate). So that the output is always one
// line of valid JSON, safe in an SSE id field, any byte of Epoch outside
// [A-Za-z0-9_-] is written as '_'; such an id does not parse back to
// itself.
func (id ID) AppendJSON(dst []byte) []byte {
	dst = append(dst, `[{"seq":`...)
	dst = strconv.AppendUint(dst, id.Seq, 10)
	dst = append(dst, `,"timestamp":`...)
	dst = strconv.AppendInt(dst, id.Timestamp, 10)
	dst = append(dst, `,"epoch":"`...)
	for i := 0; i < len(id.Epoch); i++ {
		c := id.Epoch[i]
		if !epochByte(c) {
			c = '_'
		}
		dst = append(dst, c)
	}
	return append(dst, `"}]`...)
}

// String returns the wire form written by AppendJSON.
func (id ID) String() string {
	var buf [96]byte
	return string(id.AppendJSON(buf[:0]))
}

// Validate reports whether ParseLastEventID accepts the id's wire form: Seq
// ≥ 1, Timestamp ≥ 0 and a valid Epoch. The error is an *InvalidError.
func (id ID) Validate() error {
	switch {
	case id.Seq == 0:
		return invalid("Last-Event-ID: seq must be an integer ≥ 1")
	case id.Timestamp < 0:
		return invalid("Last-Event-ID: timestamp must be a non-negative integer")
	case !ValidEpoch(id.Epoch):
		return invalid(errEpoch)
	}
	return nil
}

const errEpoch = "Last-Event-ID: epoch must be a string of 1 to 64 characters from A-Z, a-z, 0-9, '_' and '-'"

// NewEpoch derives the epoch token of a JetStream stream from its creation
// time: the base-36 form of its Unix time in nanoseconds (for example
// "d0bdaqwt4umt" for 2024-04-04T13:20:26.123456789Z). The same time always
// gives the same token, so every serve replica that reads the stream's
// info agrees on it without coordination, and a re-created stream (same
// name, sequences restarting at 1) gets another one.
func NewEpoch(created time.Time) string {
	return strconv.FormatUint(uint64(created.UnixNano()), 36)
}

// ValidEpoch reports whether s is a usable epoch: 1 to MaxEpochLen bytes of
// [A-Za-z0-9_-].
func ValidEpoch(s string) bool {
	if len(s) == 0 || len(s) > MaxEpochLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !epochByte(s[i]) {
			return false
		}
	}
	return true
}

func epochByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// InvalidError is returned for a Last-Event-ID header or a seq parameter
// that cannot be a position. The request should be answered 400.
type InvalidError struct {
	// Detail says precisely what is wrong, naming the header or parameter,
	// in words a 400 body can show verbatim. It never repeats more than 100
	// bytes of the client's input. Entries of a Last-Event-ID array are
	// counted from 0.
	Detail string
}

func (e *InvalidError) Error() string { return e.Detail }

func invalid(detail string) *InvalidError { return &InvalidError{Detail: detail} }

// maxSeqDigits is the length of the largest uint64, 18446744073709551615.
const maxSeqDigits = 20

// ParseSeq parses the value of ?seq=: the JetStream sequence to start at,
// inclusive. It is an integer ≥ 1 of at most 20 decimal digits that fits in
// a uint64; surrounding spaces are trimmed. An empty value is an error: the
// caller treats an empty seq as absent before calling. Errors are
// *InvalidError and quote the value (at most 100 bytes of it).
func ParseSeq(s string) (uint64, error) {
	v := strings.TrimSpace(s)
	if v == "" || len(v) > maxSeqDigits || !allDigits(v) {
		return 0, invalid("seq must be an integer ≥ 1 with at most 20 digits: '" + clip(s) + "'")
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, invalid("seq is larger than 18446744073709551615: '" + clip(s) + "'")
	}
	if n == 0 {
		return 0, invalid("seq must be an integer ≥ 1 with at most 20 digits: '" + clip(s) + "'")
	}
	return n, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// clip returns at most maxEcho bytes of s, cut at a UTF-8 boundary when s is
// valid UTF-8.
func clip(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	n := maxEcho
	for n > maxEcho-utf8.UTFMax && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
