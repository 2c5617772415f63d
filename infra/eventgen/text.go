package eventgen

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Users, titles and edit summaries, and MediaWiki's rendering of summaries
// into parsedcomment. User names are made up; titles are ordinary names of
// places, people and things; nothing is taken from the recorded events.

type weighted[T any] struct {
	v T
	w float64
}

func pickWeighted[T any](g *Generator, ws []weighted[T]) T {
	total := 0.0
	for _, x := range ws {
		total += x.w
	}
	r := g.rng.Float64() * total
	for _, x := range ws {
		if r < x.w {
			return x.v
		}
		r -= x.w
	}
	return ws[len(ws)-1].v
}

func pick[T any](g *Generator, xs []T) T { return xs[g.rng.IntN(len(xs))] }

func (g *Generator) chance(p float64) bool { return g.rng.Float64() < p }

// between returns an integer in [lo, hi).
func (g *Generator) between(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + g.rng.Int64N(hi-lo)
}

func hash64(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// uuid returns a random (version 4) UUID.
func (g *Generator) uuid() string {
	var b [36]byte
	hi, lo := g.rng.Uint64(), g.rng.Uint64()
	hi = hi&^0xf000 | 0x4000     // version 4
	lo = lo&^(0xc<<60) | 0x8<<60 // variant 10
	x := [16]byte{}
	for i := range 8 {
		x[i] = byte(hi >> (56 - 8*i))
		x[8+i] = byte(lo >> (56 - 8*i))
	}
	j := 0
	for i, c := range x {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = hexDigits[c>>4], hexDigits[c&0xf]
		j += 2
	}
	return string(b[:])
}

// sha1 returns a random base-36 SHA-1, as MediaWiki stores them.
func (g *Generator) sha1() string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	var b [31]byte
	for i := range b {
		b[i] = digits[g.rng.IntN(36)]
	}
	return string(b[:])
}

// ymd returns a random date between 2005 and 2025.
func (g *Generator) ymd() (int, int, int) {
	return 2005 + g.rng.IntN(21), 1 + g.rng.IntN(12), 1 + g.rng.IntN(28)
}

// format is fmt.Sprintf for formats that may use none of the arguments:
// formats use explicit argument indexes, which keep fmt from reporting
// unused ones.
func format(f string, args ...any) string {
	if !strings.Contains(f, "%") {
		return f
	}
	return fmt.Sprintf(f, args...)
}

func (g *Generator) year() string { return strconv.Itoa(1850 + g.rng.IntN(176)) }

// fill replaces {Y} with a year.
func (g *Generator) fill(s string) string {
	for strings.Contains(s, "{Y}") {
		s = strings.Replace(s, "{Y}", g.year(), 1)
	}
	return s
}

// --- users ---------------------------------------------------------------

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

// --- titles --------------------------------------------------------------

var (
	places = []string{"Kraków", "Würzburg", "Saint-Malo", "Segovia", "Tver", "Kyoto", "Lucca", "Zürich", "Göteborg",
		"Ross-on-Wye", "São Luís", "Reykjavík", "Thessaloniki", "Plovdiv", "Hội An", "Valparaíso", "Tromsø"}
	subjects = []string{"Kölner Dom", "Tour Eiffel", "Iris pseudacorus", "Mercedes-Benz O 530", "Schloss Ludwigsburg",
		"Café de Flore", "Bahnhof Zürich HB", "Tokyo Skytree", "Ногинск, вокзал", "清水寺", "St. Mary's Church",
		"Coccinella septempunctata", "Tram 2148 & 2150", "Puente de Vizcaya", "Ελληνικό Κοινοβούλιο"}
	words = []string{"ephemeral", "Schadenfreude", "café", "naïve", "хлеб", "猫", "çalışmak", "piñata", "fjäll",
		"ōkami", "serendipity", "bêche-de-mer", "rock 'n' roll", "Zeitgeist", "ağaç", "mañana", "łódka", "사랑"}
	wdLabels = [][2]string{{"en", "Ludwig van Beethoven"}, {"de", "Wasserturm Zürich"}, {"ja", "山田駅"},
		{"ru", "Санкт-Петербург"}, {"fr", "Église Saint-Étienne"}, {"pt", "São João del-Rei"}, {"pl", "Łódź Kaliska"},
		{"ar", "مسجد الحسين"}, {"he", "בית הכנסת הגדול"}, {"ast", "Xuan Pérez"}, {"nl", "De Gouden Leeuw"}}
	wdDescriptions = [][2]string{{"en", "scholarly article published in {Y}"}, {"de", "Dorf in Polen"},
		{"fr", "espèce d'insectes"}, {"ja", "日本の政治家"}, {"ru", "деревня в Тверской области"},
		{"nl", "wetenschappelijk artikel"}, {"es", "especie de planta"}, {"ar", "مقالة علمية"},
		{"zh", "{Y}年論文"}, {"he", "כפר בפולין"}, {"en", `"Heroes" cover by a band from Tromsø`}}
	enProject = []string{"Articles for deletion/%s", "Administrators' noticeboard/Incidents", "Village pump (technical)",
		"Sandbox", "WikiProject Football", "Requests for page protection/Increase", "Did you know nominations/%s"}
	wdProject      = []string{"Requests for deletions", "Project chat", "Properties for deletion", "Administrators' noticeboard"}
	commonsProject = []string{"Deletion requests/File:%s", "Village pump", "Undeletion requests/Current requests",
		"Administrators' noticeboard/User problems", "Quality images candidates/candidate list"}
	metaTitles = []string{"Steward requests/Global", "Steward requests/Permissions", "Tech/News/2025/%d",
		"Global sysops/Requests", "Wikimedia Forum", "Requests for comment/Global ban for an account"}
	mwTitles      = []string{"MediaWiki 1.45/Roadmap", "Content translation", "Wikimedia Product/Newsletter", "ResourceLoader/Migration guide (users)"}
	speciesTitles = []string{"Carabus auronitens", "Quercus robur", "Lepidoptera", "Coccinellidae", "Pieris brassicae"}
	sourceTitles  = []string{"The Federalist Papers/No. %d", "Pride and Prejudice/Chapter %d", "Frankenstein (1818)", "The Raven (Poe)"}
)

