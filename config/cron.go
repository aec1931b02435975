package config

import (
	"fmt"
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
