// The encoder of mediawiki/wikibase/entity/rdf_change: the WDQS streaming
// updater's RDF changes of Wikidata entities and of Commons files'
// structured data, with the triples made from the action (rdf_turtle.go
// writes them as Turtle).

package eventgen

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

const rdfSchema = "/mediawiki/wikibase/entity/rdf_change/2.0.0"

// rdfData is the RDF change of an entity: the operation and the Turtle of
// each part (empty when absent). It is the same on the full graph's stream
// and on the subgraph's.
type rdfData struct {
	op, entity                       string
	rev                              int64
	at                               time.Time
	added, deleted, linked, unlinked string
}

// rdfChange writes an rdf_change event of a Wikidata entity or of a
// Commons file's structured data (MediaInfo entity M<page id>), with the
// members in the order of the schema, as the updater's serializer writes
// them, and meta as its normalization leaves it.
func (g *Generator) rdfChange(e *enc, a *action, t time.Time, stream int) {
	if a.rdf == nil {
		a.rdf = g.rdfOf(a)
	}
	d := a.rdf
	e.open()
	e.kstr("$schema", rdfSchema)
	e.kstr("dt", fmtDT(d.at))
	e.kstr("entity_id", d.entity)
	e.kobj("meta")
	e.kstr("domain", a.w.domain)
	e.kstr("dt", fmtDT(t))
	e.kstr("id", g.uuid())
	e.kstr("request_id", a.reqID)
	e.kstr("stream", streamNames[stream])
	e.close()
	e.kstr("operation", d.op)
	for _, part := range [...]struct{ k, v string }{{"rdf_added_data", d.added}, {"rdf_deleted_data", d.deleted},
		{"rdf_linked_shared_data", d.linked}, {"rdf_unlinked_shared_data", d.unlinked}} {
		if part.v != "" {
			e.kobj(part.k)
			e.kstr("data", part.v)
			e.kstr("mime_type", "text/turtle")
			e.close()
		}
	}
	e.kint("rev_id", d.rev)
	e.kint("sequence", 0)
	e.kint("sequence_length", 1)
	e.close()
}

// scholarly tells whether a's entity belongs to the scholarly articles
// subgraph: items that are scholarly articles (a third of Wikidata's).
func scholarly(a *action) bool {
	if a.p.ns != nsMain {
		return false
	}
	if a.kind == kCreate {
		_, _, class := createdItem(a.comment)
		return class == "Q13442814"
	}
	return hash64(a.w.db, a.p.title)%3 == 0
}

// rdfOf builds the RDF change of a: an import for a creation, an upload or
// an undeletion, a diff for an edit (from its summary: the label,
// statement, reference or sitelink it changed, and always the version), a
// delete for a deletion.
func (g *Generator) rdfOf(a *action) *rdfData {
	w, p := a.w, &a.p
	d := &rdfData{rev: a.rev.id, at: a.rev.at, entity: entityID(a)}
	ent, stmt := "wd:", "wds:"
	if w.fam == commons {
		ent, stmt = "sdc:", "sdcs:"
	}
	subj := ent + d.entity
	var added, deleted, linked, unlinked turtle
	version := func(t *turtle, r *revision) {
		t.add(subj, "schema:version", typed(strconv.FormatInt(r.id, 10), "integer"))
		t.add(subj, "schema:dateModified", dateTime(r.at))
	}
	switch a.kind {
	case kDelete:
		d.op, d.rev, d.at = "delete", p.last.id, a.t0
		return d
	case kEdit:
		d.op = "diff"
		g.rdfEdit(a, subj, stmt, &added, &deleted, &linked, &unlinked)
		version(&added, &a.rev)
		version(&deleted, &a.old.last)
	default: // creation, upload, undeletion
		d.op = "import"
		d.rev, d.at = p.last.id, p.last.at
		g.rdfImport(a, subj, stmt, &added, &linked)
		version(&added, &p.last)
	}
	d.added, d.deleted, d.linked, d.unlinked = added.String(), deleted.String(), linked.String(), unlinked.String()
	return d
}

