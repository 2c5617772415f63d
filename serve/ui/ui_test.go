package ui_test

import (
	"strings"
	"testing"

	"github.com/wikimedia-eventstreams-go/eventstreams/serve/ui"
)

// TestLoad checks the embedded files: both pages are there, each file has
// a type and a validator, and the UI stays small (the README states its
// size: update it with this bound).
func TestLoad(t *testing.T) {
	files, err := ui.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ui.Index, ui.Doc, "app.js", "vendor/swagger-ui/swagger-ui-bundle.js", "vendor/swagger-ui/LICENSE"} {
		f, ok := files[name]
		if !ok || len(f.Body) == 0 || f.ContentType == "" || !strings.HasPrefix(f.ETag, `"`) {
			t.Errorf("%s: %v %q %q", name, ok, f.ContentType, f.ETag)
		}
	}
	own, vendored := files.Size()
	t.Logf("embedded: %d bytes of our own, %d vendored", own, vendored)
	if own > 40_000 {
		t.Errorf("the UI's own files take %d bytes, more than the 40 KB the README promises", own)
	}
}
