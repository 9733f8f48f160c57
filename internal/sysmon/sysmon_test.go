package sysmon

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestSysmonReadsProc(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	var c CPU
	if _, ok := c.Sample(); ok {
		t.Fatal("first sample reported a value")
	}
	m, ok := SystemMemory()
	if !ok || m.Total == 0 || m.UsedPct() <= 0 || m.UsedPct() > 100 {
		t.Fatalf("SystemMemory = %+v, %v", m, ok)
	}
	if rss, ok := ProcessMemory(); !ok || rss == 0 {
		t.Fatalf("ProcessMemory = %d, %v", rss, ok)
	}
}

func TestSysmonCPUFromFakeProc(t *testing.T) {
	dir := t.TempDir()
	old := procRoot
	procRoot = dir
	t.Cleanup(func() { procRoot = old })
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var c CPU
	write("cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3\n")
	c.Sample()
	// +300 busy (user 200, system 100), +100 idle: 75%.
	write("cpu  300 0 200 800 100 0 0 0 0 0\n")
	if pct, ok := c.Sample(); !ok || pct != 75 {
		t.Fatalf("Sample = %v, %v; want 75", pct, ok)
	}
	if _, ok := SystemMemory(); ok {
		t.Fatal("meminfo missing but reported")
	}
}
