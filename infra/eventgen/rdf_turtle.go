// Turtle for the RDF changes: the prefixes the updater's Turtle uses,
// triples grouped by subject and written with the prefixes they need,
// literals, value hashes and statement ids.

package eventgen

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// The RDF prefixes the updater's Turtle uses.
var rdfPrefixes = map[string]string{
	"p": "http://www.wikidata.org/prop/", "pq": "http://www.wikidata.org/prop/qualifier/",
	"pr": "http://www.wikidata.org/prop/reference/", "prov": "http://www.w3.org/ns/prov#",
	"ps": "http://www.wikidata.org/prop/statement/", "psv": "http://www.wikidata.org/prop/statement/value/",
	"rdfs": "http://www.w3.org/2000/01/rdf-schema#", "schema": "http://schema.org/",
	"sdc": "https://commons.wikimedia.org/entity/", "sdcs": "https://commons.wikimedia.org/entity/statement/",
	"skos": "http://www.w3.org/2004/02/skos/core#", "wd": "http://www.wikidata.org/entity/",
	"wdref": "http://www.wikidata.org/reference/", "wds": "http://www.wikidata.org/entity/statement/",
	"wdt": "http://www.wikidata.org/prop/direct/", "wdv": "http://www.wikidata.org/value/",
	"wikibase": "http://wikiba.se/ontology#", "xsd": "http://www.w3.org/2001/XMLSchema#",
	"ontolex": "http://www.w3.org/ns/lemon/ontolex#", "dct": "http://purl.org/dc/terms/",
}

// turtle collects triples by subject and writes them as Turtle, with the
// prefixes they use.
type turtle struct {
	subjects []string
	preds    map[string][][2]string
}

func (t *turtle) add(s, p, o string) {
	if t.preds == nil {
		t.preds = map[string][][2]string{}
	}
	if _, ok := t.preds[s]; !ok {
		t.subjects = append(t.subjects, s)
	}
	t.preds[s] = append(t.preds[s], [2]string{p, o})
}

func (t *turtle) String() string {
	if len(t.subjects) == 0 {
		return ""
	}
	used := map[string]bool{}
	var body strings.Builder
	for _, s := range t.subjects {
		body.WriteString(s)
		for i, po := range t.preds[s] {
			if i > 0 {
				body.WriteString(" ;\n\t")
			} else {
				body.WriteByte(' ')
			}
			body.WriteString(po[0] + " " + po[1])
		}
		body.WriteString(" .\n")
		markPrefix(s, used)
		for _, po := range t.preds[s] {
			markPrefix(po[0], used)
			markPrefix(po[1], used)
		}
	}
	var b strings.Builder
	for _, p := range slices.Sorted(maps.Keys(used)) {
		b.WriteString("@prefix " + p + ": <" + rdfPrefixes[p] + "> .\n")
	}
	b.WriteByte('\n')
	b.WriteString(body.String())
	return b.String()
}

// markPrefix notes the prefix of a prefixed name or of a literal's type.
func markPrefix(term string, used map[string]bool) {
	if strings.HasPrefix(term, "<") {
		return
	}
	if strings.HasPrefix(term, `"`) {
		i := strings.LastIndex(term, `"^^`)
		if i < 0 {
			return
		}
		term = term[i+3:]
	}
	if p, _, ok := strings.Cut(term, ":"); ok {
		if _, known := rdfPrefixes[p]; known {
			used[p] = true
		}
	}
}

// literal returns s as a Turtle string, with a language tag if lang is set.
func literal(s, lang string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`)
	q := `"` + r.Replace(s) + `"`
	if lang != "" {
		q += "@" + lang
	}
	return q
}

func typed(v, typ string) string { return `"` + v + `"^^xsd:` + typ }

func dateTime(t time.Time) string { return typed(t.UTC().Format(dtLayout), "dateTime") }

// hexID returns n random lowercase hex digits (value and reference hashes).
func (g *Generator) hexID(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = hexDigits[g.rng.IntN(16)]
	}
	return string(b)
}

// statementID returns a new statement id of entity, as RDF has it.
func (g *Generator) statementID(entity string) string {
	return entity + "-" + strings.ToUpper(g.uuid())
}
