package eventgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/catalog"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/envelope"
)

const (
	testSeed   = 20260301
	testEvents = 20_000
)

var testStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// stepClock returns a clock that advances by step at each call, as the
// event clock of a generator paced at 1/step events per second.
func stepClock(start time.Time, step time.Duration) func() time.Time {
	t := start
	return func() time.Time {
		t = t.Add(step)
		return t
	}
}

func newTestGenerator(t testing.TB, o Options) *Generator {
	t.Helper()
	if o.Seed == 0 {
		o.Seed = testSeed
	}
	if o.Now == nil {
		o.Now = stepClock(testStart, 20*time.Millisecond) // 50 events/s, the default rate
	}
	g, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return g
}

// generated is a generated event, decoded. Its stream is the one the
// built-in catalog has its topic in, as ingest finds it.
type generated struct {
	Event
	dc, stream string
	doc        map[string]any
	meta       map[string]any
}

func (e *generated) canary() bool { return e.meta["domain"] == "canary" }

func (e *generated) str(k string) string { s, _ := e.doc[k].(string); return s }

// generate returns n events of a generator with the test seed and clock.
func generate(t testing.TB, n int, o Options) []generated {
	t.Helper()
	g := newTestGenerator(t, o)
	var prefixes []string
	for _, dc := range g.dcs {
		prefixes = append(prefixes, dc+".")
	}
	cat, err := catalog.Builtin(prefixes)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]generated, n)
	for i := range out {
		ev := g.Next()
		e := generated{Event: ev}
		e.dc, _, _ = strings.Cut(ev.Topic, ".")
		s, ok := cat.ByTopic(ev.Topic)
		if !ok {
			t.Fatalf("event %d on %s, a topic of no stream of the built-in catalog", i, ev.Topic)
		}
		e.stream = s.Name
		d := json.NewDecoder(bytes.NewReader(ev.Value))
		d.UseNumber()
		if err := d.Decode(&e.doc); err != nil {
			t.Fatalf("event %d (%s) is not a JSON object: %v\n%s", i, ev.Topic, err, ev.Value)
		}
		e.meta, _ = e.doc["meta"].(map[string]any)
		out[i] = e
	}
	return out
}

