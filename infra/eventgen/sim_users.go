// The simulation's users: made-up names, ids, groups and edit counts per
// wiki, IP editors and new accounts.

package eventgen

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

var humanNames = []string{
	// The first ones are administrators on every wiki.
	"Maple Harbor", "Lindqvist", "Jörg Müller", "Мария Смирнова", "Kōhei Tanaka", "Frédérique L",
	"O'Brien Research", "Ngozi Okafor", "Elif Yıldız", "Łukasz Wiśniewski", "陈思远", "Avi Cohen",
	// Everyone else.
	"Ana Beatriz S.", "김민수", "山田太郎", "محمد الحسن", "Zhang Wei 2021", "Tom & Jerry fan", "Priya.sharma",
	"Søren K", "Jean-Pierre D.", "Kaveh", "Nguyễn Thu Hà", "RiverStone", "Quillwort", "Bramblefield",
	"Tessellate42", "Marginalia", "Old Man River", `Gwen "Wren" Parry`, "Ximena Q", "Dr. Aldous",
	"Wikiwatcher 7", "ÆthelredTheReady", "Ольга Петренко", "Ιωάννης Π.", "Sigrún Ósk", "Tadeusz K.",
	"José María Peñalver", "Hana Nováková", "Rūta Ž.", "Mehmet Çelik", "Ilse de Vries", "Ayşe & Kemal",
	"Noor ul Ain", "Lumière1999", "Kaito_99", "Fiona MacLeòid", "Chidi E.", "Eun-ji Park",
}

const numAdmins = 12

var botNames = []string{
	"LinkRescueBot", "DateFixBot", "CategorizerBot", "QuickLabelBot", "CitationHelperBot", "ArchiveKeeperBot",
	"WikidataSyncBot", "SDC Bot", "PopulationDataBot", "ReferenceFormatterBot", "Léon's bot", "НашБот",
	"ボットくん", "Commons Sorting Bot", "Lexeme Import Bot", "MaintenanceBot (WMF)",
}

var newNameParts = [][]string{
	{"Lukas", "Ana", "Mei", "Olu", "Tariq", "Ingrid", "Pavel", "Yuki", "Zeynep", "Mateo", "Анна", "이서연", "Émile", "Sipho", "Farah", "Bilal"},
	{".mueller", " R.", "Z", "_edits", " (WMF)", "wiki", " Ko", "2009", "1987", " the Scribe", "ов", "!", " & co", "-Marie"},
}

// user is a performer. Users are per wiki: ids, groups and edit counts
// differ between wikis, as they do in production.
type user struct {
	name       string
	id         int64 // 0: an IP editor
	groups     []string
	bot, admin bool
	reg        string // registration time; "" when unknown
	edits      int64
	autopatrol bool
}

var implicitGroups = []string{"*", "user", "autoconfirmed"}

// pickUser returns a bot, an administrator or another editor of w.
func (g *Generator) pickUser(w *wikiState, bot, admin bool) *user {
	var name string
	switch {
	case bot:
		name = pick(g, botNames)
	case admin:
		name = humanNames[g.rng.IntN(numAdmins)]
	default:
		name = pick(g, humanNames)
	}
	return g.userNamed(w, name)
}

// userNamed returns the registered user name of w.
func (g *Generator) userNamed(w *wikiState, name string) *user {
	if u, ok := w.userCache[name]; ok {
		return u
	}
	h := hash64(w.db, name)
	bot := slices.Contains(botNames, name)
	u := &user{name: name, bot: bot, admin: slices.Contains(humanNames[:numAdmins], name)}
	lo := w.users / 400
	if !u.admin && !bot {
		lo = w.users / 40
	}
	u.id = lo + int64(h%uint64(max(1, w.users-lo)))
	frac := float64(u.id) / float64(w.users)
	if !(u.id < w.users/200 && h&1 == 0) { // some old accounts have no registration date
		reg := time.Date(2004, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(frac * float64(21*365*24*time.Hour)))
		reg = reg.Add(time.Duration(h>>40%86400) * time.Second)
		u.reg = reg.Format(dtLayout)
	}
	var extra []string
	switch {
	case bot:
		u.edits = 100_000 + int64(h>>20%40_000_000)
		extra = []string{"bot"}
		if h&2 != 0 {
			extra = append(extra, "rollbacker")
		}
	case u.admin:
		u.edits = 20_000 + int64(h>>20%600_000)
		extra = []string{"sysop"}
		if h&4 != 0 {
			extra = append(extra, "ipblock-exempt")
		}
	default:
		u.edits = 10 + int64(h>>20%60_000)
		opts := groupChoices[w.fam]
		if w.fam == wikipedia {
			opts = groupChoicesWikipedia[w.lang]
			if opts == nil {
				opts = groupChoicesWikipedia[""]
			}
		}
		extra = opts[h>>8%uint64(len(opts))]
	}
	u.groups = append(slices.Sorted(slices.Values(extra)), implicitGroups...)
	u.autopatrol = bot || u.admin || hasAny(extra, "autopatrolled", "editor", "autoreview", "rollbacker", "patroller")
	w.userCache[name] = u
	return u
}

