package api

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestSpecIsValidOpenAPI checks /?spec with an OpenAPI 3 validator
// (kin-openapi), as Swagger UI (/?doc) and clients read it.
func TestSpecIsValidOpenAPI(t *testing.T) {
	a := newWorld(t).serve(nil)
	resp := get(t, a.url+"/?spec", nil)
	raw, _ := io.ReadAll(resp.Body)
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("loading /?spec: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("/?spec is not valid OpenAPI 3: %v", err)
	}
	op := doc.Paths.Find("/v2/stream/{streams}")
	if op == nil || op.Get == nil {
		t.Fatal("no GET /v2/stream/{streams}")
	}
	for _, name := range queryParams {
		if op.Get.Parameters.GetByInAndName("query", name) == nil {
			t.Errorf("/?spec lacks the query parameter %s", name)
		}
	}
}

// TestPages checks the routes of the web pages: /, /?doc, /v2/ui and its
// files, with their types, validators and the policy that allows no inline
// script.
func TestPages(t *testing.T) {
	a := newWorld(t).serve(nil)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		path, status, contentType, contains string
	}{
		{"/", "303", "", ""},
		{"/?doc", "200", "text/html; charset=utf-8", `src="/v2/ui/doc.js"`},
		{"/v2/ui", "200", "text/html; charset=utf-8", `<script type="module" src="/v2/ui/app.js">`},
		{"/v2/ui/", "200", "text/html; charset=utf-8", `<script type="module" src="/v2/ui/app.js">`},
		{"/v2/ui/app.js", "200", "text/javascript; charset=utf-8", "EventSource"},
		{"/v2/ui/app.css", "200", "text/css; charset=utf-8", "prefers-color-scheme: dark"},
		{"/v2/ui/vendor/swagger-ui/swagger-ui-bundle.js", "200", "text/javascript; charset=utf-8", "SwaggerUIBundle"},
		{"/v2/ui/vendor/swagger-ui/README.md", "404", "application/json; charset=utf-8", `"type":"not_found"`},
		{"/v2/ui/vendor/swagger-ui/LICENSE", "200", "text/plain; charset=utf-8", "Apache License"},
		{"/v2/ui/nope.js", "404", "application/json; charset=utf-8", `"type":"not_found"`},
		{"/v2/ui/../../etc/passwd", "404", "application/json; charset=utf-8", `"type":"not_found"`},
		{"/rc", "301", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := client.Get(a.url + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if got := resp.Status[:3]; got != tt.status || resp.Header.Get("Content-Type") != tt.contentType && tt.contentType != "" ||
				!strings.Contains(string(body), tt.contains) {
				t.Errorf("%s %s: %.200s", resp.Status, resp.Header.Get("Content-Type"), body)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'self';") || strings.Contains(csp, "unsafe") {
				t.Errorf("CSP %q", csp)
			}
			if tt.status == "200" {
				etag := resp.Header.Get("ETag")
				again := get(t, a.url+tt.path, map[string]string{"If-None-Match": etag})
				again.Body.Close()
				if etag == "" || again.StatusCode != http.StatusNotModified {
					t.Errorf("ETag %q, revalidated: %d", etag, again.StatusCode)
				}
			}
		})
	}
	for path, want := range map[string]string{"/": "/v2/ui", "/rc": "/?doc"} {
		resp, _ := client.Get(a.url + path)
		resp.Body.Close()
		if resp.Header.Get("Location") != want {
			t.Errorf("%s → %s, want %s", path, resp.Header.Get("Location"), want)
		}
	}
}

// TestNoInlineScriptsOrStyles keeps the pages within default-src 'self':
// no inline script, event handler attribute or style.
func TestNoInlineScriptsOrStyles(t *testing.T) {
	a := newWorld(t).serve(nil)
	for _, path := range []string{"/v2/ui", "/?doc"} {
		resp := get(t, a.url+path, nil)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := strings.ToLower(string(body))
		for _, bad := range []string{"<script>", "<script type=\"module\">", "<style", " style=", " onclick=", " onload=", "javascript:"} {
			if strings.Contains(page, bad) {
				t.Errorf("%s contains %q", path, bad)
			}
		}
	}
}
