// The encoders of the revision and page schemas EventBus writes:
// mediawiki/revision/create (revision-create and page-create),
// mediawiki/page/delete, undelete, move, links-change and
// properties-change, and mediawiki/revision/tags-change and
// visibility-change.

package eventgen

import "time"

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
