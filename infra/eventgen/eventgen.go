// Package eventgen produces realistic Wikimedia events for the local
// development stack: the Kafka records that MediaWiki (through EventBus and
// EventGate) and the services downstream of it write to the topics of the
// public streams, which ingest mirrors into JetStream. In the flow it
// stands where Wikimedia's producers stand: eventgen → Kafka → ingest →
// JetStream → serve → SSE clients.
//
// It produces every stream of the built-in catalog (shared/catalog), each
// following its schema, with the recorded events in shared/data as models:
// recentchange edits, new pages, log entries and categorization changes;
// revision and page events (revision-create, page-create, page-delete,
// page-move, page-undelete, page-properties-change, page-links-change,
// revision-tags-change, revision-visibility-change); mediawiki.page_change.v1,
// keyed by wiki and page; the streams that services derive from MediaWiki's
// events: the WDQS streaming updater's RDF changes of Wikidata entities
// (rdf-streaming-updater.mutation.v2, and mutation-main.v2 or
// mutation-scholarly.v2 after the graph split) and of Commons files'
// structured data (mediainfo-streaming-updater.mutation.v2), Lift Wing's
// predictions about Wikipedia articles and Wikidata items (outlink topics,
// three revert-risk models) and the HTML feature counts of Wikipedia
// articles; the test stream about once a minute; and canary events
// (meta.domain "canary"), one per topic per minute on the streams that have
// them in production (all but the RDF ones). They happen on many wikis with
// their real domains, local namespace names and edit summaries, so consumers
// and ingest meet real-world escaping: HTML in parsedcomment, quotes,
// ampersands, right-to-left and other non-ASCII text, Turtle inside JSON.
// The events are generated, never replayed: the values are new, only the
// shapes are real. One MediaWiki action yields consistent events across
// streams, with the same request id, page and revision ids: a new page is a
// recentchange "new" and a page-create, and, for a share of actions (so that
// recentchange stays about 60% of the events), a revision-create, a
// page_change, an RDF change when the page is a Wikidata entity or a Commons
// file with structured data, and predictions and feature counts when it is
// an article. Revision
// and recentchange ids grow per wiki.
//
// A Generator is deterministic for a seed and a clock (Options.Now). It is
// not safe for concurrent use: one goroutine calls Next or Run.
package eventgen

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Options configure a Generator. The zero value is usable.
type Options struct {
	// Rate is the number of events per second Run emits overall
	// (default 50). It also sets how often the test stream and canary
	// events come: once a minute each at this rate.
	Rate float64
	// Streams are the canonical names of the streams to produce. The
	// default is every stream of the built-in catalog: those MediaWiki or
	// EventGate write (mediawiki.recentchange, mediawiki.revision-create,
	// mediawiki.page-create, mediawiki.page-delete, mediawiki.page-move,
	// mediawiki.page-undelete, mediawiki.page-properties-change,
	// mediawiki.page-links-change, mediawiki.revision-tags-change,
	// mediawiki.revision-visibility-change, mediawiki.page_change.v1,
	// eventgate-main.test.event), the WDQS streaming updater's
	// (rdf-streaming-updater.mutation.v2,
	// rdf-streaming-updater.mutation-main.v2,
	// rdf-streaming-updater.mutation-scholarly.v2,
	// mediainfo-streaming-updater.mutation.v2) and Lift Wing's and the
	// enrichment jobs' (mediawiki.page_outlink_topic_prediction_change.v1,
	// mediawiki.page_revert_risk_prediction_change.v1,
	// mediawiki.page_revert_risk_multilingual_prediction_change.v1,
	// mediawiki.page_revert_risk_wikidata_prediction_change.v1,
	// mediawiki.page_html_feature_counts_change.v1).
	Streams []string
	// DCs are the datacenter topic prefixes, without the dot (default
	// eqiad, codfw). Each MediaWiki action happens in one DC: the first
	// one takes about 70% of them, the others share the rest.
	DCs []string
	// Seed seeds the generator; 0 seeds it from the time.
	Seed int64
	// Now is the clock of the events' times (default time.Now). Run paces
	// on the monotonic clock, whatever Now is.
	Now func() time.Time
}

// Event is one Kafka record.
type Event struct {
	// Topic is <dc>.<stream>, e.g. eqiad.mediawiki.recentchange, or
	// <dc>.<topic> for the streams whose topic is not named after them
	// (eqiad.rdf-streaming-updater.mutation for
	// rdf-streaming-updater.mutation.v2), as in the built-in catalog.
	Topic string
	// Key is nil, except on mediawiki.page_change.v1:
	// {"wiki_id":"…","page_id":…}.
	Key []byte
	// Value is the event: a compact JSON object in UTF-8, without the
	// meta.topic, meta.partition and meta.offset that ingest adds.
	Value []byte
	// Time is the event's time (its meta.dt, to the second there).
	Time time.Time
}

