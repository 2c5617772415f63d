package ui_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/wikimedia-eventstreams-go/eventstreams/serve/service"
)

// TestScreenshots takes the README's screenshots (docs/ui-dark.png,
// docs/ui-phone.png, docs/doc.png) when ES_SCREENSHOTS names a directory:
// `just screenshots`. The page runs for about ten seconds first, so that
// the chart has something to show.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("ES_SCREENSHOTS")
	if dir == "" {
		t.Skip("set ES_SCREENSHOTS to a directory to take the screenshots (just screenshots)")
	}
	s := newStack(t, 50, func(c *service.Config) { c.MaxDuration = time.Minute })
	const page = "/v2/ui?streams=recentchange,page-create,revision-create&namespace=0"
	shots := []struct {
		file          string
		width, height int64
		dark, phone   bool
		path, ready   string
	}{
		{"ui-dark.png", 1280, 860, true, false, page, `Number(document.getElementById('count-total').textContent) >= 250`},
		{"ui-phone.png", 390, 844, false, true, page, `Number(document.getElementById('count-total').textContent) >= 250`},
		{"doc.png", 1280, 860, false, false, "/?doc", `document.querySelectorAll('.opblock').length >= 3`},
	}
	for _, sh := range shots {
		tb := newTab(t)
		opts := []chromedp.EmulateViewportOption{}
		if sh.phone {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateScale(2))
		}
		scheme := "light"
		if sh.dark {
			scheme = "dark"
		}
		tb.do(t, chromedp.EmulateViewport(sh.width, sh.height, opts...))
		if _, err := chromedp.Call(tb.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
			t.Fatal(err)
		}
		tb.do(t, chromedp.Navigate(s.url+sh.path))
		tb.waitJS(t, time.Minute, sh.ready)
		if sh.path == page && !sh.phone {
			// Paused, with one event's JSON open, as a reader would have it.
			tb.do(t, chromedp.Click(chromedp.ID("pause")),
				chromedp.Click(chromedp.CSS(`#events > li:nth-child(3) .toggle`)),
				chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
			tb.waitJS(t, time.Minute, `Number(document.getElementById('count-waiting').textContent) >= 5`)
		}
		if sh.phone { // the chart and the first events, below the form
			tb.do(t, chromedp.Evaluate[chromedp.Void](`document.getElementById('status-panel').scrollIntoView()`))
		}
		png, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, sh.file), png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d bytes", sh.file, len(png))
	}
}