// entityID returns the id of a's entity: the title of a Wikidata entity
// page without its namespace (Q42, P31, L7), M and the page id of a Commons
// file.
func entityID(a *action) string {
	if a.w.fam == commons {
		return "M" + strconv.FormatInt(a.p.id, 10)
	}
	return a.p.title[strings.IndexByte(a.p.title, ':')+1:]
}

// createdItem returns the label, its language and the class of the item
// an item creation's summary describes ("… */ label, description").
func createdItem(comment string) (label, lang, class string) {
	_, rest, ok := strings.Cut(comment, "*/ ")
	if !ok {
		return "", "", ""
	}
	label, desc, _ := strings.Cut(rest, ", ")
	lang = "en"
	for _, l := range wdLabels {
		if l[1] == label {
			lang = l[0]
		}
	}
	for i, d := range wdDescriptions {
		if matchesFill(d[1], desc) {
			return label, lang, descriptionClasses[i]
		}
	}
	return label, lang, "Q35120"
}

// descriptionClasses are the classes (P31) of the items wdDescriptions
// describe.
var descriptionClasses = []string{"Q13442814", "Q532", "Q16521", "Q5", "Q532", "Q13442814", "Q16521", "Q13442814",
	"Q13442814", "Q532", "Q7366"}

// matchesFill tells whether s is template with {Y} filled with a year.
func matchesFill(template, s string) bool {
	before, after, ok := strings.Cut(template, "{Y}")
	if !ok {
		return template == s
	}
	mid, ok := strings.CutPrefix(s, before)
	if !ok {
		return false
	}
	mid, ok = strings.CutSuffix(mid, after)
	if !ok || mid == "" {
		return false
	}
	_, err := strconv.Atoi(mid)
	return err == nil
}

// lexemeLemmas are lemmas of new lexemes and their languages (item, code).
var lexemeLemmas = [][3]string{{"Q188", "de", "Schadenfreude"}, {"Q150", "fr", "café"}, {"Q7737", "ru", "хлеб"},
	{"Q5287", "ja", "猫"}, {"Q256", "tr", "çalışmak"}, {"Q1321", "es", "piñata"}, {"Q9027", "sv", "fjäll"},
	{"Q1860", "en", "serendipity"}, {"Q809", "pl", "łódka"}, {"Q9176", "ko", "사랑"}}

// rdfImport adds the triples of a's entity as a whole: labels and
// statements of an item, a lexeme's lemma, a file's captions, depicted
// things and its file.
func (g *Generator) rdfImport(a *action, subj, stmt string, added, linked *turtle) {
	w, p := a.w, &a.p
	statements := 1
	switch {
	case w.fam == commons:
		name := strings.TrimPrefix(p.title, w.l.file+":")
		sum := md5.Sum([]byte(dbKey(name)))
		h := hex.EncodeToString(sum[:])
		added.add(subj, "rdfs:label", literal(strings.TrimSuffix(name, path.Ext(name)), "en"))
		added.add(subj, "schema:contentUrl", "<https://upload.wikimedia.org/wikipedia/commons/"+h[:1]+"/"+h[:2]+"/"+urlencode(dbKey(name))+">")
		added.add(subj, "schema:encodingFormat", literal(mimeType(name), ""))
		added.add(subj, "schema:contentSize", typed(strconv.FormatInt(50_000+g.rng.Int64N(8_000_000), 10), "integer"))
		g.rdfStatement(added, linked, subj, stmt, entityID(a), "P180", "[[Q"+strconv.FormatInt(g.between(1, 130_000_000), 10)+"]]")
	case p.ns == nsLexeme:
		l := pick(g, lexemeLemmas)
		added.add(subj, "wikibase:lemma", literal(l[2], l[1]))
		added.add(subj, "dct:language", "wd:"+l[0])
		added.add(subj, "wikibase:lexicalCategory", "wd:"+pick(g, []string{"Q1084", "Q24905", "Q34698"}))
		statements = 0
	case p.ns == nsProperty:
		added.add(subj, "rdfs:label", literal(pick(g, []string{"Komoot ID", "ISNI", "Bluesky handle", "population"}), "en"))
		added.add(subj, "wikibase:propertyType", pick(g, []string{"wikibase:ExternalId", "wikibase:Quantity", "wikibase:String"}))
		statements = 0
	default:
		label, lang, class := createdItem(a.comment)
		if label == "" {
			l := pick(g, wdLabels)
			label, lang, class = l[1], l[0], "Q35120"
		}
		added.add(subj, "rdfs:label", literal(label, lang))
		if _, rest, ok := strings.Cut(a.comment, "*/ "); ok {
			if _, desc, ok := strings.Cut(rest, ", "); ok {
				for _, d := range wdDescriptions {
					if matchesFill(d[1], desc) {
						added.add(subj, "schema:description", literal(desc, d[0]))
					}
				}
			}
		}
		g.rdfStatement(added, linked, subj, stmt, entityID(a), "P31", "[["+class+"]]")
		if class == "Q13442814" {
			y, m, d := g.ymd()
			g.rdfStatement(added, linked, subj, stmt, entityID(a), "P577", fmt.Sprintf("%d %s %d", d, time.Month(m), y))
			statements++
		}
		added.add(subj, "wikibase:sitelinks", typed("0", "integer"))
		added.add(subj, "wikibase:identifiers", typed("0", "integer"))
	}
	if statements > 0 {
		added.add(subj, "wikibase:statements", typed(strconv.Itoa(statements), "integer"))
	}
}

