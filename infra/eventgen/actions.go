package eventgen

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A MediaWiki action (an edit, a page creation, a deletion, …) yields
// events on several streams, with the same page, revision, user and
// request id. newAction draws one and queues its events; build writes each
// when Next returns it.

type kind uint8

const (
	kEdit kind = iota
	kCreate
	kLog // a log entry only recentchange carries (new accounts, blocks, patrols, …)
	kUpload
	kDelete
	kMove
	kUndelete
	kVisibility
	kTags // tags added to an older revision
	numKinds
)

// kindStreams are the streams each kind of action can yield.
var kindStreams = [numKinds][]int{
	kEdit: {sRecentChange, sRevisionCreate, sPageChange, sPageLinksChange, sPagePropertiesChange, sRevisionTagsChange,
		sRDF, sRDFMain, sRDFScholarly, sMediaInfo, sOutlinkTopic, sRevertRisk, sRevertRiskML, sRevertRiskWD, sFeatureCounts},
	kCreate: {sRecentChange, sRevisionCreate, sPageCreate, sPageChange, sPageLinksChange, sPagePropertiesChange,
		sRDF, sRDFMain, sRDFScholarly, sOutlinkTopic, sFeatureCounts},
	kLog:        {sRecentChange},
	kUpload:     {sRecentChange, sRevisionCreate, sPageCreate, sPageChange, sMediaInfo},
	kDelete:     {sRecentChange, sPageDelete, sPageChange, sRDF, sRDFMain, sRDFScholarly, sMediaInfo},
	kMove:       {sRecentChange, sPageMove, sPageChange},
	kUndelete:   {sRecentChange, sPageUndelete, sPageChange, sRDF, sRDFMain, sRDFScholarly, sMediaInfo},
	kVisibility: {sRecentChange, sRevisionVisibilityChange, sPageChange},
	kTags:       {sRevisionTagsChange},
}

// streamOnWiki tells whether stream s has events from wikis like w: the
// RDF streams follow Wikidata's entities and Commons' files, the
// predictions and feature counts Wikipedia's articles (and Wikidata's items
// for the Wikidata revert risk).
func streamOnWiki(s int, w *wikiInfo) bool {
	switch s {
	case sRDF, sRDFMain, sRDFScholarly, sRevertRiskWD:
		return w.fam == wikidata
	case sMediaInfo:
		return w.fam == commons
	case sOutlinkTopic, sRevertRisk, sRevertRiskML, sFeatureCounts:
		return w.fam == wikipedia
	}
	return true
}

// How often an action's companion events are produced. Production writes
// a revision-create and a page_change for every revision; these shares,
// with those of the derived streams (derived.go), keep recentchange at
// about 60% of the events, as asked of a dev stream.
const (
	pRevisionCreate = 0.25
	pPageChange     = 0.22
	pLinks          = 0.08
	pProperties     = 0.04
	pCategorize     = 0.12
	pRevert         = 0.07
)

func kindWeight(w *wikiInfo, k kind) float64 {
	switch k {
	case kEdit:
		return 76
	case kCreate:
		switch w.fam {
		case wikidata:
			return 7
		case commons:
			return 2
		}
		return 4.5
	case kLog:
		return 8
	case kUpload:
		switch {
		case w.fam == commons:
			return 9
		case w.fam == wikipedia:
			return 0.1
		}
		return 0
	case kDelete:
		if w.fam == commons {
			return 2
		}
		return 1.4
	case kMove:
		if w.fam == wikidata {
			return 0.05
		}
		return 0.6
	case kUndelete:
		return 0.15
	case kVisibility:
		return 0.35
	case kTags:
		return 1.2
	}
	return 0
}

const ringSize = 64

// wikiState is a wiki and what the generator remembers of it.
type wikiState struct {
	wikiInfo
	l       *lang
	project string
	ns      []weighted[int]
	// The last ids given out.
	rc, pageID, logID, q, lexeme int64
	nsNames                      []nsName
	userCache                    map[string]*user
	ring                         []page // recently changed pages
	ringNext                     int
	deleted                      []page // recently deleted pages
	kindCum                      [numKinds]float64
	kindTotal                    float64
}

func (g *Generator) initWikis() {
	total := 0.0
	for _, info := range wikiTable {
		w := &wikiState{wikiInfo: info, userCache: map[string]*user{}}
		w.l = langByCode(w.lang)
		w.project = w.projectName(w.l)
		w.initNamespaces()
		for _, n := range nsWeights[w.fam] {
			if n.v != nsDraft || w.db == "enwiki" {
				w.ns = append(w.ns, n)
			}
		}
		w.rev += g.between(0, 100_000)
		w.rc = w.rev*7/5 + g.between(0, 100_000)
		w.pageID = w.page + g.between(0, 10_000)
		w.logID = w.rev/9 + g.between(0, 10_000)
		w.q, w.lexeme = 136_400_000, 1_460_000
		for k := range numKinds {
			wt := 0.0
			for _, s := range kindStreams[k] {
				if g.on[s] && streamOnWiki(s, &w.wikiInfo) {
					wt = kindWeight(&w.wikiInfo, kind(k))
					break
				}
			}
			w.kindTotal += wt
			w.kindCum[k] = w.kindTotal
		}
		if w.kindTotal > 0 {
			total += w.weight
		}
		g.wikis = append(g.wikis, w)
		g.wikiCum = append(g.wikiCum, total)
	}
}

func (g *Generator) pickWiki() *wikiState {
	x := g.rng.Float64() * g.wikiCum[len(g.wikiCum)-1]
	for i, c := range g.wikiCum {
		if x < c && g.wikis[i].kindTotal > 0 {
			return g.wikis[i]
		}
	}
	return g.wikis[len(g.wikis)-1]
}

func (g *Generator) pickKind(w *wikiState) kind {
	x := g.rng.Float64() * w.kindTotal
	for k, c := range w.kindCum {
		if x < c {
			return kind(k)
		}
	}
	return kEdit
}

func (w *wikiState) nextRev(g *Generator) int64  { w.rev += 1 + g.rng.Int64N(3); return w.rev }
func (w *wikiState) nextRC(g *Generator) int64   { w.rc += 1 + g.rng.Int64N(4); return w.rc }
func (w *wikiState) nextPage(g *Generator) int64 { w.pageID += 1 + g.rng.Int64N(2); return w.pageID }
func (w *wikiState) nextLog(g *Generator) int64  { w.logID += 1 + g.rng.Int64N(3); return w.logID }

func (w *wikiState) url(title string) string {
	return "https://" + w.domain + "/wiki/" + urlencode(dbKey(title))
}

// remember keeps p as the latest state of its page.
func (w *wikiState) remember(p page) {
	for i := range w.ring {
		if w.ring[i].id == p.id {
			w.ring[i] = p
			return
		}
	}
	if len(w.ring) < ringSize {
		w.ring = append(w.ring, p)
		return
	}
	w.ring[w.ringNext] = p
	w.ringNext = (w.ringNext + 1) % ringSize
}

func (w *wikiState) forget(id int64) {
	for i := range w.ring {
		if w.ring[i].id == id {
			w.ring[i] = w.ring[len(w.ring)-1]
			w.ring = w.ring[:len(w.ring)-1]
			w.ringNext = 0
			return
		}
	}
}

