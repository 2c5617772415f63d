// Building events: build hands a queued event to the encoder of its
// schema (encode_*.go), which writes it with enc (json.go); the time
// format and meta are common to them.

package eventgen

import (
	"bytes"
	"fmt"
	"time"
)

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
