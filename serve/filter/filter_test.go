package filter

import (
	"os"
	"strings"
	"testing"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/envelope"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

type event struct{ a envelope.Attributes }

func (e *event) Attributes() *envelope.Attributes { return &e.a }

func query(q map[string]string) func(string) string { return func(k string) string { return q[k] } }

func TestParseErrors(t *testing.T) {
	for q, want := range map[string]string{
		"wiki=en wiki":                     `wiki: "en wiki" is not a wiki id (letters, digits, '-' and '_', at most 64)`,
		"type=edit,ed.it":                  `type: "ed.it" is not an event type (letters, digits, '-' and '_', at most 64)`,
		"namespace=0,x":                    `namespace: "x" is not a namespace number`,
		"bot=true,false":                   `bot: "true,false" is not true or false`,
		"domain=en_wiki.org":               `domain: "en_wiki.org" is not a domain (letters, digits, '-' and '.')`,
		"wiki=a,b,c,a":                     `wiki: at most 2 values may be given`,
		"type=" + strings.Repeat("x", 100): `type: "` + strings.Repeat("x", 64) + `" is not an event type (letters, digits, '-' and '_', at most 64)`,
	} {
		k, v, _ := strings.Cut(q, "=")
		_, err := Parse([]string{"s"}, query(map[string]string{k: v}), 2)
		if err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", q, err, want)
		}
	}
}

func TestMatch(t *testing.T) {
	f, err := Parse([]string{"rc"}, query(map[string]string{"wiki": "enwiki, dewiki", "type": "edit,new", "namespace": "0,4",
		"bot": "false", "domain": "en.wikipedia.org,de.wikipedia.org"}), 64)
	if err != nil {
		t.Fatal(err)
	}
	pass := envelope.Attributes{Type: "edit", HasType: true, Namespace: 4, HasNamespace: true, HasBot: true, Domain: "en.wikipedia.org"}
	if !f.Match("rc", "enwiki", &event{pass}) {
		t.Error("a matching event does not pass")
	}
	for name, miss := range map[string]func(a *envelope.Attributes){
		"type":          func(a *envelope.Attributes) { a.Type = "log" },
		"no type":       func(a *envelope.Attributes) { a.HasType = false },
		"namespace":     func(a *envelope.Attributes) { a.Namespace = 1 },
		"no namespace":  func(a *envelope.Attributes) { a.HasNamespace = false },
		"bot":           func(a *envelope.Attributes) { a.Bot = true },
		"no bot member": func(a *envelope.Attributes) { a.HasBot = false },
		"domain":        func(a *envelope.Attributes) { a.Domain = "fr.wikipedia.org" },
	} {
		a := pass
		miss(&a)
		if f.Match("rc", "enwiki", &event{a}) {
			t.Errorf("%s: an event that misses the filter passes", name)
		}
	}
	if f.Match("rc", "frwiki", &event{pass}) || f.Match("pc", "enwiki", &event{pass}) {
		t.Error("another wiki or stream passes")
	}
	if got := f.Subjects(lay); len(got) != 2 || got[0] != "eventstreams.rc.enwiki" || got[1] != "eventstreams.rc.dewiki" {
		t.Errorf("subjects %v", got)
	}
}

// TestNoFieldFilterReadsNothing: an event is not parsed for a filter on
// streams and wikis only.
func TestNoFieldFilterReadsNothing(t *testing.T) {
	f, _ := Parse([]string{"rc"}, query(map[string]string{"wiki": "enwiki"}), 64)
	if !f.Match("rc", "enwiki", panicky{}) {
		t.Error("no match")
	}
}

type panicky struct{}

func (panicky) Attributes() *envelope.Attributes { panic("attributes read without a field filter") }

// TestREADMEDocumentsEveryFilter: the README's filter list shows each
// filter of the table, with the same text as /?spec.
func TestREADMEDocumentsEveryFilter(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range Params() {
		if line := "- `" + p.Name + "`: " + p.Doc; !strings.Contains(string(readme), line+"\n") {
			t.Errorf("README lacks the line %q", line)
		}
	}
}

var lay = layout.Default()
