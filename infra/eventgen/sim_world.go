// The simulation's world: the kinds of MediaWiki action and the streams
// each can yield, the state kept per wiki (id counters, recently changed
// and deleted pages), pages, revisions and actions. An action (an edit, a
// page creation, a deletion, …) yields events on several streams, with the
// same page, revision, user and request id: newAction draws one and queues
// its events; build (encode.go) writes each when Next returns it.

package eventgen

import "time"

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
// with those of the derived streams (sim_derived.go), keep recentchange at
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
					wt = kindWeight(&w.wikiInfo, k)
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
