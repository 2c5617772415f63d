package eventgen

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The streams that services derive from MediaWiki's events, and write to
// Kafka seconds after them with the action's request id: the WDQS
// streaming updater's RDF changes of Wikidata entities and of Commons
// files' structured data, Lift Wing's predictions (it copies the
// page_change event of an edit and adds a predicted_classification), and
// the HTML feature counts of articles.

const (
	rdfSchema        = "/mediawiki/wikibase/entity/rdf_change/2.0.0"
	predictionSchema = "/mediawiki/page/prediction_classification_change/1.1.0"
	// featureCountsSchema is this package's guess: the schema is not in
	// any public source this package was written from (see
	// testdata/SOURCES.md).
	featureCountsSchema = "/mediawiki/page/rendering_feature_counts_change/1.0.0"
)

// How often an eligible action yields a derived event. Production writes
// one for every eligible revision; these shares keep them low-volume next
// to recentchange.
const (
	pRDF           = 0.045 // Wikidata entity changes
	pMediaInfo     = 0.1   // Commons file page changes with structured data
	pOutlinkTopic  = 0.03  // article edits and creations
	pRevertRisk    = 0.035
	pRevertRiskML  = 0.025
	pRevertRiskWD  = 0.01 // Wikidata item edits
	pFeatureCounts = 0.03
)

// derived queues the derived events of a, an edit, creation, upload,
// deletion or undeletion.
func (g *Generator) derived(a *action) {
	w, p := a.w, &a.p
	switch {
	case isEntity(w, p.ns):
		if g.chance(pRDF) {
			g.push(a, sRDF)
			if scholarly(a) {
				g.push(a, sRDFScholarly)
			} else {
				g.push(a, sRDFMain)
			}
		}
		if a.kind == kEdit && p.ns == nsMain && g.chance(pRevertRiskWD) {
			g.push(a, sRevertRiskWD)
		}
	case w.fam == commons && p.ns == nsFile && p.last.mi.sha1 != "":
		if g.chance(pMediaInfo) {
			g.push(a, sMediaInfo)
		}
	case w.fam == wikipedia && p.ns == nsMain && !p.redirect && (a.kind == kEdit || a.kind == kCreate):
		if g.chance(pOutlinkTopic) {
			g.push(a, sOutlinkTopic)
		}
		if a.kind == kEdit && g.chance(pRevertRisk) {
			g.push(a, sRevertRisk)
		}
		if a.kind == kEdit && g.chance(pRevertRiskML) {
			g.push(a, sRevertRiskML)
		}
		if g.chance(pFeatureCounts) {
			g.push(a, sFeatureCounts)
		}
	}
}

// liftWingMeta writes meta as Lift Wing sets it (stream, a new id, the
// source event's request_id, domain and uri) and EventGate completes it
// (dt).
func (g *Generator) liftWingMeta(e *enc, a *action, stream int, uri string, t time.Time) {
	e.kobj("meta")
	e.kstr("stream", streamNames[stream])
	e.kstr("id", g.uuid())
	e.kstr("request_id", a.reqID)
	e.kstr("domain", a.w.domain)
	e.kstr("uri", uri)
	e.kstr("dt", fmtDT(t))
	e.close()
}

// --- predictions ---------------------------------------------------------

// prediction writes the predicted_classification of a prediction stream.
func (g *Generator) prediction(e *enc, a *action, stream int) {
	e.kobj("predicted_classification")
	if stream == sOutlinkTopic {
		e.kstr("model_name", "outlink-topic-model")
		e.kstr("model_version", "alloutlinks_202209")
		g.outlinkTopics(e, a)
		e.close()
		return
	}
	name, version := "revertrisk-language-agnostic", "3"
	switch stream {
	case sRevertRiskML:
		name, version = "revertrisk-multilingual", "4"
	case sRevertRiskWD:
		name, version = "revertrisk-wikidata", "1"
	}
	e.kstr("model_name", name)
	e.kstr("model_version", version)
	pt := round3(g.revertRisk(a))
	pf := round3(1 - pt)
	prediction := "false"
	if pt > 0.5 {
		prediction = "true"
	}
	e.kstrs("predictions", []string{prediction})
	e.kobj("probabilities")
	e.kfloat("true", pt)
	e.kfloat("false", pf)
	e.close()
	e.close()
}

