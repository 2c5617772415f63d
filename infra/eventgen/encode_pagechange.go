// The encoder of mediawiki/page/change (mediawiki.page_change.v1). It also
// writes the events of the streams derived from it, Lift Wing's
// predictions and the HTML feature counts, whose own members are written
// in encode_ml.go.

package eventgen

import "time"

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
