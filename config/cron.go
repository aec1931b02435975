package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// cronParser accepts the standard five fields (minute hour day-of-month
// month day-of-week) and descriptors such as @hourly or @every 10m.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseCron parses a cron spec. A spec that makes the cron library panic is
// returned as an error, never a crash.
func ParseCron(spec string) (s cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("invalid cron spec %q: %v", spec, r)
		}
	}()
	s, err = cronParser.Parse(spec)
	if err != nil {
		if len(strings.Fields(spec)) == 6 && !strings.HasPrefix(spec, "@") {
			return nil, fmt.Errorf("invalid cron spec %q: it has 6 fields, but seconds are not supported (want 5 fields: minute hour day month weekday)", spec)
		}
		return nil, fmt.Errorf("invalid cron spec %q (want 5 fields: minute hour day month weekday): %w", spec, err)
	}
	// A spec that can never fire ("0 0 30 2 *") would silently never poll.
	if s.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, fmt.Errorf("cron spec %q never fires", spec)
	}
	return s, nil
}

// ValidateCron reports whether spec is a usable cron spec.
func ValidateCron(spec string) error {
	_, err := ParseCron(spec)
	return err
}

// MinGap is the shortest time between two firings of s: the delay of an
// "@every" spec (which the cron library rounds up to one second), or for
// a calendar spec the shortest gap seen over its firings in a week (a spec
// repeats at least weekly in its shortest gaps; at most 20,000 firings are
// looked at).
func MinGap(s cron.Schedule) time.Duration {
	if c, ok := s.(cron.ConstantDelaySchedule); ok {
		return c.Delay
	}
	start := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC) // a Monday
	end := start.AddDate(0, 0, 8)
	gap := time.Duration(1<<63 - 1)
	prev := s.Next(start)
	for i := 0; i < 20000 && !prev.IsZero() && prev.Before(end); i++ {
		next := s.Next(prev)
		if next.IsZero() {
			break
		}
		gap = min(gap, next.Sub(prev))
		prev = next
	}
	return gap
}
