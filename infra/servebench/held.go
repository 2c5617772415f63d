package main

import (
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// sources hands out the loopback source addresses clients dial from,
// round robin: 127.0.0.2, 127.0.0.3, … (all of 127.0.0.0/8 reaches the
// loopback interface on Linux). A source and destination address pair has
// only the ephemeral port range (net.ipv4.ip_local_port_range, ~28,000
// ports by default) for its connections; several sources lift that bound.
type sources struct {
	addrs []net.Addr // nil: the system chooses
	next  atomic.Uint64
}

func newSources(n int) *sources {
	s := &sources{}
	if n <= 1 {
		return s
	}
	for i := range n {
		s.addrs = append(s.addrs, &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))})
	}
	return s
}

// pick is the source address of the next dial (nil: the system's choice).
func (s *sources) pick() net.Addr {
	if s == nil || len(s.addrs) == 0 {
		return nil
	}
	return s.addrs[(s.next.Add(1)-1)%uint64(len(s.addrs))]
}

// openFilesLimit is the soft "Max open files" of process pid, from
// /proc/<pid>/limits ("?" when unreadable): serve's own, which Go raises
// to the hard limit at start (since Go 1.19).
func openFilesLimit(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/limits")
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "Max open files"); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				return f[0]
			}
		}
	}
	return "?"
}
