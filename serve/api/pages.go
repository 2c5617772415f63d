package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/wikimedia-eventstreams-go/eventstreams/serve/ui"
)

// uiPrefix is where the web UI and its files are served.
const uiPrefix = "/v2/ui"

// root answers /: the OpenAPI document (/?spec), its rendering (/?doc), or
// a 303 to the web UI, as EventStreams does in production.
func (s *Server) root(c *fiber.Ctx) error {
	args := c.Request().URI().QueryArgs()
	switch {
	case args.Has("spec"):
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		return c.Send(s.spec)
	case args.Has("doc"):
		return s.sendFile(c, ui.Doc)
	}
	return c.Redirect(uiPrefix, fiber.StatusSeeOther)
}

// uiFile answers /v2/ui/<path> with the embedded file of that path.
func (s *Server) uiFile(c *fiber.Ctx) error {
	name := c.Params("*")
	if name == "" {
		name = ui.Index
	}
	return s.sendFile(c, name)
}

// sendFile answers with an embedded file, or 304 when the client holds it
// already (the pages are revalidated on each load: no-cache, with an ETag).
func (s *Server) sendFile(c *fiber.Ctx, name string) error {
	f, ok := s.ui[name]
	if !ok {
		return s.fail(c, fiber.StatusNotFound, "not_found", "Not Found", "No file "+name+" in the web UI")
	}
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderETag, f.ETag)
	if string(c.Request().Header.Peek(fiber.HeaderIfNoneMatch)) == f.ETag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, f.ContentType)
	return c.Send(f.Body)
}
