package inproctest

import (
	"io"
	"net/http"
	"os/exec"
	"testing"
	"time"
)

// Process is a built binary started by Start.
type Process struct {
	Cmd *exec.Cmd
	// Stderr is everything the process wrote to its standard error.
	Stderr *Buffer
	done   chan struct{}
	err    error
}

// Done is closed once the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Wait waits for the process to exit and returns its exit error.
func (p *Process) Wait() error {
	<-p.done
	return p.err
}

// Start runs the command at pkg (built by Binary) with exactly env as its
// environment and, when ready is not empty, waits until that URL answers
// 200. When the test ends the process is killed and waited for, and the
// end of its standard error is logged if the test failed. The test may
// signal or kill it itself, and wait for it with Wait or Done.
func Start(t testing.TB, pkg string, env []string, ready string) *Process {
	t.Helper()
	return StartLogged(t, pkg, env, ready, nil)
}

// StartLogged is Start with the process's standard error also copied to
// log, as it comes (nil: kept only).
func StartLogged(t testing.TB, pkg string, env []string, ready string, log io.Writer) *Process {
	t.Helper()
	p := &Process{Cmd: exec.Command(Binary(t, pkg)), Stderr: &Buffer{}, done: make(chan struct{})}
	p.Cmd.Env = env
	p.Cmd.Stderr = p.Stderr
	if log != nil {
		p.Cmd.Stderr = io.MultiWriter(p.Stderr, log)
	}
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.Cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.Cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s's standard error:\n%s", pkg, tail(p.Stderr.String(), 8000))
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
	return p
}

// tail is the last n bytes of s, marked as cut when they are not all of it.
func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
