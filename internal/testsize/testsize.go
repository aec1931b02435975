// Package testsize says how big the differential, fault and scale tests
// run. By default they run at a size that still means something (hundreds
// of random rules against the whole news corpus, one fault seed, ...) and
// keeps `go test -race ./...` within minutes on a 2-core machine. With
// WIREWATCH_FULL=1 in the environment they run at full size (thousands of
// rules, 100,000 rules at scale, every seed), as CI does in its own step:
//
//	WIREWATCH_FULL=1 go test -count=1 ./...
//
// `go test -short` shrinks or skips them further, for the edit-test loop.
package testsize

import "os"

// Env is the environment variable that turns full-size tests on.
const Env = "WIREWATCH_FULL"

// Full reports whether tests should run at full size.
func Full() bool {
	v := os.Getenv(Env)
	return v != "" && v != "0" && v != "false"
}

// Pick returns full when tests run at full size, else def.
func Pick[T any](def, full T) T {
	if Full() {
		return full
	}
	return def
}
