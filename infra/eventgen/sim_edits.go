// Actions that change a page's content: edits (reverts among them), page
// creations and uploads, and the categorize, page-links-change and
// page-properties-change events they yield.

package eventgen

import (
	"fmt"
	"strconv"
)

func (g *Generator) edit(a *action) {
	w := a.w
	old := g.existing(w, a.t0, w.ns)
	u := g.editorOf(w, old.title)
	a.user, a.old = u, old
	comment := g.editSummary(w, old.ns, old.title, u)
	delta := g.delta(w, old.ns, u)
	if !u.bot && !isEntity(w, old.ns) && old.last.editor != nil && g.chance(pRevert) {
		comment, delta = g.revertOf(a, old)
	}
	a.rev = g.newRevision(w, &old, &old.last, delta, u, comment, a.t0)
	a.rev.minor = a.revert == "rollback" || g.chance(0.15) || u.bot && g.chance(0.3)
	a.p = old
	a.p.last, a.p.revs = a.rev, old.revs+1
	w.remember(a.p)
	u.edits++
	a.comment, a.parsed = comment, g.parse(w, old.title, comment)
	a.rcID = w.nextRC(g)

	g.push(a, sRecentChange)
	if g.chance(pRevisionCreate) {
		g.push(a, sRevisionCreate)
	}
	if g.chance(pPageChange) {
		g.push(a, sPageChange)
	}
	if g.chance(pLinks) {
		g.links(a)
	}
	if g.chance(pProperties) {
		g.properties(a)
	}
	if g.chance(pCategorize) && categorized(w, &a.p) {
		g.categorize(a, old.last.id)
	}
	if a.revert != "" && g.chance(0.7) {
		// The reverted revision gets the mw-reverted tag.
		a.target = old.last
		a.oldTags = old.last.tags
		a.tags = append(append([]string(nil), old.last.tags...), "mw-reverted")
		g.push(a, sRevisionTagsChange)
	}
	g.derived(a)
}

// revertOf makes a's edit a revert of old's last revision.
func (g *Generator) revertOf(a *action, old page) (string, int64) {
	victim := old.last.editor.name
	a.reverted = []int64{old.last.id}
	// Undoing vandalism: mostly removing what it added, sometimes
	// restoring what it blanked.
	d := -int64(g.rng.ExpFloat64() * 400)
	if g.chance(0.25) {
		d = int64(g.rng.ExpFloat64() * 4000)
	}
	switch {
	case a.user.admin || hasAny(a.user.groups, "rollbacker"):
		a.revert = "rollback"
		return fmt.Sprintf("Reverted edits by [[Special:Contributions/%[1]s|%[1]s]] ([[User talk:%[1]s|talk]]) to last version by %[2]s",
			victim, pick(g, humanNames)), d
	case g.chance(0.6):
		a.revert = "undo"
		c := fmt.Sprintf("Undid revision [[Special:Diff/%[1]d|%[1]d]] by [[Special:Contributions/%[2]s|%[2]s]] ([[User talk:%[2]s|talk]])",
			old.last.id, victim)
		if g.chance(0.5) {
			c += " " + pick(g, []string{"unsourced", "not an improvement & no source", `see "talk"`, "rv <ref> spam"})
		}
		return c, d
	}
	a.revert = "manual"
	return pick(g, []string{"rv vandalism", "Reverted to revision " + strconv.FormatInt(old.last.parent, 10), "rvv"}), d
}

func (g *Generator) create(a *action, upload bool) {
	w := a.w
	ns := pickWeighted(g, createNS(w))
	if upload {
		ns = nsFile
	}
	p := page{id: w.nextPage(g), ns: ns, revs: 1}
	switch {
	case w.fam == wikidata && ns == nsMain:
		w.q += 1 + g.rng.Int64N(3)
		p.title = "Q" + strconv.FormatInt(w.q, 10)
	case w.fam == wikidata && ns == nsLexeme:
		w.lexeme++
		p.title = "Lexeme:L" + strconv.FormatInt(w.lexeme, 10)
	default:
		p.title = g.title(w, ns)
	}
	u := g.editor(w)
	if upload && (u.id == 0 || u.bot && g.chance(0.9)) {
		u = g.pickUser(w, false, false)
	}
	if ns == nsUser {
		// One creates one's own user page.
		if u.id == 0 || u.bot {
			u = g.pickUser(w, false, false)
		}
		p.title = w.l.user + ":" + u.name
		if g.chance(0.4) {
			p.title += "/sandbox"
		}
	}
	a.user = u
	var comment string
	if upload {
		comment = pick(g, []string{"Uploaded own work with UploadWizard", "Uploaded a work by " + pick(g, humanNames) + " from Flickr with UploadWizard",
			"User created page with UploadWizard", "{{Information |description={{de|1=" + pick(g, subjects) + "}} |source={{own}} }}"})
	} else {
		comment = g.createSummary(w, ns, p.title, u)
	}
	a.rev = g.newRevision(w, &p, nil, 0, u, comment, a.t0)
	if upload && g.chance(0.6) {
		a.rev.mi = slot{size: 150 + g.rng.Int64N(800), sha1: g.sha1(), origin: a.rev.id}
		a.rev.size += a.rev.mi.size
		a.rev.sha1 = g.sha1()
	}
	p.last = a.rev
	a.p = p
	w.remember(p)
	u.edits++
	a.comment, a.parsed = comment, g.parse(w, p.title, comment)
	a.rcID = w.nextRC(g)
	if upload {
		a.logID, a.logType, a.logAction, a.logParams = w.nextLog(g), "upload", "upload",
			fmt.Sprintf(`{"img_sha1":"%s","img_timestamp":"%s"}`, g.sha1(), a.t0.UTC().Format("20060102150405"))
		a.logTitle, a.logNS = p.title, nsFile
		a.logACT = "uploaded &quot;[[" + p.title + "]]&quot;" + reason(comment)
	}

	g.push(a, sRecentChange)
	g.push(a, sPageCreate)
	if g.chance(pRevisionCreate) {
		g.push(a, sRevisionCreate)
	}
	if g.chance(pPageChange) {
		g.push(a, sPageChange)
	}
	if !upload && g.chance(0.3) {
		g.links(a)
	}
	if !upload && g.chance(0.1) {
		g.properties(a)
	}
	if g.chance(0.3) && categorized(w, &a.p) {
		g.categorize(a, 0)
	}
	g.derived(a)
}

