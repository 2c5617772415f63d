// Page titles and file names: ordinary names of places, people and things,
// in the wiki's language and namespaces; nothing is taken from the
// recorded events.

package eventgen

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

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
