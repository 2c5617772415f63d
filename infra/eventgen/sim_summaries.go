// Edit summaries: Wikibase autocomments and their English messages, bot,
// Commons and human summaries, and the automatic summaries of page
// creations.

package eventgen

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// wbSummaries are Wikibase autocomments: the comment's /* … */ part, its
// English message, and whether a language code goes into both.
var wbSummaries = []struct {
	auto, msg string
	lang      bool
}{
	{"wbsetlabel-add:1|%s", "Added [%s] label", true},
	{"wbsetlabel-set:1|%s", "Changed [%s] label", true},
	{"wbsetdescription-add:1|%s", "Added [%s] description", true},
	{"wbsetdescription-set:1|%s", "Changed [%s] description", true},
	{"wbsetaliases-add:1|%s", "Added [%s] alias", true},
	{"wbsetclaim-create:2||1", "Created claim", false},
	{"wbcreateclaim-create:1|", "Created claim", false},
	{"wbsetclaim-update:2||1|1", "Changed claim", false},
	{"wbremoveclaims-remove:1|", "Removed claim", false},
	{"wbsetreference-add:2|", "Added reference to claim", false},
	{"wbsetqualifier-add:1|", "Added qualifier", false},
	{"wbeditentity-update:0|", "Changed an entity", false},
	{"wbsetsitelink-add:1|%swiki", "Added link to [%swiki]", true},
	{"wbeditentity-create-item:0|", "Created a new Item", false},
	{"wbeditentity-create-lexeme:0|", "Created a new Lexeme", false},
	{"wbeditentity-create-property:0|", "Created a new Property", false},
}

// The Wikibase summaries of edits of items and of Commons' structured data
// (captions are labels there).
var (
	wbEdits          = []int{0, 0, 1, 2, 2, 3, 4, 5, 5, 5, 6, 7, 8, 9, 9, 10, 11, 11, 12}
	wbMediaInfoEdits = []int{0, 0, 1, 5, 5, 6, 7, 8, 11, 11}
)

// wbMessage returns the English message of a Wikibase autocomment.
func wbMessage(auto string) (string, bool) {
	for _, s := range wbSummaries {
		if !s.lang {
			if auto == s.auto {
				return s.msg, true
			}
			continue
		}
		prefix, _, _ := strings.Cut(s.auto, "%s")
		if rest, ok := strings.CutPrefix(auto, prefix); ok {
			rest = strings.TrimSuffix(rest, "wiki")
			return fmt.Sprintf(s.msg, rest), true
		}
	}
	return "", false
}

// wikibaseSummary returns the summary of an edit of an entity (an item,
// property or lexeme on Wikidata, a file's structured data on Commons).
func (g *Generator) wikibaseSummary(w *wikiState, ns int, create bool) string {
	if create {
		switch ns {
		case nsLexeme:
			return "/* wbeditentity-create-lexeme:0| */"
		case nsProperty:
			return "/* wbeditentity-create-property:0| */"
		}
		l := pick(g, wdLabels)
		return fmt.Sprintf("/* wbeditentity-create-item:0| */ %s, %s", l[1], g.fill(pick(g, wdDescriptions)[1]))
	}
	claim := func() string {
		if w.fam == commons {
			return fmt.Sprintf("[[d:Special:EntityPage/P%d]]: [[d:Special:EntityPage/Q%d]]",
				pick(g, []int{180, 170, 571, 1259, 6216}), g.between(1, 130_000_000))
		}
		switch g.rng.IntN(4) {
		case 0:
			return fmt.Sprintf("[[Property:P%d]]: [[Q%d]]", pick(g, []int{31, 17, 106, 131, 279, 921}), g.between(1, 130_000_000))
		case 1:
			y, m, d := g.ymd()
			return fmt.Sprintf("[[Property:P%d]]: %d %s %d", pick(g, []int{569, 570, 577, 585}), d, time.Month(m), y)
		case 2:
			return fmt.Sprintf("[[Property:P%d]]: %s", pick(g, []int{1476, 2093, 1545}), g.fill(pick(g, wdDescriptions)[1]))
		}
		return fmt.Sprintf("[[Property:P%d]]: %d", pick(g, []int{698, 356, 214, 227}), g.between(1000, 99_999_999))
	}
	s := wbSummaries[pick(g, wbEdits)]
	if w.fam == commons {
		s = wbSummaries[pick(g, wbMediaInfoEdits)]
	}
	tail := ""
	switch {
	case s.lang && strings.HasPrefix(s.auto, "wbsetsitelink"):
		l := pick(g, langs)
		return fmt.Sprintf("/* "+s.auto+" */ %s", l.code, g.fill(pick(g, l.titles)))
	case s.lang:
		lbl := pick(g, wdLabels)
		if strings.Contains(s.auto, "description") {
			lbl = pick(g, wdDescriptions)
			lbl[1] = g.fill(lbl[1])
		}
		return fmt.Sprintf("/* "+s.auto+" */ %s", lbl[0], lbl[1])
	case s.auto == "wbeditentity-update:0|":
		tail = pick(g, []string{"", " Adding structured data: captions", " automatically adding claims based on file information: date & camera"})
		if w.fam == wikidata {
			tail = pick(g, []string{"", " import from a Lexeme & sense source", " #quickstatements; #temporary_batch_" + strconv.FormatInt(g.between(1_700_000_000_000, 1_760_000_000_000), 10)})
		}
	default:
		tail = " " + claim()
		if g.chance(0.2) {
			tail += ", #quickstatements; #temporary_batch_" + strconv.FormatInt(g.between(1_700_000_000_000, 1_760_000_000_000), 10)
		}
	}
	return "/* " + s.auto + " */" + tail
}

