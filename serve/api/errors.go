package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
)

// errorBody is EventStreams' error shape.
type errorBody struct {
	Status int    `json:"status"`
	Type   string `json:"type"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Method string `json:"method"`
	URI    string `json:"uri"`
}

// fail answers an error. Every error of serve goes through it, so every
// error has EventStreams' JSON shape (and its Content-Type, with the
// charset, as Express writes it); what it repeats of the request is
// bounded (see echo), so a large request cannot make a larger answer.
func (s *Server) fail(c *fiber.Ctx, status int, typ, title, detail string) error {
	return c.Status(status).JSON(errorBody{Status: status, Type: typ, Title: echo(title, echoTitle),
		Detail: echo(detail, echoDetail), Method: echo(c.Method(), echoMethod),
		URI: echo(string(c.Request().RequestURI()), echoURI)}, fiber.MIMEApplicationJSONCharsetUTF8)
}

// Bounds, in bytes as written in the JSON body, on each member of an error
// body; with the rest of the body under 200 bytes, an error body is at most
// 2 KiB whatever the request.
const (
	echoTitle  = 128
	echoDetail = 512
	echoMethod = 32
	echoURI    = 1024
)

// echo cuts s, at a character boundary, so that its JSON string form as
// encoding/json writes it (<, > and & as \u003c…, invalid UTF-8 as
// \ufffd, control characters escaped) takes at most n bytes; a cut string
// ends with "…".
func echo(s string, n int) string {
	if escapedLen(s) <= n {
		return s
	}
	used, limit := 0, n-len("…")
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if used += runeEscapedLen(r, size); used > limit {
			return s[:i] + "…"
		}
		i += size
	}
	return s
}

// escapedLen is the length of s in a JSON string, without the quotes.
func escapedLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		n += runeEscapedLen(r, size)
		i += size
	}
	return n
}

func runeEscapedLen(r rune, size int) int {
	switch {
	case r == utf8.RuneError && size == 1, r < 0x20, r == '<', r == '>', r == '&', r == '\u2028', r == '\u2029':
		return 6 // \uXXXX (\n and a few others take 2, counted high)
	case r == '"', r == '\\':
		return 2
	}
	return size
}

// errorHandler answers errors no route handled (e.g. a request Fiber could
// not read) with the same JSON shape; only unexpected ones are 500.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		// The title is the status's own text: the message of a request
		// the server could not read may quote the request.
		text := http.StatusText(fe.Code)
		return s.fail(c, fe.Code, strings.ToLower(strings.ReplaceAll(text, " ", "_")), text, fe.Message)
	}
	s.log.Error("request failed", slog.String("uri", c.OriginalURL()), slog.String("error", err.Error()))
	return s.fail(c, fiber.StatusInternalServerError, "internal_error", "Internal Server Error", "The server failed to answer this request.")
}
