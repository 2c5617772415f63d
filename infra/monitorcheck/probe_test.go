package monitorcheck

import (
	"testing"

	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
)

func TestProbe(t *testing.T) {
	_, _ = rulefmt.ParseFile("x", false, nil)
	_, _ = parser.ParseExpr("up")
	_ = promql.NewEngine(promql.EngineOpts{})
	_ = promqltest.LoadedStorage
}
