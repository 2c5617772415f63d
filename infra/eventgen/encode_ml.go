// Lift Wing's predictions about articles and Wikidata items (outlink
// topics, the three revert-risk models) and the HTML feature counts of
// articles: their schemas, their meta, and the members they add to a copy
// of the page_change event.

package eventgen

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	predictionSchema = "/mediawiki/page/prediction_classification_change/1.1.0"
	// featureCountsSchema is this package's guess: the schema is not in
	// any public source this package was written from (see
	// testdata/SOURCES.md).
	featureCountsSchema = "/mediawiki/page/rendering_feature_counts_change/1.0.0"
)

// liftWingMeta writes meta as Lift Wing sets it (stream, a new id, the
// source event's request_id, domain and uri) and EventGate completes it
// (dt).
func (g *Generator) liftWingMeta(e *enc, a *action, stream int, uri string, t time.Time) {
	e.kobj("meta")
	e.kstr("stream", streamNames[stream])
	e.kstr("id", g.uuid())
	e.kstr("request_id", a.reqID)
	e.kstr("domain", a.w.domain)
	e.kstr("uri", uri)
	e.kstr("dt", fmtDT(t))
	e.close()
}

// --- predictions ---------------------------------------------------------

// prediction writes the predicted_classification of a prediction stream.
func (g *Generator) prediction(e *enc, a *action, stream int) {
	e.kobj("predicted_classification")
	if stream == sOutlinkTopic {
		e.kstr("model_name", "outlink-topic-model")
		e.kstr("model_version", "alloutlinks_202209")
		g.outlinkTopics(e, a)
		e.close()
		return
	}
	name, version := "revertrisk-language-agnostic", "3"
	switch stream {
	case sRevertRiskML:
		name, version = "revertrisk-multilingual", "4"
	case sRevertRiskWD:
		name, version = "revertrisk-wikidata", "1"
	}
	e.kstr("model_name", name)
	e.kstr("model_version", version)
	pt := round3(g.revertRisk(a))
	pf := round3(1 - pt)
	prediction := "false"
	if pt > 0.5 {
		prediction = "true"
	}
	e.kstrs("predictions", []string{prediction})
	e.kobj("probabilities")
	e.kfloat("true", pt)
	e.kfloat("false", pf)
	e.close()
	e.close()
}

