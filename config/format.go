package config

import "time"

// FormatDuration writes a duration the way the file takes it and a person
// writes one: "7d", "30s", "1h30m" (not "168h0m0s").
func FormatDuration(d time.Duration) string { return fmtDuration(d) }