// The streams this package produces.
const (
	sRecentChange = iota
	sRevisionCreate
	sPageCreate
	sPageDelete
	sPageMove
	sPageUndelete
	sPagePropertiesChange
	sPageLinksChange
	sRevisionTagsChange
	sRevisionVisibilityChange
	sPageChange
	sTest
	sRDF           // the full Wikidata graph
	sRDFMain       // Wikidata without the scholarly articles
	sRDFScholarly  // the scholarly articles
	sMediaInfo     // Commons' structured data
	sOutlinkTopic  // Lift Wing's article topics
	sRevertRisk    // Lift Wing's language-agnostic revert risk
	sRevertRiskML  // Lift Wing's multilingual revert risk
	sRevertRiskWD  // Lift Wing's Wikidata revert risk
	sFeatureCounts // the HTML feature counts of articles
	numStreams
)

var streamNames = [numStreams]string{
	sRecentChange:             "mediawiki.recentchange",
	sRevisionCreate:           "mediawiki.revision-create",
	sPageCreate:               "mediawiki.page-create",
	sPageDelete:               "mediawiki.page-delete",
	sPageMove:                 "mediawiki.page-move",
	sPageUndelete:             "mediawiki.page-undelete",
	sPagePropertiesChange:     "mediawiki.page-properties-change",
	sPageLinksChange:          "mediawiki.page-links-change",
	sRevisionTagsChange:       "mediawiki.revision-tags-change",
	sRevisionVisibilityChange: "mediawiki.revision-visibility-change",
	sPageChange:               "mediawiki.page_change.v1",
	sTest:                     "eventgate-main.test.event",
	sRDF:                      "rdf-streaming-updater.mutation.v2",
	sRDFMain:                  "rdf-streaming-updater.mutation-main.v2",
	sRDFScholarly:             "rdf-streaming-updater.mutation-scholarly.v2",
	sMediaInfo:                "mediainfo-streaming-updater.mutation.v2",
	sOutlinkTopic:             "mediawiki.page_outlink_topic_prediction_change.v1",
	sRevertRisk:               "mediawiki.page_revert_risk_prediction_change.v1",
	sRevertRiskML:             "mediawiki.page_revert_risk_multilingual_prediction_change.v1",
	sRevertRiskWD:             "mediawiki.page_revert_risk_wikidata_prediction_change.v1",
	sFeatureCounts:            "mediawiki.page_html_feature_counts_change.v1",
}

// topicBases are the topic names after the DC prefix where they are not
// the stream's name (ext-EventStreamConfig; shared/catalog has the same).
var topicBases = map[int]string{
	sRDF:          "rdf-streaming-updater.mutation",
	sRDFMain:      "rdf-streaming-updater.mutation-main",
	sRDFScholarly: "rdf-streaming-updater.mutation-scholarly",
	sMediaInfo:    "mediainfo-streaming-updater.mutation",
}

// noCanary are the streams without canary events in production
// (canary_events_enabled is false for the RDF streams).
var noCanary = map[int]bool{sRDF: true, sRDFMain: true, sRDFScholarly: true, sMediaInfo: true}

var defaultDCs = [...]string{"eqiad", "codfw"}

const (
	defaultRate = 50
	// primaryShare is the share of actions in the first DC.
	primaryShare = 0.7
	// maxLag is how far Run may fall behind its schedule before it drops
	// the backlog instead of catching up in a burst.
	maxLag = time.Second
)

