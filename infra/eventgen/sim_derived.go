// The streams that services derive from MediaWiki's events, and write to
// Kafka seconds after them with the action's request id: the WDQS
// streaming updater's RDF changes of Wikidata entities and of Commons
// files' structured data, Lift Wing's predictions (it copies the
// page_change event of an edit and adds a predicted_classification), and
// the HTML feature counts of articles.
//
// derived queues them for an action; encode_rdf.go and encode_ml.go write
// them.

package eventgen

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