func mimeType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".svg":
		return "image/svg+xml"
	case ".pdf":
		return "application/pdf"
	case ".wav":
		return "audio/wav"
	}
	return "image/jpeg"
}

var (
	// autocomment splits a Wikibase summary: /* name:n|param */ tail.
	autocomment = regexp.MustCompile(`^/\* ([a-z-]+):[0-9]+\|([^ ]*) \*/ ?(.*)$`)
	// claimText splits a claim of a summary: [[Property:P31]]: value, or on
	// Commons [[d:Special:EntityPage/P180]]: value.
	claimText = regexp.MustCompile(`^\[\[(?:Property:|d:Special:EntityPage/)(P[0-9]+)\]\]: (.*?)(?:, #quickstatements.*)?$`)
	itemLink  = regexp.MustCompile(`^\[\[(?:d:Special:EntityPage/)?(Q[0-9]+)\]\]$`)
	dayDate   = regexp.MustCompile(`^([0-9]{1,2}) ([A-Z][a-z]+) ([0-9]{4})$`)
)

// rdfEdit adds the triples a's edit adds and removes, read from its
// summary.
func (g *Generator) rdfEdit(a *action, subj, stmt string, added, deleted, linked, unlinked *turtle) {
	m := autocomment.FindStringSubmatch(a.comment)
	if m == nil {
		return // an edit of a file's description page: only the version changes
	}
	name, param, tail := m[1], m[2], m[3]
	lang := strings.TrimSuffix(param, "wiki")
	switch name {
	case "wbsetlabel-add", "wbsetlabel-set", "wbsetdescription-add", "wbsetdescription-set", "wbsetaliases-add":
		pred := "rdfs:label"
		switch {
		case strings.HasPrefix(name, "wbsetdescription"):
			pred = "schema:description"
		case strings.HasPrefix(name, "wbsetaliases"):
			pred = "skos:altLabel"
		}
		added.add(subj, pred, literal(tail, lang))
		if strings.HasSuffix(name, "-set") {
			deleted.add(subj, pred, literal(earlierText(tail), lang))
		}
	case "wbsetsitelink-add":
		site := "https://" + lang + ".wikipedia.org/"
		link := "<" + site + "wiki/" + urlencode(dbKey(tail)) + ">"
		added.add(link, "schema:about", subj)
		added.add(link, "schema:isPartOf", "<"+site+">")
		added.add(link, "schema:inLanguage", literal(lang, ""))
		added.add(link, "schema:name", literal(tail, lang))
		n := g.rng.IntN(80)
		added.add(subj, "wikibase:sitelinks", typed(strconv.Itoa(n+1), "integer"))
		deleted.add(subj, "wikibase:sitelinks", typed(strconv.Itoa(n), "integer"))
	default:
		c := claimText.FindStringSubmatch(tail)
		if c == nil {
			// wbeditentity-update and the like: a statement more.
			c = []string{"", pick(g, []string{"P31", "P17", "P131", "P106"}), "[[Q" + strconv.FormatInt(g.between(1, 130_000_000), 10) + "]]"}
		}
		prop, value := c[1], c[2]
		switch name {
		case "wbsetclaim-update":
			id := g.statementID(entityID(a))
			g.rdfStatementID(added, linked, subj, stmt, id, prop, value)
			g.rdfStatementID(deleted, unlinked, subj, stmt, id, prop, g.earlierValue(value))
		case "wbremoveclaims-remove":
			g.rdfStatement(deleted, unlinked, subj, stmt, entityID(a), prop, value)
		case "wbsetreference-add":
			ref := "wdref:" + g.hexID(40)
			added.add(stmt+g.statementID(entityID(a)), "prov:wasDerivedFrom", ref)
			linked.add(ref, "pr:P248", "wd:Q"+strconv.FormatInt(g.between(1, 130_000_000), 10))
			linked.add(ref, "pr:P813", dateTime(a.t0.Truncate(24*time.Hour)))
		case "wbsetqualifier-add":
			id := stmt + g.statementID(entityID(a))
			obj, _ := g.rdfValue(linked, value)
			added.add(id, "pq:"+prop, obj)
		default:
			g.rdfStatement(added, linked, subj, stmt, entityID(a), prop, value)
		}
	}
}