var (
	defaultEvents []generated
	uuidV4        = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

// events are testEvents events of the default options (generated once).
func events(t testing.TB) []generated {
	t.Helper()
	if defaultEvents == nil {
		defaultEvents = generate(t, testEvents, Options{})
	}
	return defaultEvents
}

func TestEventsAreStorable(t *testing.T) {
	checkStorable(t, events(t))
	for seed := int64(1); seed <= 5; seed++ {
		checkStorable(t, generate(t, 4000, Options{Seed: seed}))
	}
}

// checkStorable checks that evs are events ingest stores as they are.
func checkStorable(t *testing.T, evs []generated) {
	t.Helper()
	for i, e := range evs {
		v := e.Value
		if !utf8.Valid(v) {
			t.Fatalf("event %d is not UTF-8", i)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, v); err != nil || !bytes.Equal(compact.Bytes(), v) {
			t.Fatalf("event %d is not compact JSON (%v): %s", i, err, v)
		}
		if bytes.Contains(v, []byte("%!")) || bytes.Contains(v, []byte("%25!")) {
			t.Fatalf("event %d has a fmt error: %s", i, v)
		}
		if bytes.Contains(v, []byte(`\u003c`)) || bytes.Contains(v, []byte(`\/`)) {
			t.Fatalf("event %d escapes '<' or '/' (MediaWiki does not): %s", i, v)
		}
		out, f, err := envelope.Enrich(nil, v, envelope.Coordinates{Topic: e.Topic, Offset: int64(i)})
		if err != nil {
			t.Fatalf("event %d: Enrich: %v\n%s", i, err, v)
		}
		if !json.Valid(out) {
			t.Fatalf("event %d: enriched event is not JSON: %s", i, out)
		}
		if f.MetaID == "" || f.MetaID != e.meta["id"] || !uuidV4.MatchString(f.MetaID) {
			t.Fatalf("event %d: meta.id %q is not a UUID v4 that ingest sees (%q)", i, e.meta["id"], f.MetaID)
		}
		// The test event, recentchange canaries and the RDF changes (of
		// entities, not pages) have no wiki id: their subject's wiki token
		// is "_".
		noWiki := e.stream == "eventgate-main.test.event" || e.canary() && e.stream == "mediawiki.recentchange" || e.doc["entity_id"] != nil
		if f.Wiki == "" && !noWiki {
			t.Fatalf("event %d (%s): ingest finds no wiki id: %s", i, e.Topic, v)
		}
		for _, k := range []string{"topic", "partition", "offset"} {
			if _, ok := e.meta[k]; ok {
				t.Fatalf("event %d has meta.%s, which ingest adds: %s", i, k, v)
			}
		}
		if e.meta["stream"] != e.stream {
			t.Fatalf("event %d: meta.stream %v on topic %s", i, e.meta["stream"], e.Topic)
		}
		dt, err := time.Parse(time.RFC3339, e.meta["dt"].(string))
		if err != nil || !dt.Equal(e.Time.UTC().Truncate(time.Second)) || !strings.HasSuffix(e.meta["dt"].(string), "Z") {
			t.Fatalf("event %d: meta.dt %v is not the event time %v in UTC", i, e.meta["dt"], e.Time)
		}
		if e.stream == "mediawiki.page_change.v1" {
			var key struct {
				WikiID string `json:"wiki_id"`
				PageID int64  `json:"page_id"`
			}
			if err := json.Unmarshal(e.Key, &key); err != nil {
				t.Fatalf("event %d: page_change key %q: %v", i, e.Key, err)
			}
			page := e.doc["page"].(map[string]any)
			if key.WikiID != e.doc["wiki_id"] || json.Number(strconv.FormatInt(key.PageID, 10)) != page["page_id"] {
				t.Fatalf("event %d: key %s does not match wiki_id %v and page %v", i, e.Key, e.doc["wiki_id"], page["page_id"])
			}
		} else if e.Key != nil {
			t.Fatalf("event %d on %s has a key", i, e.Topic)
		}
	}
}

// required are the required top-level members of each stream's schema and
// their JSON types, from the public spec (testdata/schemas.json) and, for
// the streams it does not list, testdata/schemas-extra.json.
var required = map[string]map[string]string{
	"mediawiki.recentchange": {"$schema": "string", "meta": "object"},
	"mediawiki.revision-create": {"$schema": "string", "database": "string", "dt": "string", "meta": "object", "page_id": "integer",
		"page_is_redirect": "boolean", "page_namespace": "integer", "page_title": "string", "rev_id": "integer", "rev_timestamp": "string"},
	"mediawiki.page-create": {"$schema": "string", "database": "string", "dt": "string", "meta": "object", "page_id": "integer",
		"page_is_redirect": "boolean", "page_namespace": "integer", "page_title": "string", "rev_id": "integer", "rev_timestamp": "string"},
	"mediawiki.page-delete": {"$schema": "string", "database": "string", "meta": "object", "page_id": "integer",
		"page_is_redirect": "boolean", "page_namespace": "integer", "page_title": "string", "rev_id": "integer"},
	"mediawiki.page-move": {"$schema": "string", "database": "string", "meta": "object", "page_id": "integer",
		"page_is_redirect": "boolean", "page_namespace": "integer", "page_title": "string", "prior_state": "object", "rev_id": "integer"},
	"mediawiki.page-undelete": {"$schema": "string", "database": "string", "meta": "object", "page_id": "integer",
		"page_is_redirect": "boolean", "page_namespace": "integer", "page_title": "string", "rev_id": "integer"},
	"mediawiki.page-properties-change": {"$schema": "string", "database": "string", "meta": "object", "page_id": "integer",
		"page_is_redirect": "boolean", "page_namespace": "integer", "page_title": "string", "rev_id": "integer"},
	"mediawiki.page-links-change": {"$schema": "string", "database": "string", "meta": "object", "page_id": "integer",
		"page_is_redirect": "boolean", "page_namespace": "integer", "page_title": "string", "rev_id": "integer"},
	"mediawiki.revision-tags-change": {"$schema": "string", "database": "string", "meta": "object", "page_id": "integer",
		"page_is_redirect": "boolean", "page_namespace": "integer", "page_title": "string", "rev_id": "integer", "rev_timestamp": "string"},
	"mediawiki.revision-visibility-change": {"$schema": "string", "database": "string", "meta": "object", "page_id": "integer",
		"page_is_redirect": "boolean", "page_namespace": "integer", "page_title": "string", "prior_state": "object",
		"rev_id": "integer", "rev_timestamp": "string", "visibility": "object"},
	"mediawiki.page_change.v1": {"$schema": "string", "changelog_kind": "string", "dt": "string", "meta": "object",
		"page": "object", "page_change_kind": "string", "revision": "object", "wiki_id": "string"},
	"eventgate-main.test.event": {"$schema": "string", "meta": "object"},

	"rdf-streaming-updater.mutation.v2":                            rdfRequired,
	"rdf-streaming-updater.mutation-main.v2":                       rdfRequired,
	"rdf-streaming-updater.mutation-scholarly.v2":                  rdfRequired,
	"mediainfo-streaming-updater.mutation.v2":                      rdfRequired,
	"mediawiki.page_outlink_topic_prediction_change.v1":            predictionRequired,
	"mediawiki.page_revert_risk_prediction_change.v1":              predictionRequired,
	"mediawiki.page_revert_risk_multilingual_prediction_change.v1": predictionRequired,
	"mediawiki.page_revert_risk_wikidata_prediction_change.v1":     predictionRequired,
	"mediawiki.page_html_feature_counts_change.v1": {"$schema": "string", "changelog_kind": "string", "dt": "string",
		"feature_counts": "object", "meta": "object", "page": "object", "page_change_kind": "string", "performer": "object",
		"revision": "object", "wiki_id": "string"},
}

var (
	rdfRequired = map[string]string{"$schema": "string", "dt": "string", "entity_id": "string", "meta": "object",
		"operation": "string", "rev_id": "integer", "sequence": "integer", "sequence_length": "integer"}
	predictionRequired = map[string]string{"$schema": "string", "changelog_kind": "string", "dt": "string", "meta": "object",
		"page": "object", "page_change_kind": "string", "performer": "object", "revision": "object", "wiki_id": "string"}
)

func jsonType(v any) string {
	switch x := v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") {
			return "number"
		}
		return "integer"
	case nil:
		return "null"
	}
	return "?"
}