// revertRisk is the probability that a's edit gets reverted, as the
// models see it: high for unregistered and new editors and for blanking,
// low for bots, administrators and reverts.
func (g *Generator) revertRisk(a *action) float64 {
	u := a.user
	p := 0.12
	switch {
	case u.bot:
		p = 0.02
	case u.id == 0:
		p = 0.42
	case u.admin:
		p = 0.03
	case u.edits < 500:
		p = 0.25
	}
	if a.revert != "" {
		p /= 3
	}
	if a.old.last.size > 2000 && a.rev.size < a.old.last.size/2 {
		p += 0.4
	}
	return min(0.999, max(0.001, p+g.rng.NormFloat64()*0.1))
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// The 64 topics of the outlink topic model (the ORES article topic
// taxonomy).
var outlinkTopics = []string{
	"Culture.Biography.Biography*", "Culture.Biography.Women", "Culture.Food_and_drink", "Culture.Internet_culture",
	"Culture.Linguistics", "Culture.Literature", "Culture.Media.Books", "Culture.Media.Entertainment", "Culture.Media.Films",
	"Culture.Media.Media*", "Culture.Media.Music", "Culture.Media.Radio", "Culture.Media.Software", "Culture.Media.Television",
	"Culture.Media.Video_games", "Culture.Performing_arts", "Culture.Philosophy_and_religion", "Culture.Sports",
	"Culture.Visual_arts.Architecture", "Culture.Visual_arts.Comics_and_Anime", "Culture.Visual_arts.Fashion",
	"Culture.Visual_arts.Visual_arts*", "Geography.Geographical", "Geography.Regions.Africa.Africa*",
	"Geography.Regions.Africa.Central_Africa", "Geography.Regions.Africa.Eastern_Africa", "Geography.Regions.Africa.Northern_Africa",
	"Geography.Regions.Africa.Southern_Africa", "Geography.Regions.Africa.Western_Africa", "Geography.Regions.Americas.Central_America",
	"Geography.Regions.Americas.North_America", "Geography.Regions.Americas.South_America", "Geography.Regions.Asia.Asia*",
	"Geography.Regions.Asia.Central_Asia", "Geography.Regions.Asia.East_Asia", "Geography.Regions.Asia.North_Asia",
	"Geography.Regions.Asia.South_Asia", "Geography.Regions.Asia.Southeast_Asia", "Geography.Regions.Asia.West_Asia",
	"Geography.Regions.Europe.Eastern_Europe", "Geography.Regions.Europe.Europe*", "Geography.Regions.Europe.Northern_Europe",
	"Geography.Regions.Europe.Southern_Europe", "Geography.Regions.Europe.Western_Europe", "Geography.Regions.Oceania",
	"History_and_Society.Business_and_economics", "History_and_Society.Education", "History_and_Society.History",
	"History_and_Society.Military_and_warfare", "History_and_Society.Politics_and_government", "History_and_Society.Society",
	"History_and_Society.Transportation", "STEM.Biology", "STEM.Chemistry", "STEM.Computing", "STEM.Earth_and_environment",
	"STEM.Engineering", "STEM.Libraries_&_Information", "STEM.Mathematics", "STEM.Medicine_&_Health", "STEM.Physics",
	"STEM.STEM*", "STEM.Space", "STEM.Technology",
}

// langRegions are the regions an article of a Wikipedia is often about.
var langRegions = map[string][]string{
	"en": {"Americas.North_America", "Europe.Northern_Europe", "Oceania"},
	"de": {"Europe.Western_Europe"}, "fr": {"Europe.Western_Europe", "Africa.Western_Africa"}, "nl": {"Europe.Western_Europe"},
	"es": {"Europe.Southern_Europe", "Americas.South_America", "Americas.Central_America"}, "it": {"Europe.Southern_Europe"},
	"pt": {"Americas.South_America", "Europe.Southern_Europe"}, "ru": {"Europe.Eastern_Europe", "Asia.North_Asia"},
	"uk": {"Europe.Eastern_Europe"}, "pl": {"Europe.Eastern_Europe"}, "cs": {"Europe.Eastern_Europe"},
	"sv": {"Europe.Northern_Europe"}, "ja": {"Asia.East_Asia"}, "zh": {"Asia.East_Asia"}, "ko": {"Asia.East_Asia"},
	"ar": {"Asia.West_Asia", "Africa.Northern_Africa"}, "fa": {"Asia.West_Asia", "Asia.Central_Asia"}, "he": {"Asia.West_Asia"},
	"tr": {"Asia.West_Asia"}, "vi": {"Asia.Southeast_Asia"}, "id": {"Asia.Southeast_Asia"},
}

// subjectTopics are the other topics an article is about, weighted.
var subjectTopics = []weighted[string]{
	{"Culture.Biography.Biography*", 20}, {"Geography.Geographical", 14}, {"Culture.Sports", 10},
	{"History_and_Society.Politics_and_government", 7}, {"History_and_Society.History", 6}, {"STEM.Biology", 8},
	{"Culture.Media.Music", 6}, {"History_and_Society.Transportation", 4}, {"Culture.Media.Films", 3},
	{"Culture.Visual_arts.Architecture", 3}, {"History_and_Society.Military_and_warfare", 2}, {"STEM.Medicine_&_Health", 2},
	{"Culture.Philosophy_and_religion", 2}, {"History_and_Society.Business_and_economics", 3}, {"Culture.Media.Television", 2},
}

// outlinkTopics writes the predictions and probabilities of the outlink
// topic model: the topics scored 0.5 or more are predicted, the scores of
// those above 0.15 given, the highest first.
func (g *Generator) outlinkTopics(e *enc, a *action) {
	scores := map[string]float64{}
	if rs := langRegions[a.w.lang]; len(rs) > 0 && g.chance(0.7) {
		region := "Geography.Regions." + pick(g, rs)
		scores[region] = 0.55 + 0.44*g.rng.Float64()
		if top, _, ok := strings.Cut(strings.TrimPrefix(region, "Geography.Regions."), "."); ok {
			scores["Geography.Regions."+top+"."+top+"*"] = 0.5 + 0.49*g.rng.Float64()
		}
	}
	for range 1 + g.rng.IntN(2) {
		scores[pickWeighted(g, subjectTopics)] = 0.5 + 0.49*g.rng.Float64()
	}
	if scores["Culture.Biography.Biography*"] > 0 && g.chance(0.25) {
		scores["Culture.Biography.Women"] = 0.5 + 0.45*g.rng.Float64()
	}
	for range g.rng.IntN(4) {
		t := pick(g, outlinkTopics)
		if scores[t] == 0 {
			scores[t] = 0.15 + 0.34*g.rng.Float64()
		}
	}
	topics := make([]string, 0, len(scores))
	for t, s := range scores {
		scores[t] = round3(s)
		topics = append(topics, t)
	}
	slices.SortFunc(topics, func(x, y string) int {
		if scores[x] != scores[y] {
			if scores[x] > scores[y] {
				return -1
			}
			return 1
		}
		return strings.Compare(x, y)
	})
	e.karr("predictions")
	for _, t := range topics {
		if scores[t] >= 0.5 {
			e.str(t)
		}
	}
	e.closeArr()
	e.kobj("probabilities")
	for _, t := range topics {
		e.kfloat(t, scores[t])
	}
	e.close()
}

// --- HTML feature counts --------------------------------------------------

// featureKinds are the features counted in an article's HTML, with the
// bytes of wikitext per feature on average.
var featureKinds = []struct {
	name    string
	perByte float64
}{
	{"categories", 1.0 / 3000}, {"external_links", 1.0 / 1500}, {"headings", 1.0 / 2500}, {"images", 1.0 / 6000},
	{"lists", 1.0 / 5000}, {"paragraphs", 1.0 / 700}, {"references", 1.0 / 700}, {"tables", 1.0 / 15000},
	{"templates", 1.0 / 900}, {"wikilinks", 1.0 / 90}, {"words", 1.0 / 6.2},
}

// featureCounts writes the feature counts of the HTML of a's page after
// the action, or before it (prior). The counts follow the size of the
// page's wikitext with a spread of its own per page, so that an edit moves
// them as much as it changes the page.
func (g *Generator) featureCounts(e *enc, a *action, prior bool) {
	r := &a.p.last
	if prior {
		r = &a.old.last
	}
	e.kobj("feature_counts")
	for i, f := range featureKinds {
		spread := 0.6 + 0.8*float64(hash64(a.w.db, strconv.FormatInt(a.p.id, 10), f.name)%1000)/1000
		n := int64(float64(r.main.size) * f.perByte * spread)
		if i == 0 {
			n++ // a page has at least a category, tracking ones included
		}
		e.kint(f.name, n)
	}
	e.close()
}
