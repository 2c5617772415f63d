package monitorcheck

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

const root = "../.."

var (
	alertsFile    = filepath.Join(root, "infra", "prometheus", "alerts.yml")
	dashboardFile = filepath.Join(root, "infra", "grafana", "dashboards", "eventstreams.json")
)

// promqlParser is the PromQL parser with Prometheus's default options.
var promqlParser = parser.NewParser(parser.Options{})

// rules parses alerts.yml as Prometheus does (promtool check rules): the
// YAML, every expression, the templates of labels and annotations.
func rules(t *testing.T) *rulefmt.RuleGroups {
	t.Helper()
	groups, errs := rulefmt.ParseFile(alertsFile, false, model.UTF8Validation, promqlParser, slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Error(err)
	}
	if len(errs) > 0 {
		t.FailNow()
	}
	return groups
}

// grafanaVar is a Grafana variable in a query: $job, ${job}, $__rate_interval.
var grafanaVar = regexp.MustCompile(`\$\{?(\w+)\}?`)

// substitute replaces Grafana's variables with values PromQL parses: a
// duration for the intervals, a plain word for the others (which appear in
// label matchers).
func substitute(q string) string {
	return grafanaVar.ReplaceAllStringFunc(q, func(v string) string {
		switch grafanaVar.FindStringSubmatch(v)[1] {
		case "__rate_interval", "__interval", "__range":
			return "5m"
		default:
			return "x"
		}
	})
}

// dashboardQueries returns the PromQL of every panel of the dashboard,
// keyed by "panel title/refId", variables substituted.
func dashboardQueries(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr  string `json:"expr"`
				RefID string `json:"refId"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	qs := map[string]string{}
	for _, p := range d.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			qs[p.Title+"/"+tg.RefID] = substitute(tg.Expr)
		}
	}
	if len(qs) == 0 {
		t.Fatal("the dashboard has no queries")
	}
	return qs
}

// metricNames returns the metric names an expression selects.
func metricNames(t *testing.T, expr string) []string {
	t.Helper()
	e, err := promqlParser.ParseExpr(expr)
	if err != nil {
		t.Errorf("%q: %v", expr, err)
		return nil
	}
	var names []string
	for _, sel := range parser.ExtractSelectors(e) {
		name := ""
		for _, m := range sel {
			if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		if name == "" {
			t.Errorf("%q selects series without naming a metric", expr)
			continue
		}
		names = append(names, name)
	}
	return names
}
