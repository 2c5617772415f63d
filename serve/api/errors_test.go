package api

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestEchoBound: whatever the input, its echo written as a JSON string
// takes at most the bound; input within the bound is kept whole.
func TestEchoBound(t *testing.T) {
	inputs := []string{
		"", "/v2/stream/recentchange?since=2026-01-01", strings.Repeat("<", 5000), strings.Repeat("a", 5000),
		strings.Repeat("\x00\xff\"\\", 3000), strings.Repeat("é", 3000), strings.Repeat("\u2028", 999),
		strings.Repeat("&x", 700) + "€",
	}
	for _, in := range inputs {
		for _, n := range []int{32, 128, 1024} {
			out := echo(in, n)
			b, _ := json.Marshal(out)
			if len(b)-2 > n {
				t.Errorf("echo(%.20q…, %d) takes %d bytes in JSON", in, n, len(b)-2)
			}
			if inJSON, _ := json.Marshal(in); len(inJSON)-2 <= n && out != in {
				t.Errorf("echo(%.20q…, %d) = %.20q…, want it whole", in, n, out)
			}
			if out != in && !strings.HasSuffix(out, "…") {
				t.Errorf("echo(%.20q…, %d) cut without a mark", in, n)
			}
		}
	}
}
