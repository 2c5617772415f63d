package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Errors of the response reader.
var (
	errLineTooLong = errors.New("line longer than the reader's limit")
	errBadChunk    = errors.New("malformed chunked encoding")
)

// maxLine bounds a header or SSE line (an event's data line is one line).
const maxLine = 1 << 20

// respReader reads an HTTP/1.1 response, its header lines and then its body,
// de-chunked when the response is chunked, line by line, from one buffer
// that the connection is read into directly: one read system call brings in
// as much as the buffer holds, and chunk-size lines are cut out in place.
// It costs one small buffer per connection (grown only for a longer line)
// and allocates nothing per line. A respReader is used by one goroutine.
//
// Layout of buf: [r:d) de-chunked body not yet returned, [d:s) a gap left by
// removed chunk headers, [s:w) raw bytes not yet de-chunked.
type respReader struct {
	src        io.Reader
	buf        []byte
	r, d, s, w int

	body      bool // past the header
	chunked   bool
	chunkLeft int  // payload bytes left in the current chunk
	needCRLF  bool // the CRLF that ends a chunk's payload is due
	last      bool // the last (zero-size) chunk was read
	readErr   error
}

func newRespReader(src io.Reader, size int) *respReader {
	return &respReader{src: src, buf: make([]byte, size)}
}

// startBody switches from header lines to the body.
func (p *respReader) startBody(chunked bool) {
	p.body, p.chunked = true, chunked
	// The bytes after the header are raw body: de-chunk them from here.
	p.d, p.s = p.r, p.r
	_ = p.dechunk() // an error shows again at the next read
}

// line returns the next line without its "\n" (and "\r"), valid until the
// next call. At the end of the body it returns io.EOF.
func (p *respReader) line() ([]byte, error) {
	for {
		end := p.d
		if !p.body {
			end = p.w
		}
		if i := bytes.IndexByte(p.buf[p.r:end], '\n'); i >= 0 {
			l := p.buf[p.r : p.r+i]
			p.r += i + 1
			if n := len(l); n > 0 && l[n-1] == '\r' {
				l = l[:n-1]
			}
			return l, nil
		}
		if p.body && p.chunked && p.last {
			return nil, io.EOF
		}
		if p.readErr != nil {
			return nil, p.readErr
		}
		if err := p.fill(); err != nil {
			p.readErr = err
		}
	}
}

// rest returns the next n bytes after the header (a short body), fewer
// when the source ends or fails first. Only before startBody.
func (p *respReader) rest(n int) []byte {
	for p.w-p.r < n && p.readErr == nil {
		if err := p.fill(); err != nil {
			p.readErr = err
		}
	}
	return p.buf[p.r : p.r+min(n, p.w-p.r)]
}

// fill reads more bytes from the source, making room first.
func (p *respReader) fill() error {
	if p.r == p.d && p.s == p.w {
		p.r, p.d, p.s, p.w = 0, 0, 0, 0
	}
	if p.w == len(p.buf) {
		switch {
		case !p.body && p.r > 0:
			n := copy(p.buf, p.buf[p.r:p.w])
			p.r, p.w = 0, n
		case p.body && (p.r > 0 || p.s > p.d):
			// Move the pending body down to 0 and the raw tail after it.
			n := copy(p.buf, p.buf[p.r:p.d])
			m := copy(p.buf[n:], p.buf[p.s:p.w])
			p.r, p.d, p.s, p.w = 0, n, n, n+m
		default: // one line fills the buffer: grow it
			if len(p.buf) >= maxLine {
				return errLineTooLong
			}
			nb := make([]byte, 2*len(p.buf))
			copy(nb, p.buf[:p.w])
			p.buf = nb
		}
	}
	n, err := p.src.Read(p.buf[p.w:])
	p.w += n
	if p.body {
		if derr := p.dechunk(); derr != nil {
			return derr
		}
	}
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// dechunk moves raw bytes [s:w) into the body [r:d), cutting out chunk
// framing. It stops at an incomplete chunk-size line.
func (p *respReader) dechunk() error {
	if !p.chunked {
		p.d, p.s = p.w, p.w
		return nil
	}
	for p.s < p.w {
		if p.chunkLeft > 0 {
			k := min(p.chunkLeft, p.w-p.s)
			if p.d != p.s {
				copy(p.buf[p.d:], p.buf[p.s:p.s+k])
			}
			p.d += k
			p.s += k
			p.chunkLeft -= k
			if p.chunkLeft == 0 {
				p.needCRLF = true
			}
			continue
		}
		if p.last { // trailers and anything after: ignored
			p.s = p.w
			break
		}
		if p.needCRLF {
			if p.w-p.s < 2 {
				break
			}
			if p.buf[p.s] != '\r' || p.buf[p.s+1] != '\n' {
				return errBadChunk
			}
			p.s += 2
			p.needCRLF = false
			continue
		}
		i := bytes.IndexByte(p.buf[p.s:p.w], '\n')
		if i < 0 {
			if p.w-p.s > 256 {
				return errBadChunk
			}
			break
		}
		size, err := parseChunkSize(p.buf[p.s : p.s+i])
		if err != nil {
			return err
		}
		p.s += i + 1
		if size == 0 {
			p.last = true
			continue
		}
		p.chunkLeft = size
	}
	return nil
}

func parseChunkSize(l []byte) (int, error) {
	if n := len(l); n > 0 && l[n-1] == '\r' {
		l = l[:n-1]
	}
	if i := bytes.IndexByte(l, ';'); i >= 0 {
		l = l[:i]
	}
	l = bytes.TrimSpace(l)
	if len(l) == 0 || len(l) > 8 {
		return 0, fmt.Errorf("%w: size line %q", errBadChunk, l)
	}
	n := 0
	for _, c := range l {
		switch {
		case c >= '0' && c <= '9':
			n = n<<4 | int(c-'0')
		case c >= 'a' && c <= 'f':
			n = n<<4 | int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			n = n<<4 | int(c-'A'+10)
		default:
			return 0, fmt.Errorf("%w: size line %q", errBadChunk, l)
		}
	}
	return n, nil
}

// parseUint reads the decimal digits at the start of b.
func parseUint(b []byte) (uint64, bool) {
	var n uint64
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + uint64(b[i]-'0')
	}
	return n, i > 0
}

// fieldUint finds `key` (e.g. `"seq":`) in b and reads the number after it.
func fieldUint(b, key []byte) (uint64, bool) {
	i := bytes.Index(b, key)
	if i < 0 {
		return 0, false
	}
	return parseUint(b[i+len(key):])
}
