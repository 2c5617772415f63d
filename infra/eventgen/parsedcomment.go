// MediaWiki's rendering of summaries into parsedcomment
// (Linker::formatComment): autocomments, links, HTML escaping, and the
// namespace names links are normalized with.

package eventgen

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// parse renders comment as MediaWiki's comment formatter does for
// parsedcomment: HTML-escaped text, links (a few of them red, to pages that
// do not exist), and the section or Wikibase autocomment. self is the page
// the comment belongs to.
func (g *Generator) parse(w *wikiState, self, comment string) string {
	return g.render(w, self, comment, true)
}

// render is parse, with red links only when red is true.
func (g *Generator) render(w *wikiState, self, comment string, red bool) string {
	if comment == "" {
		return ""
	}
	var b strings.Builder
	rest := comment
	if strings.HasPrefix(comment, "/* ") {
		if end := strings.Index(comment, " */"); end > 0 {
			auto, post := comment[3:end], comment[end+3:]
			colon := ""
			if post != "" {
				colon = ": "
			}
			if msg, ok := wbMessage(auto); ok {
				b.WriteString(`<span dir="auto"><span class="autocomment">`)
				escapeHTML(&b, msg+colon)
				b.WriteString(`</span></span>`)
				g.renderText(&b, w, post, red)
				return b.String()
			}
			b.WriteString(`<span dir="auto"><span class="autocomment"><a href="/wiki/`)
			b.WriteString(escapeAttr(urlencode(dbKey(self)) + "#" + anchor(auto)))
			b.WriteString(`" title="`)
			b.WriteString(escapeAttr(self))
			b.WriteString("\">→\u200e")
			escapeHTML(&b, auto)
			b.WriteString("</a>" + colon + "</span>")
			g.renderText(&b, w, post, red)
			b.WriteString("</span>")
			return b.String()
		}
	}
	g.renderText(&b, w, rest, red)
	return b.String()
}

// renderText escapes s and turns its [[links]] into HTML.
func (g *Generator) renderText(b *strings.Builder, w *wikiState, s string, red bool) {
	for {
		i := strings.Index(s, "[[")
		if i < 0 {
			escapeHTML(b, s)
			return
		}
		j := strings.Index(s[i:], "]]")
		if j < 0 {
			escapeHTML(b, s)
			return
		}
		escapeHTML(b, s[:i])
		g.renderLink(b, w, s[i+2:i+j], red)
		s = s[i+j+2:]
	}
}

func (g *Generator) renderLink(b *strings.Builder, w *wikiState, inner string, red bool) {
	target, label, hasLabel := strings.Cut(inner, "|")
	target = strings.TrimPrefix(target, ":")
	if !hasLabel || label == "" {
		label = target
	}
	if prefix, rest, ok := strings.Cut(target, ":"); ok {
		// Local namespaces win over interwiki prefixes (Commons: on Commons).
		_, _, local := w.namespace(prefix)
		if base, ok := interwikis[strings.ToLower(prefix)]; ok && !local {
			b.WriteString(`<a href="`)
			b.WriteString(escapeAttr(base + urlencode(dbKey(rest))))
			b.WriteString(`" class="extiw" title="`)
			b.WriteString(escapeAttr(target))
			b.WriteString(`">`)
			escapeHTML(b, label)
			b.WriteString("</a>")
			return
		}
	}
	page, frag, _ := strings.Cut(target, "#")
	ns, text := w.normalize(page)
	if frag != "" {
		frag = "#" + anchor(frag)
	}
	if red && ns != nsSpecial && ns != nsUser && w.l == langEN && g.chance(0.05) {
		b.WriteString(`<a href="/w/index.php?title=`)
		b.WriteString(escapeAttr(urlencode(dbKey(text))))
		b.WriteString(`&amp;action=edit&amp;redlink=1" class="new" title="`)
		b.WriteString(escapeAttr(text + " (page does not exist)"))
	} else {
		b.WriteString(`<a href="/wiki/`)
		b.WriteString(escapeAttr(urlencode(dbKey(text)) + frag))
		b.WriteString(`" title="`)
		b.WriteString(escapeAttr(text))
	}
	b.WriteString(`">`)
	escapeHTML(b, label)
	b.WriteString("</a>")
}

