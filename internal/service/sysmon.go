package service

import (
	"fmt"
	"time"

	"github.com/herald-mqtt/herald/internal/config"
	"github.com/herald-mqtt/herald/internal/sysmon"
)

// disabledRecheck is how soon a disabled check looks at its interval
// again, so enabling it through the configuration takes effect quickly.
const disabledRecheck = time.Second

// startSysmon runs the system monitor: every sysmon.os.cpu_check_interval
// it checks CPU utilisation against the high and low watermarks, every
// sysmon.os.mem_check_interval the system and process memory and the
// connection count. Intervals and watermarks are re-read each round, so a
// configuration change applies at the next check.
func (s *Service) startSysmon() {
	s.goAttach(func(stop <-chan struct{}) {
		var cpu sysmon.CPU
		cpu.Sample() // prime: the first sample has no reference
		cfg := s.opts.Controller.Config().Sysmon
		cpuT := time.NewTimer(interval(cfg.CPUCheckInterval))
		memT := time.NewTimer(interval(cfg.MemCheckInterval))
		defer cpuT.Stop()
		defer memT.Stop()
		for {
			select {
			case <-stop:
				return
			case <-cpuT.C:
				cfg = s.opts.Controller.Config().Sysmon
				if cfg.CPUCheckInterval > 0 {
					s.checkCPU(&cpu, cfg)
				}
				cpuT.Reset(interval(cfg.CPUCheckInterval))
			case <-memT.C:
				cfg = s.opts.Controller.Config().Sysmon
				if cfg.MemCheckInterval > 0 {
					s.checkMemory(cfg)
					s.checkConnections(cfg)
				}
				memT.Reset(interval(cfg.MemCheckInterval))
			}
		}
	})
}

func interval(d time.Duration) time.Duration {
	if d <= 0 {
		return disabledRecheck
	}
	return d
}

// checkCPU raises high_cpu_usage above the high watermark and clears it
// below the low one.
func (s *Service) checkCPU(cpu *sysmon.CPU, cfg config.Sysmon) {
	pct, ok := cpu.Sample()
	if !ok {
		return
	}
	usage := fmt.Sprintf("%.2f%%", pct)
	switch {
	case pct > cfg.CPUHighWatermark:
		s.ActivateAlarm(AlarmHighCPU, usage+" cpu usage", map[string]any{
			"usage": usage, "high_watermark": cfg.CPUHighWatermark, "low_watermark": cfg.CPULowWatermark})
	case pct < cfg.CPULowWatermark:
		s.DeactivateAlarm(AlarmHighCPU)
	}
}

// checkMemory raises high_system_memory_usage and
// high_process_memory_usage above their watermarks and clears them below.
func (s *Service) checkMemory(cfg config.Sysmon) {
	m, ok := sysmon.SystemMemory()
	if !ok {
		return
	}
	s.watermark(AlarmHighSystemMemory, m.UsedPct(), cfg.SysmemHighWatermark,
		fmt.Sprintf("System memory usage is higher than %v%%", cfg.SysmemHighWatermark))
	if rss, ok := sysmon.ProcessMemory(); ok {
		pct := 100 * float64(rss) / float64(m.Total)
		s.watermark(AlarmHighProcessMemory, pct, cfg.ProcmemHighWatermark,
			fmt.Sprintf("Process memory usage is higher than %v%%", cfg.ProcmemHighWatermark))
	}
}

// watermark activates name when pct is above high and deactivates it
// otherwise.
func (s *Service) watermark(name string, pct, high float64, msg string) {
	if pct > high {
		s.ActivateAlarm(name, msg, map[string]any{"high_watermark": high, "usage": fmt.Sprintf("%.2f%%", pct)})
		return
	}
	s.DeactivateAlarm(name)
}

// checkConnections raises high_connection_count when this node has more
// connections than sysmon.connections.high_watermark (0: off).
func (s *Service) checkConnections(cfg config.Sysmon) {
	high := cfg.ConnHighWatermark
	if high <= 0 {
		s.DeactivateAlarm(AlarmHighConnectionCount)
		return
	}
	n := s.local.b.Stats().Connections.Value()
	if n > int64(high) {
		s.ActivateAlarm(AlarmHighConnectionCount, fmt.Sprintf("Connection count is higher than %d", high),
			map[string]any{"high_watermark": high, "connections": n})
		return
	}
	s.DeactivateAlarm(AlarmHighConnectionCount)
}
