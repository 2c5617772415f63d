// The encoder of mediawiki/recentchange: edits, new pages, log entries and
// category membership changes, as MediaWiki's RCFeed formatter writes them.

package eventgen

import (
	"fmt"
	"strconv"
	"time"
)

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
