// Package wire owns the bytes of a stream's body, in each format a client
// can ask for: Server-Sent Events (EventStreams' format, the default) and
// NDJSON (with Accept: application/json). One Encoder per format writes
// every kind of frame: the opening, an event, a heartbeat, and the error
// event that ends a stream whose feed failed.
//
// An event is encoded once, in both formats, when it enters serve
// (Encode); every client of either format is then sent the same bytes.
// The golden files in testdata pin every frame kind of both formats.
package wire

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/position"
)

// Writer is where an Encoder appends its frames (a chunked.Conn).
type Writer interface {
	Append(p []byte) error
	AppendString(s string) error
}

// Encoded is one event in both formats: encoded once (Encode), for an
// event that many clients get, or as it is written (Lazy), for an event
// that one client gets.
type Encoded struct {
	// Frame is the SSE frame: event: message, id:, data: <stored bytes>.
	// nil for a lazy event.
	Frame []byte
	// Line is the event's JSON on one line, for NDJSON, without its line
	// end: the stored bytes (a slice of Frame), except that line breaks
	// between JSON tokens, if any, are spaces (a JSON string cannot hold a
	// raw line break, so the value is the same). nil for a lazy event.
	Line []byte
	// A lazy event's id, as JSON, and stored bytes, which the encoders
	// write as Encode would have framed them.
	id, data []byte
}

// JSON is the event's JSON: Line, or a lazy event's stored bytes (the same
// value).
func (e *Encoded) JSON() []byte {
	if e.Frame == nil {
		return e.data
	}
	return e.Line
}

// Lazy is an event, whose SSE id is id, encoded only as an encoder writes
// it: a catch-up's events go to one client each, and a frame built for
// them would be copied once and dropped (a kilobyte of garbage per event).
func Lazy(id position.ID, data []byte) Encoded {
	return Encoded{id: id.AppendJSON(make([]byte, 0, maxIDLen)), data: data}
}

const (
	eventPrefix = "event: message\nid: "
	dataField   = "\ndata: "
	// maxIDLen is the longest id AppendJSON writes: 20-digit numbers and
	// an epoch of position.MaxEpochLen bytes.
	maxIDLen = len(`[{"seq":,"timestamp":,"epoch":""}]`) + 20 + 20 + position.MaxEpochLen
)

