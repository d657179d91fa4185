//go:build !race

package e2e

// raceEnabled reports a -race build, whose tenfold slowdown makes the
// scale-out test use a smaller default.
const raceEnabled = false
