package monitorcheck

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// What `promtool test rules` does, with the engine alone: series written
// as in its test files (one value a minute), each alert's expression
// evaluated every minute, and the alert firing once its expression has
// returned the same series for its whole for: duration.

// sample is one float sample.
type sample struct {
	t int64
	f float64
}

func (s sample) T() int64                      { return s.t }
func (s sample) ST() int64                     { return 0 }
func (s sample) F() float64                    { return s.f }
func (s sample) H() *histogram.Histogram       { return nil }
func (s sample) FH() *histogram.FloatHistogram { return nil }
func (s sample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s sample) Copy() chunks.Sample           { return s }

// memSeries is a storage.Queryable of a few series held in memory.
type memSeries []storage.Series

func (m memSeries) Querier(int64, int64) (storage.Querier, error) {
	return &storage.MockQuerier{SelectMockFunction: func(_ bool, _ *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
		out := &seriesSet{i: -1}
		for _, s := range m {
			match := true
			for _, mt := range ms {
				match = match && mt.Matches(s.Labels().Get(mt.Name))
			}
			if match {
				out.series = append(out.series, s)
			}
		}
		return out
	}}, nil
}

// seriesSet iterates over series, in the order given.
type seriesSet struct {
	series []storage.Series
	i      int
}

func (s *seriesSet) Next() bool                        { s.i++; return s.i < len(s.series) }
func (s *seriesSet) At() storage.Series                { return s.series[s.i] }
func (s *seriesSet) Err() error                        { return nil }
func (s *seriesSet) Warnings() annotations.Annotations { return nil }

// load reads series written as in promtool's test files
// (`eventstreams_feed_ready{instance="a"} 1 1 0x5`), one value a minute
// from time 0.
func load(t *testing.T, series ...string) memSeries {
	t.Helper()
	var m memSeries
	for _, desc := range series {
		lset, values, err := promqlParser.ParseSeriesDesc(desc)
		if err != nil {
			t.Fatalf("%q: %v", desc, err)
		}
		var samples []chunks.Sample
		for i, v := range values {
			if !v.Omitted {
				samples = append(samples, sample{t: int64(i) * time.Minute.Milliseconds(), f: v.Value})
			}
		}
		m = append(m, storage.NewListSeries(lset, samples))
	}
	return m
}

// firing returns, for each minute up to minutes, the label sets of the
// named alert that fire then, as Prometheus's rule manager decides.
func firing(t *testing.T, name string, data memSeries, minutes int) []map[string]bool {
	t.Helper()
	var expr string
	var hold time.Duration
	for _, g := range rules(t).Groups {
		for _, r := range g.Rules {
			if r.Alert == name {
				expr, hold = r.Expr, time.Duration(r.For)
			}
		}
	}
	if expr == "" {
		t.Fatalf("no alert %s", name)
	}
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 1e6, Timeout: 10 * time.Second, LookbackDelta: 5 * time.Minute})
	activeSince := map[string]time.Time{}
	out := make([]map[string]bool, minutes+1)
	for m := 0; m <= minutes; m++ {
		ts := time.UnixMilli(0).Add(time.Duration(m) * time.Minute)
		q, err := engine.NewInstantQuery(context.Background(), data, nil, expr, ts)
		if err != nil {
			t.Fatal(err)
		}
		res := q.Exec(context.Background())
		if res.Err != nil {
			t.Fatalf("%s at minute %d: %v", name, m, res.Err)
		}
		vec, err := res.Vector()
		if err != nil {
			t.Fatal(err)
		}
		out[m] = map[string]bool{}
		now := map[string]bool{}
		for _, s := range vec {
			key := s.Metric.DropReserved(func(name string) bool { return name == model.MetricNameLabel }).String()
			now[key] = true
			if _, ok := activeSince[key]; !ok {
				activeSince[key] = ts
			}
			if ts.Sub(activeSince[key]) >= hold {
				out[m][key] = true
			}
		}
		for key := range activeSince {
			if !now[key] {
				delete(activeSince, key)
			}
		}
		q.Close()
	}
	return out
}