// earlierText returns what a label or description plausibly was before an
// edit changed it to s.
func earlierText(s string) string {
	if i := strings.LastIndexByte(s, ' '); i > 0 {
		return s[:i]
	}
	if l := strings.ToLower(s); l != s {
		return l
	}
	if r := []rune(s); len(r) > 1 {
		return string(r[:len(r)-1])
	}
	return s + s
}

// earlierValue returns another value of the same kind as value.
func (g *Generator) earlierValue(value string) string {
	switch {
	case itemLink.MatchString(value):
		return "[[Q" + strconv.FormatInt(g.between(1, 130_000_000), 10) + "]]"
	case dayDate.MatchString(value):
		y, m, d := g.ymd()
		return fmt.Sprintf("%d %s %d", d, time.Month(m), y)
	}
	return earlierText(value)
}

// rdfStatement adds a new statement of entity (its title) with property
// prop and value (as in a summary) to t, with its value node in shared.
func (g *Generator) rdfStatement(t, shared *turtle, subj, stmt, entity, prop, value string) {
	g.rdfStatementID(t, shared, subj, stmt, g.statementID(entity), prop, value)
}

func (g *Generator) rdfStatementID(t, shared *turtle, subj, stmt, id, prop, value string) {
	obj, node := g.rdfValue(shared, value)
	s := stmt + id
	t.add(subj, "wdt:"+prop, obj)
	t.add(subj, "p:"+prop, s)
	t.add(s, "ps:"+prop, obj)
	if node != "" {
		t.add(s, "psv:"+prop, node)
	}
	t.add(s, "wikibase:rank", "wikibase:NormalRank")
}

// rdfValue returns the RDF of a value written as in a summary, and the
// full value node it adds to shared for dates ("" for other values).
func (g *Generator) rdfValue(shared *turtle, value string) (string, string) {
	if m := itemLink.FindStringSubmatch(value); m != nil {
		return "wd:" + m[1], ""
	}
	if m := dayDate.FindStringSubmatch(value); m != nil {
		t, err := time.Parse("2 January 2006", m[1]+" "+m[2]+" "+m[3])
		if err != nil {
			return literal(value, ""), ""
		}
		node := "wdv:" + g.hexID(32)
		shared.add(node, "wikibase:timeValue", dateTime(t))
		shared.add(node, "wikibase:timePrecision", typed("11", "integer"))
		shared.add(node, "wikibase:timeTimezone", typed("0", "integer"))
		shared.add(node, "wikibase:timeCalendarModel", "<http://www.wikidata.org/entity/Q1985727>")
		return dateTime(t), node
	}
	return literal(value, ""), ""
}
