package position

import (
	"encoding/json"
	"io"
	"math"
	"strconv"
	"strings"
)

// Bounds on a Last-Event-ID header. Real EventStreams ids hold one entry per
// topic-partition of the requested streams: two for most streams.
const (
	MaxHeaderLen = 4096
	MaxEntries   = 256
)

// ParseLastEventID parses a Last-Event-ID header value. It accepts:
//
//   - "" (or only spaces and tabs): KindNone, no error;
//   - our id, a JSON array of exactly one object with seq (integer ≥ 1),
//     timestamp (integer ≥ 0) and epoch (see ValidEpoch): KindID;
//   - EventStreams' ids, a non-empty JSON array of objects, each with topic
//     (non-empty string), partition (integer ≥ 0) and offset (integer)
//     and/or timestamp (integer ≥ 0), in any key order: KindKafka;
//   - KafkaSSE's topic lists, a JSON string "a,b" or an array of topic-name
//     strings (which may be mixed with objects, as KafkaSSE allows):
//     KindKafka, entries with AllPartitions and no time.
//
// An object is ours when it has a seq or epoch member; other unknown
// members are ignored, duplicated known members are an error. Numbers must
// be written as JSON integers: 1.0, 1e3 and "3" are rejected, and so are
// integers that do not fit the field (64 bits; 31 for partition).
//
// Anything else is an *InvalidError. Headers longer than MaxHeaderLen bytes
// or with more than MaxEntries entries are rejected before any work
// proportional to their content.
func ParseLastEventID(h string) (Resume, error) {
	if len(h) > MaxHeaderLen {
		return Resume{}, invalid(errTooLong)
	}
	if strings.Trim(h, " \t") == "" {
		return Resume{Kind: KindNone}, nil
	}
	if !json.Valid([]byte(h)) {
		return Resume{}, invalid(errNotJSON)
	}
	dec := json.NewDecoder(strings.NewReader(h))
	dec.UseNumber()
	r, err := parseValue(dec)
	if err != nil {
		return Resume{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		// json.Valid has checked there is one value; be safe anyway.
		return Resume{}, invalid(errNotJSON)
	}
	return r, nil
}

// Detail texts used in more than one place. The numbers are MaxHeaderLen
// and MaxEntries.
const (
	errNotJSON   = "Last-Event-ID is not JSON"
	errNotArray  = "Last-Event-ID must be a non-empty array"
	errTooLong   = "Last-Event-ID is longer than 4096 bytes"
	errTooMany   = "Last-Event-ID has more than 256 entries"
	errOursAlone = "Last-Event-ID: an id with seq or epoch must be an array of exactly one object"
)

func parseValue(dec *json.Decoder) (Resume, error) {
	tok, err := dec.Token()
	if err != nil {
		return Resume{}, invalid(errNotJSON)
	}
	switch v := tok.(type) {
	case string:
		return parseTopicList(v)
	case json.Delim:
		if v == '[' {
			return parseArray(dec)
		}
	}
	return Resume{}, invalid(errNotArray)
}

// parseTopicList parses KafkaSSE's comma-separated form.
func parseTopicList(s string) (Resume, error) {
	if s == "" {
		return Resume{}, invalid("Last-Event-ID: the topic list is empty")
	}
	if strings.Count(s, ",") >= MaxEntries {
		return Resume{}, invalid(errTooMany)
	}
	names := strings.Split(s, ",")
	r := Resume{Kind: KindKafka, Entries: make([]Entry, 0, len(names))}
	for i, name := range names {
		if name == "" {
			return Resume{}, invalid("Last-Event-ID: topic " + strconv.Itoa(i) + " of the topic list is empty")
		}
		r.Entries = append(r.Entries, Entry{Topic: name, Partition: AllPartitions})
	}
	return r, nil
}

func parseArray(dec *json.Decoder) (Resume, error) {
	var r Resume
	for i := 0; dec.More(); i++ {
		if i == MaxEntries {
			return Resume{}, invalid(errTooMany)
		}
		tok, err := dec.Token()
		if err != nil {
			return Resume{}, invalid(errNotJSON)
		}
		switch v := tok.(type) {
		case string:
			if v == "" {
				return Resume{}, fieldErr(i, "topic name is empty")
			}
			r.Entries = append(r.Entries, Entry{Topic: v, Partition: AllPartitions})
			continue
		case json.Delim:
			if v == '{' {
				break
			}
			return Resume{}, fieldErr(i, "must be an object or a topic name string")
		default:
			return Resume{}, fieldErr(i, "must be an object or a topic name string")
		}
		o, err := readObject(dec, i)
		if err != nil {
			return Resume{}, err
		}
		if o.ours() {
			if i > 0 || dec.More() {
				return Resume{}, invalid(errOursAlone)
			}
			id, err := o.id()
			if err != nil {
				return Resume{}, err
			}
			if _, err := dec.Token(); err != nil { // the closing ']'
				return Resume{}, invalid(errNotJSON)
			}
			return Resume{Kind: KindID, ID: id}, nil
		}
		e, err := o.entry(i)
		if err != nil {
			return Resume{}, err
		}
		r.Entries = append(r.Entries, e)
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return Resume{}, invalid(errNotJSON)
	}
	if len(r.Entries) == 0 {
		return Resume{}, invalid(errNotArray)
	}
	r.Kind = KindKafka
	return r, nil
}

func fieldErr(i int, msg string) *InvalidError {
	return invalid("Last-Event-ID: entry " + strconv.Itoa(i) + ": " + msg)
}

// Members an object may have. Values are the scalar tokens of the decoder:
// json.Number, string, bool or nil; present tells null from absent.
const (
	mSeq = iota
	mEpoch
	mTimestamp
	mTopic
	mPartition
	mOffset
	nMembers
)

var memberNames = [nMembers]string{"seq", "epoch", "timestamp", "topic", "partition", "offset"}

type object struct {
	present [nMembers]bool
	value   [nMembers]any
}

func (o *object) ours() bool { return o.present[mSeq] || o.present[mEpoch] }

// readObject reads the members of an object whose '{' has been read, up to
// and including its '}'. Unknown members are skipped whatever their value.
func readObject(dec *json.Decoder, i int) (*object, error) {
	var o object
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, invalid(errNotJSON)
		}
		key, _ := tok.(string)
		m := memberIndex(key)
		tok, err = dec.Token()
		if err != nil {
			return nil, invalid(errNotJSON)
		}
		d, nested := tok.(json.Delim)
		if m < 0 {
			if nested {
				if err := skip(dec); err != nil {
					return nil, err
				}
			}
			continue
		}
		if o.present[m] {
			return nil, fieldErr(i, "duplicate member "+strconv.Quote(memberNames[m]))
		}
		if nested {
			// An invalid value; say which once the object's kind is known.
			tok = d
			if err := skip(dec); err != nil {
				return nil, err
			}
		}
		o.present[m], o.value[m] = true, tok
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, invalid(errNotJSON)
	}
	return &o, nil
}

