package loadgen

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat times (100 on Linux).
const clockTicks = 100

// procCPUSeconds returns utime+stime of a process from /proc/PID/stat.
func procCPUSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')') // comm may contain spaces
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 { // f[0] is field 3 (state): utime is field 14, stime 15
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / clockTicks
}

// selfCPUSeconds returns the generator's own user+system CPU time.
func selfCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return tvSeconds(ru.Utime) + tvSeconds(ru.Stime)
}

func tvSeconds(tv syscall.Timeval) float64 {
	return float64(tv.Sec) + float64(tv.Usec)/1e6
}

// procStatusKB reads a "Key:  N kB" line of /proc/PID/status; -1 if absent.
func procStatusKB(pid int, key string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), key+":")
		if fs := strings.Fields(rest); ok && len(fs) > 0 {
			v, err := strconv.ParseInt(fs[0], 10, 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}

// procComm returns a process's command name.
func procComm(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// machineJiffies returns busy and total jiffies over all CPUs from the first
// line of /proc/stat (guest time is already part of user time).
func machineJiffies() (busy, total float64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	f := strings.Fields(string(line))
	for i := 1; i < len(f) && i <= 8; i++ {
		v, _ := strconv.ParseFloat(f[i], 64)
		total += v
		if i != 4 && i != 5 { // idle, iowait
			busy += v
		}
	}
	return busy, total
}

// cpuSample is one reading of the generator, broker and machine CPU clocks.
type cpuSample struct {
	at          time.Time
	self, brk   float64
	busy, total float64
}

func sampleCPU(brokerPID int) cpuSample {
	s := cpuSample{at: time.Now(), self: selfCPUSeconds()}
	if brokerPID > 0 {
		s.brk = procCPUSeconds(brokerPID)
	}
	s.busy, s.total = machineJiffies()
	return s
}

// cpuUse is CPU between two samples: generator and broker in % of one core,
// the machine in % of all cores, and everything else in % of one core.
type cpuUse struct {
	gen, brk, sys, other float64
}

func cpuBetween(a, b cpuSample) cpuUse {
	var u cpuUse
	wall := b.at.Sub(a.at).Seconds()
	if wall <= 0 {
		return u
	}
	u.gen = 100 * (b.self - a.self) / wall
	u.brk = 100 * (b.brk - a.brk) / wall
	if b.total > a.total {
		u.sys = 100 * (b.busy - a.busy) / (b.total - a.total)
	}
	u.other = max(0, u.sys*float64(runtime.NumCPU())-u.gen-u.brk)
	return u
}

// raiseFDLimit raises RLIMIT_NOFILE to its hard limit and returns the limit
// in force.
func raiseFDLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	return rl.Cur
}

// findListenerPID returns the local process (other than this one) with a TCP
// socket listening on port, or 0: the socket inodes come from /proc/net/tcp
// and tcp6, their owner from the /proc/PID/fd links.
func findListenerPID(port int) int {
	inodes := listenInodes(port)
	if len(inodes) == 0 {
		return 0
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	self := os.Getpid()
	for _, dir := range dirs {
		pid, err := strconv.Atoi(filepath.Base(dir))
		if err == nil && pid != self && ownsSocket(dir, inodes) {
			return pid
		}
	}
	return 0
}

// listenInodes returns the "socket:[inode]" links of sockets listening on port.
func listenInodes(port int) map[string]bool {
	inodes := map[string]bool{}
	for _, name := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			if ino, ok := listenLine(line, port); ok {
				inodes["socket:["+ino+"]"] = true
			}
		}
	}
	return inodes
}

// listenLine parses one /proc/net/tcp row: a LISTEN (0A) socket on port.
func listenLine(line string, port int) (inode string, ok bool) {
	f := strings.Fields(line)
	if len(f) < 10 || f[3] != "0A" {
		return "", false
	}
	_, hexPort, _ := strings.Cut(f[1], ":")
	p, err := strconv.ParseUint(hexPort, 16, 32)
	return f[9], err == nil && int(p) == port
}

// ownsSocket reports whether the process at /proc/PID dir holds one of inodes.
func ownsSocket(dir string, inodes map[string]bool) bool {
	fds, err := os.ReadDir(dir + "/fd")
	if err != nil {
		return false
	}
	for _, fd := range fds {
		l, err := os.Readlink(dir + "/fd/" + fd.Name())
		if err == nil && inodes[l] {
			return true
		}
	}
	return false
}