type page struct {
	id       int64
	ns       int
	title    string // prefixed text, with spaces
	redirect bool
	revs     int64 // number of revisions
	last     revision
}

type slot struct {
	size   int64
	sha1   string
	origin int64 // the revision that last changed the slot
}

type revision struct {
	id, parent    int64
	at            time.Time
	size          int64  // rev_len: the slots' sizes added
	sha1          string // of the revision (the main slot's when it is the only one)
	main, mi      slot   // mi: Commons' mediainfo slot, when mi.sha1 != ""
	model, format string
	comment       string
	editor        *user
	minor         bool
	tags          []string
}

// action is one MediaWiki action, with what its events need. Events are
// built from it when Next returns them, so it holds copies of the page
// states, never pointers into the wiki's memory.
type action struct {
	kind   kind
	w      *wikiState
	dc     int
	t0     time.Time
	reqID  string
	user   *user    // the performer
	p, old page     // the page after and before the action
	rev    revision // the revision the action created, if any
	rcID   int64

	comment, parsed string
	revert          string // "rollback", "undo" or "manual" when the edit is a revert
	reverted        []int64

	logID                                 int64
	logType, logAction, logParams, logACT string // logParams is JSON; logACT the log_action_comment
	logTitle                              string
	logNS                                 int

	catRC                      int64
	catTitle, catCmt, catParse string

	addedLinks, removedLinks, addedProps, removedProps string // JSON, "" when absent

	target        revision // of tags and visibility changes
	vis, priorVis [3]bool  // text, user, comment
	tags, oldTags []string
	redirect      *page // the redirect a move left behind

	rdf *rdfData // the RDF change, made with the first of its events
}

// pending is an event of an action, queued.
type pending struct {
	a      *action
	stream int8
	cat    bool // the recentchange categorize event of the action
}

func (g *Generator) push(a *action, stream int) {
	if g.on[stream] {
		g.queue = append(g.queue, pending{a: a, stream: int8(stream)})
	}
}

// newAction draws an action and queues its events (none when every one of
// its streams is off).
func (g *Generator) newAction(now time.Time) {
	w := g.pickWiki()
	a := &action{kind: g.pickKind(w), w: w, dc: g.pickDC(), t0: now, reqID: g.uuid()}
	switch a.kind {
	case kEdit:
		g.edit(a)
	case kCreate:
		g.create(a, false)
	case kUpload:
		g.create(a, true)
	case kLog:
		g.logEntry(a)
	case kDelete:
		g.delete(a)
	case kMove:
		g.move(a)
	case kUndelete:
		g.undelete(a)
	case kVisibility:
		g.visibility(a)
	case kTags:
		g.tagsChange(a)
	}
}

// --- pages and revisions -------------------------------------------------

// existing returns a page that exists, in a namespace drawn from nss: a
// recently changed one, or one made up with a history.
func (g *Generator) existing(w *wikiState, t time.Time, nss []weighted[int]) page {
	ns := pickWeighted(g, nss)
	if len(w.ring) > 0 && g.chance(0.35) {
		for range 4 {
			if p := w.ring[g.rng.IntN(len(w.ring))]; p.ns == ns {
				return p
			}
		}
	}
	p := page{id: g.between(w.pageID/40, w.pageID), ns: ns, title: g.title(w, ns), revs: 1 + g.rng.Int64N(400)}
	p.redirect = ns == nsMain && w.fam == wikipedia && g.chance(0.02)
	r := revision{id: g.between(w.rev*9/10, w.rev), at: t.Add(-time.Duration(60+g.rng.Int64N(3*365*86400)) * time.Second)}
	r.parent = g.between(r.id*8/10, r.id)
	r.editor = g.editorOf(w, p.title)
	r.minor = g.chance(0.2)
	r.comment = g.editSummary(w, ns, p.title, r.editor)
	r.model, r.format = contentModel(w, ns, p.title)
	r.main = slot{size: g.pageSize(w, ns), sha1: g.sha1(), origin: r.id}
	r.sha1, r.size = r.main.sha1, r.main.size
	if w.fam == commons && ns == nsFile && g.chance(0.8) {
		r.main.origin = g.between(r.parent*9/10, r.parent)
		r.mi = slot{size: 200 + g.rng.Int64N(12_000), sha1: g.sha1(), origin: r.id}
		r.sha1, r.size = g.sha1(), r.main.size+r.mi.size
	}
	if g.chance(0.2) {
		r.tags = pick(g, [][]string{{"mobile edit", "mobile web edit"}, {"visualeditor"}, {"wikieditor"}, {"mobile edit", "mobile app edit", "android app edit"}})
	}
	p.last = r
	return p
}

func (g *Generator) pageSize(w *wikiState, ns int) int64 {
	mean := 15_000.0
	switch {
	case isEntity(w, ns):
		mean = 18_000
	case ns == nsFile:
		mean = 1_500
	case ns == nsCategory:
		mean = 400
	case ns == nsUser:
		mean = 3_000
	case ns%2 == 1 || ns == nsProject:
		mean = 40_000
	case w.fam == wiktionary:
		mean = 3_000
	}
	return 50 + int64(g.rng.ExpFloat64()*mean)
}

func contentModel(w *wikiState, ns int, title string) (string, string) {
	switch {
	case w.fam == wikidata && ns == nsMain:
		return "wikibase-item", "application/json"
	case w.fam == wikidata && ns == nsProperty:
		return "wikibase-property", "application/json"
	case w.fam == wikidata && ns == nsLexeme:
		return "wikibase-lexeme", "application/json"
	case ns == nsModule:
		return "Scribunto", "text/plain"
	case ns == nsUser && strings.HasSuffix(title, ".js"):
		return "javascript", "text/javascript"
	case ns == nsUser && strings.HasSuffix(title, ".css"):
		return "css", "text/css"
	}
	return "wikitext", "text/x-wiki"
}

// newRevision returns the revision after prev (nil for a new page) with
// its size changed by delta. Structured data edits on Commons change the
// mediainfo slot only.
func (g *Generator) newRevision(w *wikiState, p *page, prev *revision, delta int64, u *user, comment string, at time.Time) revision {
	r := revision{id: w.nextRev(g), at: at, editor: u, comment: comment}
	r.model, r.format = contentModel(w, p.ns, p.title)
	if prev == nil {
		size := g.pageSize(w, p.ns)/3 + 20
		r.main = slot{size: size, sha1: g.sha1(), origin: r.id}
		r.sha1, r.size = r.main.sha1, size
		return r
	}
	r.parent = prev.id
	r.main, r.mi = prev.main, prev.mi
	if r.mi.sha1 != "" && strings.HasPrefix(comment, "/* wb") {
		r.mi = slot{size: max(50, r.mi.size+delta), sha1: g.sha1(), origin: r.id}
	} else {
		r.main = slot{size: max(0, r.main.size+delta), sha1: g.sha1(), origin: r.id}
	}
	r.size, r.sha1 = r.main.size+r.mi.size, r.main.sha1
	if r.mi.sha1 != "" {
		r.sha1 = g.sha1()
	}
	return r
}