// normalize returns the namespace and the prefixed text of a link target,
// with the namespace's local name and the first letter capitalized.
func (w *wikiState) normalize(target string) (int, string) {
	target = strings.TrimSpace(strings.ReplaceAll(target, "_", " "))
	ns, local, text := nsMain, "", target
	if prefix, rest, ok := strings.Cut(target, ":"); ok {
		if n, name, ok := w.namespace(prefix); ok {
			ns, local, text = n, name, strings.TrimSpace(rest)
		}
	}
	if !(w.fam == wiktionary && ns == nsMain) {
		text = ucfirst(text)
	}
	if local == "" {
		return ns, text
	}
	return ns, local + ":" + text
}

type nsName struct {
	ns         int
	local, key string // key: the lower-case name the namespace is known by
}

// initNamespaces lists the names of w's namespaces: canonical (English),
// local and aliases.
func (w *wikiState) initNamespaces() {
	l := w.l
	add := func(ns int, local string, keys ...string) {
		for _, k := range append(keys, strings.ToLower(local)) {
			w.nsNames = append(w.nsNames, nsName{ns, local, k})
		}
	}
	add(nsSpecial, l.special, "special")
	add(nsTalk, l.talk, "talk")
	add(nsUser, l.user, "user")
	add(nsUserTalk, l.userTalk, "user talk")
	switch w.fam {
	case wikipedia:
		add(nsProject, w.project, "project", "wp")
	case commons:
		add(nsProject, w.project, "project", "com")
	default:
		add(nsProject, w.project, "project")
	}
	add(nsFile, l.file, "file", "image")
	add(nsTemplate, l.template, "template")
	add(nsCategory, l.category, "category")
	add(nsModule, l.module, "module")
	add(8, "MediaWiki", "mediawiki")
	add(9, "MediaWiki talk", "mediawiki talk")
	add(12, "Help", "help")
	switch {
	case w.fam == wikidata:
		add(nsProperty, "Property")
		add(nsLexeme, "Lexeme")
	case w.db == "enwiki":
		add(nsDraft, "Draft")
	}
}

// namespace resolves a namespace prefix.
func (w *wikiState) namespace(prefix string) (int, string, bool) {
	p := strings.ToLower(strings.ReplaceAll(prefix, "_", " "))
	for _, n := range w.nsNames {
		if p == n.key {
			return n.ns, n.local, true
		}
	}
	return 0, "", false
}

func ucfirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || unicode.IsUpper(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

func dbKey(title string) string { return strings.ReplaceAll(title, " ", "_") }

// urlencode is wfUrlencode: rawurlencode, keeping ; @ $ ! * ( ) , / ~ :.
func urlencode(s string) string {
	const upperHex = "0123456789ABCDEF"
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("-_.~;@$!*(),/:", c) >= 0:
			if b != nil {
				b = append(b, c)
			}
		default:
			if b == nil {
				b = append(make([]byte, 0, len(s)+16), s[:i]...)
			}
			b = append(b, '%', upperHex[c>>4], upperHex[c&0xf])
		}
	}
	if b == nil {
		return s
	}
	return string(b)
}

// anchor is a section link's fragment (Sanitizer::escapeIdForLink, html5).
func anchor(section string) string {
	return strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(section), " ", "_"), "%", "%25")
}

// escapeHTML writes s escaped as htmlspecialchars(ENT_QUOTES) does.
func escapeHTML(b *strings.Builder, s string) {
	start := 0
	for i := 0; i < len(s); i++ {
		var r string
		switch s[i] {
		case '&':
			r = "&amp;"
		case '<':
			r = "&lt;"
		case '>':
			r = "&gt;"
		case '"':
			r = "&quot;"
		case '\'':
			r = "&#039;"
		default:
			continue
		}
		b.WriteString(s[start:i])
		b.WriteString(r)
		start = i + 1
	}
	b.WriteString(s[start:])
}

func escapeAttr(s string) string {
	if !strings.ContainsAny(s, `&<>"'`) {
		return s
	}
	var b strings.Builder
	escapeHTML(&b, s)
	return b.String()
}
