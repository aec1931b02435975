package main

import (
	"fmt"
	"strings"
)

// emptiedBy refuses a reload from path that would remove every feed or
// every rule of the running configuration. A config file saved empty or
// cut off (a failed deploy, a half-written ConfigMap, an editor crash) is
// valid TOML that would silently turn monitoring off, so it is treated like
// an invalid file unless the operator said it is meant
// (run -allow-empty-reload). It returns nil when the reload keeps at least
// one feed and one rule, or when the running config had none either.
func emptiedBy(path string, running, next *loaded) error {
	var gone []string
	if len(running.feeds) > 0 && len(next.feeds) == 0 {
		gone = append(gone, fmt.Sprintf("every feed (%d running; nothing will be polled)", len(running.feeds)))
	}
	if len(running.rules) > 0 && len(next.rules) == 0 {
		gone = append(gone, fmt.Sprintf("every rule (%d running; nothing will match)", len(running.rules)))
	}
	if len(gone) == 0 {
		return nil
	}
	return fmt.Errorf("%s: the new file would remove %s. An empty or cut-off file is refused so that monitoring never stops unnoticed; if this is meant, restart with the new file or run with -allow-empty-reload", path, strings.Join(gone, " and "))
}
