//go:build race

package rules

// raceEnabled shortens the heaviest differential tests under the race
// detector, which slows them tenfold; the full sizes run without it.
const raceEnabled = true
