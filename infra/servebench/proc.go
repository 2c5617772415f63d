package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat:
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// raiseFileLimit sets the soft RLIMIT_NOFILE to the hard limit. Calling
// Setrlimit also makes os/exec give children the raised limit (Go otherwise
// restores the original soft limit in child processes).
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	return lim.Cur, nil
}

// moduleRoot is the directory of the main module's go.mod, from the
// current directory.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the eventstreams module: run from the repository (go run ./infra/servebench)")
	}
	return filepath.Dir(mod), nil
}

// buildServe compiles ./serve into dir and returns the binary's path.
func buildServe(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "serve")
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./serve")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./serve: %w\n%s", err, out)
	}
	return bin, nil
}

// freePort returns a TCP port free on 127.0.0.1 at the time of the call.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// serveProc is the child process under test: serve, or a floor.
type serveProc struct {
	cmd    *exec.Cmd
	addr   string
	log    *tailBuffer
	exited chan struct{}
	err    error // after exited
}

// startProc runs cmd (serve or a floor) with env added to the environment
// and waits for its /readyz to answer 200.
func startProc(ctx context.Context, cmd *exec.Cmd, addr string, env []string) (*serveProc, error) {
	cmd.Env = append(os.Environ(), env...)
	tb := &tailBuffer{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = tb, tb
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting serve: %w", err)
	}
	p := &serveProc{cmd: cmd, addr: addr, log: tb, exited: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.exited) }()

	deadline := time.Now().Add(30 * time.Second)
	hc := http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-p.exited:
			return nil, fmt.Errorf("serve exited before it was ready (%v); its output:\n%s", p.err, tb.String())
		case <-ctx.Done():
			_, _ = p.stop()
			return nil, ctx.Err()
		default:
		}
		resp, err := hc.Get("http://" + addr + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		if time.Now().After(deadline) {
			_, _ = p.stop()
			return nil, fmt.Errorf("serve was not ready within 30s (last: %v); its output:\n%s", err, tb.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pid of the serve process.
func (p *serveProc) pid() int { return p.cmd.Process.Pid }

// stop sends SIGTERM, waits up to 30 s for a clean exit, then kills.
// It reports how long the shutdown took and whether it was clean.
func (p *serveProc) stop() (time.Duration, error) {
	start := time.Now()
	select {
	case <-p.exited:
		return 0, p.err
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return time.Since(start), p.err
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return time.Since(start), errors.New("serve did not exit within 30s of SIGTERM; killed")
	}
}

// tailBuffer keeps the last max bytes written to it and counts lines.
type tailBuffer struct {
	mu    sync.Mutex
	buf   []byte
	max   int
	lines int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines += bytes.Count(p, []byte("\n"))
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

func (t *tailBuffer) Lines() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lines
}

// cpuTicks is utime+stime of pid ("self" for this process), in clock ticks.
func cpuTicks(pid string) (int64, error) {
	ut, st, err := cpuUserSys(pid)
	return ut + st, err
}

// cpuUserSys is utime and stime of pid, in clock ticks: the time spent in
// the process's own code and in the kernel on its behalf.
func cpuUserSys(pid string) (user, sys int64, err error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name (field 2) may hold spaces: fields after its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, errors.New("unexpected /proc stat format")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, 0, errors.New("unexpected /proc stat format")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, errors.New("unexpected /proc stat format")
	}
	return ut, st, nil
}

// boxTicks is the machine's busy, stolen and total CPU time, in clock
// ticks, from /proc/stat (busy: everything but idle, iowait and steal;
// steal: time the hypervisor gave to other guests).
func boxTicks() (busy, steal, total int64, err error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, 0, 0, errors.New("empty /proc/stat")
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 6 || fields[0] != "cpu" {
		return 0, 0, 0, errors.New("unexpected /proc/stat format")
	}
	for i, s := range fields[1:] {
		if i >= 8 { // guest time is already in user
			break
		}
		v, _ := strconv.ParseInt(s, 10, 64)
		total += v
		switch i {
		case 3, 4: // idle, iowait
		case 7:
			steal += v
		default:
			busy += v
		}
	}
	return busy, steal, total, nil
}

// memKB reads VmRSS and VmHWM (peak RSS) of pid, in KiB.
func memKB(pid string) (rss, hwm int64, err error) {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		var dst *int64
		switch k {
		case "VmRSS":
			dst = &rss
		case "VmHWM":
			dst = &hwm
		default:
			continue
		}
		*dst, _ = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
	}
	return rss, hwm, nil
}

// cpuSample is a point in time for CPU measurements.
type cpuSample struct {
	at                        time.Time
	serve, serveSys, self     int64
	boxBusy, boxSteal, boxAll int64
}

func sampleCPU(pid int) cpuSample {
	s := cpuSample{at: time.Now()}
	ut, st, _ := cpuUserSys(strconv.Itoa(pid))
	s.serve, s.serveSys = ut+st, st
	s.self, _ = cpuTicks("self")
	s.boxBusy, s.boxSteal, s.boxAll, _ = boxTicks()
	return s
}

// cpuUse is CPU use between two samples, in cores.
type cpuUse struct {
	Wall        time.Duration
	Serve       float64 // cores
	ServeSec    float64 // CPU seconds
	ServeSysSec float64 // of which in the kernel
	Bench       float64 // this process: load clients, publisher, nats-server
	Box         float64 // whole machine, busy cores
	Steal       float64 // cores taken by the hypervisor
	BoxCapacity int
}

func cpuBetween(a, b cpuSample) cpuUse {
	wall := b.at.Sub(a.at)
	sec := wall.Seconds()
	u := cpuUse{Wall: wall, ServeSec: float64(b.serve-a.serve) / clockTicks, ServeSysSec: float64(b.serveSys-a.serveSys) / clockTicks}
	if sec > 0 {
		u.Serve = u.ServeSec / sec
		u.Bench = float64(b.self-a.self) / clockTicks / sec
	}
	if all := b.boxAll - a.boxAll; all > 0 {
		cores := numCPU()
		u.Box = float64(b.boxBusy-a.boxBusy) / float64(all) * float64(cores)
		u.Steal = float64(b.boxSteal-a.boxSteal) / float64(all) * float64(cores)
		u.BoxCapacity = cores
	}
	return u
}

// rssSampler records the maximum RSS of pid until stopped.
type rssSampler struct {
	stop chan struct{}
	done chan struct{}
	max  int64
}

func sampleRSS(pid int, every time.Duration) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if rss, _, err := memKB(strconv.Itoa(pid)); err == nil && rss > s.max {
				s.max = rss
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Stop ends sampling and returns the maximum seen, in KiB.
func (s *rssSampler) Stop() int64 {
	close(s.stop)
	<-s.done
	return s.max
}

// promMetrics fetches serve's /metrics and returns the samples of the
// named metric families (name{labels} → value).
func promMetrics(addr string, families ...string) (map[string]float64, error) {
	hc := http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: HTTP %d", resp.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if l == "" || l[0] == '#' {
			continue
		}
		for _, f := range families {
			if strings.HasPrefix(l, f) && (len(l) > len(f) && (l[len(f)] == ' ' || l[len(f)] == '{')) {
				i := strings.LastIndexByte(l, ' ')
				v, err := strconv.ParseFloat(l[i+1:], 64)
				if err == nil {
					out[l[:i]] = v
				}
			}
		}
	}
	return out, sc.Err()
}
