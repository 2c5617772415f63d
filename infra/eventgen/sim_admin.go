// Log actions: the log entries only recentchange carries (new accounts,
// blocks, protections, rights changes, patrols, file overwrites), and
// deletions, undeletions, moves, revision visibility and tag changes.

package eventgen

import (
	"fmt"
	"strings"
)

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