func TestAlertsFire(t *testing.T) {
	tests := []struct {
		alert  string
		series []string
		// from and to are the first and last minutes the alert fires, for
		// the one label set labels (other minutes: nothing fires).
		from, to int
		labels   string
		minutes  int
	}{
		{
			alert: "EventStreamsDeadLetters",
			series: []string{
				`eventstreams_ingest_deadletters_total{job="ingest",cluster="eqiad",topic="eqiad.mediawiki.recentchange",reason="invalid_json"} 0x10 1x30`,
				`eventstreams_ingest_deadletters_total{job="ingest",cluster="eqiad",topic="eqiad.mediawiki.recentchange",reason="empty"} 0x40`,
			},
			// The first dead letter at minute 11 (`0x10` is minutes 0 to
			// 10); for: 1m; increase over 10 minutes sees it until
			// minute 19.
			from: 12, to: 19, minutes: 40,
			labels: `{cluster="eqiad", job="ingest", reason="invalid_json", topic="eqiad.mediawiki.recentchange"}`,
		},
		{
			alert:  "EventStreamsFeedNotReady",
			series: []string{`eventstreams_feed_ready{job="serve",instance="serve-1:8092"} 1x5 0x5 1x10`},
			from:   8, to: 11, minutes: 20, // 0 from minute 6 to 11; for: 2m
			labels: `{instance="serve-1:8092", job="serve"}`,
		},
		{
			alert: "EventStreamsIngestNotPublishing",
			series: []string{
				`eventstreams_ingest_events_published_total{job="ingest",instance="i:9102",cluster="eqiad",stream="s"} 0+60x10 600x30`,
				`eventstreams_ingest_consumer_lag{job="ingest",instance="i:9102",cluster="eqiad",topic="t",partition="0"} 0x10 0+100x30`,
			},
			// Stuck from minute 10 while the lag grows: the rate over 10
			// minutes is 0 from minute 19, and for: 5m.
			from: 24, to: 40, minutes: 40,
			labels: `{instance="i:9102", job="ingest"}`,
		},
		{
			alert: "EventStreamsIngestLagGrowing",
			series: []string{
				`eventstreams_ingest_consumer_lag{job="ingest",instance="i",cluster="eqiad",topic="t",partition="0"} 0x11 500+500x30`,
				// Far behind but catching up, or steady: not growing.
				`eventstreams_ingest_consumer_lag{job="ingest",instance="i",cluster="eqiad",topic="t",partition="1"} 90000-1000x40`,
				`eventstreams_ingest_consumer_lag{job="ingest",instance="i",cluster="codfw",topic="t",partition="0"} 5000x40`,
			},
			// Over 1000 from minute 14, growing; for: 10m.
			from: 24, to: 40, minutes: 40,
			labels: `{cluster="eqiad", job="ingest", partition="0", topic="t"}`,
		},
		{
			alert: "EventStreamsFeedFailing",
			series: []string{
				`eventstreams_disconnects_total{job="serve",instance="a",reason="feed_failed"} 0x4 5x4 9x4 20x20`,
				`eventstreams_disconnects_total{job="serve",instance="a",reason="too_slow"} 0+3x35`,
			},
			// Failures at minutes 5, 10 and 15: the third makes it active,
			// for: 1m; the first leaves the 15-minute window at minute 19.
			from: 16, to: 18, minutes: 35,
			labels: `{instance="a", job="serve"}`,
		},
		{
			alert: "EventStreamsCatchUpSlotsExhausted",
			series: []string{
				`eventstreams_catchup_consumers{job="serve",instance="a"} 3x5 8x10 2x10`,
				`eventstreams_catchup_consumers_max{job="serve",instance="a"} 8x25`,
				`eventstreams_catchup_refusals_total{job="serve",instance="a"} 0x25`,
			},
			from: 11, to: 16, minutes: 25, // full from minute 6 to 16; for: 5m
			labels: `{instance="a", job="serve"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.alert, func(t *testing.T) {
			got := firing(t, tt.alert, load(t, tt.series...), tt.minutes)
			for m, fired := range got {
				want := m >= tt.from && m <= tt.to
				if fired[tt.labels] != want || len(fired) > 1 || len(fired) == 1 && !want {
					t.Errorf("minute %d: firing %v, want %v for %s", m, fired, want, tt.labels)
				}
			}
		})
	}
}