func (g *Generator) delta(w *wikiState, ns int, u *user) int64 {
	switch {
	case isEntity(w, ns):
		d := int64(g.rng.ExpFloat64() * 600)
		if g.chance(0.15) {
			return -d
		}
		return d
	case u.bot:
		return int64(g.rng.NormFloat64() * 150)
	}
	d := int64(g.rng.ExpFloat64() * 300)
	if g.chance(0.05) {
		d = int64(g.rng.ExpFloat64() * 6_000)
	}
	if g.chance(0.35) {
		return -d
	}
	return d
}

// --- actions -------------------------------------------------------------

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

// reason is the ": reason" MediaWiki adds to a log_action_comment.
func reason(comment string) string {
	if comment == "" {
		return ""
	}
	return ": " + comment
}

// logEntry draws a log entry that only recentchange carries.
func (g *Generator) logEntry(a *action) {
	w := a.w
	a.logID, a.rcID = w.nextLog(g), w.nextRC(g)
	choices := []weighted[string]{{"autocreate", 55}, {"block", 8}, {"protect", 3}, {"rights", 2}}
	if w.fam == wikipedia || w.fam == wiktionary {
		choices = append(choices, weighted[string]{"create", 10})
	}
	if w.rcPatrol {
		choices = append(choices, weighted[string]{"patrol", 12})
	}
	if w.fam == commons {
		choices = append(choices, weighted[string]{"overwrite", 10})
	}
	l := w.l
	switch pickWeighted(g, choices) {
	case "autocreate", "create":
		u := g.newUser(w, a.t0)
		a.user, a.logType, a.logAction = u, "newusers", "autocreate"
		a.logACT = l.autoCreate
		if a.logACT == "" {
			a.logACT = langEN.autoCreate
		}
		if w.fam == wikipedia && g.chance(0.3) {
			a.logAction, a.logACT = "create", l.newUser
			if a.logACT == "" {
				a.logACT = langEN.newUser
			}
		}
		a.logTitle, a.logNS = l.user+":"+u.name, nsUser
		a.logParams = fmt.Sprintf(`{"userid":%d}`, u.id)
	case "block":
		a.user = g.pickUser(w, false, true)
		target := g.ipUser().name
		if g.chance(0.4) {
			target = g.newUser(w, a.t0).name
		}
		dur := pick(g, []string{"31 hours", "1 week", "3 months", "infinite", "2 years"})
		flags := pick(g, []string{"anononly,nocreate", "nocreate,noautoblock", "nocreate", "anononly,nocreate,nousertalk"})
		a.comment = pick(g, []string{"[[" + w.project + ":Vandalism|Vandalism]]", "Spam / advertising-only account", "{{colocationwebhost}} <!-- hosting range -->", "Long-term abuse & block evasion"})
		a.logType, a.logAction = "block", "block"
		a.logTitle, a.logNS = l.user+":"+target, nsUser
		a.logParams = fmt.Sprintf(`{"duration":"%s","flags":"%s","sitewide":true}`, dur, flags)
		a.logACT = fmt.Sprintf("blocked [[%s:%s]] with an expiration time of %s (%s)%s", l.user, target, dur, strings.ReplaceAll(flags, ",", ", "), reason(a.comment))
	case "protect":
		a.user = g.pickUser(w, false, true)
		p := g.existing(w, a.t0, adminNS(w))
		until := a.t0.AddDate(0, 1+g.rng.IntN(6), 0).UTC()
		desc := fmt.Sprintf("[edit=autoconfirmed] (expires %s (UTC)) [move=autoconfirmed] (expires %s (UTC))",
			until.Format("15:04, 2 January 2006"), until.Format("15:04, 2 January 2006"))
		a.comment = pick(g, []string{"Persistent [[" + w.project + ":Vandalism|vandalism]]", "Edit warring / content dispute", "High-risk template & module"})
		a.logType, a.logAction = "protect", "protect"
		a.logTitle, a.logNS = p.title, p.ns
		a.logParams = fmt.Sprintf(`{"description":"%s","cascade":false,"details":[{"type":"edit","level":"autoconfirmed","expiry":"%s","cascade":false},{"type":"move","level":"autoconfirmed","expiry":"%s","cascade":false}]}`,
			desc, until.Format("20060102150405"), until.Format("20060102150405"))
		a.logACT = fmt.Sprintf("protected &quot;[[%s]]&quot; %s%s", p.title, desc, reason(a.comment))
	case "rights":
		a.user = g.pickUser(w, false, true)
		target := g.pickUser(w, false, false)
		group := pick(g, []string{"rollbacker", "autopatrolled", "extendedconfirmed", "patroller"})
		a.comment = pick(g, []string{"", "per request at [[" + w.project + ":Requests for permissions]]", "trusted user"})
		a.logType, a.logAction = "rights", "rights"
		a.logTitle, a.logNS = l.user+":"+target.name, nsUser
		a.logParams = fmt.Sprintf(`{"oldgroups":[],"newgroups":["%s"],"oldmetadata":[],"newmetadata":[{"expiry":null}]}`, group)
		a.logACT = fmt.Sprintf("changed group membership for %s:%s from (none) to %s%s", l.user, target.name, group, reason(a.comment))
	case "patrol":
		a.user = g.pickUser(w, false, g.chance(0.5))
		p := g.existing(w, a.t0, w.ns)
		a.logType, a.logAction = "patrol", "patrol"
		a.logTitle, a.logNS = p.title, p.ns
		a.logParams = fmt.Sprintf(`{"curid":%d,"previd":%d,"auto":0}`, p.last.id, p.last.parent)
		a.logACT = fmt.Sprintf("marked revision %d of [[%s]] patrolled", p.last.id, p.title)
	case "overwrite":
		a.user = g.editor(w)
		title := l.file + ":" + g.fileName()
		a.comment = pick(g, []string{"Cropped 3 % horizontally & 1 % vertically using CropTool with precise mode.", "higher resolution", "Rotated 90° (EXIF)", "colour & perspective correction"})
		a.logType, a.logAction = "upload", "overwrite"
		a.logTitle, a.logNS = title, nsFile
		a.logParams = fmt.Sprintf(`{"img_sha1":"%s","img_timestamp":"%s"}`, g.sha1(), a.t0.UTC().Format("20060102150405"))
		a.logACT = "uploaded a new version of &quot;[[" + title + "]]&quot;" + reason(a.comment)
	}
	a.parsed = g.parse(w, a.logTitle, a.comment)
	g.push(a, sRecentChange)
}

var deleteReasons = map[family][]string{
	wikipedia: {"[[WP:CSD#G11|G11]]: Unambiguous advertising or promotion", "[[WP:CSD#A7|A7]]: No credible indication of importance",
		"[[WP:PROD|Expired PROD]], concern was: Unsourced & fails [[WP:GNG]]", "[[WP:CSD#G7|G7]]: One author who has requested deletion or blanked the page",
		"Deleted per discussion at [[Wikipedia:Articles for deletion/%s]]", "[[WP:CSD#R3|R3]]: Implausible typo redirect", ""},
	wikidata: {"Does not meet the [[Wikidata:Notability|notability policy]]", "Duplicate item & merged", "[[Wikidata:Requests for deletions#%s]]"},
	commons: {"Per [[Commons:Deletion requests/File:%s]]", "[[COM:CSD#F1|F1]]: Apparent copyright violation", "No permission since 1 May 2025",
		"[[COM:CSD#G7|G7]]: Original uploader requested deletion of recently uploaded unused content"},
}

