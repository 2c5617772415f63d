package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// perfRecord samples serve's CPU with Linux perf for d (software clock
// event, so it works in VMs without PMU access; call graphs by frame
// pointer, which Go keeps). The caller waits on the returned channel.
func perfRecord(ctx context.Context, pid int, out string, d time.Duration) (<-chan error, error) {
	if _, err := exec.LookPath("perf"); err != nil {
		return nil, fmt.Errorf("-perf needs the perf tool: %w", err)
	}
	secs := strconv.FormatFloat(d.Seconds(), 'f', 1, 64)
	cmd := exec.CommandContext(ctx, "perf", "record", "-e", "cpu-clock", "-F", "499", "-g",
		"-p", strconv.Itoa(pid), "-o", out, "--", "sleep", secs)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("perf record: %w", err)
	}
	done := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		if err != nil {
			err = fmt.Errorf("perf record: %w: %s", err, strings.TrimSpace(stderr.String()))
		}
		done <- err
	}()
	return done, nil
}

// perfReport summarises a recording: the functions with the most samples of
// their own (flat), and with the most samples including callees.
func perfReport(ctx context.Context, data string) (string, error) {
	var out strings.Builder
	for _, mode := range []struct {
		title, flag string
		lines       int
	}{
		{"self (flat), top functions", "--no-children", 25},
		{"including callees, top functions", "--children", 45},
	} {
		cmd := exec.CommandContext(ctx, "perf", "report", "-i", data, "--stdio", mode.flag,
			"--sort", "symbol", "-g", "none", "--percent-limit", "1.5")
		b, err := cmd.Output()
		if err != nil {
			return out.String(), fmt.Errorf("perf report: %w", err)
		}
		fmt.Fprintf(&out, "perf: serve CPU, %s\n", mode.title)
		n := 0
		for _, l := range strings.Split(string(b), "\n") {
			if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
				continue
			}
			if n++; n > mode.lines {
				break
			}
			// perf pads unused columns with "-".
			l = strings.TrimRight(strings.TrimRight(l, " -"), " ")
			out.WriteString("  " + l + "\n")
		}
	}
	return out.String(), nil
}