func TestRequiredFields(t *testing.T) {
	seen := map[string]int{}
	for i, e := range events(t) {
		req, ok := required[e.stream]
		if !ok {
			t.Fatalf("event %d on unexpected topic %s", i, e.Topic)
		}
		seen[e.stream]++
		for k, typ := range req {
			if got := jsonType(e.doc[k]); got != typ {
				t.Fatalf("event %d (%s): %s is %s, want %s\n%s", i, e.Topic, k, got, typ, e.Value)
			}
		}
		for _, k := range []string{"stream", "dt"} {
			if jsonType(e.meta[k]) != "string" {
				t.Fatalf("event %d (%s): meta.%s missing", i, e.Topic, k)
			}
		}
	}
	for s := range required {
		if seen[s] == 0 {
			t.Errorf("no %s events in %d", s, testEvents)
		}
	}
}

func TestMix(t *testing.T) {
	evs := events(t)
	streams := map[string]int{}
	rcTypes := map[string]int{}
	pcKinds := map[string]int{}
	wikis := map[string]int{}
	dcs := map[string]int{}
	namespaces := map[string]int{}
	var rc, bots, rcBytes int
	for _, e := range evs {
		dcs[e.dc]++
		if e.canary() {
			continue
		}
		streams[e.stream]++
		switch e.stream {
		case "mediawiki.recentchange":
			rc++
			rcBytes += len(e.Value)
			rcTypes[e.str("type")]++
			wikis[e.str("wiki")]++
			namespaces[string(e.doc["namespace"].(json.Number))]++
			if e.doc["bot"] == true {
				bots++
			}
		case "mediawiki.page_change.v1":
			pcKinds[e.str("page_change_kind")]++
		}
	}
	t.Logf("streams %v", streams)
	t.Logf("recentchange types %v, %d wikis, namespaces %v, DCs %v", rcTypes, len(wikis), namespaces, dcs)
	share := func(n, of int) float64 { return float64(n) / float64(of) }
	if s := share(rc, len(evs)); s < 0.5 || s > 0.7 {
		t.Errorf("recentchange is %.0f%% of the events, want about 60%%", 100*s)
	}
	for _, typ := range []string{"edit", "new", "log", "categorize"} {
		if rcTypes[typ] == 0 {
			t.Errorf("no recentchange of type %s", typ)
		}
	}
	if rcTypes["edit"] < rc/2 {
		t.Errorf("edits are %d of %d recentchange events, want most", rcTypes["edit"], rc)
	}
	for _, k := range []string{"create", "edit", "move", "delete", "undelete", "visibility_change"} {
		if pcKinds[k] == 0 {
			t.Errorf("no page_change of kind %s", k)
		}
	}
	if len(wikis) < 20 {
		t.Errorf("recentchange events on %d wikis, want many", len(wikis))
	}
	for _, w := range []string{"wikidatawiki", "commonswiki", "enwiki"} {
		if wikis[w] < rc/10 {
			t.Errorf("%s has %d of %d recentchange events, want it among the largest", w, wikis[w], rc)
		}
	}
	if s := share(dcs["eqiad"], len(evs)); s < 0.6 || s > 0.8 || dcs["codfw"] == 0 || len(dcs) != 2 {
		t.Errorf("DCs %v, want about 70%% eqiad", dcs)
	}
	if s := share(bots, rc); s < 0.2 || s > 0.4 {
		t.Errorf("bots make %.0f%% of recentchange, want about 30%%", 100*s)
	}
	for _, ns := range []string{"0", "1", "2", "3", "4", "6", "10", "14", "118", "120", "146"} {
		if namespaces[ns] == 0 {
			t.Errorf("no recentchange event in namespace %s", ns)
		}
	}
	if avg := rcBytes / rc; avg < 500 || avg > 2000 {
		t.Errorf("recentchange events average %d bytes, want 0.5–2 KB", avg)
	}
	for _, s := range derivedStreams {
		if n := streams[streamNames[s]]; n == 0 || share(n, len(evs)) > 0.02 {
			t.Errorf("%s has %d of %d events, want a few (a low-volume stream)", streamNames[s], n, len(evs))
		}
	}
}