func createNS(w *wikiState) []weighted[int] {
	switch w.fam {
	case wikidata:
		return []weighted[int]{{nsMain, 97}, {nsLexeme, 2}, {nsUserTalk, 1}}
	case commons:
		return []weighted[int]{{nsCategory, 60}, {nsMain, 5}, {nsUser, 15}, {nsUserTalk, 20}}
	case wiktionary, species:
		return []weighted[int]{{nsMain, 90}, {nsUser, 4}, {nsUserTalk, 6}}
	}
	ws := []weighted[int]{{nsMain, 45}, {nsUser, 15}, {nsUserTalk, 25}, {nsTalk, 5}, {nsCategory, 5}}
	if w.db == "enwiki" {
		ws = append(ws, weighted[int]{nsDraft, 5})
	}
	return ws
}

// categorized tells whether p's edits change category memberships that
// recentchange reports.
func categorized(w *wikiState, p *page) bool {
	return w.fam != wikidata && p.last.model == "wikitext" && (p.ns == nsMain || p.ns == nsFile || p.ns == nsTemplate)
}

// categorize queues the recentchange categorize event of a's page.
func (g *Generator) categorize(a *action, oldRev int64) {
	if !g.on[sRecentChange] {
		return
	}
	w := a.w
	a.catRC = w.nextRC(g)
	a.catTitle = w.l.category + ":" + g.category(w)
	added, removed := w.l.catAdded, w.l.catRemoved
	if added == "" {
		added, removed = langEN.catAdded, langEN.catRemoved
	}
	if g.chance(0.25) && oldRev != 0 {
		added = removed
	}
	a.catCmt = fmt.Sprintf(added, a.p.title)
	a.catParse = g.render(w, a.catTitle, a.catCmt, false) // the page exists
	g.queue = append(g.queue, pending{a: a, stream: sRecentChange, cat: true})
}

var externalLinks = []string{
	"https://www.bbc.co.uk/news/articles/c4g%dxyz", "https://doi.org/10.1038/s41586-024-0%d-x",
	"https://web.archive.org/web/2024%d/https://www.example.org/", "http://www.stat.gov.pl/bdl/app/dane_podgrup.dims?p_id=%d&p_token=0.5&lang=en",
	"https://books.google.com/books?id=%d&pg=PA12", "https://www.ine.es/jaxiT3/Datos.htm?t=%d",
}

// links queues a page-links-change event of a's page.
func (g *Generator) links(a *action) {
	if !g.on[sPageLinksChange] {
		return
	}
	w := a.w
	list := func(n int) string {
		var e enc
		e.openArr()
		for range n {
			e.open()
			if g.chance(0.6) {
				e.kstr("link", "/wiki/"+urlencode(dbKey(g.title(w, pickWeighted(g, w.ns)))))
				e.kbool("external", false)
			} else {
				e.kstr("link", fmt.Sprintf(pick(g, externalLinks), g.rng.IntN(1_000_000)))
				e.kbool("external", true)
			}
			e.close()
		}
		e.closeArr()
		return string(e.b)
	}
	if g.chance(0.85) {
		a.addedLinks = list(1 + g.rng.IntN(3))
	}
	if a.addedLinks == "" || g.chance(0.3) {
		a.removedLinks = list(1 + g.rng.IntN(2))
	}
	g.push(a, sPageLinksChange)
}

// properties queues a page-properties-change event of a's page.
func (g *Generator) properties(a *action) {
	if !g.on[sPagePropertiesChange] {
		return
	}
	w := a.w
	var e enc
	e.open()
	switch {
	case isEntity(w, a.p.ns):
		e.kint("wb-claims", g.between(1, 80))
		e.kint("wb-sitelinks", g.between(0, 40))
		if g.chance(0.5) {
			e.kint("wb-identifiers", g.between(0, 30))
		}
	default:
		switch g.rng.IntN(5) {
		case 0:
			e.kstr("wikibase_item", "Q"+strconv.FormatInt(g.between(1, w.q), 10))
		case 1:
			e.kstr("wikibase-shortdesc", g.fill(pick(g, wdDescriptions)[1]))
		case 2:
			e.kstr("page_image_free", dbKey(g.fileName()))
		case 3:
			e.kstr("defaultsort", "Hartmann, Zoë")
		default:
			e.kstr("notoc", "")
		}
	}
	e.close()
	a.addedProps = string(e.b)
	if g.chance(0.3) {
		a.removedProps = fmt.Sprintf(`{"page_image_free":%s}`, appendString(nil, dbKey(g.fileName())))
	}
	g.push(a, sPagePropertiesChange)
}
