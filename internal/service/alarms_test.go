package service

import (
	"testing"
	"time"
)

func TestAlarmHistoryTrim(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	a := &alarms{}
	for i := range 5 {
		a.history = append(a.history, Alarm{Name: string(rune('a' + i)), DeactivateAt: t0.Add(time.Duration(i) * time.Hour)})
	}
	a.trim(t0.Add(4*time.Hour), 3, 0)
	if len(a.history) != 3 || a.history[0].Name != "c" {
		t.Fatalf("size limit: %+v", a.history)
	}
	// Validity 90m at 5h: c (2h) and d (3h) are older than 3h30.
	a.trim(t0.Add(5*time.Hour), 10, 90*time.Minute)
	if len(a.history) != 1 || a.history[0].Name != "e" {
		t.Fatalf("validity: %+v", a.history)
	}
}