func (g *Generator) deleteReason(w *wikiState, title string) string {
	rs := deleteReasons[w.fam]
	switch {
	case w.l.code == "de" && g.chance(0.7):
		rs = []string{"Kein Artikel & irrelevant", "Vandalismus", "Löschantrag: [[Wikipedia:Löschkandidaten/%s]]", "URV: https://example.org/a?b=1&c=2"}
	case rs == nil:
		rs = []string{"Spam", "Vandalism", "Test page", "Author request", "Copyvio: https://example.org/a?b=1&c=2"}
	}
	r := pick(g, rs)
	if strings.Contains(r, "%s") {
		r = fmt.Sprintf(r, strings.TrimPrefix(title, w.l.file+":"))
	}
	return r
}

func (g *Generator) delete(a *action) {
	w := a.w
	p := g.existing(w, a.t0, adminNS(w))
	w.forget(p.id)
	if len(w.deleted) >= 16 {
		w.deleted = w.deleted[1:]
	}
	w.deleted = append(w.deleted, p)
	a.user, a.p, a.old = g.pickUser(w, false, true), p, p
	a.comment = g.deleteReason(w, p.title)
	a.parsed = g.parse(w, p.title, a.comment)
	a.logID, a.rcID, a.logType, a.logAction, a.logParams = w.nextLog(g), w.nextRC(g), "delete", "delete", "[]"
	a.logTitle, a.logNS = p.title, p.ns
	a.logACT = "deleted &quot;[[" + p.title + "]]&quot;" + reason(a.comment)
	g.push(a, sRecentChange)
	g.push(a, sPageDelete)
	if g.chance(pPageChange) {
		g.push(a, sPageChange)
	}
	g.derived(a)
}

func (g *Generator) undelete(a *action) {
	w := a.w
	var p page
	if n := len(w.deleted); n > 0 && g.chance(0.7) {
		p = w.deleted[n-1]
		w.deleted = w.deleted[:n-1]
	} else {
		p = g.existing(w, a.t0, adminNS(w))
	}
	w.remember(p)
	a.user, a.p, a.old, a.rev = g.pickUser(w, false, true), p, p, p.last
	a.comment = pick(g, []string{"", "Restored per [[" + w.project + ":Requests for undeletion]]", "Mistaken deletion", "per request & [[OTRS]] ticket"})
	a.parsed = g.parse(w, p.title, a.comment)
	a.logID, a.rcID, a.logType, a.logAction = w.nextLog(g), w.nextRC(g), "delete", "restore"
	files := 0
	if p.ns == nsFile {
		files = 1
	}
	a.logParams = fmt.Sprintf(`{"count":{"revisions":%d,"files":%d}}`, p.revs, files)
	a.logTitle, a.logNS = p.title, p.ns
	a.logACT = "restored &quot;[[" + p.title + "]]&quot;" + reason(a.comment)
	g.push(a, sRecentChange)
	g.push(a, sPageUndelete)
	if g.chance(pPageChange) {
		g.push(a, sPageChange)
	}
	g.derived(a)
}

func (g *Generator) move(a *action) {
	w := a.w
	old := g.existing(w, a.t0, adminNS(w))
	if isEntity(w, old.ns) {
		old.ns = nsUser
		old.title = g.title(w, nsUser)
	}
	p := old
	switch {
	case old.ns == nsDraft:
		p.ns, p.title = nsMain, strings.TrimPrefix(old.title, "Draft:")
	case old.ns == nsUser:
		// Publishing a draft from one's user space.
		p.ns, p.title = nsMain, g.title(w, nsMain)
		if w.db == "enwiki" && g.chance(0.5) {
			p.ns, p.title = nsDraft, "Draft:"+p.title
		}
	case w.fam == commons && old.ns == nsFile:
		p.title = w.l.file + ":" + g.fileName()
	case strings.HasSuffix(old.title, ")") && strings.Contains(old.title, " ("):
		p.title = old.title[:strings.LastIndex(old.title, " (")]
	case old.ns == nsMain && g.chance(0.5):
		p.title = g.title(w, nsMain)
	default:
		p.title = old.title + pick(g, []string{" (" + g.year() + ")", " (album)", " (village)", " (surname)"})
	}
	u := g.pickUser(w, false, g.chance(0.5))
	a.user, a.old = u, old
	a.comment = g.moveReason(w, old.title)
	// The move adds a null revision to the page.
	verb := fmt.Sprintf("%s moved page [[%s]] to [[%s]]", u.name, old.title, p.title)
	a.rev = revision{id: w.nextRev(g), parent: old.last.id, at: a.t0, editor: u, comment: verb + reason(a.comment),
		main: old.last.main, mi: old.last.mi, size: old.last.size, sha1: old.last.sha1, model: old.last.model, format: old.last.format, minor: true}
	p.last, p.revs = a.rev, old.revs+1
	a.p = p
	w.remember(p)
	noredir := "1"
	if g.chance(0.8) {
		noredir = "0"
		r := page{id: w.nextPage(g), ns: old.ns, title: old.title, redirect: true, revs: 1}
		r.last = revision{id: w.nextRev(g), at: a.t0, editor: u}
		a.redirect = &r
	}
	a.parsed = g.parse(w, old.title, a.comment)
	a.logID, a.rcID, a.logType, a.logAction = w.nextLog(g), w.nextRC(g), "move", "move"
	a.logParams = fmt.Sprintf(`{"target":%s,"noredir":"%s"}`, appendString(nil, p.title), noredir)
	a.logTitle, a.logNS = old.title, old.ns
	a.logACT = fmt.Sprintf("moved [[%s]] to [[%s]]%s", old.title, p.title, reason(a.comment))
	g.push(a, sRecentChange)
	g.push(a, sPageMove)
	if g.chance(pPageChange) {
		g.push(a, sPageChange)
	}
}

func (g *Generator) moveReason(w *wikiState, title string) string {
	switch {
	case w.fam == commons:
		return pick(g, []string{"[[COM:FR#FR2|Criterion 2]] (meaningless or ambiguous name)", "[[COM:FR#FR3|Criterion 3]] (obvious error) & typo", ""})
	case w.l.code == "de":
		return pick(g, []string{"Lemma korrigiert", "Klammerlemma gemäß [[WP:NK]]", ""})
	case w.l == langEN:
		return pick(g, []string{"", "per [[WP:COMMONNAME]]", "typo in title", "per [[" + w.l.talk + ":" + title + "#Requested move|RM]]", "Publishing accepted [[WP:AFC|Articles for creation]] submission"})
	}
	return pick(g, []string{"", "per [[" + w.l.talk + ":" + title + "]]", "typo"})
}

// adminNS are the namespaces of pages that administrators delete, move or
// protect.
func adminNS(w *wikiState) []weighted[int] {
	switch w.fam {
	case wikidata:
		return []weighted[int]{{nsMain, 90}, {nsUser, 5}, {nsLexeme, 5}}
	case commons:
		return []weighted[int]{{nsFile, 85}, {nsCategory, 10}, {nsUser, 5}}
	}
	ws := []weighted[int]{{nsMain, 60}, {nsUser, 12}, {nsTalk, 6}, {nsCategory, 6}, {nsTemplate, 6}}
	if w.db == "enwiki" {
		ws = append(ws, weighted[int]{nsDraft, 10})
	}
	return ws
}