// Generator produces events. It is not safe for concurrent use.
type Generator struct {
	rate   float64
	dcs    []string
	dcCum  []float64
	topics [numStreams][]string // per stream, per DC
	on     [numStreams]bool
	now    func() time.Time
	rng    *rand.Rand

	wikis   []*wikiState
	wikiCum []float64

	queue []pending // events of the current action not yet returned
	head  int

	// Scheduled events: the test event and one canary per topic, spread
	// evenly over every period events.
	specials  []special
	period    float64
	emitted   int64 // events returned by Next
	nSpecial  int64 // specials returned
	noRegular bool  // only the test stream: every event is scheduled

	e enc

	// Run's clock and sleep, replaced in tests.
	clock func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

type special struct {
	stream int
	dc     int // -1: the test event, which picks its DC
	canary bool
}

// New validates o and returns a Generator.
func New(o Options) (*Generator, error) {
	g := &Generator{rate: o.Rate, now: o.Now, clock: time.Now, sleep: sleepCtx}
	switch {
	case g.rate == 0:
		g.rate = defaultRate
	case math.IsNaN(g.rate) || math.IsInf(g.rate, 0) || g.rate < 0:
		return nil, fmt.Errorf("eventgen: rate %v is not a positive number", o.Rate)
	}
	if g.now == nil {
		g.now = time.Now
	}
	g.dcs = o.DCs
	if len(g.dcs) == 0 {
		g.dcs = defaultDCs[:]
	}
	for i, dc := range g.dcs {
		if dc == "" || strings.ContainsAny(dc, ". \t\n") {
			return nil, fmt.Errorf("eventgen: DC prefix %q must be a non-empty name without a dot", dc)
		}
		if slices.Contains(g.dcs[:i], dc) {
			return nil, fmt.Errorf("eventgen: DC prefix %q given twice", dc)
		}
	}
	g.dcs = slices.Clone(g.dcs)
	streams := o.Streams
	if len(streams) == 0 {
		streams = streamNames[:]
	}
	for _, name := range streams {
		s := slices.Index(streamNames[:], name)
		if s < 0 {
			return nil, fmt.Errorf("eventgen: stream %q is not generated (streams: %s)", name, strings.Join(streamNames[:], ", "))
		}
		if g.on[s] {
			return nil, fmt.Errorf("eventgen: stream %q given twice", name)
		}
		g.on[s] = true
	}
	seed := o.Seed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	g.rng = rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))

	g.dcCum = make([]float64, len(g.dcs))
	for i := range g.dcs {
		share := primaryShare
		if len(g.dcs) == 1 {
			share = 1
		} else if i > 0 {
			share = (1 - primaryShare) / float64(len(g.dcs)-1)
		}
		g.dcCum[i] = share
		if i > 0 {
			g.dcCum[i] += g.dcCum[i-1]
		}
		for s := range numStreams {
			base := streamNames[s]
			if b, ok := topicBases[s]; ok {
				base = b
			}
			g.topics[s] = append(g.topics[s], g.dcs[i]+"."+base)
		}
	}

	g.initWikis()
	g.noRegular = !slices.ContainsFunc(g.wikis, func(w *wikiState) bool { return w.kindTotal > 0 })
	if g.on[sTest] {
		g.specials = append(g.specials, special{stream: sTest, dc: -1})
	}
	for s := range numStreams {
		if g.on[s] && !noCanary[s] {
			for dc := range g.dcs {
				g.specials = append(g.specials, special{stream: s, dc: dc, canary: true})
			}
		}
	}
	// A round of specials per minute at Rate, and never more than half
	// of the events.
	g.period = max(60*g.rate, 2*float64(len(g.specials)))
	return g, nil
}

// Next returns the next event. Its time is Now() (Options.Now).
func (g *Generator) Next() Event {
	now := g.now()
	if g.noRegular || float64(g.emitted) >= (float64(g.nSpecial)+0.5)*g.period/float64(len(g.specials)) {
		sp := g.specials[g.nSpecial%int64(len(g.specials))]
		g.nSpecial++
		g.emitted++
		return g.buildSpecial(sp, now)
	}
	for g.head == len(g.queue) {
		g.queue, g.head = g.queue[:0], 0
		g.newAction(now)
	}
	p := g.queue[g.head]
	g.queue[g.head] = pending{}
	g.head++
	g.emitted++
	return g.build(p, now)
}

// Run emits events to emit at Rate per second until ctx ends, then returns
// nil, or until emit fails, then returns emit's error. Event i is due at
// start + i/Rate; when emit is so slow that Run falls more than a second
// behind, Run drops the backlog and starts its schedule again rather than
// bursting.
func (g *Generator) Run(ctx context.Context, emit func(Event) error) error {
	interval := time.Duration(float64(time.Second) / g.rate)
	start := g.clock()
	for i := int64(0); ; i++ {
		due := start.Add(time.Duration(i) * interval)
		now := g.clock()
		if d := due.Sub(now); d > 0 {
			if g.sleep(ctx, d) != nil {
				return nil
			}
		} else if ctx.Err() != nil {
			return nil
		} else if -d > maxLag {
			start, i = now, 0
		}
		if err := emit(g.Next()); err != nil {
			return err
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// pickDC returns the DC of a new action.
func (g *Generator) pickDC() int {
	x := g.rng.Float64() * g.dcCum[len(g.dcCum)-1]
	for i, c := range g.dcCum {
		if x < c {
			return i
		}
	}
	return len(g.dcCum) - 1
}