// revertRisk is the probability that a's edit gets reverted, as the
// models see it: high for unregistered and new editors and for blanking,
// low for bots, administrators and reverts.
func (g *Generator) revertRisk(a *action) float64 {
	u := a.user
	p := 0.12
	switch {
	case u.bot:
		p = 0.02
	case u.id == 0:
		p = 0.42
	case u.admin:
		p = 0.03
	case u.edits < 500:
		p = 0.25
	}
	if a.revert != "" {
		p /= 3
	}
	if a.old.last.size > 2000 && a.rev.size < a.old.last.size/2 {
		p += 0.4
	}
	return min(0.999, max(0.001, p+g.rng.NormFloat64()*0.1))
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// The 64 topics of the outlink topic model (the ORES article topic
// taxonomy).
var outlinkTopics = []string{
	"Culture.Biography.Biography*", "Culture.Biography.Women", "Culture.Food_and_drink", "Culture.Internet_culture",
	"Culture.Linguistics", "Culture.Literature", "Culture.Media.Books", "Culture.Media.Entertainment", "Culture.Media.Films",
	"Culture.Media.Media*", "Culture.Media.Music", "Culture.Media.Radio", "Culture.Media.Software", "Culture.Media.Television",
	"Culture.Media.Video_games", "Culture.Performing_arts", "Culture.Philosophy_and_religion", "Culture.Sports",
	"Culture.Visual_arts.Architecture", "Culture.Visual_arts.Comics_and_Anime", "Culture.Visual_arts.Fashion",
	"Culture.Visual_arts.Visual_arts*", "Geography.Geographical", "Geography.Regions.Africa.Africa*",
	"Geography.Regions.Africa.Central_Africa", "Geography.Regions.Africa.Eastern_Africa", "Geography.Regions.Africa.Northern_Africa",
	"Geography.Regions.Africa.Southern_Africa", "Geography.Regions.Africa.Western_Africa", "Geography.Regions.Americas.Central_America",
	"Geography.Regions.Americas.North_America", "Geography.Regions.Americas.South_America", "Geography.Regions.Asia.Asia*",
	"Geography.Regions.Asia.Central_Asia", "Geography.Regions.Asia.East_Asia", "Geography.Regions.Asia.North_Asia",
	"Geography.Regions.Asia.South_Asia", "Geography.Regions.Asia.Southeast_Asia", "Geography.Regions.Asia.West_Asia",
	"Geography.Regions.Europe.Eastern_Europe", "Geography.Regions.Europe.Europe*", "Geography.Regions.Europe.Northern_Europe",
	"Geography.Regions.Europe.Southern_Europe", "Geography.Regions.Europe.Western_Europe", "Geography.Regions.Oceania",
	"History_and_Society.Business_and_economics", "History_and_Society.Education", "History_and_Society.History",
	"History_and_Society.Military_and_warfare", "History_and_Society.Politics_and_government", "History_and_Society.Society",
	"History_and_Society.Transportation", "STEM.Biology", "STEM.Chemistry", "STEM.Computing", "STEM.Earth_and_environment",
	"STEM.Engineering", "STEM.Libraries_&_Information", "STEM.Mathematics", "STEM.Medicine_&_Health", "STEM.Physics",
	"STEM.STEM*", "STEM.Space", "STEM.Technology",
}

// langRegions are the regions an article of a Wikipedia is often about.
var langRegions = map[string][]string{
	"en": {"Americas.North_America", "Europe.Northern_Europe", "Oceania"},
	"de": {"Europe.Western_Europe"}, "fr": {"Europe.Western_Europe", "Africa.Western_Africa"}, "nl": {"Europe.Western_Europe"},
	"es": {"Europe.Southern_Europe", "Americas.South_America", "Americas.Central_America"}, "it": {"Europe.Southern_Europe"},
	"pt": {"Americas.South_America", "Europe.Southern_Europe"}, "ru": {"Europe.Eastern_Europe", "Asia.North_Asia"},
	"uk": {"Europe.Eastern_Europe"}, "pl": {"Europe.Eastern_Europe"}, "cs": {"Europe.Eastern_Europe"},
	"sv": {"Europe.Northern_Europe"}, "ja": {"Asia.East_Asia"}, "zh": {"Asia.East_Asia"}, "ko": {"Asia.East_Asia"},
	"ar": {"Asia.West_Asia", "Africa.Northern_Africa"}, "fa": {"Asia.West_Asia", "Asia.Central_Asia"}, "he": {"Asia.West_Asia"},
	"tr": {"Asia.West_Asia"}, "vi": {"Asia.Southeast_Asia"}, "id": {"Asia.Southeast_Asia"},
}

// subjectTopics are the other topics an article is about, weighted.
var subjectTopics = []weighted[string]{
	{"Culture.Biography.Biography*", 20}, {"Geography.Geographical", 14}, {"Culture.Sports", 10},
	{"History_and_Society.Politics_and_government", 7}, {"History_and_Society.History", 6}, {"STEM.Biology", 8},
	{"Culture.Media.Music", 6}, {"History_and_Society.Transportation", 4}, {"Culture.Media.Films", 3},
	{"Culture.Visual_arts.Architecture", 3}, {"History_and_Society.Military_and_warfare", 2}, {"STEM.Medicine_&_Health", 2},
	{"Culture.Philosophy_and_religion", 2}, {"History_and_Society.Business_and_economics", 3}, {"Culture.Media.Television", 2},
}

// outlinkTopics writes the predictions and probabilities of the outlink
// topic model: the topics scored 0.5 or more are predicted, the scores of
// those above 0.15 given, the highest first.
func (g *Generator) outlinkTopics(e *enc, a *action) {
	scores := map[string]float64{}
	if rs := langRegions[a.w.lang]; len(rs) > 0 && g.chance(0.7) {
		region := "Geography.Regions." + pick(g, rs)
		scores[region] = 0.55 + 0.44*g.rng.Float64()
		if top, _, ok := strings.Cut(strings.TrimPrefix(region, "Geography.Regions."), "."); ok {
			scores["Geography.Regions."+top+"."+top+"*"] = 0.5 + 0.49*g.rng.Float64()
		}
	}
	for range 1 + g.rng.IntN(2) {
		scores[pickWeighted(g, subjectTopics)] = 0.5 + 0.49*g.rng.Float64()
	}
	if scores["Culture.Biography.Biography*"] > 0 && g.chance(0.25) {
		scores["Culture.Biography.Women"] = 0.5 + 0.45*g.rng.Float64()
	}
	for range g.rng.IntN(4) {
		t := pick(g, outlinkTopics)
		if scores[t] == 0 {
			scores[t] = 0.15 + 0.34*g.rng.Float64()
		}
	}
	topics := make([]string, 0, len(scores))
	for t, s := range scores {
		scores[t] = round3(s)
		topics = append(topics, t)
	}
	slices.SortFunc(topics, func(x, y string) int {
		if scores[x] != scores[y] {
			if scores[x] > scores[y] {
				return -1
			}
			return 1
		}
		return strings.Compare(x, y)
	})
	e.karr("predictions")
	for _, t := range topics {
		if scores[t] >= 0.5 {
			e.str(t)
		}
	}
	e.closeArr()
	e.kobj("probabilities")
	for _, t := range topics {
		e.kfloat(t, scores[t])
	}
	e.close()
}

// --- HTML feature counts --------------------------------------------------

// featureKinds are the features counted in an article's HTML, with the
// bytes of wikitext per feature on average.
var featureKinds = []struct {
	name    string
	perByte float64
}{
	{"categories", 1.0 / 3000}, {"external_links", 1.0 / 1500}, {"headings", 1.0 / 2500}, {"images", 1.0 / 6000},
	{"lists", 1.0 / 5000}, {"paragraphs", 1.0 / 700}, {"references", 1.0 / 700}, {"tables", 1.0 / 15000},
	{"templates", 1.0 / 900}, {"wikilinks", 1.0 / 90}, {"words", 1.0 / 6.2},
}

// featureCounts writes the feature counts of the HTML of a's page after
// the action, or before it (prior). The counts follow the size of the
// page's wikitext with a spread of its own per page, so that an edit moves
// them as much as it changes the page.
func (g *Generator) featureCounts(e *enc, a *action, prior bool) {
	r := &a.p.last
	if prior {
		r = &a.old.last
	}
	e.kobj("feature_counts")
	for i, f := range featureKinds {
		spread := 0.6 + 0.8*float64(hash64(a.w.db, strconv.FormatInt(a.p.id, 10), f.name)%1000)/1000
		n := int64(float64(r.main.size) * f.perByte * spread)
		if i == 0 {
			n++ // a page has at least a category, tracking ones included
		}
		e.kint(f.name, n)
	}
	e.close()
}

// --- RDF changes -----------------------------------------------------------

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