func (g *Generator) visibility(a *action) {
	w := a.w
	p := g.existing(w, a.t0, w.ns)
	a.user, a.p, a.old, a.target = g.pickUser(w, false, true), p, p, p.last
	a.priorVis = [3]bool{true, true, true}
	a.vis = pick(g, [][3]bool{{false, true, true}, {false, true, false}, {true, false, true}, {false, false, false}, {true, true, false}})
	a.comment = pick(g, []string{"[[WP:RD2|RD2]]: Grossly insulting, degrading, or offensive material", "[[WP:RD3|RD3]]: Purely disruptive material",
		"Copyright violation: https://example.com/article?id=7&lang=en", "Personal information <!-- see OTRS -->"})
	a.parsed = g.parse(w, p.title, a.comment)
	nfield := 0
	for i, bit := range [3]int{1, 4, 2} { // text, user, comment
		if !a.vis[i] {
			nfield |= bit
		}
	}
	a.logID, a.rcID, a.logType, a.logAction = w.nextLog(g), w.nextRC(g), "delete", "revision"
	a.logParams = fmt.Sprintf(`{"type":"revision","ids":["%d"],"ofield":0,"nfield":%d}`, a.target.id, nfield)
	a.logTitle, a.logNS = p.title, p.ns
	a.logACT = "changed revision visibility of &quot;[[" + p.title + "]]&quot;" + reason(a.comment)
	g.push(a, sRecentChange)
	g.push(a, sRevisionVisibilityChange)
	if g.chance(pPageChange) {
		g.push(a, sPageChange)
	}
}

