package inproctest

import (
	"net/http"
	"os/exec"
	"testing"
	"time"
)

// Start runs the command at pkg (built by Binary) with exactly env as its
// environment, killed when the test ends, and, when ready is not empty,
// waits until that URL answers 200. Its standard error is kept, and logged
// if the test failed. The test may signal, kill and wait for the returned
// command itself.
func Start(t testing.TB, pkg string, env []string, ready string) (*exec.Cmd, *Buffer) {
	t.Helper()
	cmd := exec.Command(Binary(t, pkg))
	cmd.Env = env
	stderr := &Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("%s's standard error:\n%s", pkg, stderr.String())
		}
	})
	if ready != "" {
		WaitFor(t, 30*time.Second, func() bool {
			resp, err := http.Get(ready)
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
	}
	return cmd, stderr
}
