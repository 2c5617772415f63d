// Pages and revisions of the simulation: existing pages made up with a
// history, new revisions, and their sizes and content models.

package eventgen

import (
	"strings"
	"time"
)

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