var enBotSummaries = []string{
	"Rescuing %[1]d sources and tagging %[2]d as dead.) #LinkRescue (v3.1.%[2]d",
	"Bot: Fixing [[Wikipedia:Disambiguation pages with links|links to disambiguation pages]]",
	"Bot: Updating population data (source: census 2021) & infobox",
	"Dating maintenance tags: {{Citation needed}}",
	"Bot: Fixing [[WP:CHECKWIKI]] error #%[1]d (<br/> tag)",
	"[[User:CitationHelperBot|Bot]]: added \"access-date\" to %[1]d citation(s)",
	"Bot: Replacing [[Category:%[3]s]] with [[Category:%[3]s (%[1]d)]]",
}

var commonsSummaries = []string{
	"[[Help:Cat-a-lot|Cat-a-lot]]: Moving from [[Category:%[1]s]] to [[Category:%[2]s]]",
	"added [[Category:%[1]s]]",
	"[[Help:Gadget-HotCat|HotCat]]: added [[Category:%[2]s]]",
	"[[Commons:License review|License review]] passed ([[MediaWiki talk:Gadget-LicenseReview.js|script]])",
	"Removing \"{{Uncategorized}}\" & adding {{Information}}",
	"Changing date",
	"Adding {{Location}} <!-- from EXIF -->",
}

// editSummary returns the summary of an edit of page title (prefixed text)
// in namespace ns of w, by u.
func (g *Generator) editSummary(w *wikiState, ns int, title string, u *user) string {
	l := w.l
	if isEntity(w, ns) {
		return g.wikibaseSummary(w, ns, false)
	}
	if strings.HasSuffix(title, ".js") || strings.HasSuffix(title, ".css") {
		return pick(g, []string{"", "update", "+ importScript('User:" + u.name + "/tools.js')", "fix && chain"})
	}
	if w.fam == commons && (ns == nsFile || ns == nsCategory) {
		if ns == nsFile && g.chance(0.5) {
			return g.wikibaseSummary(w, ns, false)
		}
		return format(pick(g, commonsSummaries), g.category(w), g.category(w))
	}
	if u.bot {
		if ns%2 == 1 {
			return fmt.Sprintf("Archiving %[1]d discussion(s) to [[%[2]s/Archive %[1]d]]) (bot", 1+g.rng.IntN(9), title)
		}
		if l != langEN && g.chance(0.5) {
			return "Bot: " + pick(g, l.summaries)
		}
		return format(pick(g, enBotSummaries), 1+g.rng.IntN(9), g.rng.IntN(9), g.fill(pick(g, langEN.categories)))
	}
	if ns == nsTalk || ns == nsUserTalk || ns == nsProject {
		sec := pick(g, []string{pick(g, l.sections), "Proposed merge", "Requested move " + g.year(), "Question & answer"})
		return "/* " + sec + " */ " + pick(g, []string{"Reply", "new section", "Reply", "+ comment"})
	}
	switch x := g.rng.IntN(10); {
	case x < 3:
		return ""
	case x < 6:
		sec := pick(g, l.sections)
		if g.chance(0.4) {
			return "/* " + sec + " */"
		}
		return "/* " + sec + " */ " + pick(g, l.summaries)
	case x < 7:
		return pick(g, langEN.summaries)
	}
	return pick(g, l.summaries)
}

// createSummary returns the automatic summary of a page creation, or a
// summary its author wrote.
func (g *Generator) createSummary(w *wikiState, ns int, title string, u *user) string {
	if isEntity(w, ns) {
		return g.wikibaseSummary(w, ns, true)
	}
	l := w.l
	var text string
	switch {
	case w.fam == wiktionary && l.code == "fr":
		text = fmt.Sprintf("== {{langue|fr}} ==  === {{S|étymologie}} === : De [[%[2]s]].  === {{S|nom|fr}} === '''%[1]s''' {{pron||fr}} {{m}}  # [[%[2]s]] & [[%[1]s]].", title, pick(g, words))
	case w.fam == wiktionary:
		text = fmt.Sprintf("==English==  ===Etymology=== From {{inh|en|enm|%[1]s}}.  ===Noun=== {{en-noun}}  # [[%[1]s]] & [[%[2]s]]", title, pick(g, words))
	case ns == nsUserTalk:
		if u.bot {
			return fmt.Sprintf("Notice: [[Special:Contributions/%[1]s|%[1]s]] - level 1", strings.TrimPrefix(title, l.userTalk+":"))
		}
		text = "== Welcome! ==  {{subst:Welcome}} ~~~~"
	case ns == nsUser:
		text = "{{Babel|" + l.code + "|en-2}} Hello, I'm <b>new</b> here & learning"
	case ns == nsCategory:
		text = "{{Commonscat}} [[" + l.category + ":" + g.category(w) + "]]"
	case ns%2 == 1:
		text = "{{WikiProject banner shell|class=Stub|1= {{WikiProject Biography|living=yes}} }}"
	default:
		leads := l.leads
		if len(leads) == 0 {
			leads = []string{"'''%[1]s''' ([[%[2]s]]) {{stub}}"}
		}
		text = fmt.Sprintf(g.fill(pick(g, leads)), title, pick(g, places))
	}
	if g.chance(0.15) {
		return pick(g, []string{"new article", "stub", "Created by translating the page \"" + title + "\"", "+"})
	}
	created := l.created
	if created == "" {
		created = langEN.created
	}
	return fmt.Sprintf(created, truncate(text, 200))
}

// truncate cuts s to at most n bytes on a character boundary, as
// MediaWiki's truncateForDatabase does, adding "..." when it cuts.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	n -= 3
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

func isEntity(w *wikiState, ns int) bool {
	return w.fam == wikidata && (ns == nsMain || ns == nsProperty || ns == nsLexeme)
}