func TestCanaryAndTestEvents(t *testing.T) {
	evs := events(t)
	minutes := evs[len(evs)-1].Time.Sub(testStart).Minutes()
	canaries := map[string]int{}
	tests := 0
	for i, e := range evs {
		if e.canary() {
			canaries[e.Topic]++
			if e.meta["domain"] != "canary" {
				t.Fatalf("event %d: canary with meta.domain %v", i, e.meta["domain"])
			}
		} else if e.stream == "eventgate-main.test.event" {
			tests++
		}
	}
	for s := range numStreams {
		for dc := range defaultDCs {
			topic := newTestGenerator(t, Options{}).topics[s][dc]
			n := float64(canaries[topic])
			switch {
			case noCanary[s] && n > 0:
				t.Errorf("%d canary events on %s, which has none in production", int(n), topic)
			case !noCanary[s] && math.Abs(n-minutes) > 1.5:
				t.Errorf("%d canary events on %s in %.1f minutes, want one a minute", int(n), topic, minutes)
			}
		}
	}
	if math.Abs(float64(tests)-minutes) > 1.5 {
		t.Errorf("%d test events in %.1f minutes, want one a minute", tests, minutes)
	}
}

// TestConsistentAcrossStreams checks that the events of one MediaWiki
// request agree, and that revision and recentchange ids grow per wiki.
func TestConsistentAcrossStreams(t *testing.T) {
	type ids struct{ rev, rc int64 }
	last := map[string]ids{}
	byRequest := map[string][]*generated{}
	evs := events(t)
	for i := range evs {
		e := &evs[i]
		if e.canary() || e.stream == "eventgate-main.test.event" {
			continue
		}
		byRequest[e.meta["request_id"].(string)] = append(byRequest[e.meta["request_id"].(string)], e)
		if e.stream != "mediawiki.recentchange" {
			continue
		}
		w := e.str("wiki")
		id := mustInt(t, e.doc["id"])
		if id <= last[w].rc {
			t.Fatalf("%s: recentchange id %d after %d", w, id, last[w].rc)
		}
		l := ids{rc: id, rev: last[w].rev}
		if rev, ok := e.doc["revision"].(map[string]any); ok && e.str("type") != "categorize" {
			n := mustInt(t, rev["new"])
			if n <= last[w].rev {
				t.Fatalf("%s: revision %d after %d", w, n, last[w].rev)
			}
			l.rev = n
		}
		last[w] = l
	}
	checked, derived := 0, map[string]int{}
	for req, group := range byRequest {
		var newRev, created, rcRev int64
		var rcTitle string
		for _, e := range group {
			switch e.stream {
			case "mediawiki.recentchange":
				if typ := e.str("type"); typ == "new" || typ == "edit" {
					rcRev, rcTitle = mustInt(t, e.doc["revision"].(map[string]any)["new"]), e.str("title")
					if typ == "new" {
						newRev = rcRev
					}
				}
			case "mediawiki.page-create":
				created = mustInt(t, e.doc["rev_id"])
			}
			if group[0].meta["domain"] != e.meta["domain"] || group[0].dc != e.dc {
				t.Fatalf("request %s spans wikis or DCs: %s and %s", req, group[0].Topic, e.Topic)
			}
		}
		if newRev != 0 && created != 0 {
			checked++
			if newRev != created {
				t.Errorf("request %s: recentchange new revision %d, page-create revision %d", req, newRev, created)
			}
		}
		if rcRev == 0 {
			continue
		}
		// The derived events are about the revision of the edit or
		// creation, and the RDF changes about its page's entity.
		for _, e := range group {
			var rev int64
			switch {
			case e.doc["entity_id"] != nil:
				if e.str("operation") == "delete" {
					continue
				}
				rev = mustInt(t, e.doc["rev_id"])
				if id := e.str("entity_id"); e.meta["domain"] == "www.wikidata.org" && !strings.HasSuffix(rcTitle, id) {
					t.Errorf("request %s: RDF change of %s, recentchange of %s", req, id, rcTitle)
				}
			case e.doc["predicted_classification"] != nil || e.doc["feature_counts"] != nil:
				rev = mustInt(t, e.doc["revision"].(map[string]any)["rev_id"])
			default:
				continue
			}
			derived[e.stream]++
			if rev != rcRev {
				t.Errorf("request %s: %s event about revision %d, recentchange of revision %d", req, e.stream, rev, rcRev)
			}
		}
	}
	if checked == 0 {
		t.Error("no page creation had both its recentchange and page-create events")
	}
	if len(derived) != len(derivedStreams) {
		t.Errorf("derived events checked against their recentchange event: %v, want some of each of %d streams", derived, len(derivedStreams))
	}
}