var groupChoicesWikipedia = map[string][][]string{
	"":   {nil, nil, {"autopatrolled"}, {"rollbacker"}, {"patroller"}},
	"en": {nil, {"extendedconfirmed"}, {"extendedconfirmed", "rollbacker"}, {"autopatrolled", "extendedconfirmed", "reviewer"}, {"extendedconfirmed", "patroller"}},
	"de": {nil, {"autoreview"}, {"autoreview", "editor"}},
}

var groupChoices = map[family][][]string{
	commons:       {nil, {"autopatrolled"}, {"filemover", "image-reviewer", "rollbacker"}, {"autopatrolled", "filemover"}},
	wikidata:      {nil, {"autopatrolled"}, {"rollbacker"}, {"autopatrolled", "propertycreator"}},
	wiktionary:    {nil, {"autopatrolled"}, {"rollbacker"}},
	wikisource:    {nil, {"autopatrolled"}, {"rollbacker"}},
	metawiki:      {nil, {"autopatrolled"}, {"rollbacker"}},
	mediawikiwiki: {nil, {"autopatrolled"}, {"rollbacker"}},
	species:       {nil, {"autopatrolled"}, {"rollbacker"}},
}

// ipUser returns an unregistered editor.
func (g *Generator) ipUser() *user {
	var name string
	if g.chance(0.7) {
		name = fmt.Sprintf("%d.%d.%d.%d", 1+g.rng.IntN(222), g.rng.IntN(256), g.rng.IntN(256), 1+g.rng.IntN(254))
	} else {
		name = fmt.Sprintf("2%03X:%X:%X:%X:%X:%X:%X:%X", g.rng.IntN(0x1000), g.rng.IntN(0x10000), g.rng.IntN(0x10000),
			g.rng.IntN(0x10000), g.rng.IntN(0x10000), g.rng.IntN(0x10000), g.rng.IntN(0x10000), g.rng.IntN(0x10000))
	}
	return &user{name: name}
}

// newUser returns an account created now.
func (g *Generator) newUser(w *wikiState, now time.Time) *user {
	w.users++
	return &user{
		name:   pick(g, newNameParts[0]) + pick(g, newNameParts[1]) + strconv.Itoa(g.rng.IntN(100)),
		id:     w.users,
		groups: []string{"*", "user"},
		reg:    now.UTC().Format(dtLayout),
	}
}

// editorOf picks the author of an edit of title on w: often the owner of a
// user page, always the owner of a user script.
func (g *Generator) editorOf(w *wikiState, title string) *user {
	if rest, ok := strings.CutPrefix(title, w.l.user+":"); ok {
		owner, _, _ := strings.Cut(rest, "/")
		script := strings.HasSuffix(rest, ".js") || strings.HasSuffix(rest, ".css")
		if (script || g.chance(0.7)) && (slices.Contains(humanNames, owner) || slices.Contains(botNames, owner)) {
			return g.userNamed(w, owner)
		}
	}
	return g.editor(w)
}

// editor picks the author of an edit on w.
func (g *Generator) editor(w *wikiState) *user {
	if g.chance(botShare[w.fam]) {
		return g.pickUser(w, true, false)
	}
	if g.chance(ipShare[w.fam]) {
		return g.ipUser()
	}
	return g.pickUser(w, false, g.chance(0.08))
}

var botShare = map[family]float64{wikipedia: 0.16, wiktionary: 0.2, wikisource: 0.15, wikidata: 0.52,
	commons: 0.38, metawiki: 0.1, mediawikiwiki: 0.1, species: 0.1}

var ipShare = map[family]float64{wikipedia: 0.14, wiktionary: 0.08, wikisource: 0.05, wikidata: 0.03,
	commons: 0.01, metawiki: 0.05, mediawikiwiki: 0.05, species: 0.05}

func hasAny(xs []string, ys ...string) bool {
	return slices.ContainsFunc(xs, func(x string) bool { return slices.Contains(ys, x) })
}