func (g *Generator) tagsChange(a *action) {
	w := a.w
	p := g.existing(w, a.t0, w.ns)
	a.p, a.target, a.user = p, p.last, p.last.editor
	a.oldTags = p.last.tags
	added := pick(g, []string{"mw-reverted", "mw-reverted", "mw-reverted", "possible vandalism", "OAuth CID: 1805"})
	a.tags = append(append([]string(nil), p.last.tags...), added)
	a.parsed = g.parse(w, p.title, p.last.comment)
	g.push(a, sRevisionTagsChange)
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

// --- building events ----------------------------------------------------

const dtLayout = "2006-01-02T15:04:05Z"

func fmtDT(t time.Time) string { return t.UTC().Format(dtLayout) }

func (g *Generator) build(p pending, now time.Time) Event {
	a := p.a
	e := &g.e
	e.reset()
	var key []byte
	switch s := int(p.stream); s {
	case sRecentChange:
		g.recentChange(e, a, now, p.cat)
	case sRevisionCreate, sPageCreate:
		g.revisionCreate(e, a, now, s)
	case sPageDelete, sPageUndelete, sPageMove:
		g.pageEvent(e, a, now, s)
	case sPageLinksChange, sPagePropertiesChange:
		g.pageUpdate(e, a, now, s)
	case sRevisionTagsChange, sRevisionVisibilityChange:
		g.revisionChange(e, a, now, s)
	case sPageChange:
		key = fmt.Appendf(nil, `{"wiki_id":%s,"page_id":%d}`, appendString(nil, a.w.db), a.p.id)
		g.pageChange(e, a, now, s)
	case sOutlinkTopic, sRevertRisk, sRevertRiskML, sRevertRiskWD, sFeatureCounts:
		g.pageChange(e, a, now, s)
	case sRDF, sRDFMain, sRDFScholarly, sMediaInfo:
		g.rdfChange(e, a, now, s)
	}
	return Event{Topic: g.topics[p.stream][a.dc], Key: key, Value: bytes.Clone(e.b), Time: now}
}

func (g *Generator) meta(e *enc, a *action, stream int, uri string, t time.Time) {
	e.kobj("meta")
	e.kstr("uri", uri)
	e.kstr("request_id", a.reqID)
	e.kstr("id", g.uuid())
	e.kstr("dt", fmtDT(t))
	e.kstr("domain", a.w.domain)
	e.kstr("stream", streamNames[stream])
	e.close()
}

// recentChange writes the event of MediaWiki's RCFeed formatter (and
// EventBus: $schema, meta and parsedcomment).
func (g *Generator) recentChange(e *enc, a *action, t time.Time, cat bool) {
	w := a.w
	typ, ns, title, comment, parsed, id, u := "edit", a.p.ns, a.p.title, a.comment, a.parsed, a.rcID, a.user
	switch {
	case cat:
		typ, ns, title, comment, parsed, id = "categorize", nsCategory, a.catTitle, a.catCmt, a.catParse, a.catRC
	case a.logType != "":
		typ, ns, title = "log", a.logNS, a.logTitle
	case a.kind == kCreate:
		typ = "new"
	}
	url := w.url(title)
	e.open()
	e.kstr("$schema", "/mediawiki/recentchange/1.0.0")
	g.meta(e, a, sRecentChange, url, t)
	e.kint("id", id)
	e.kstr("type", typ)
	e.kint("namespace", int64(ns))
	e.kstr("title", title)
	e.kstr("title_url", url)
	e.kstr("comment", comment)
	e.kint("timestamp", a.t0.Unix())
	e.kstr("user", u.name)
	e.kbool("bot", u.bot)
	server := "https://" + w.domain
	switch typ {
	case "edit", "categorize":
		notify := fmt.Sprintf("%s/w/index.php?diff=%d&oldid=%d", server, a.rev.id, a.rev.parent)
		if w.rcPatrol {
			notify += "&rcid=" + strconv.FormatInt(id, 10)
		}
		e.kstr("notify_url", notify)
		if typ == "categorize" {
			break
		}
		e.kbool("minor", a.rev.minor)
		if w.rcPatrol {
			e.kbool("patrolled", u.autopatrol)
		}
		e.kobj("length")
		e.kint("old", a.old.last.size)
		e.kint("new", a.rev.size)
		e.close()
		e.kobj("revision")
		e.kint("old", a.rev.parent)
		e.kint("new", a.rev.id)
		e.close()
	case "new":
		e.kstr("notify_url", fmt.Sprintf("%s/w/index.php?oldid=%d&rcid=%d", server, a.rev.id, id))
		e.kbool("minor", false)
		e.kbool("patrolled", u.autopatrol)
		e.kobj("length")
		e.kint("new", a.rev.size)
		e.close()
		e.kobj("revision")
		e.kint("new", a.rev.id)
		e.close()
	case "log":
		e.kint("log_id", a.logID)
		e.kstr("log_type", a.logType)
		e.kstr("log_action", a.logAction)
		e.kraw("log_params", a.logParams)
		e.kstr("log_action_comment", a.logACT)
	}
	e.kstr("server_url", server)
	e.kstr("server_name", w.domain)
	e.kstr("server_script_path", "/w")
	e.kstr("wiki", w.db)
	e.kstr("parsedcomment", parsed)
	e.close()
}

// performer writes a user as the revision and page schemas have it.
func performer(e *enc, u *user) {
	e.kobj("performer")
	e.kstr("user_text", u.name)
	if u.id == 0 {
		e.kstrs("user_groups", []string{"*"})
		e.kbool("user_is_bot", false)
		e.close()
		return
	}
	e.kstrs("user_groups", u.groups)
	e.kbool("user_is_bot", u.bot)
	e.kint("user_id", u.id)
	if u.reg != "" {
		e.kstr("user_registration_dt", u.reg)
	}
	e.kint("user_edit_count", u.edits)
	e.close()
}

func (g *Generator) pageFields(e *enc, a *action, p *page) {
	e.kstr("database", a.w.db)
	e.kint("page_id", p.id)
	e.kstr("page_title", dbKey(p.title))
	e.kint("page_namespace", int64(p.ns))
}

// revisionFields writes the rev_* fields of r, as revision-create does.
func revisionFields(e *enc, r *revision) {
	e.kint("rev_id", r.id)
	e.kstr("rev_timestamp", fmtDT(r.at))
	e.kstr("rev_sha1", r.sha1)
	e.kbool("rev_minor_edit", r.minor)
	e.kint("rev_len", r.size)
	e.kstr("rev_content_model", r.model)
	e.kstr("rev_content_format", r.format)
}

func (g *Generator) revisionCreate(e *enc, a *action, t time.Time, stream int) {
	w, p, r := a.w, &a.p, &a.rev
	e.open()
	e.kstr("$schema", "/mediawiki/revision/create/2.0.0")
	g.meta(e, a, stream, w.url(p.title), t)
	e.kstr("dt", fmtDT(r.at))
	g.pageFields(e, a, p)
	revisionFields(e, r)
	performer(e, r.editor)
	e.kbool("page_is_redirect", p.redirect)
	e.kstr("comment", r.comment)
	e.kstr("parsedcomment", a.parsed)
	if r.parent != 0 {
		e.kint("rev_parent_id", r.parent)
		e.kbool("rev_content_changed", true)
		e.kbool("rev_is_revert", a.revert != "")
		if a.revert != "" {
			e.kobj("rev_revert_details")
			e.kstr("rev_revert_method", a.revert)
			e.kbool("rev_is_exact_revert", a.revert == "rollback")
			e.karr("rev_reverted_revs")
			for _, id := range a.reverted {
				e.int(id)
			}
			e.closeArr()
			e.kint("rev_original_rev_id", a.old.last.parent)
			e.close()
		}
	}
	e.kobj("rev_slots")
	revSlot(e, "main", r.main, r.model)
	if r.mi.sha1 != "" {
		revSlot(e, "mediainfo", r.mi, "wikibase-mediainfo")
	}
	e.close()
	e.close()
}

func revSlot(e *enc, role string, s slot, model string) {
	e.kobj(role)
	e.kstr("rev_slot_content_model", model)
	e.kstr("rev_slot_sha1", s.sha1)
	e.kint("rev_slot_size", s.size)
	e.kint("rev_slot_origin_rev_id", s.origin)
	e.close()
}

// pageEvent writes page-delete, page-undelete and page-move.
func (g *Generator) pageEvent(e *enc, a *action, t time.Time, stream int) {
	w, p := a.w, &a.p
	e.open()
	e.kstr("$schema", map[int]string{sPageDelete: "/mediawiki/page/delete/1.0.0", sPageUndelete: "/mediawiki/page/undelete/1.0.0",
		sPageMove: "/mediawiki/page/move/1.0.0"}[stream])
	g.meta(e, a, stream, w.url(p.title), t)
	e.kstr("database", w.db)
	performer(e, a.user)
	e.kint("page_id", p.id)
	e.kstr("page_title", dbKey(p.title))
	e.kint("page_namespace", int64(p.ns))
	e.kbool("page_is_redirect", p.redirect)
	e.kint("rev_id", p.last.id)
	switch stream {
	case sPageDelete:
		e.kint("rev_count", p.revs)
	case sPageUndelete:
		e.kobj("prior_state")
		e.kint("page_id", p.id)
		e.close()
	case sPageMove:
		e.kobj("prior_state")
		e.kstr("page_title", dbKey(a.old.title))
		e.kint("page_namespace", int64(a.old.ns))
		e.kint("rev_id", a.old.last.id)
		e.close()
		if r := a.redirect; r != nil {
			e.kobj("new_redirect_page")
			e.kint("page_id", r.id)
			e.kstr("page_title", dbKey(r.title))
			e.kint("page_namespace", int64(r.ns))
			e.kint("rev_id", r.last.id)
			e.close()
		}
	}
	if a.comment != "" {
		e.kstr("comment", a.comment)
		e.kstr("parsedcomment", a.parsed)
	}
	e.close()
}

// pageUpdate writes page-links-change and page-properties-change.
func (g *Generator) pageUpdate(e *enc, a *action, t time.Time, stream int) {
	w, p := a.w, &a.p
	e.open()
	added, removed, schema := a.addedLinks, a.removedLinks, "/mediawiki/page/links-change/1.0.0"
	addedKey, removedKey := "added_links", "removed_links"
	if stream == sPagePropertiesChange {
		added, removed, schema = a.addedProps, a.removedProps, "/mediawiki/page/properties-change/1.0.0"
		addedKey, removedKey = "added_properties", "removed_properties"
	}
	e.kstr("$schema", schema)
	g.meta(e, a, stream, w.url(p.title), t)
	g.pageFields(e, a, p)
	e.kbool("page_is_redirect", p.redirect)
	e.kint("rev_id", p.last.id)
	if added != "" {
		e.kraw(addedKey, added)
	}
	if removed != "" {
		e.kraw(removedKey, removed)
	}
	performer(e, a.user)
	e.close()
}

// revisionChange writes revision-tags-change and revision-visibility-change.
func (g *Generator) revisionChange(e *enc, a *action, t time.Time, stream int) {
	w, p, r := a.w, &a.p, &a.target
	e.open()
	if stream == sRevisionTagsChange {
		e.kstr("$schema", "/mediawiki/revision/tags-change/1.0.0")
	} else {
		e.kstr("$schema", "/mediawiki/revision/visibility-change/1.0.0")
	}
	g.meta(e, a, stream, w.url(p.title), t)
	g.pageFields(e, a, p)
	revisionFields(e, r)
	if stream == sRevisionTagsChange {
		performer(e, r.editor)
	} else {
		performer(e, a.user)
	}
	e.kbool("page_is_redirect", p.redirect)
	if stream == sRevisionTagsChange || a.vis[2] {
		e.kstr("comment", r.comment)
		e.kstr("parsedcomment", g.parse(w, p.title, r.comment))
	}
	e.kint("rev_parent_id", r.parent)
	if stream == sRevisionTagsChange {
		e.kstrs("tags", a.tags)
		e.kobj("prior_state")
		e.kstrs("tags", nonNil(a.oldTags))
		e.close()
	} else {
		e.kbool("rev_content_changed", true)
		visibility := func(v [3]bool) {
			e.kobj("visibility")
			e.kbool("text", v[0])
			e.kbool("user", v[1])
			e.kbool("comment", v[2])
			e.close()
		}
		visibility(a.vis)
		e.kobj("prior_state")
		visibility(a.priorVis)
		e.close()
	}
	e.close()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// pcUser writes a user as mediawiki/page/change has it.
func pcUser(e *enc, k string, u *user) {
	e.kobj(k)
	e.kstr("user_text", u.name)
	if u.id == 0 {
		e.kstrs("groups", []string{"*"})
	} else {
		e.kstrs("groups", u.groups)
	}
	e.kbool("is_bot", u.bot)
	e.kbool("is_system", false)
	e.kbool("is_temp", false)
	if u.id != 0 {
		e.kint("user_id", u.id)
		if u.reg != "" {
			e.kstr("registration_dt", u.reg)
		}
		e.kint("edit_count", u.edits)
	}
	e.close()
}

// pcRevision writes a revision as mediawiki/page/change has it; vis hides
// the content, the editor or the comment. The streams derived from
// page_change have no content slots.
func pcRevision(e *enc, k string, r *revision, vis [3]bool, slots bool) {
	e.kobj(k)
	e.kint("rev_id", r.id)
	e.kstr("rev_dt", fmtDT(r.at))
	e.kbool("is_minor_edit", r.minor)
	if vis[0] {
		e.kstr("rev_sha1", r.sha1)
		e.kint("rev_size", r.size)
	}
	if r.parent != 0 {
		e.kint("rev_parent_id", r.parent)
	}
	if vis[2] {
		e.kstr("comment", r.comment)
	}
	if vis[1] && r.editor != nil {
		pcUser(e, "editor", r.editor)
	}
	e.kbool("is_content_visible", vis[0])
	e.kbool("is_editor_visible", vis[1])
	e.kbool("is_comment_visible", vis[2])
	if vis[0] && slots {
		e.kobj("content_slots")
		pcSlot(e, "main", r.main, r.model, r.format)
		if r.mi.sha1 != "" {
			pcSlot(e, "mediainfo", r.mi, "wikibase-mediainfo", "application/json")
		}
		e.close()
	}
	e.close()
}

func pcSlot(e *enc, role string, s slot, model, format string) {
	e.kobj(role)
	e.kstr("slot_role", role)
	e.kstr("content_model", model)
	e.kstr("content_sha1", s.sha1)
	e.kint("content_size", s.size)
	e.kstr("content_format", format)
	e.kint("origin_rev_id", s.origin)
	e.close()
}

var visible = [3]bool{true, true, true}

// pageChange writes a mediawiki.page_change.v1 event, or an event of a
// stream derived from it (stream): Lift Wing copies the page_change event
// without its content slots into a prediction with its own $schema and
// meta, the enrichment job adds the HTML feature counts.
func (g *Generator) pageChange(e *enc, a *action, t time.Time, stream int) {
	w, p := a.w, &a.p
	slots := stream == sPageChange
	changelog, change := "update", "edit"
	switch a.kind {
	case kCreate, kUpload:
		changelog, change = "insert", "create"
	case kDelete:
		changelog, change = "delete", "delete"
	case kUndelete:
		changelog, change = "insert", "undelete"
	case kMove:
		change = "move"
	case kVisibility:
		change = "visibility_change"
	}
	e.open()
	switch stream {
	case sPageChange:
		e.kstr("$schema", "/mediawiki/page/change/1.2.0")
		g.meta(e, a, sPageChange, w.url(p.title), t)
	case sFeatureCounts:
		e.kstr("$schema", featureCountsSchema)
		g.meta(e, a, stream, w.url(p.title), t)
	default:
		e.kstr("$schema", predictionSchema)
		g.liftWingMeta(e, a, stream, w.url(p.title), t)
	}
	e.kstr("changelog_kind", changelog)
	e.kstr("page_change_kind", change)
	e.kstr("dt", fmtDT(a.t0))
	e.kstr("wiki_id", w.db)
	e.kobj("page")
	e.kint("page_id", p.id)
	e.kstr("page_title", dbKey(p.title))
	e.kint("namespace_id", int64(p.ns))
	e.kbool("is_redirect", p.redirect)
	if a.kind == kDelete {
		e.kint("revision_count", p.revs)
	}
	e.close()
	pcUser(e, "performer", a.user)
	switch a.kind {
	case kDelete, kUndelete, kMove:
		e.kstr("comment", a.comment)
	}
	switch a.kind {
	case kVisibility:
		pcRevision(e, "revision", &a.target, a.vis, slots)
	default:
		pcRevision(e, "revision", &p.last, visible, slots)
	}
	if a.kind == kMove && a.redirect != nil {
		e.kobj("created_redirect_page")
		e.kint("page_id", a.redirect.id)
		e.kstr("page_title", dbKey(a.redirect.title))
		e.kint("namespace_id", int64(a.redirect.ns))
		e.kbool("is_redirect", true)
		e.close()
	}
	switch a.kind {
	case kEdit:
		e.kobj("prior_state")
		pcRevision(e, "revision", &a.old.last, visible, slots)
		if stream == sFeatureCounts {
			g.featureCounts(e, a, true)
		}
		e.close()
	case kMove:
		e.kobj("prior_state")
		e.kobj("page")
		e.kstr("page_title", dbKey(a.old.title))
		e.kint("namespace_id", int64(a.old.ns))
		e.close()
		pcRevision(e, "revision", &a.old.last, visible, slots)
		e.close()
	case kVisibility:
		e.kobj("prior_state")
		e.kobj("revision")
		for i, k := range [3]string{"is_content_visible", "is_editor_visible", "is_comment_visible"} {
			if a.vis[i] != a.priorVis[i] {
				e.kbool(k, a.priorVis[i])
			}
		}
		e.close()
		e.close()
	}
	switch stream {
	case sPageChange:
	case sFeatureCounts:
		g.featureCounts(e, a, false)
	default:
		g.prediction(e, a, stream)
	}
	e.close()
}

// --- scheduled events ---------------------------------------------------

func (g *Generator) buildSpecial(sp special, now time.Time) Event {
	dc := sp.dc
	if dc < 0 {
		dc = g.pickDC()
	}
	e := &g.e
	e.reset()
	var key []byte
	if sp.canary {
		g.canary(e, sp.stream, now)
		if sp.stream == sPageChange {
			key = []byte(`{"wiki_id":"example","page_id":1}`)
		}
	} else {
		e.open()
		e.kstr("$schema", "/test/event/1.0.0")
		e.kobj("meta")
		e.kstr("stream", streamNames[sTest])
		e.kstr("id", g.uuid())
		e.kstr("dt", fmtDT(now))
		e.kstr("request_id", g.uuid())
		e.close()
		testFields(e)
		e.close()
	}
	return Event{Topic: g.topics[sp.stream][dc], Key: key, Value: bytes.Clone(e.b), Time: now}
}

func testFields(e *enc) {
	e.kstr("test", "specific test value")
	e.kobj("test_map")
	e.kstr("key1", "val1")
	e.kstr("key2", "val2")
	e.close()
}

// canary writes a canary event: like production's, the first example of the
// stream's schema (latest version, members sorted as in the schema
// repository), with meta.domain "canary" and the current time.
func (g *Generator) canary(e *enc, stream int, now time.Time) {
	dt := fmtDT(now)
	meta := func() {
		e.kobj("meta")
		e.kstr("domain", "canary")
		e.kstr("dt", dt)
		e.kstr("id", g.uuid())
		e.kstr("request_id", g.uuid())
		e.kstr("stream", streamNames[stream])
		e.close()
	}
	examplePage := func(schema string, withMeta func()) {
		e.kstr("$schema", schema)
		e.kstr("database", "examplewiki")
		withMeta()
		e.kint("page_id", 123)
		e.kbool("page_is_redirect", false)
		e.kint("page_namespace", 0)
		e.kstr("page_title", "example_page_title")
	}
	e.open()
	switch stream {
	case sRecentChange:
		e.kstr("$schema", "/mediawiki/recentchange/1.0.1")
		meta()
	case sTest:
		e.kstr("$schema", "/test/event/1.0.0")
		meta()
		testFields(e)
	case sRevisionCreate, sPageCreate:
		e.kstr("$schema", "/mediawiki/revision/create/2.0.0")
		e.kstr("database", "examplewiki")
		e.kstr("dt", dt)
		meta()
		e.kint("page_id", 123)
		e.kbool("page_is_redirect", false)
		e.kint("page_namespace", 0)
		e.kstr("page_title", "TestPage10")
		e.kobj("performer")
		e.kint("user_edit_count", 1)
		e.kstrs("user_groups", implicitGroups)
		e.kint("user_id", 123)
		e.kbool("user_is_bot", false)
		e.kstr("user_registration_dt", "2016-01-29T21:13:24Z")
		e.kstr("user_text", "example_user_text")
		e.close()
		e.kbool("rev_content_changed", true)
		e.kstr("rev_content_format", "text/x-wiki")
		e.kstr("rev_content_model", "wikitext")
		e.kint("rev_id", 123)
		e.kbool("rev_is_revert", false)
		e.kint("rev_len", 3)
		e.kbool("rev_minor_edit", false)
		e.kint("rev_parent_id", 122)
		e.kstr("rev_sha1", "mr0szy90m5qbn6tek7ch3nebaild3tm")
		e.kobj("rev_slots")
		e.kobj("main")
		e.kstr("rev_slot_content_model", "wikitext")
		e.kint("rev_slot_origin_rev_id", 123)
		e.kstr("rev_slot_sha1", "mr0szy90m5qbn6tek7ch3nebaild3tm")
		e.kint("rev_slot_size", 3)
		e.close()
		e.close()
		e.kstr("rev_timestamp", "2020-06-10T18:56:00Z")
	case sPageDelete, sPageLinksChange, sPagePropertiesChange:
		schema := map[int]string{sPageDelete: "/mediawiki/page/delete/1.0.0", sPageLinksChange: "/mediawiki/page/links-change/1.0.0",
			sPagePropertiesChange: "/mediawiki/page/properties-change/1.0.0"}[stream]
		examplePage(schema, meta)
		e.kint("rev_id", 123)
	case sPageUndelete:
		examplePage("/mediawiki/page/undelete/1.0.0", meta)
		e.kobj("prior_state")
		e.kint("page_id", 123)
		e.close()
		e.kint("rev_id", 123)
	case sPageMove:
		examplePage("/mediawiki/page/move/1.0.0", meta)
		e.kobj("prior_state")
		e.kint("page_namespace", 0)
		e.kstr("page_title", "example_old_page_title")
		e.kint("rev_id", 122)
		e.close()
		e.kint("rev_id", 123)
	case sRevisionTagsChange, sRevisionVisibilityChange:
		schema := "/mediawiki/revision/tags-change/1.0.1"
		if stream == sRevisionVisibilityChange {
			schema = "/mediawiki/revision/visibility-change/1.0.1"
		}
		examplePage(schema, meta)
		if stream == sRevisionVisibilityChange {
			e.kobj("prior_state")
			e.kobj("visibility")
			e.kbool("comment", true)
			e.kbool("text", true)
			e.kbool("user", true)
			e.close()
			e.close()
		}
		e.kint("rev_id", 123)
		e.kstr("rev_timestamp", "2020-06-10T18:57:16Z")
		if stream == sRevisionTagsChange {
			e.kstrs("tags", []string{"example_tag"})
		} else {
			e.kobj("visibility")
			e.kbool("comment", true)
			e.kbool("text", false)
			e.kbool("user", true)
			e.close()
		}
	case sPageChange:
		e.kstr("$schema", "/mediawiki/page/change/1.2.0")
		e.kstr("changelog_kind", "update")
		e.kstr("comment", "changed a thing")
		e.kstr("dt", dt)
		meta()
		e.kobj("page")
		e.kbool("is_redirect", false)
		e.kint("namespace_id", 1)
		e.kint("page_id", 1)
		e.kstr("page_title", "example")
		e.close()
		e.kstr("page_change_kind", "edit")
		e.kobj("performer")
		e.kint("user_id", 123)
		e.kstr("user_text", "yoohoo")
		e.close()
		e.kobj("revision")
		e.kstr("comment", "changed a thing")
		e.kbool("is_comment_visible", true)
		e.kbool("is_content_visible", true)
		e.kbool("is_editor_visible", true)
		e.kbool("is_minor_edit", false)
		e.kstr("rev_dt", dt)
		e.kint("rev_id", 2)
		e.kint("rev_parent_id", 1)
		e.close()
		e.kstr("wiki_id", "example")
	case sOutlinkTopic, sRevertRisk, sRevertRiskML, sRevertRiskWD, sFeatureCounts:
		schema := predictionSchema
		if stream == sFeatureCounts {
			schema = featureCountsSchema
		}
		e.kstr("$schema", schema)
		e.kstr("changelog_kind", "update")
		e.kstr("comment", "changed a thing")
		e.kstr("dt", dt)
		meta()
		e.kobj("page")
		e.kbool("is_redirect", true)
		e.kint("namespace_id", 1)
		e.kint("page_id", 1)
		e.kstr("page_title", "example")
		e.kobj("redirect_page_link")
		e.kbool("is_redirect", false)
		e.kint("namespace_id", 1)
		e.kint("page_id", 2)
		e.kstr("page_title", "Redirect_Target")
		e.close()
		e.kint("revision_count", 1)
		e.close()
		e.kstr("page_change_kind", "edit")
		e.kobj("performer")
		e.kint("user_id", 123)
		e.kstr("user_text", "yoohoo")
		e.close()
		if stream == sFeatureCounts {
			e.kobj("feature_counts")
			e.kint("references", 2)
			e.kint("wikilinks", 10)
			e.close()
		} else {
			e.kobj("predicted_classification")
			e.kstr("model_name", "example_model")
			e.kstr("model_version", "1.0.1")
			e.kstrs("predictions", []string{"yes", "mostly"})
			e.kobj("probabilities")
			e.kfloat("hardly", 0.01)
			e.kfloat("mostly", 0.9)
			e.kfloat("yes", 0.99)
			e.close()
			e.close()
		}
		e.kobj("revision")
		e.kstr("comment", "changed a thing")
		e.kobj("editor")
		e.kint("user_id", 123)
		e.kstr("user_text", "example")
		e.close()
		e.kbool("is_comment_visible", true)
		e.kbool("is_content_visible", true)
		e.kbool("is_editor_visible", true)
		e.kbool("is_minor_edit", false)
		e.kstr("rev_dt", "2021-01-01T00:00:00.0Z")
		e.kint("rev_id", 2)
		e.kint("rev_parent_id", 1)
		e.kstr("rev_sha1", "16619839a55cfb5c61bcf520bf9734e0c67f98cc")
		e.kint("rev_size", 100)
		e.close()
		e.kstr("wiki_id", "example")
	}
	e.close()
}