// derivedStreams are the streams that services derive from MediaWiki's
// events.
var derivedStreams = []int{sRDF, sRDFMain, sRDFScholarly, sMediaInfo, sOutlinkTopic, sRevertRisk, sRevertRiskML,
	sRevertRiskWD, sFeatureCounts}

// TestCatalog checks that the default generator produces every stream of
// the built-in catalog, on the catalog's topics: the devstack seeds its
// Kafka clusters with those and ingest reads them.
func TestCatalog(t *testing.T) {
	cat, err := catalog.Builtin(nil)
	if err != nil {
		t.Fatal(err)
	}
	g := newTestGenerator(t, Options{})
	var topics []string
	for s := range numStreams {
		if !g.on[s] {
			t.Errorf("%s is not generated by default", streamNames[s])
		}
		topics = append(topics, g.topics[s]...)
	}
	slices.Sort(topics)
	if want := slices.Sorted(slices.Values(cat.Topics())); !slices.Equal(topics, want) {
		t.Errorf("topics\n%v\nwant the catalog's\n%v", topics, want)
	}
	generated := map[string]int{}
	for _, e := range events(t) {
		if !e.canary() {
			generated[e.stream]++
		}
	}
	for _, s := range cat.Streams() {
		if generated[s.Name] == 0 {
			t.Errorf("catalog stream %s: no events in %d", s.Name, testEvents)
		}
	}
}

func mustInt(t *testing.T, v any) int64 {
	t.Helper()
	n, err := v.(json.Number).Int64()
	if err != nil {
		t.Fatalf("%v is not an integer", v)
	}
	return n
}

