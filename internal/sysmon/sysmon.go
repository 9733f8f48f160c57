// Package sysmon reads the operating system figures the system monitor
// watches: CPU utilisation, system memory and this process's resident
// memory. It reads Linux's /proc; elsewhere every reading reports ok =
// false and the monitor skips the checks that need it.
package sysmon

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// procRoot is where /proc is (a variable for tests).
var procRoot = "/proc"

// CPU measures system-wide CPU utilisation between successive calls of
// Sample. Not safe for concurrent use.
type CPU struct {
	busy, total uint64
	primed      bool
}

// Sample returns the share of CPU time (0..100) spent busy since the
// previous call. The first call, and any call where /proc/stat cannot be
// read, reports ok = false.
func (c *CPU) Sample() (pct float64, ok bool) {
	busy, total, err := readCPU()
	if err != nil {
		return 0, false
	}
	prevBusy, prevTotal, primed := c.busy, c.total, c.primed
	c.busy, c.total, c.primed = busy, total, true
	if !primed || total <= prevTotal {
		return 0, false
	}
	return 100 * float64(busy-prevBusy) / float64(total-prevTotal), true
}

// readCPU returns the busy and total jiffies of the "cpu" line of
// /proc/stat (idle and iowait count as idle).
func readCPU() (busy, total uint64, err error) {
	b, err := os.ReadFile(procRoot + "/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("sysmon: unexpected /proc/stat line %q", line)
	}
	var idle uint64
	for i, s := range f[1:] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("sysmon: /proc/stat: %w", err)
		}
		if i >= 8 { // guest and guest_nice are already counted in user and nice
			break
		}
		total += v
		if i == 3 || i == 4 { // idle, iowait
			idle += v
		}
	}
	return total - idle, total, nil
}

// Memory is the system's memory in bytes.
type Memory struct {
	Total     uint64
	Available uint64
}

// UsedPct is the share of memory in use, 0..100.
func (m Memory) UsedPct() float64 {
	if m.Total == 0 {
		return 0
	}
	return 100 * float64(m.Total-min(m.Available, m.Total)) / float64(m.Total)
}

// SystemMemory reads /proc/meminfo.
func SystemMemory() (Memory, bool) {
	f, err := os.Open(procRoot + "/meminfo")
	if err != nil {
		return Memory{}, false
	}
	defer f.Close()
	var m Memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 0 {
			continue
		}
		n, err := strconv.ParseUint(fs[0], 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "MemTotal":
			m.Total = n << 10
		case "MemAvailable":
			m.Available = n << 10
		}
	}
	return m, m.Total > 0
}

// ProcessMemory returns this process's resident set size in bytes, from
// /proc/self/statm.
func ProcessMemory() (uint64, bool) {
	b, err := os.ReadFile(procRoot + "/self/statm")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * uint64(os.Getpagesize()), true
}