// Encode encodes the stored event data, whose SSE id is id.
func Encode(id position.ID, data []byte) Encoded {
	// The frame is allocated once, at its final size: the ring keeps tens of
	// thousands of them, and a buffer that had to grow would keep up to
	// twice the bytes.
	size := len(eventPrefix) + maxIDLen + len(dataField) + len(data) + 2
	multiLine := hasLineBreak(data)
	if multiLine {
		size += len(dataField) * (bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")))
	}
	buf := make([]byte, 0, size)
	buf = append(buf, eventPrefix...)
	buf = id.AppendJSON(buf)
	buf = append(buf, dataField...)
	if !multiLine {
		start := len(buf)
		buf = append(buf, data...)
		frame := append(buf, "\n\n"...)
		return Encoded{Frame: frame, Line: frame[start : start+len(data)]}
	}
	// JSON stored with line breaks between its tokens (a producer's pretty
	// printing): a line break would end the SSE field, so each line gets
	// its own data: field, which clients join back with "\n"; the NDJSON
	// line has spaces instead.
	line := make([]byte, 0, len(data))
	for i, l := range splitLines(data) {
		if i > 0 {
			buf = append(buf, dataField...)
			line = append(line, ' ')
		}
		buf = append(buf, l...)
		line = append(line, l...)
	}
	return Encoded{Frame: append(buf, "\n\n"...), Line: line}
}

// hasLineBreak reports whether p holds a CR or an LF: two vectorised byte
// searches, where bytes.ContainsAny would test each byte against the set
// (it was 14% of serve's CPU in a catch-up storm, which encodes every
// event it replays).
func hasLineBreak(p []byte) bool {
	return bytes.IndexByte(p, '\n') >= 0 || bytes.IndexByte(p, '\r') >= 0
}

// splitLines splits p at each line ending SSE knows: CRLF, CR or LF.
func splitLines(p []byte) [][]byte {
	var out [][]byte
	for {
		i := bytes.IndexAny(p, "\r\n")
		if i < 0 {
			return append(out, p)
		}
		out = append(out, p[:i])
		if p[i] == '\r' && i+1 < len(p) && p[i+1] == '\n' {
			i++
		}
		p = p[i+1:]
	}
}

// Encoder writes the frames of one format.
type Encoder interface {
	// ContentType is the response's Content-Type.
	ContentType() string
	// Open is what the body starts with; retry is the reconnection delay
	// suggested to clients.
	Open(w Writer, retry time.Duration) error
	// Event writes one event.
	Event(w Writer, e *Encoded) error
	// Heartbeat writes what keeps an idle stream alive (and shows whether
	// the client is still there).
	Heartbeat(w Writer) error
	// Error writes EventStreams' error event: the feed was interrupted and
	// the stream ends; clients reconnect with their last id.
	Error(w Writer) error
}

// For chooses the encoder of a request's Accept header: NDJSON when it
// starts with application/json, else SSE.
func For(accept string) Encoder {
	if strings.HasPrefix(accept, "application/json") {
		return NDJSON{}
	}
	return SSE{NoAccept: accept == ""}
}

// errorBody is the data of the error event.
const errorBody = `{"message":"The event feed was interrupted; reconnect to resume.","name":"FeedError","status":503}`

// SSE is EventStreams' format: text/event-stream.
type SSE struct {
	// NoAccept: the request had no Accept header, and EventStreams then
	// omits the charset from the Content-Type.
	NoAccept bool
}

// ContentType implements Encoder.
func (s SSE) ContentType() string {
	if s.NoAccept {
		return "text/event-stream"
	}
	return "text/event-stream; charset=utf-8"
}

// Open implements Encoder: a comment, as EventStreams sends, then the
// retry field.
func (SSE) Open(w Writer, retry time.Duration) error {
	if err := w.AppendString(":ok\n\n"); err != nil {
		return err
	}
	return w.AppendString("retry: " + strconv.FormatInt(retry.Milliseconds(), 10) + "\n\n")
}

// Event implements Encoder.
func (SSE) Event(w Writer, e *Encoded) error {
	if e.Frame != nil {
		return w.Append(e.Frame)
	}
	// A lazy event: the frame Encode builds, in pieces.
	if err := w.AppendString(eventPrefix); err != nil {
		return err
	}
	if err := w.Append(e.id); err != nil {
		return err
	}
	if err := appendLines(w, e.data, dataField, dataField); err != nil {
		return err
	}
	return w.AppendString("\n\n")
}

// appendLines appends p, each of its lines (splitLines) after sep, or
// after first for the first line.
func appendLines(w Writer, p []byte, first, sep string) error {
	if !hasLineBreak(p) {
		if err := w.AppendString(first); err != nil {
			return err
		}
		return w.Append(p)
	}
	for i, l := range splitLines(p) {
		s := sep
		if i == 0 {
			s = first
		}
		if err := w.AppendString(s); err != nil {
			return err
		}
		if err := w.Append(l); err != nil {
			return err
		}
	}
	return nil
}

// Heartbeat implements Encoder: an empty comment.
func (SSE) Heartbeat(w Writer) error { return w.AppendString(":\n\n") }

// Error implements Encoder.
func (SSE) Error(w Writer) error { return w.AppendString("event: error\ndata: " + errorBody + "\n\n") }

// NDJSON is one JSON event per line: application/json.
type NDJSON struct{}

// ContentType implements Encoder.
func (NDJSON) ContentType() string { return "application/json; charset=utf-8" }

// Open implements Encoder: an empty line.
func (NDJSON) Open(w Writer, _ time.Duration) error { return w.AppendString("\n") }

// Event implements Encoder.
func (NDJSON) Event(w Writer, e *Encoded) error {
	var err error
	if e.Frame != nil {
		err = w.Append(e.Line)
	} else {
		err = appendLines(w, e.data, "", " ")
	}
	if err != nil {
		return err
	}
	return w.AppendString("\n")
}

// Heartbeat implements Encoder: an empty line, which NDJSON readers skip.
func (NDJSON) Heartbeat(w Writer) error { return w.AppendString("\n") }

// Error implements Encoder: the error event's data, as a line.
func (NDJSON) Error(w Writer) error { return w.AppendString(errorBody + "\n") }
