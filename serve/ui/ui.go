// Package ui holds serve's web pages: the live web UI at /v2/ui and the API
// documentation at /?doc. They are static files embedded in the binary
// (static/), with no build step: plain HTML, CSS and JavaScript modules of
// our own, and a pinned copy of Swagger UI (static/vendor/swagger-ui, see
// its README) that renders /?spec. No file has an inline script or style,
// so the pages run under serve's Content-Security-Policy of default-src
// 'self'.
//
// The pages are clients of the public API like any other: the UI reads the
// streams from /v2/streams and the filters from /?spec, and consumes with
// the browser's EventSource. Package api mounts the files (Files) on its
// routes; this package knows nothing of HTTP.
//
// Files is built once and is read-only: safe for concurrent use.
package ui

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

//go:embed static/*.html static/*.js static/*.css static/*.svg
//go:embed static/vendor/swagger-ui/swagger-ui-bundle.js static/vendor/swagger-ui/swagger-ui.css
//go:embed static/vendor/swagger-ui/LICENSE static/vendor/swagger-ui/NOTICE
var static embed.FS

// The pages, by their names in Files.
const (
	// Index is the web UI's page, served at /v2/ui.
	Index = "index.html"
	// Doc is the API documentation page, served at /?doc.
	Doc = "doc.html"
)

// File is one embedded file, ready to serve.
type File struct {
	Body        []byte
	ContentType string
	// ETag is a strong validator of Body (a quoted hash).
	ETag string
	// Vendored is set for third-party files (static/vendor).
	Vendored bool
}

// Files are the embedded files by their path under static/ (e.g.
// "app.js", "vendor/swagger-ui/swagger-ui.css"); the pages refer to them
// as /v2/ui/<path>.
type Files map[string]File

// Load reads the embedded files.
func Load() (Files, error) {
	out := Files{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(body)
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			return fmt.Errorf("ui: %s: no content type for its extension", name)
		}
		out[name] = File{Body: body, ContentType: ct, ETag: `"` + hex.EncodeToString(sum[:12]) + `"`,
			Vendored: strings.HasPrefix(name, "vendor/")}
		return nil
	})
	return out, err
}

// contentTypes are the types of the files' extensions (not the system's
// MIME table, which differs between machines).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	"":      "text/plain; charset=utf-8", // LICENSE, NOTICE
}

// Size is the bytes of the embedded files: ours, and vendored.
func (f Files) Size() (own, vendored int) {
	for _, file := range f {
		if file.Vendored {
			vendored += len(file.Body)
		} else {
			own += len(file.Body)
		}
	}
	return own, vendored
}