// title returns a title in namespace ns of w: the prefixed text, with spaces.
func (g *Generator) title(w *wikiState, ns int) string {
	l := w.l
	switch ns {
	case nsMain:
		switch w.fam {
		case wikidata:
			return "Q" + strconv.FormatInt(g.between(1, w.q), 10)
		case commons:
			return pick(g, places)
		case wiktionary:
			return pick(g, words)
		case wikisource:
			return format(pick(g, sourceTitles), 1+g.rng.IntN(80))
		case metawiki:
			return format(pick(g, metaTitles), 1+g.rng.IntN(52))
		case mediawikiwiki:
			return pick(g, mwTitles)
		case species:
			return pick(g, speciesTitles)
		}
		titles := l.titles
		if g.chance(0.25) {
			titles = langEN.titles
		}
		return g.fill(pick(g, titles))
	case nsTalk:
		return l.talk + ":" + g.title(w, nsMain)
	case nsUser:
		u := g.editor(w)
		switch x := g.rng.IntN(10); {
		case x < 3:
			return l.user + ":" + u.name + "/sandbox"
		case x < 4:
			return l.user + ":" + u.name + "/common.js"
		case x < 5:
			return l.user + ":" + u.name + "/" + g.title(w, nsMain)
		}
		return l.user + ":" + u.name
	case nsUserTalk:
		return l.userTalk + ":" + g.editor(w).name
	case nsProject:
		p := w.project + ":"
		switch w.fam {
		case wikidata:
			return p + pick(g, wdProject)
		case commons:
			return p + format(pick(g, commonsProject), g.fileName())
		}
		if l == langEN {
			return p + format(pick(g, enProject), g.title(w, nsMain))
		}
		return p + pick(g, []string{"Sandbox", "Administrators' noticeboard", g.title(w, nsMain)})
	case nsFile:
		return l.file + ":" + g.fileName()
	case nsTemplate:
		return l.template + ":" + pick(g, []string{"Infobox settlement", "Cite web", "Country data " + pick(g, places),
			pick(g, places) + " navbox", "Taxonbar", "Authority control"})
	case nsCategory:
		return l.category + ":" + g.category(w)
	case nsDraft:
		return "Draft:" + g.title(w, nsMain)
	case nsProperty:
		return "Property:P" + strconv.FormatInt(g.between(1, 13_500), 10)
	case nsLexeme:
		return "Lexeme:L" + strconv.FormatInt(g.between(1, w.lexeme), 10)
	case nsModule:
		return l.module + ":" + pick(g, []string{"Citation/CS1", "Wikidata", "Infobox", "Sandbox/" + pick(g, humanNames)})
	}
	return g.title(w, nsMain)
}

func (g *Generator) category(w *wikiState) string {
	if w.fam == commons {
		y, m, d := g.ymd()
		return pick(g, []string{pick(g, subjects), "Churches in " + pick(g, places), g.year() + " in " + pick(g, places),
			"Photographs by " + pick(g, humanNames), "Quality images of " + pick(g, places),
			fmt.Sprintf("Media needing categories as of %d %s %d", d, time.Month(m), y)})
	}
	return g.fill(pick(g, w.l.categories))
}

var llLangs = [][2]string{{"Q150", "fra"}, {"Q1860", "eng"}, {"Q188", "deu"}, {"Q1321", "spa"}, {"Q7737", "rus"}, {"Q9027", "swe"}}

// fileName returns a file name, without the namespace.
func (g *Generator) fileName() string {
	y, m, d := g.ymd()
	date := fmt.Sprintf("%d-%02d-%02d", y, m, d)
	switch g.rng.IntN(8) {
	case 0, 1:
		return fmt.Sprintf("%s %s %d.jpg", pick(g, subjects), date, 1+g.rng.IntN(40))
	case 2:
		return fmt.Sprintf("%s (%d).jpg", pick(g, subjects), y)
	case 3:
		return fmt.Sprintf("%s - %s - DSC%04d.jpg", pick(g, places), date, g.rng.IntN(10000))
	case 4:
		ll := pick(g, llLangs)
		return fmt.Sprintf("LL-%s (%s)-%s-%s.wav", ll[0], ll[1], strings.ReplaceAll(pick(g, humanNames), "/", ""), pick(g, words))
	case 5:
		return "Flag of " + pick(g, places) + ".svg"
	case 6:
		return fmt.Sprintf("%s - %s - %d.pdf", pick(g, subjects), pick(g, humanNames), y)
	}
	return fmt.Sprintf("IMG %d%02d%02d %06d.jpg", y, m, d, g.rng.IntN(240000))
}

// --- summaries -----------------------------------------------------------

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
		prefix := s.auto[:strings.Index(s.auto, "%s")]
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

// --- rendering: Linker::formatComment -----------------------------------

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
