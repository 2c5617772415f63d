package main

import (
	"fmt"
	"slices"
)

// ratioRow is serve's figures over one floor's, from the same round.
type ratioRow struct {
	Round     int     `json:"round"`
	Floor     string  `json:"floor"`
	CPU       float64 `json:"cpu_per_delivery"`
	P99       float64 `json:"latency_p99"`
	RSSPerCon float64 `json:"rss_per_conn"`
	RSSMarg   float64 `json:"rss_marginal"`
}

// printRatios prints every run's figures, then serve's CPU per delivery,
// p99 latency and RSS per connection as ratios to each floor's of the same
// round, and their medians over the rounds; then a JSON line of them.
func printRatios(results []*liveResult) {
	fmt.Printf("\nservebench live, all runs (%d clients × %g events/s):\n", results[0].Clients, results[0].Rate)
	fmt.Printf("  %-5s %-16s %12s %10s %10s %12s %10s %10s %8s\n", "round", "server", "deliveries/s", "µs/deliv", "cores", "p50/p99 ms", "RSS/conn", "marginal", "missing")
	for _, r := range results {
		fmt.Printf("  %-5d %-16s %12.0f %10.2f %10.3f %5.1f/%-6.1f %6.1f KiB %6.1f KiB %8d\n", r.Round, r.Server, r.DeliveriesPerSec,
			r.ServeUsPerDeliv, r.ServeCores, r.LatP50, r.LatP99, r.RSSPerConnKiB, r.RSSMarginalKiB, r.Missing+r.Duplicates+r.OutOfOrder+r.TailMissing)
	}
	var rows []ratioRow
	for _, s := range results {
		if s.Server != "serve" {
			continue
		}
		for _, f := range results {
			if f.Round != s.Round || f.Server == "serve" {
				continue
			}
			rows = append(rows, ratioRow{Round: s.Round, Floor: f.Server, CPU: ratio(s.ServeUsPerDeliv, f.ServeUsPerDeliv),
				P99: ratio(s.LatP99, f.LatP99), RSSPerCon: ratio(s.RSSPerConnKiB, f.RSSPerConnKiB),
				RSSMarg: ratio(s.RSSMarginalKiB, f.RSSMarginalKiB)})
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Printf("serve / floor of the same round:\n")
	fmt.Printf("  %-5s %-16s %16s %10s %14s %14s\n", "round", "floor", "CPU per delivery", "p99", "RSS per conn", "marginal RSS")
	for _, r := range rows {
		fmt.Printf("  %-5d %-16s %16.2f %10.2f %14.2f %14.2f\n", r.Round, r.Floor, r.CPU, r.P99, r.RSSPerCon, r.RSSMarg)
	}
	for _, floor := range []string{floorPool, floorGoroutine} {
		var cpu, p99, rss, marg []float64
		for _, r := range rows {
			if r.Floor == floor {
				cpu, p99, rss, marg = append(cpu, r.CPU), append(p99, r.P99), append(rss, r.RSSPerCon), append(marg, r.RSSMarg)
			}
		}
		if len(cpu) > 0 {
			fmt.Printf("  %-5s %-16s %16.2f %10.2f %14.2f %14.2f  (%d rounds)\n", "median", floor, median(cpu), median(p99), median(rss), median(marg), len(cpu))
		}
	}
	printJSON(map[string]any{"mode": "live-ratios", "ratios": rows})
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}
