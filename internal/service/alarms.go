package service

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"sync"
	"time"
)

// Alarm names the system monitor raises, as EMQX names them (plus
// high_connection_count, Herald's connection watermark).
const (
	AlarmHighSystemMemory    = "high_system_memory_usage"
	AlarmHighProcessMemory   = "high_process_memory_usage"
	AlarmHighCPU             = "high_cpu_usage"
	AlarmHighConnectionCount = "high_connection_count"
)

// Alarm is an activated alarm, or one of the deactivated ones kept in the
// history. DeactivateAt is zero while it is activated.
type Alarm struct {
	Node         string
	Name         string
	Message      string
	Details      map[string]any
	ActivateAt   time.Time
	DeactivateAt time.Time
	Activated    bool
	// Duration is how long it has been (or was) active.
	Duration time.Duration
}

// alarms is the node's alarm registry: the activated alarms by name and
// the history of deactivated ones, oldest first, bounded by
// alarm.size_limit and alarm.validity_period.
type alarms struct {
	mu      sync.Mutex
	active  map[string]*Alarm
	history []Alarm
}

func (s *Service) initAlarms() {
	s.alarms = &alarms{active: map[string]*Alarm{}}
	s.startSysmon()
}

// ActivateAlarm raises the alarm name (EMQX's emqx_alarm:activate). It
// reports false, changing nothing, when the alarm is already active.
func (s *Service) ActivateAlarm(name, message string, details map[string]any) bool {
	a := s.alarms
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.active[name]; ok {
		return false
	}
	a.active[name] = &Alarm{Node: s.local.name, Name: name, Message: message, Details: maps.Clone(details),
		ActivateAt: s.now(), Activated: true}
	s.log.Warn("alarm activated", "name", name, "message", message)
	return true
}

// DeactivateAlarm clears the alarm name and moves it to the history. It
// reports false when the alarm is not active.
func (s *Service) DeactivateAlarm(name string) bool {
	a := s.alarms
	now := s.now()
	limits := s.opts.Controller.Config().Alarm
	a.mu.Lock()
	defer a.mu.Unlock()
	al, ok := a.active[name]
	if !ok {
		return false
	}
	delete(a.active, name)
	h := *al
	h.Activated, h.DeactivateAt, h.Duration = false, now, now.Sub(h.ActivateAt)
	a.history = append(a.history, h)
	a.trim(now, limits.SizeLimit, limits.ValidityPeriod)
	s.log.Warn("alarm deactivated", "name", name)
	return true
}

// AlarmActive reports whether the alarm name is active.
func (s *Service) AlarmActive(name string) bool {
	s.alarms.mu.Lock()
	defer s.alarms.mu.Unlock()
	_, ok := s.alarms.active[name]
	return ok
}

// trim drops the oldest deactivated alarms beyond size and those
// deactivated longer than validity ago. Lock held.
func (a *alarms) trim(now time.Time, size int, validity time.Duration) {
	drop := 0
	if size > 0 && len(a.history) > size {
		drop = len(a.history) - size
	}
	for drop < len(a.history) && validity > 0 && now.Sub(a.history[drop].DeactivateAt) > validity {
		drop++
	}
	if drop > 0 {
		a.history = slices.Delete(a.history, 0, drop)
	}
}

// ListAlarms returns one page of the activated alarms (activated true) or
// of the deactivated ones kept in the history (false), from every node in
// scope, oldest activation first.
func (s *Service) ListAlarms(ctx context.Context, activated bool, q PageQuery) (Page[Alarm], error) {
	a := s.alarms
	now := s.now()
	limits := s.opts.Controller.Config().Alarm
	a.mu.Lock()
	var out []Alarm
	if activated {
		for _, al := range a.active {
			c := *al
			c.Details = maps.Clone(al.Details)
			c.Duration = now.Sub(c.ActivateAt)
			out = append(out, c)
		}
	} else {
		a.trim(now, limits.SizeLimit, limits.ValidityPeriod)
		out = slices.Clone(a.history)
	}
	a.mu.Unlock()
	slices.SortStableFunc(out, func(x, y Alarm) int {
		return cmp.Or(x.ActivateAt.Compare(y.ActivateAt), cmp.Compare(x.Name, y.Name))
	})
	return paginate(out, q, true), nil
}

// ClearAlarmHistory removes every deactivated alarm; activated ones stay.
func (s *Service) ClearAlarmHistory(ctx context.Context) error {
	s.alarms.mu.Lock()
	s.alarms.history = nil
	s.alarms.mu.Unlock()
	s.log.Info("alarm history cleared")
	return nil
}
