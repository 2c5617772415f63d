package monitorcheck

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// runbooks is where every alert's runbook_url points: an anchor of the
// README.
const runbooks = "https://github.com/wikimedia-eventstreams-go/eventstreams/blob/main/README.md#"

// readmeAnchors returns the anchors GitHub gives the README's headings.
func readmeAnchors(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	inCode := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
		}
		if inCode || !strings.HasPrefix(line, "#") {
			continue
		}
		anchors[anchor(strings.TrimLeft(line, "# "))] = true
	}
	return anchors
}

var notInAnchor = regexp.MustCompile(`[^\p{L}\p{N}_ -]`)

// anchor is GitHub's anchor of a heading: lower case, punctuation dropped,
// spaces as hyphens.
func anchor(heading string) string {
	return strings.ReplaceAll(notInAnchor.ReplaceAllString(strings.ToLower(strings.TrimSpace(heading)), ""), " ", "-")
}

func TestAlertRules(t *testing.T) {
	groups := rules(t)
	anchors := readmeAnchors(t)
	seen := map[string]bool{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			name := r.Alert
			if name == "" {
				t.Errorf("group %s: a recording rule (%s); the file holds alerts only", g.Name, r.Record)
				continue
			}
			if seen[name] {
				t.Errorf("%s: defined twice", name)
			}
			seen[name] = true
			if time.Duration(r.For) <= 0 {
				t.Errorf("%s: no for: one bad scrape would page", name)
			}
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("%s: severity %q, want warning or critical", name, s)
			}
			for _, a := range []string{"summary", "description", "runbook_url"} {
				if r.Annotations[a] == "" {
					t.Errorf("%s: no %s annotation", name, a)
				}
			}
			url := r.Annotations["runbook_url"]
			if want := runbooks + strings.ToLower(name); url != want {
				t.Errorf("%s: runbook_url %q, want %q", name, url, want)
			}
			if !anchors[strings.TrimPrefix(url, runbooks)] {
				t.Errorf("%s: the README has no heading for %s", name, url)
			}
		}
	}
	if len(seen) == 0 {
		t.Fatal("no alerts")
	}
}