// TestEscaping checks that the events carry what real-world escaping has
// to handle.
func TestEscaping(t *testing.T) {
	want := map[string]*regexp.Regexp{
		"HTML in parsedcomment":          regexp.MustCompile(`"parsedcomment":"[^"]*<a href=\\"/wiki/`),
		"an escaped quote in a comment":  regexp.MustCompile(`"comment":"[^"]*\\"`),
		"&quot; in parsedcomment":        regexp.MustCompile(`"parsedcomment":"[^"]*&quot;`),
		"&amp; in parsedcomment":         regexp.MustCompile(`"parsedcomment":"[^"]*&amp;`),
		"&lt; in parsedcomment":          regexp.MustCompile(`"parsedcomment":"[^"]*&lt;`),
		"&#039; in parsedcomment":        regexp.MustCompile(`"parsedcomment":"[^"]*&#039;`),
		"a raw '<' in a comment":         regexp.MustCompile(`"comment":"[^"]*<`),
		"a raw '&' in a comment":         regexp.MustCompile(`"comment":"[^"]*&`),
		"a percent-encoded title URL":    regexp.MustCompile(`"title_url":"https://[^"]*%[0-9A-F]{2}`),
		"a right-to-left title":          regexp.MustCompile(`"title":"[^"]*[\x{0590}-\x{06FF}]`),
		"a CJK user":                     regexp.MustCompile(`"user":"[^"]*[\x{4E00}-\x{9FFF}\x{AC00}-\x{D7AF}]`),
		"an IPv6 editor":                 regexp.MustCompile(`"user":"[0-9A-F]+:[0-9A-F:]+"`),
		"the section arrow with its LRM": regexp.MustCompile("→\u200e"),
	}
	found := map[string]bool{}
	for _, e := range events(t) {
		for name, re := range want {
			if !found[name] && re.Match(e.Value) {
				found[name] = true
			}
		}
	}
	for name := range want {
		if !found[name] {
			t.Errorf("no event has %s", name)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a := generate(t, 3000, Options{})
	b := generate(t, 3000, Options{})
	for i := range a {
		if a[i].Topic != b[i].Topic || !bytes.Equal(a[i].Key, b[i].Key) || !bytes.Equal(a[i].Value, b[i].Value) || !a[i].Time.Equal(b[i].Time) {
			t.Fatalf("event %d differs for the same seed and clock:\n%s\n%s", i, a[i].Value, b[i].Value)
		}
	}
	c := generate(t, 10, Options{Seed: testSeed + 1})
	if bytes.Equal(a[0].Value, c[0].Value) {
		t.Error("another seed gives the same events")
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name    string
		o       Options
		wantErr string
	}{
		{"defaults", Options{}, ""},
		{"negative rate", Options{Rate: -1}, "rate"},
		{"NaN rate", Options{Rate: math.NaN()}, "rate"},
		{"infinite rate", Options{Rate: math.Inf(1)}, "rate"},
		{"unknown stream", Options{Streams: []string{"mediawiki.revision-score"}}, "not generated"},
		{"alias", Options{Streams: []string{"recentchange"}}, "not generated"},
		{"stream twice", Options{Streams: []string{"mediawiki.recentchange", "mediawiki.recentchange"}}, "twice"},
		{"DC with a dot", Options{DCs: []string{"eqiad."}}, "without a dot"},
		{"empty DC", Options{DCs: []string{""}}, "without a dot"},
		{"DC twice", Options{DCs: []string{"eqiad", "eqiad"}}, "twice"},
		{"one DC", Options{DCs: []string{"local"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.o)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("New: error %v, want one about %q", err, tt.wantErr)
			}
		})
	}
}

func TestStreamsAndDCs(t *testing.T) {
	tests := []struct {
		name    string
		streams []string
		dcs     []string
	}{
		{"one stream", []string{"mediawiki.page-delete"}, nil},
		{"keyed stream", []string{"mediawiki.page_change.v1"}, []string{"dc1", "dc2", "dc3"}},
		{"test stream only", []string{"eventgate-main.test.event"}, nil},
		{"one DC", []string{"mediawiki.recentchange", "mediawiki.revision-create"}, []string{"local"}},
		{"RDF subgraph", []string{"rdf-streaming-updater.mutation-scholarly.v2"}, nil},
		{"structured data", []string{"mediainfo-streaming-updater.mutation.v2"}, []string{"local"}},
		{"Wikidata prediction", []string{"mediawiki.page_revert_risk_wikidata_prediction_change.v1"}, nil},
		{"derived streams", []string{"mediawiki.page_html_feature_counts_change.v1", "rdf-streaming-updater.mutation.v2"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dcs := tt.dcs
			if dcs == nil {
				dcs = defaultDCs[:]
			}
			seen := map[string]int{}
			for _, e := range generate(t, 2000, Options{Streams: tt.streams, DCs: tt.dcs}) {
				seen[e.dc+" "+e.stream]++
				if !contains(tt.streams, e.stream) || !contains(dcs, e.dc) {
					t.Fatalf("event on %s, want streams %v in DCs %v", e.Topic, tt.streams, dcs)
				}
			}
			for _, s := range tt.streams {
				for _, dc := range dcs {
					if seen[dc+" "+s] == 0 {
						t.Errorf("no events of %s in %s (%v)", s, dc, seen)
					}
				}
			}
		})
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// fakePacing replaces Run's clock and sleep with a fake clock that only
// sleeping and emitting move.
type fakePacing struct{ now time.Time }

func (f *fakePacing) install(g *Generator) {
	g.clock = func() time.Time { return f.now }
	g.sleep = func(ctx context.Context, d time.Duration) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		f.now = f.now.Add(d)
		return nil
	}
}

var errEnough = errors.New("enough")

func TestRunPaces(t *testing.T) {
	tests := []struct {
		name string
		rate float64
		cost func(i int) time.Duration // of emitting event i
		n    int
		// want is the fake time the n events take, within one interval.
		want time.Duration
	}{
		{"fast emit", 200, func(int) time.Duration { return 100 * time.Microsecond }, 1000, 999 * 5 * time.Millisecond},
		{"emit as slow as the rate", 50, func(int) time.Duration { return 20 * time.Millisecond }, 500, 499 * 20 * time.Millisecond},
		{"fractional rate", 3, func(int) time.Duration { return 0 }, 31, 10 * time.Second},
		// A stall of 5 s: the backlog is dropped, not emitted in a burst.
		{"stall", 100, func(i int) time.Duration {
			if i == 100 {
				return 5 * time.Second
			}
			return 0
		}, 300, 5*time.Second + 298*10*time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newTestGenerator(t, Options{Rate: tt.rate})
			f := &fakePacing{now: testStart}
			f.install(g)
			var at []time.Time
			err := g.Run(context.Background(), func(Event) error {
				at = append(at, f.now)
				f.now = f.now.Add(tt.cost(len(at)))
				if len(at) == tt.n {
					return errEnough
				}
				return nil
			})
			if !errors.Is(err, errEnough) {
				t.Fatalf("Run: %v, want emit's error", err)
			}
			interval := time.Duration(float64(time.Second) / tt.rate)
			if got := at[len(at)-1].Sub(at[0]); got < tt.want-interval || got > tt.want+interval {
				t.Errorf("%d events took %v, want %v", tt.n, got, tt.want)
			}
			for i := 1; i < len(at); i++ {
				if gap := at[i].Sub(at[i-1]); gap < interval-time.Microsecond {
					t.Fatalf("events %d and %d %v apart, want at least %v (no bursts)", i-1, i, gap, interval)
				}
			}
		})
	}
}

func TestRunStopsWithContext(t *testing.T) {
	g := newTestGenerator(t, Options{Rate: 1000})
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := g.Run(ctx, func(Event) error {
		if n++; n == 10 {
			cancel()
		}
		return nil
	})
	if err != nil || n != 10 {
		t.Fatalf("Run after cancel: %v after %d events, want nil after 10", err, n)
	}
}

// TestRunRealClock runs on the real clock and checks the rate loosely.
func TestRunRealClock(t *testing.T) {
	if testing.Short() {
		t.Skip("real clock")
	}
	const rate, window = 2000.0, 300 * time.Millisecond
	g, err := New(Options{Rate: rate, Seed: testSeed})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), window)
	defer cancel()
	n := 0
	if err := g.Run(ctx, func(Event) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	want := rate * window.Seconds()
	if float64(n) < want/4 || float64(n) > want*1.5 {
		t.Errorf("%d events in %v at %v/s, want about %v", n, window, rate, want)
	}
}

func BenchmarkNext(b *testing.B) {
	g := newTestGenerator(b, Options{})
	var bytes int
	for b.Loop() {
		bytes += len(g.Next().Value)
	}
	b.ReportMetric(float64(bytes)/float64(b.N), "B/event")
}