func memberIndex(key string) int {
	for m, name := range memberNames {
		if key == name {
			return m
		}
	}
	return -1
}

// skip reads the rest of a nested value whose opening delimiter was read.
// The input is bounded by MaxHeaderLen, and the decoder keeps no recursion.
func skip(dec *json.Decoder) error {
	depth := 1
	for depth > 0 {
		tok, err := dec.Token()
		if err != nil {
			return invalid(errNotJSON)
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '[' || d == '{' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

// The fields' rules, also used in Detail texts.
const (
	ruleSeq       = "seq must be an integer ≥ 1"
	ruleTimestamp = "timestamp must be a non-negative integer"
	rulePartition = "partition must be a non-negative integer"
	ruleOffset    = "offset must be an integer"
)

func (o *object) id() (ID, error) {
	var id ID
	if !o.present[mSeq] {
		return ID{}, invalid("Last-Event-ID: seq is missing")
	}
	lit, ok := integer(o.value[mSeq])
	if !ok || lit[0] == '-' {
		return ID{}, invalid("Last-Event-ID: " + ruleSeq)
	}
	seq, err := strconv.ParseUint(lit, 10, 64)
	switch {
	case err != nil:
		return ID{}, invalid("Last-Event-ID: seq is larger than 18446744073709551615")
	case seq == 0:
		return ID{}, invalid("Last-Event-ID: " + ruleSeq)
	}
	id.Seq = seq

	if !o.present[mTimestamp] {
		return ID{}, invalid("Last-Event-ID: timestamp is missing")
	}
	ts, msg := nonNegative(o.value[mTimestamp], ruleTimestamp, "timestamp", math.MaxInt64)
	if msg != "" {
		return ID{}, invalid("Last-Event-ID: " + msg)
	}
	id.Timestamp = ts

	if !o.present[mEpoch] {
		return ID{}, invalid("Last-Event-ID: epoch is missing")
	}
	epoch, ok := o.value[mEpoch].(string)
	if !ok || !ValidEpoch(epoch) {
		return ID{}, invalid(errEpoch)
	}
	id.Epoch = epoch
	return id, nil
}

func (o *object) entry(i int) (Entry, error) {
	e := Entry{}
	if !o.present[mTopic] {
		return Entry{}, fieldErr(i, "topic is missing")
	}
	topic, ok := o.value[mTopic].(string)
	if !ok || topic == "" {
		return Entry{}, fieldErr(i, "topic must be a non-empty string")
	}
	e.Topic = topic

	if !o.present[mPartition] {
		return Entry{}, fieldErr(i, "partition is missing")
	}
	p, msg := nonNegative(o.value[mPartition], rulePartition, "partition", math.MaxInt32)
	if msg != "" {
		return Entry{}, fieldErr(i, msg)
	}
	e.Partition = int32(p)

	if !o.present[mOffset] && !o.present[mTimestamp] {
		return Entry{}, fieldErr(i, "offset or timestamp is missing")
	}
	if o.present[mOffset] {
		lit, ok := integer(o.value[mOffset])
		if !ok {
			return Entry{}, fieldErr(i, ruleOffset)
		}
		off, err := strconv.ParseInt(lit, 10, 64)
		if err != nil {
			return Entry{}, fieldErr(i, "offset does not fit in a 64-bit integer")
		}
		e.Offset, e.HasOffset = off, true
	}
	if o.present[mTimestamp] {
		ts, msg := nonNegative(o.value[mTimestamp], ruleTimestamp, "timestamp", math.MaxInt64)
		if msg != "" {
			return Entry{}, fieldErr(i, msg)
		}
		e.Timestamp, e.HasTimestamp = ts, true
	}
	return e, nil
}

// nonNegative parses an integer in [0, limit]; msg is "" on success.
func nonNegative(v any, rule, name string, limit int64) (n int64, msg string) {
	lit, ok := integer(v)
	if !ok || lit[0] == '-' {
		return 0, rule
	}
	n, err := strconv.ParseInt(lit, 10, 64)
	if err != nil || n > limit {
		return 0, name + " is larger than " + strconv.FormatInt(limit, 10)
	}
	return n, ""
}

// integer returns the literal of a JSON number written as an integer: no
// fraction and no exponent, so 1.0 and 1e3 are not integers here.
func integer(v any) (string, bool) {
	n, ok := v.(json.Number)
	if !ok || n == "" || strings.ContainsAny(string(n), ".eE") {
		return "", false
	}
	return string(n), true
}
